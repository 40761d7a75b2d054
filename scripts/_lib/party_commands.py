"""The commands both parties of an order have (status, list, cancel, offer, withdraw-offer,
accept, evidence, withdraw), the same code in ``ape run buyer`` and ``ape run merchant order``;
and the arbiter's ``status``. ``status`` lists the commands an account could send that would go
through, each simulated as that account: the contract's rules as they are, no copy of them."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import click
from eth_utils.crypto import keccak

from app.domain.orders import OrderTerms
from app.domain.units import format_duration, format_moment, parse_duration
from app.domain.vocab import OrderStatus, Verdict
from scripts._lib import chain, escrow
from scripts._lib.assets import asset_of, parse_token
from scripts._lib.calls import Call, add_calls, report
from scripts._lib.chain import Run, parse_address, refusal
from scripts._lib.escrow import item_verdicts, open_escrow, order_options, read_order, session

PARTY = "the buyer or the merchant; the contract decides"
BUYER_BPS = "Share of what is escrowed for the buyer (payer), in basis points (7000 = 70%)."
EXPIRES = "How long the other side may accept it (90m, 36h, 7d ...)."
SCRIPTS = {"buyer": "ape run buyer", "merchant": "ape run merchant order"}
# Commands a status lists that another script than the party's offers.
RUNNER = {"settle": "ape run arbiter", "resolve-expired": "ape run arbiter"}
RUNNER["release"] = SCRIPTS["merchant"]
# Stand-ins for what the user would type (evidence, tracking, ruling): no rule depends on them.
PLACEHOLDER_HASH = keccak(text="status preview")
PLACEHOLDER_CARRIER = 1
OFFER_PREVIEW_SECONDS = 86_400
MARKS = ("delivered", "released", "refunded")


def party_calls(script: str) -> tuple[Call, ...]:
    """The commands of both parties that send one escrow function on the order."""
    return (
        Call("cancel", ("escrow",), "cancel", PARTY, "cancel: refund the payer",
             then="the payer collects it: ape run buyer withdraw (an order paid with credit "
             "settles on its line: ape run borrower status)"),
        Call("withdraw-offer", ("escrow",), "withdrawOffer", PARTY, "take your offer back",
             then=f"{script} status {{order}}"),
        Call("accept", ("escrow",), "acceptSettlement", PARTY, "accept the other's offer",
             options={"buyerBps": "The split you accept: the pending offer's (guards a swap)."},
             then=f"each side collects its share: {script} withdraw"),
        Call("evidence", ("escrow",), "submitEvidence", PARTY, "add dispute evidence",
             then=f"the arbiter rules (ape run arbiter list); see {script} status {{order}}"),
    )  # fmt: skip


def actions_for(
    s: escrow.Session, address: str, verdicts: Sequence[Verdict]
) -> list[tuple[str, str, str]]:
    """The commands ``address`` could send now (each simulated as it), with a note and options."""
    view, terms, now, contract = s.view, s.terms, s.view.now, s.escrow.contract
    state = view.state
    role = {terms.buyer: "buyer", terms.merchant: "merchant"}.get(address)
    role = role or ("arbiter" if contract.hasRole(contract.ARBITER_ROLE(), address) else "anyone")
    recalled = escrow.recalled_items(view, verdicts)
    bps = view.offer.buyerBps if view.offer is not None else None
    parties, everyone = ("buyer", "merchant"), ("buyer", "merchant", "arbiter", "anyone")
    items = "--item " + " --item ".join(str(i) for i in range(32) if recalled >> i & 1)
    hash_ = PLACEHOLDER_HASH
    # (who may try it, command, escrow method, its arguments after the terms, note, options)
    candidates: list[tuple[tuple[str, ...], str, str, tuple[Any, ...], str, str]] = [
        (("buyer",), "confirm", "confirmReceipt", (), "confirm receipt: pays the merchant now", ""),
        (("buyer",), "cancel", "cancel", (), "cancel: refund the open items", ""),
        (("buyer",), "dispute", "dispute", (hash_,),
         f"until {format_moment(view.releasable_at, now)}", "--evidence TEXT"),
        (("merchant",), "ship", "ship", (state.carrier or PLACEHOLDER_CARRIER, hash_),
         f"until {format_moment(terms.ship_by, now)}", "--carrier N --tracking TEXT"),
        (() if state.carrier else ("merchant",), "assign-carrier", "assignCarrier",
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
         f"rule until {format_moment(state.disputeDeadline, now)}", "--buyer-bps N --ruling TEXT"),
        (("arbiter", "anyone"), "cancel", "cancel", (), "a deadline passed: refund the payer", ""),
        (everyone[1:], "release", "release", (), "anyone: the dispute window is over", ""),
        (everyone, "resolve-expired", "resolveExpiredDispute", (),
         "anyone: apply the default outcome", ""),
    ]  # fmt: skip
    return [
        (command, note, options)
        for roles, command, method, args, note, options in candidates
        if role in roles
        and refusal(getattr(contract, method), terms.as_abi(), *args, sender=address) is None
    ]


def default_outcome(view: escrow.OrderView) -> str:
    """What the arbitration timeout applies, as the contract documents it."""
    if not view.state.merchantAnswered:
        return "a full refund"
    if view.terms.payer != view.terms.buyer:  # paid by a funder: a credit line
        return "an even split if a carrier reported every open item delivered, else a full refund"
    return "an even split"


def describe(s: escrow.Session, verdicts: Sequence[Verdict]) -> list[str]:
    """The order as lines of text: parties, price, items, deadlines, state."""
    view, terms, status, asset = s.view, s.terms, s.view.status, s.asset
    state = view.state
    at = partial(format_moment, now=view.now)
    rows = [("order", view.order_id), ("escrow", s.escrow.address)]
    rows += [("buyer", terms.buyer), ("merchant", terms.merchant)]
    if terms.payer != terms.buyer:
        paid = "the merchant is paid only for items a carrier reported delivered"
        rows.append(("payer", f"{terms.payer} (refunds go here; {paid})"))
    fee = f"platform fee {terms.fee_bps / 100:.2f}% on release"
    rows.append(("price", f"{asset.fmt(terms.amount)} ({fee})"))
    if terms.item_ids:
        rows.append(("items", f"{len(terms.item_ids)} registry item(s):"))
    else:
        rows.append(("reference", f"{terms.order_ref} (off-registry SKU order)"))
    marked = (state.deliveredItems, state.releasedItems, state.refundedItems)
    for index, (item, verdict) in enumerate(zip(terms.item_ids, verdicts, strict=True)):
        marks = [m for m, bits in zip(MARKS, marked, strict=True) if bits >> index & 1]
        extra = f" [{', '.join(marks)}]" if marks else ""
        rows.append(("", f"{index:>2} {item}  {verdict.name.lower()}{extra}"))
    rows.append(("status", status.name.lower()))
    if state.carrier:
        rows.append(("carrier", f"{state.carrier} (only its reports count on this order)"))
    rows += [("ship by", at(terms.ship_by)), ("deliver by", at(terms.deliver_by))]
    window = format_duration(terms.dispute_window)
    if status in (OrderStatus.FUNDED, OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        if state.deliveredAt:
            rows.append(("delivered", at(state.deliveredAt)))
        if status is OrderStatus.FUNDED:
            rows.append(("window", f"{window} after delivery"))
        else:
            until = at(view.releasable_at)
            rows.append(("window", f"{window}: disputes until, and release from, {until}"))
    if status is OrderStatus.DISPUTED:
        answered = "answered" if state.merchantAnswered else "not answered"
        default, deadline = default_outcome(view), at(state.disputeDeadline)
        if view.now < state.disputeDeadline:
            outcome = f"the arbiter rules until {deadline}, then the default is {default}"
        else:
            outcome = f"the arbitration deadline passed {deadline}: the default is {default}"
        rows.append(("dispute", f"merchant {answered}; {outcome}"))
    if status is OrderStatus.SETTLED:
        rows.append(("settled", f"{state.buyerBps} bps of the remainder to the buyer"))
    rows.append(("escrowed", asset.fmt(view.escrowed)))
    if view.offer is not None:
        rows.append(("offer", offer_text(view.offer, view.now)))
    return [f"{label:<10} {value}" if label else f"  {value}" for label, value in rows]


def offer_text(offer: Any, now: int) -> str:
    """A pending ``IOrderEscrow.Offer``, for ``status`` and the arbiter's ``list``."""
    side, until = "merchant" if offer.byMerchant else "buyer", format_moment(offer.expiresAt, now)
    return f"by the {side}: {offer.buyerBps} bps to the buyer, until {until}"


def add_status(group: click.Group, role: str | None, script: str, default: int | None) -> None:
    """``status`` for a party (``role``), or for the arbiter (test account ``default`` locally)."""
    whom = f"the order's {role}" if role else f"TEST::{default} on a local network"

    def status(run: Run, order_file: Path | None, order_id: str | None) -> None:
        s = session(run, order_file, order_id)
        contract, terms, asset = s.escrow.contract, s.terms, s.asset
        verdicts = item_verdicts(s.escrow, terms)
        click.echo("\n".join(describe(s, verdicts)))
        you = str(run.account.address if run.account else getattr(terms, role) if role else run.me)
        actions = actions_for(s, you, verdicts)
        # The arbiter's script has no withdraw: its status lists rulings only.
        credit = int(contract.creditOf(you, terms.token)) if role else 0
        if credit:
            click.echo(f"credit     {asset.fmt(credit)} for {you} (withdraw)")
            token = "" if terms.is_eth else f"--token {terms.token}"
            actions.append(("withdraw", "collect your credit", token))
        if not actions:
            click.echo(f"{you} can do nothing on this order now")
            return
        click.echo(f"{you} can now:")
        for command, note, options in actions:
            named = "" if command == "withdraw" else s.flag
            words = (RUNNER.get(command, script), command, named, options)
            click.echo(f"  {' '.join(w for w in words if w)}   # {note}")

    status.__doc__ = (
        "Show the order's state and deadlines, and the commands that would go through now. "
        f"Sends nothing; --account (default: {whom}) picks whose options are listed."
    )
    short = "the order, its deadlines, what you can do now"
    escrow.command(group, "status", short_help=short, default_signer=default)(order_options(status))


def add_address_command(group: click.Group) -> None:
    """``address ACCOUNT``: the address of a test account or an Ape alias, with no node."""

    @group.command("address", short_help="the address of TEST::N or an alias")
    @click.argument("account")
    def address(account: str) -> None:
        """Print the address of ACCOUNT: TEST::N (test account N, the same as Anvil's account N)
        or the alias of one of your Ape accounts. Sends nothing, needs no node."""
        click.echo(parse_address(account, "ACCOUNT"))


def add_party_commands(group: click.Group, role: str, script: str) -> None:
    """The commands both parties have, for ``role`` (buyer or merchant)."""
    add_status(group, role, script, None)
    other = "merchant" if role == "buyer" else "buyer"

    def list_orders(run: Run, open_only: bool) -> None:
        esc, now, shown = open_escrow(run), chain.now(), 0
        for log in esc.logs("OrderOpened", {role: run.me}):
            view = read_order(esc, OrderTerms.from_abi(list(log.terms)), now)
            if open_only and view.status.is_final:
                continue
            amount, status = asset_of(view.terms.token).fmt(view.terms.amount), view.status.name
            counterpart = f"{other} {getattr(view.terms, other)}"
            click.echo(f"{view.order_id}  {status.lower():<9} {amount:>20}  {counterpart}")
            shown += 1
        click.echo(
            f"next: {script} status --order 0xID" if shown else f"no orders for {role} {run.me}"
        )

    list_orders.__doc__ = (
        f"List the orders of the --account {role}, from the escrow's OrderOpened events, with "
        "their current status. Sends nothing."
    )
    open_only = click.option("--open-only", is_flag=True, help="Leave out released, refunded.")
    escrow.command(group, "list", short_help=f"list your orders ({role})")(open_only(list_orders))
    add_calls(group, party_calls(script), default_signer=None, address="escrow")

    @escrow.command(group, "offer", short_help="offer a settlement split")
    @order_options
    @click.option("--buyer-bps", type=click.IntRange(0, 2**16 - 1), required=True, help=BUYER_BPS)
    @click.option("--expires-in", default="3d", show_default=True, metavar="DURATION", help=EXPIRES)
    def offer(
        run: Run, order_file: Path | None, order_id: str | None, buyer_bps: int, expires_in: str
    ) -> None:
        """Offer to settle: the buyer gets --buyer-bps of what is still escrowed, the merchant the
        rest, if the other side accepts (`accept --buyer-bps N`) within --expires-in."""
        lifetime = chain.parsed(parse_duration, expires_in, "--expires-in")
        s = session(run, order_file, order_id)
        receipt = s.send("offerSettlement", buyer_bps, s.view.now + lifetime, what="the offer")
        accept = f"{SCRIPTS[other]} accept {s.flag} --buyer-bps {buyer_bps}"
        report(receipt, "sent the offer", f"the {other} accepts: {accept}", s.asset)

    @escrow.command(group, short_help="collect refunds, payments and shares credited to you")
    @click.option("--token", default="ETH", show_default=True, help="ETH or the ERC-20 address.")
    @click.option("--to", "recipient", help="Pay another address (default: yourself).")
    def withdraw(run: Run, token: str, recipient: str | None) -> None:
        """Withdraw what the escrow owes you in one token: payments, refunds, settlement shares."""
        contract, token_address = open_escrow(run).contract, parse_token(token)
        asset = asset_of(token_address)
        credit = int(contract.creditOf(run.me, token_address))
        to = parse_address(recipient, "--to") if recipient else run.me
        receipt = chain.send(run, contract.withdrawTo, token_address, to, what="withdraw")
        report(receipt, f"withdrew {asset.fmt(credit)} to {to}", f"{script} list", asset)
