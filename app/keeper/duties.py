"""Which keeper duties look due, from the index: cheap filters only.

An open order (its latest index row not final) on which a move open to anyone (a refund past a
missed deadline, a release past the dispute window, the default ruling past the arbitration
deadline, a recall refund of items the index saw recalled or flagged) is possible by a block time
given by the caller, less the keeper's grace. When each move opens is the escrow's rule, written
once for the service in ``app.domain.escrow_moves`` (``GET /v1/orders`` shows the same moves to
the parties); the orders' state comes from ``app.index.order_facts``.

And the credit lines' duties (``app.keeper.credit_duties``). These only say what is worth asking
the contract: the keeper simulates every candidate from its own key before it queues it
(``app.keeper.worker``), and the contract alone decides. A candidate whose duty is already in the
outbox (``app.keeper.due``: unique event id) is not one any more.
"""

from __future__ import annotations

from collections.abc import Collection

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.escrow_moves import Action, OrderFacts, Party, moves
from app.domain.orders import OrderTerms
from app.index.models import OrderItemRow, OrderRow
from app.index.order_facts import open_order_facts
from app.keeper.credit_duties import credit_duties
from app.keeper.due import DueDuty, queued_event_ids
from app.settings import KeeperDuty

log = structlog.get_logger(__name__)

# The moves anyone may make (``app.domain.escrow_moves``) that are the keeper's duties.
KEEPER_MOVES = {
    Action.REFUND: KeeperDuty.REFUND,
    Action.RELEASE: KeeperDuty.RELEASE,
    Action.RESOLVE_EXPIRED_DISPUTE: KeeperDuty.DEFAULT_RULING,
    Action.REFUND_RECALLED: KeeperDuty.REFUND_RECALLED,
}


def due_duties(
    session: Session, now: int, grace: int, duties: Collection[KeeperDuty]
) -> list[DueDuty]:
    """Duties of open orders due by block time ``now`` less ``grace``, not yet in the outbox,
    oldest first."""
    orders = open_order_facts(session, recalls=KeeperDuty.REFUND_RECALLED in duties)
    candidates = [duty for order in orders for duty in duties_of(order)]
    candidates += credit_duties(session, duties)
    found = [d for d in candidates if d.duty in duties and d.due_at + grace <= now]
    queued = queued_event_ids(session, [duty.event_id for duty in found])
    return sorted(
        (duty for duty in found if duty.event_id not in queued),
        key=lambda duty: (duty.due_at, duty.subject, duty.duty, duty.detail),
    )


def order_terms(session: Session, order_id: str) -> OrderTerms | None:
    """The order's terms rebuilt from its ``OrderOpened`` row and items; None (logged) when they
    do not hash to the order's id (an index out of step: better no call than a wrong one)."""
    row = session.get(OrderRow, order_id)
    if row is None:
        return None
    items = session.scalars(
        select(OrderItemRow.item_id)
        .where(OrderItemRow.order_id == order_id)
        .order_by(OrderItemRow.position)
    ).all()
    terms = OrderTerms(
        buyer=row.buyer,
        merchant=row.merchant,
        payer=row.payer,
        token=row.token,
        amount=int(row.amount),
        ship_by=row.ship_by,
        deliver_by=row.deliver_by,
        dispute_window=row.dispute_window,
        fee_bps=row.fee_bps,
        order_ref=row.order_ref,
        salt=int(row.salt),
        item_ids=tuple(items),
    )
    if terms.order_id != order_id:
        log.error("keeper_terms_mismatch", order_id=order_id, rebuilt=terms.order_id)
        return None
    return terms


def duties_of(order: OrderFacts) -> list[DueDuty]:
    """The order's moves open to anyone that are keeper duties, each due from its opening; a
    recall refund told apart by its items. A release beside a recall refund is a duty too: the
    chain's verdicts, not the index's marks (which a re-registration may have undone), decide
    whether it waits for the refund (``app.chain.recalled_items``)."""
    return [
        DueDuty(
            order.order_id,
            KEEPER_MOVES[move.action],
            move.opens_at or 0,
            str(move.items) if move.action == Action.REFUND_RECALLED else "",
        )
        for move in moves(order)
        if move.party == Party.ANYONE and move.action in KEEPER_MOVES
    ]
