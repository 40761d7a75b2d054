"""Which keeper duties look due, from the index: cheap filters only.

An open order (its latest index row not final) whose deadline passed, by a block time given by
the caller, plus the keeper's grace:

* ``refund`` (``cancel``): funded past ship-by, or past deliver-by once a carrier has it; shipped
  past deliver-by and the dispute window (an order paid by a funder is refunded then);
* ``release``: delivered past its delivery time and the dispute window; shipped past the later of
  its last delivery report and deliver-by, and the window;
* ``default_ruling`` (``resolveExpiredDispute``): disputed past the arbitration deadline;
* ``refund_recalled`` (``refundRecalled``): open items the index saw recalled (the item, or its
  batch) or flagged (``app.keeper.recalls``).

And the credit lines' duties (``app.keeper.credit_duties``). These only say what is worth asking
the contract: the keeper simulates every candidate from its own key before it queues it
(``app.keeper.worker``), and the contract alone decides. A candidate whose duty is already in the
outbox (``app.keeper.due``: unique event id) is not one any more.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from app.domain.orders import OrderTerms
from app.domain.vocab import OrderStatus
from app.index.models import DisputeRow, IndexedBlock, OrderEventRow, OrderItemRow, OrderRow
from app.keeper.credit_duties import credit_duties
from app.keeper.due import DueDuty, queued_event_ids
from app.keeper.recalls import recall_duties
from app.settings import KeeperDuty

log = structlog.get_logger(__name__)

OPEN_STATUSES = (
    OrderStatus.FUNDED,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.DISPUTED,
)


def due_duties(
    session: Session, now: int, grace: int, duties: Collection[KeeperDuty]
) -> list[DueDuty]:
    """Duties of open orders due by block time ``now`` less ``grace``, not yet in the outbox,
    oldest first."""
    orders = _open_orders(session)
    candidates = [duty for order in orders for duty in _duties_of(order)]
    if KeeperDuty.REFUND_RECALLED in duties:
        candidates += recall_duties(session, {o.order_id: o.open_items for o in orders})
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


def index_time(session: Session) -> tuple[int, int] | None:
    """The latest block the index read, and its time; None before its first cycle."""
    found = session.execute(
        select(IndexedBlock.number, IndexedBlock.time).order_by(IndexedBlock.number.desc()).limit(1)
    ).first()
    return None if found is None else (int(found[0]), int(found[1]))


# ---------------------------------------------------------------------------------- the filters


@dataclass(frozen=True)
class _OpenOrder:
    order_id: str
    status: int
    carrier: int
    ship_by: int
    deliver_by: int
    dispute_window: int
    delivered_at: int | None
    dispute_deadline: int | None
    open_items: int  # bit i: itemIds[i] neither released nor refunded


def _duties_of(order: _OpenOrder) -> list[DueDuty]:
    window = order.dispute_window
    due: list[tuple[KeeperDuty, int]] = []
    if order.status == OrderStatus.FUNDED:
        # The contract refunds anyone's call once the deadline is strictly past.
        due.append((KeeperDuty.REFUND, (order.deliver_by if order.carrier else order.ship_by) + 1))
    elif order.status == OrderStatus.SHIPPED:
        due.append((KeeperDuty.REFUND, order.deliver_by + window))
        due.append((KeeperDuty.RELEASE, max(order.delivered_at or 0, order.deliver_by) + window))
    elif order.status == OrderStatus.DELIVERED and order.delivered_at is not None:
        due.append((KeeperDuty.RELEASE, order.delivered_at + window))
    elif order.status == OrderStatus.DISPUTED and order.dispute_deadline is not None:
        due.append((KeeperDuty.DEFAULT_RULING, order.dispute_deadline))
    return [DueDuty(order.order_id, duty, at) for duty, at in due]


def _open_orders(session: Session) -> list[_OpenOrder]:
    """Every order whose latest index row leaves it open, with what its deadlines need."""
    ranked = select(
        OrderEventRow.order_id,
        OrderEventRow.status,
        OrderEventRow.carrier,
        OrderEventRow.released_items,
        OrderEventRow.refunded_items,
        func.row_number()
        .over(
            partition_by=OrderEventRow.order_id,
            order_by=(OrderEventRow.block_number.desc(), OrderEventRow.log_index.desc()),
        )
        .label("rank"),
    ).subquery()
    latest = select(ranked).where(ranked.c.rank == 1).subquery()
    delivered = (
        select(
            OrderEventRow.order_id,
            func.max(OrderEventRow.block_time).label("delivered_at"),
        )
        .where(OrderEventRow.kind == "delivered")
        .group_by(OrderEventRow.order_id)
        .subquery()
    )
    status = func.coalesce(latest.c.status, int(OrderStatus.FUNDED))
    rows = session.execute(
        select(
            OrderRow.order_id,
            status,
            func.coalesce(latest.c.carrier, 0),
            OrderRow.ship_by,
            OrderRow.deliver_by,
            OrderRow.dispute_window,
            delivered.c.delivered_at,
            DisputeRow.deadline,
            OrderRow.item_count,
            func.coalesce(latest.c.released_items, 0),
            func.coalesce(latest.c.refunded_items, 0),
        )
        .outerjoin(latest, latest.c.order_id == OrderRow.order_id)
        .outerjoin(delivered, delivered.c.order_id == OrderRow.order_id)
        .outerjoin(DisputeRow, DisputeRow.order_id == OrderRow.order_id)
        .where(status.in_([int(s) for s in OPEN_STATUSES]))
    ).all()
    return [_open_order(row) for row in rows]


def _open_order(row: Row[Any]) -> _OpenOrder:
    order_id, status, carrier, ship_by, deliver_by, window, delivered_at, deadline = tuple(row)[:8]
    item_count, released, refunded = (int(value or 0) for value in tuple(row)[8:])
    return _OpenOrder(
        order_id=order_id,
        status=int(status),
        carrier=int(carrier or 0),
        ship_by=int(ship_by),
        deliver_by=int(deliver_by),
        dispute_window=int(window),
        delivered_at=None if delivered_at is None else int(delivered_at),
        dispute_deadline=None if deadline is None else int(deadline),
        open_items=((1 << item_count) - 1) & ~(released | refunded),
    )
