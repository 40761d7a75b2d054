"""Pre-flight checks of escrow actions that read the chain and give a plain message before any
call (not your order, wrong state, past a deadline). They are a courtesy, not the rules: every
action is then simulated, and the contract's own refusal, explained from its custom error, is
what decides (``scripts/_lib/reverts.py``). Rules the contracts gained since these checks were
written (carriers, funder-paid orders, recall refunds by anyone, offer expiry) are left to the
contract alone. Each check returns the problems found (empty: go on)."""

from __future__ import annotations

from app.domain.vocab import OrderStatus
from scripts._lib.escrow import OrderView, bits_text
from scripts._lib.units import format_moment


def _status(view: OrderView) -> str:
    return view.status.name.lower()


def _not(view: OrderView, caller: str, who: str) -> list[str]:
    address = view.terms.buyer if who == "buyer" else view.terms.merchant
    if caller != address:
        return [f"{caller} is not the {who} of order {view.order_id} (the {who} is {address})"]
    return []


def _is_party(view: OrderView, caller: str) -> list[str]:
    if caller not in (view.terms.buyer, view.terms.merchant):
        return [f"{caller} is neither the buyer nor the merchant of order {view.order_id}"]
    return []


def _open_status(view: OrderView) -> list[str]:
    if view.status.is_final:
        return [f"order {view.order_id} is already {_status(view)}"]
    return []


def check_ship(view: OrderView, caller: str) -> list[str]:
    problems = _not(view, caller, "merchant")
    if view.status is not OrderStatus.FUNDED:
        problems.append(f"order {view.order_id} is {_status(view)}; only a funded one ships")
    elif view.now > view.terms.ship_by:
        problems.append(
            f"the ship-by deadline {format_moment(view.terms.ship_by, view.now)} has passed; "
            "the buyer may now cancel for a full refund"
        )
    return problems


def check_confirm(view: OrderView, caller: str, items: int = 0) -> list[str]:
    """confirmReceipt (items 0) or the buyer's releaseItems."""
    problems = _not(view, caller, "buyer")
    if view.status >= OrderStatus.DISPUTED:
        problems.append(f"order {view.order_id} is {_status(view)}")
    elif items and items & ~view.open_items:
        problems.append(
            f"items {bits_text(items)}: the order's open items are "
            f"{bits_text(view.open_items) or 'none'} (the others are released or refunded)"
        )
    return problems


def check_release(view: OrderView) -> list[str]:
    if view.status not in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        return [f"order {view.order_id} is {_status(view)}; only a shipped or delivered one"]
    if view.now < view.releasable_at:
        return [
            f"the dispute window runs until {format_moment(view.releasable_at, view.now)}; "
            "before that only the buyer can release"
        ]
    return []


def check_release_items(view: OrderView, items: int) -> list[str]:
    """releaseItems by anyone but the buyer: delivered items whose dispute window is over."""
    if view.status >= OrderStatus.DISPUTED:
        return [f"order {view.order_id} is {_status(view)}"]
    if items & ~view.open_items:
        return [
            f"items {bits_text(items)}: the order's open items are "
            f"{bits_text(view.open_items) or 'none'} (the others are released or refunded)"
        ]
    if items & ~view.delivered_items:
        return [
            f"items {bits_text(items & ~view.delivered_items)} are not reported delivered; "
            "before that only the buyer can release them"
        ]
    releasable_at = view.delivered_at + view.terms.dispute_window
    if view.now < releasable_at:
        return [
            f"the dispute window after the latest delivery runs until "
            f"{format_moment(releasable_at, view.now)}"
        ]
    return []


def check_cancel(view: OrderView) -> list[str]:
    """Who may cancel, and what it refunds, is the contract's to say (the buyer before a carrier
    has the order, the merchant until the last release, anyone once a deadline passed)."""
    return _open_status(view)


def check_offer(view: OrderView, caller: str) -> list[str]:
    return _is_party(view, caller) + _open_status(view)


def check_accept(view: OrderView, caller: str, buyer_bps: int) -> list[str]:
    problems = _is_party(view, caller) + _open_status(view)
    if problems:
        return problems
    offer = view.offer
    if offer is None:
        return [f"order {view.order_id} has no pending settlement offer"]
    if offer.by_merchant == (caller == view.terms.merchant):
        return [f"the pending offer ({offer.buyer_bps} bps to the buyer) is your own"]
    if offer.buyer_bps != buyer_bps:
        return [f"the pending offer gives the buyer {offer.buyer_bps} bps, not {buyer_bps}"]
    return []


def check_dispute(view: OrderView, caller: str) -> list[str]:
    problems = _not(view, caller, "buyer")
    if view.status not in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        hint = " (cancel it instead)" if view.status is OrderStatus.FUNDED else ""
        problems.append(
            f"order {view.order_id} is {_status(view)}; only a shipped or delivered one can be "
            f"disputed{hint}"
        )
    elif view.now >= view.releasable_at:
        problems.append(f"the dispute window closed {format_moment(view.releasable_at, view.now)}")
    return problems


def check_evidence(view: OrderView, caller: str) -> list[str]:
    problems = _is_party(view, caller)
    if view.status is not OrderStatus.DISPUTED:
        problems.append(f"order {view.order_id} is {_status(view)}, not disputed")
    return problems


def check_resolve(view: OrderView, caller_is_arbiter: bool, caller: str) -> list[str]:
    problems = [] if caller_is_arbiter else [f"{caller} does not hold ARBITER_ROLE"]
    if view.status is not OrderStatus.DISPUTED:
        problems.append(f"order {view.order_id} is {_status(view)}, not disputed")
    elif view.now >= view.dispute_deadline:
        problems.append(
            f"the arbitration deadline passed {format_moment(view.dispute_deadline, view.now)}; "
            "anyone may now apply the default outcome (resolve-expired)"
        )
    return problems


def check_resolve_expired(view: OrderView) -> list[str]:
    if view.status is not OrderStatus.DISPUTED:
        return [f"order {view.order_id} is {_status(view)}, not disputed"]
    if view.now < view.dispute_deadline:
        return [
            f"the arbiter may rule until {format_moment(view.dispute_deadline, view.now)}; "
            "the default outcome applies only after that"
        ]
    return []
