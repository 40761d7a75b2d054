"""Merchants, orders and disputes as the index has them, in the API's shapes: an order's public
form is made here alone (``order_summaries``), for one order, a party's list and a merchant's."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.escrow_moves import OrderFacts, deadlines, moves_open
from app.domain.vocab import MerchantStatus, OrderStatus
from app.index.models import (
    BatchRow,
    ChainRecord,
    DisputeRow,
    ItemRow,
    MerchantRow,
    MerchantStatusRow,
    OrderEventRow,
    OrderItemRow,
    OrderRow,
)
from app.index.order_facts import order_facts
from app.index.queries import index_position, merchant_status
from app.shop.assemble import status_name, utc
from app.shop.order_context import OrderContext
from app.shop.schemas import (
    ChainRefPublic,
    DisputeListPublic,
    DisputePublic,
    MerchantPublic,
    MerchantStatusChangePublic,
    MerchantSummaryPublic,
    OrderActionPublic,
    OrderDeadlinePublic,
    OrderEventPublic,
    OrderPublic,
    OrderSummaryPublic,
)
from app.shop.seller_record import seller_record


def chain_ref(row: ChainRecord) -> ChainRefPublic:
    return ChainRefPublic(
        tx_hash=row.tx_hash,
        block_number=row.block_number,
        log_index=row.log_index,
        time=utc(row.block_time),
    )


def merchant_summary(session: Session, address: str) -> MerchantSummaryPublic:
    row = session.get(MerchantRow, address)
    return MerchantSummaryPublic(
        address=address,
        name=row.name if row is not None else None,
        status=status_name(merchant_status(session, row)),
        seller_record=seller_record(session, address),
    )


def merchant_public(session: Session, address: str) -> MerchantPublic | None:
    row = session.get(MerchantRow, address)
    if row is None:
        return None
    changes = session.scalars(
        select(MerchantStatusRow)
        .where(MerchantStatusRow.merchant == address)
        .order_by(MerchantStatusRow.block_number, MerchantStatusRow.log_index)
    ).all()
    history = [
        MerchantStatusChangePublic(
            **chain_ref(change).model_dump(),
            status="active" if change.status == MerchantStatus.ACTIVE else "suspended",
            reason_hash=change.reason_hash,
        )
        for change in changes
    ]
    status = merchant_status(session, row)
    items = session.scalar(select(func.count()).where(ItemRow.merchant == address)) or 0
    batches = session.scalar(select(func.count()).where(BatchRow.merchant == address)) or 0
    position = index_position(session)
    return MerchantPublic(
        address=row.address,
        name=row.name,
        identity_hash=row.identity_hash,
        status="active" if status is MerchantStatus.ACTIVE else "suspended",
        verifier=row.verifier,
        approved=chain_ref(row),
        status_history=history,
        items_registered=items,
        batches_registered=batches,
        seller_record=seller_record(session, address),
        as_of_block=position.last_block if position else None,
    )


def order_events(session: Session, order_id: str) -> list[OrderEventRow]:
    return list(
        session.scalars(
            select(OrderEventRow)
            .where(OrderEventRow.order_id == order_id)
            .order_by(OrderEventRow.block_number, OrderEventRow.log_index)
        )
    )


def order_public(session: Session, order_id: str, context: OrderContext) -> OrderPublic | None:
    """An order as ``GET /v1/orders/{id}`` shows it: its summary, every event, its dispute."""
    order = session.get(OrderRow, order_id)
    if order is None:
        return None
    [summary] = order_summaries(session, [order], context)
    events = order_events(session, order_id)
    dispute_row = session.get(DisputeRow, order_id)
    position = index_position(session)
    return OrderPublic(
        **dict(summary),
        events=[
            OrderEventPublic(
                **chain_ref(event).model_dump(),
                kind=event.kind,
                actor=event.actor,
                details=json.loads(event.details),
                status=OrderStatus(event.status).name.lower(),
            )
            for event in events
        ],
        dispute=dispute_public(dispute_row, events) if dispute_row else None,
        as_of_block=position.last_block if position else None,
        now=utc(context.now),
        clock=context.clock,
    )


def order_summaries(
    session: Session, orders: Sequence[OrderRow], context: OrderContext
) -> list[OrderSummaryPublic]:
    """The one home of an indexed order's public form (the list of a party's orders, and
    ``order_public``): terms, state, the deadlines of its status and the moves open now, by the
    escrow's rules (``app.domain.escrow_moves``)."""
    ids = [order.order_id for order in orders]
    items: dict[str, list[str]] = {order_id: [] for order_id in ids}
    for order_id, item_id in session.execute(
        select(OrderItemRow.order_id, OrderItemRow.item_id)
        .where(OrderItemRow.order_id.in_(ids))
        .order_by(OrderItemRow.order_id, OrderItemRow.position)
    ):
        items[order_id].append(item_id)
    facts = order_facts(session, ids)
    return [
        _summary(order, items[order.order_id], facts[order.order_id], context) for order in orders
    ]


def _summary(
    order: OrderRow, items: list[str], facts: OrderFacts, context: OrderContext
) -> OrderSummaryPublic:
    now = context.now
    return OrderSummaryPublic(
        order_id=order.order_id,
        buyer=order.buyer,
        merchant=order.merchant,
        payer=order.payer,
        token=order.token,
        amount=order.amount,
        amount_text=context.amount_text(order.token, int(order.amount)),
        ship_by=utc(order.ship_by),
        deliver_by=utc(order.deliver_by),
        dispute_window_seconds=order.dispute_window,
        fee_bps=order.fee_bps,
        order_ref=order.order_ref,
        salt=order.salt,
        item_ids=items,
        status=facts.status.name.lower(),
        delivered_items=facts.delivered_items,
        released_items=facts.released_items,
        refunded_items=facts.refunded_items,
        carrier=facts.carrier or None,
        opened=chain_ref(order),
        deadlines=[
            OrderDeadlinePublic(
                name=deadline.name,
                at=utc(deadline.at),
                seconds_left=max(deadline.at - now, 0),
            )
            for deadline in deadlines(facts)
        ],
        next_actions=[
            OrderActionPublic(
                party=move.party,
                action=move.action,
                function=move.function,
                closes_at=None if move.closes_at is None else utc(move.closes_at),
                seconds_left=None if move.closes_at is None else move.closes_at - now,
                items=move.items or None,
                buyer_bps=move.buyer_bps,
            )
            for move in moves_open(facts, now)
        ],
    )


def dispute_public(row: DisputeRow, events: list[OrderEventRow]) -> DisputePublic:
    last = events[-1] if events else None
    status = OrderStatus(last.status) if last else OrderStatus.DISPUTED
    outcome = next((e.dispute_outcome for e in events if e.dispute_outcome), None)
    return DisputePublic(
        order_id=row.order_id,
        merchant=row.merchant,
        buyer=row.buyer,
        opened_by=row.opened_by,
        evidence_hash=row.evidence_hash,
        deadline=utc(row.deadline),
        opened=chain_ref(row),
        open=status is OrderStatus.DISPUTED,
        order_status=status.name.lower(),
        outcome=outcome,
    )


def disputes_public(
    session: Session, *, open_only: bool | None, merchant: str | None, limit: int, offset: int
) -> DisputeListPublic:
    """Disputes, newest first. ``open_only`` True: still disputed; False: closed; None: all."""
    latest_status = (
        select(OrderEventRow.status)
        .where(OrderEventRow.order_id == DisputeRow.order_id)
        .order_by(OrderEventRow.block_number.desc(), OrderEventRow.log_index.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = select(DisputeRow)
    if merchant is not None:
        query = query.where(DisputeRow.merchant == merchant)
    if open_only is True:
        query = query.where(latest_status == int(OrderStatus.DISPUTED))
    elif open_only is False:
        query = query.where(latest_status != int(OrderStatus.DISPUTED))
    rows = session.scalars(
        query.order_by(DisputeRow.block_number.desc(), DisputeRow.log_index.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    position = index_position(session)
    return DisputeListPublic(
        disputes=[dispute_public(row, order_events(session, row.order_id)) for row in rows],
        limit=limit,
        offset=offset,
        as_of_block=position.last_block if position else None,
    )
