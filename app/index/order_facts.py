"""Escrow orders' current state as the index has it, many orders at once, in the shape the
escrow's rules read (``app.domain.escrow_moves.OrderFacts``): the keeper's scan of every open
order, and the shopper API's page of one party's orders. The latest event row of an order carries
its state after that event (``app.index.escrow_events``); its delivery time is its latest
delivery report's block time, as the escrow stores ``deliveredAt``.

Recalls: open items the index saw recalled (``ItemRecalled``, or ``BatchRecalled`` of the batch
the item was activated from) or flagged (``ItemFlagged``). A cheap look only: an item registered
again after its recall, or moved out of its batch before the batch's recall, may read Authentic
again, and ``refundRecalled`` asks the registry itself.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, Row, func, select, true, union_all
from sqlalchemy.orm import Session

from app.domain.escrow_moves import Offer, OrderFacts
from app.domain.vocab import OrderStatus
from app.index.models import (
    BatchRecallRow,
    DisputeRow,
    ItemFlagRow,
    ItemRecallRow,
    ItemRow,
    OrderEventRow,
    OrderItemRow,
    OrderRow,
)

OPEN_STATUSES = (
    OrderStatus.FUNDED,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.DISPUTED,
)
OFFER_KINDS = ("settlement_offered", "settlement_offer_withdrawn")
# Up to this many orders are named in the SQL itself; more (the keeper's scan) are filtered here.
NAMED_ORDERS = 500


def open_order_facts(
    session: Session, *, recalls: bool, order_ids: Collection[str] | None = None
) -> list[OrderFacts]:
    """Every order (or every one of ``order_ids``) whose latest index row leaves it open; with
    its recalled items if asked."""
    facts = _facts(session, order_ids, open_only=True)
    return _with_recalls(session, facts) if recalls else facts


def order_facts(session: Session, order_ids: Collection[str]) -> dict[str, OrderFacts]:
    """The facts of these orders (those the index saw opened), with pending offers and
    recalled items."""
    if not order_ids:
        return {}
    facts = _with_recalls(session, _facts(session, order_ids, open_only=False))
    offers = _pending_offers(session, order_ids)
    return {
        order.order_id: replace(order, offer=offers.get(order.order_id))
        if order.status in OPEN_STATUSES
        else order
        for order in facts
    }


def _facts(
    session: Session, order_ids: Collection[str] | None, *, open_only: bool
) -> list[OrderFacts]:
    # Only the named orders' rows, or every order's (the keeper's scan of open orders).
    ids = list(order_ids or ())
    events_of: ColumnElement[bool] = (
        true() if order_ids is None else OrderEventRow.order_id.in_(ids)
    )
    orders: ColumnElement[bool] = true() if order_ids is None else OrderRow.order_id.in_(ids)
    ranked = (
        select(
            OrderEventRow.order_id,
            OrderEventRow.status,
            OrderEventRow.carrier,
            OrderEventRow.delivered_items,
            OrderEventRow.released_items,
            OrderEventRow.refunded_items,
            _latest_first(),
        )
        .where(events_of)
        .subquery()
    )
    latest = select(ranked).where(ranked.c.rank == 1).subquery()
    delivered = (
        select(OrderEventRow.order_id, func.max(OrderEventRow.block_time).label("delivered_at"))
        .where(events_of, OrderEventRow.kind == "delivered")
        .group_by(OrderEventRow.order_id)
        .subquery()
    )
    status = func.coalesce(latest.c.status, int(OrderStatus.FUNDED))
    query = (
        select(
            OrderRow.order_id,
            status,
            OrderRow.item_count,
            OrderRow.ship_by,
            OrderRow.deliver_by,
            OrderRow.dispute_window,
            OrderRow.payer != OrderRow.buyer,
            latest.c.carrier,
            latest.c.delivered_items,
            latest.c.released_items,
            latest.c.refunded_items,
            delivered.c.delivered_at,
            DisputeRow.deadline,
        )
        .outerjoin(latest, latest.c.order_id == OrderRow.order_id)
        .outerjoin(delivered, delivered.c.order_id == OrderRow.order_id)
        .outerjoin(DisputeRow, DisputeRow.order_id == OrderRow.order_id)
        .where(orders)
    )
    if open_only:
        query = query.where(status.in_([int(s) for s in OPEN_STATUSES]))
    return [_order_facts(row) for row in session.execute(query).all()]


def _latest_first() -> Any:
    return (
        func.row_number()
        .over(
            partition_by=OrderEventRow.order_id,
            order_by=(OrderEventRow.block_number.desc(), OrderEventRow.log_index.desc()),
        )
        .label("rank")
    )


def _order_facts(row: Row[Any]) -> OrderFacts:
    order_id, status, item_count, ship_by, deliver_by, window, by_funder = tuple(row)[:7]
    carrier, delivered, released, refunded = (int(value or 0) for value in tuple(row)[7:11])
    delivered_at, deadline = tuple(row)[11:]
    return OrderFacts(
        order_id=order_id,
        status=OrderStatus(int(status)),
        item_count=int(item_count),
        ship_by=int(ship_by),
        deliver_by=int(deliver_by),
        dispute_window=int(window),
        paid_by_funder=bool(by_funder),
        carrier=carrier,
        delivered_items=delivered,
        released_items=released,
        refunded_items=refunded,
        delivered_at=None if delivered_at is None else int(delivered_at),
        dispute_deadline=None if deadline is None else int(deadline),
    )


def _pending_offers(session: Session, order_ids: Collection[str]) -> dict[str, Offer]:
    """Each order's offer still pending: its latest offer event, if that made one (an accepted
    offer settles the order, which ends it)."""
    ranked = (
        select(
            OrderEventRow.order_id,
            OrderEventRow.kind,
            OrderEventRow.actor,
            OrderEventRow.merchant,
            OrderEventRow.details,
            _latest_first(),
        )
        .where(OrderEventRow.kind.in_(OFFER_KINDS), OrderEventRow.order_id.in_(list(order_ids)))
        .subquery()
    )
    rows = session.execute(
        select(ranked.c.order_id, ranked.c.actor, ranked.c.merchant, ranked.c.details).where(
            ranked.c.rank == 1, ranked.c.kind == OFFER_KINDS[0]
        )
    ).all()
    offers = {}
    for order_id, actor, merchant, details in rows:
        offer = json.loads(details)
        offers[order_id] = Offer(
            int(offer["buyer_bps"]), actor == merchant, int(offer["expires_at"])
        )
    return offers


def _with_recalls(session: Session, facts: list[OrderFacts]) -> list[OrderFacts]:
    marked = marked_items(session, {order.order_id: order.open_items for order in facts})
    return [
        replace(
            order,
            recalled_items=marked[order.order_id][0],
            recalled_since=marked[order.order_id][1],
        )
        if order.order_id in marked
        else order
        for order in facts
    ]


def marked_items(session: Session, open_items: Mapping[str, int]) -> dict[str, tuple[int, int]]:
    """For each order (``open_items``: order id -> its open items' bitmap) holding open items the
    index saw recalled or flagged: their bitmap, and the latest time one of them was first
    marked (the recall refund is due from then)."""
    marked = union_all(
        select(ItemRecallRow.item_id, ItemRecallRow.block_time),
        select(ItemFlagRow.item_id, ItemFlagRow.block_time),
        select(ItemRow.item_id, BatchRecallRow.block_time).join(
            BatchRecallRow, BatchRecallRow.root == ItemRow.batch_root
        ),
    ).subquery()
    first_marked = (
        select(marked.c.item_id, func.min(marked.c.block_time).label("at"))
        .group_by(marked.c.item_id)
        .subquery()
    )
    query = select(OrderItemRow.order_id, OrderItemRow.position, first_marked.c.at).join(
        first_marked, first_marked.c.item_id == OrderItemRow.item_id
    )
    if len(open_items) <= NAMED_ORDERS:
        query = query.where(OrderItemRow.order_id.in_(list(open_items)))
    found: dict[str, tuple[int, int]] = {}
    for order_id, position, at in session.execute(query).all():
        bit = 1 << int(position)
        if not open_items.get(order_id, 0) & bit:
            continue
        items, since = found.get(order_id, (0, 0))
        found[order_id] = (items | bit, max(since, int(at)))
    return found
