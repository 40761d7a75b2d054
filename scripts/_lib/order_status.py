"""What an order looks like and what an account may do on it now (``status`` commands).

The actions are found by asking the contract: each command an account could send is simulated
(``eth_call``, nothing is sent) with that account as the sender, and listed if it would go
through. The list therefore follows the contract's rules as they are, carriers and funder-paid
orders included, with no copy of them here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils.crypto import keccak

from app.domain.units import format_duration, format_moment
from app.domain.vocab import OrderStatus, Verdict
from scripts._lib.chain import refusal
from scripts._lib.escrow import Asset, Escrow, OrderView, recalled_items

# Stand-ins for what the user would type (evidence, tracking, ruling): no rule depends on them.
PLACEHOLDER_HASH = keccak(text="status preview")
PLACEHOLDER_CARRIER = 1
OFFER_PREVIEW_SECONDS = 86_400


@dataclass(frozen=True)
class Action:
    command: str
    note: str
    options: str = ""


def actions_for(
    escrow: Escrow,
    view: OrderView,
    address: str,
    *,
    verdicts: Sequence[Verdict] = (),
    is_arbiter: bool = False,
    credit: int = 0,
) -> list[Action]:
    """What ``address`` may do now on this order: each candidate simulated as ``address``."""
    terms, now, contract = view.terms, view.now, escrow.contract
    abi_terms = terms.as_abi()
    role = (
        "buyer"
        if address == terms.buyer
        else "merchant"
        if address == terms.merchant
        else "arbiter"
        if is_arbiter
        else "anyone"
    )
    recalled = recalled_items(view, verdicts)
    bps = view.offer.buyer_bps if view.offer is not None else None
    parties, everyone = ("buyer", "merchant"), ("buyer", "merchant", "arbiter", "anyone")
    items = "--item " + " --item ".join(str(i) for i in range(32) if recalled >> i & 1)
    hash_ = PLACEHOLDER_HASH
    # (who may try it, command, escrow method, its arguments after the terms, note, options)
    candidates: list[tuple[tuple[str, ...], str, str, tuple[Any, ...], str, str]] = [
        (("buyer",), "confirm", "confirmReceipt", (), "confirm receipt: pays the merchant now", ""),
        (("buyer",), "cancel", "cancel", (), "cancel: refund the open items", ""),
        (("buyer",), "dispute", "dispute", (hash_,),
         f"until {format_moment(view.releasable_at, now)}", "--evidence TEXT"),
        (("merchant",), "ship", "ship", (view.carrier or PLACEHOLDER_CARRIER, hash_),
         f"until {format_moment(terms.ship_by, now)}", "--carrier N --tracking TEXT"),
        (() if view.carrier else ("merchant",), "assign-carrier", "assignCarrier",
         (PLACEHOLDER_CARRIER,), "name the carrier that picks it up", "--carrier N"),
        (("merchant",), "cancel", "cancel", (), "refund the payer the open items", ""),
        (everyone if recalled else (), "refund-recalled", "refundRecalled", (recalled,),
         "refund the payer the recalled or flagged items' shares", items),
        (parties, "evidence", "submitEvidence", (hash_,), "add evidence to the dispute",
         "--evidence TEXT"),
        (parties, "offer", "offerSettlement", (0, now + OFFER_PREVIEW_SECONDS),
         "offer a split of what is escrowed", "--buyer-bps N --expires-in DUR"),
        (parties if bps is not None else (), "accept", "acceptSettlement", (bps,),
         f"accept the pending split: {bps} bps to the buyer", f"--buyer-bps {bps}"),
        (parties if bps is not None else (), "withdraw-offer", "withdrawOffer", (),
         "take your offer back", ""),
        (("arbiter",), "settle", "resolveDispute", (0, hash_),
         f"rule until {format_moment(view.dispute_deadline, now)}", "--buyer-bps N --ruling TEXT"),
        (("arbiter", "anyone"), "cancel", "cancel", (), "a deadline passed: refund the payer", ""),
        (everyone[1:], "release", "release", (), "anyone: the dispute window is over", ""),
        (everyone, "resolve-expired", "resolveExpiredDispute", (),
         "anyone: apply the default outcome", ""),
    ]  # fmt: skip
    found = [
        Action(command, note, options)
        for roles, command, method, args, note, options in candidates
        if role in roles
        and refusal(getattr(contract, method), abi_terms, *args, sender=address) is None
    ]
    if credit:
        token = "" if terms.is_eth else f"--token {terms.token}"
        found.append(Action("withdraw", "collect your credit", token))
    return found


def default_outcome(view: OrderView) -> str:
    """What the arbitration timeout applies, as the contract documents it."""
    if not view.merchant_answered:
        return "a full refund"
    if view.funder_paid:
        return "an even split if a carrier reported every open item delivered, else a full refund"
    return "an even split"


def describe(
    escrow: Escrow, view: OrderView, asset: Asset, verdicts: Sequence[Verdict]
) -> list[str]:
    """The order as lines of text: parties, price, items, deadlines, state."""
    terms, now = view.terms, view.now
    fee = terms.fee_bps
    lines = [
        f"order      {view.order_id}",
        f"escrow     {escrow.address}",
        f"buyer      {terms.buyer}",
        f"merchant   {terms.merchant}",
    ]
    if view.funder_paid:
        lines.append(
            f"payer      {terms.payer} (refunds go here; the merchant is paid only for items "
            "a carrier reported delivered)"
        )
    lines.append(f"price      {asset.fmt(terms.amount)} (platform fee {fee / 100:.2f}% on release)")
    if terms.item_ids:
        lines.append(f"items      {len(terms.item_ids)} registry item(s):")
        for index, (item, verdict) in enumerate(zip(terms.item_ids, verdicts, strict=True)):
            marks = []
            if view.delivered_items >> index & 1:
                marks.append("delivered")
            if view.released_items >> index & 1:
                marks.append("released")
            if view.refunded_items >> index & 1:
                marks.append("refunded")
            extra = f" [{', '.join(marks)}]" if marks else ""
            lines.append(f"  {index:>2} {item}  {verdict.name.lower()}{extra}")
    else:
        lines.append(f"reference  {terms.order_ref} (off-registry SKU order)")
    lines.append(f"status     {view.status.name.lower()}")
    if view.carrier:
        lines.append(f"carrier    {view.carrier} (only its reports count on this order)")
    lines.append(f"ship by    {format_moment(terms.ship_by, now)}")
    lines.append(f"deliver by {format_moment(terms.deliver_by, now)}")
    window = format_duration(terms.dispute_window)
    if view.status in (OrderStatus.FUNDED, OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        if view.delivered_at:
            lines.append(f"delivered  {format_moment(view.delivered_at, now)}")
        if view.status is not OrderStatus.FUNDED:
            lines.append(
                f"window     {window}: disputes until, and release from, "
                f"{format_moment(view.releasable_at, now)}"
            )
        else:
            lines.append(f"window     {window} after delivery")
    if view.status is OrderStatus.DISPUTED:
        answered = "answered" if view.merchant_answered else "not answered"
        default = default_outcome(view)
        deadline = format_moment(view.dispute_deadline, now)
        if now < view.dispute_deadline:
            outcome = f"the arbiter rules until {deadline}, then the default is {default}"
        else:
            outcome = f"the arbitration deadline passed {deadline}: the default is {default}"
        lines.append(f"dispute    merchant {answered}; {outcome}")
    if view.status is OrderStatus.SETTLED:
        lines.append(f"settled    {view.buyer_bps} bps of the remainder to the buyer")
    lines.append(f"escrowed   {asset.fmt(view.escrowed)}")
    if view.offer is not None:
        side = "merchant" if view.offer.by_merchant else "buyer"
        lines.append(
            f"offer      by the {side}: {view.offer.buyer_bps} bps to the buyer, until "
            f"{format_moment(view.offer.expires_at, now)}"
        )
    return lines
