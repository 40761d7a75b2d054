"""The numbers a merchant or the platform watches, aggregated from the index.

Sums of amounts are done in Python: they are uint256 (decimal text in the database) and exceed
what SQL integers hold. Days are UTC days of the block time.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.index.credit_events import (
    INCOME_LOCKED,
    LOSS_RECOGNIZED,
    PRINCIPAL_IMPAIRED,
    REDEEM_REQUEST,
)
from app.index.models import (
    BatchRow,
    CreditDecisionRow,
    CreditPoolEventRow,
    CreditRefundRow,
    DisputeRow,
    IndexedBlock,
    ItemRow,
    OrderRow,
)
from app.index.queries import index_position
from app.stats.schemas import (
    CreditPoolStatsPublic,
    CreditStatsPublic,
    CreditTierPublic,
    DisputeStatsPublic,
    ItemStatsPublic,
    OrdersDayPublic,
    StatsPublic,
    TokenAmountPublic,
)
from app.stats.sources import RelayLagPublic


def platform_stats(
    session: Session, *, merchant: str | None, days: int, relay: RelayLagPublic | None
) -> StatsPublic:
    position = index_position(session)
    latest_time = session.scalar(select(func.max(IndexedBlock.time)))
    return StatsPublic(
        as_of_block=position.last_block if position else None,
        as_of_time=datetime.fromtimestamp(latest_time, UTC) if latest_time else None,
        merchant=merchant,
        items=_items(session, merchant),
        orders_by_day=_orders_by_day(session, merchant, days, latest_time),
        disputes=_disputes(session, merchant),
        credit=_credit(session),
        relay=relay,
    )


def _items(session: Session, merchant: str | None) -> ItemStatsPublic:
    # Distinct ids: an id registered again after a verifier revoked its record has two rows.
    items = select(
        ItemRow.batch_root.is_(None), func.count(func.distinct(ItemRow.item_id))
    ).group_by(ItemRow.batch_root.is_(None))
    batches = select(func.count(), func.coalesce(func.sum(BatchRow.item_count), 0))
    if merchant is not None:
        items = items.where(ItemRow.merchant == merchant)
        batches = batches.where(BatchRow.merchant == merchant)
    counts = {bool(single): int(count) for single, count in session.execute(items)}
    batch_count, declared = session.execute(batches).one()
    single = counts.get(True, 0)
    return ItemStatsPublic(
        registered=single + int(declared),
        single=single,
        batches=int(batch_count),
        batch_items_declared=int(declared),
        batch_items_activated=counts.get(False, 0),
    )


def _orders_by_day(
    session: Session, merchant: str | None, days: int, latest_time: int | None
) -> list[OrdersDayPublic]:
    if latest_time is None:
        return []
    last_day = datetime.fromtimestamp(latest_time, UTC).date()
    first_day = last_day - timedelta(days=days - 1)
    since = int(datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC).timestamp())
    query = select(OrderRow.block_time, OrderRow.token, OrderRow.amount).where(
        OrderRow.block_time >= since
    )
    if merchant is not None:
        query = query.where(OrderRow.merchant == merchant)
    orders: dict[date, int] = defaultdict(int)
    value: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for block_time, token, amount in session.execute(query):
        day = datetime.fromtimestamp(block_time, UTC).date()
        orders[day] += 1
        value[day][token] += int(amount)
    return [
        OrdersDayPublic(
            day=day,
            orders=orders[day],
            value=[
                TokenAmountPublic(token=token, amount=str(amount))
                for token, amount in sorted(value[day].items())
            ],
        )
        for day in sorted(orders)
    ]


def _disputes(session: Session, merchant: str | None) -> DisputeStatsPublic:
    orders = select(func.count()).select_from(OrderRow)
    disputes = select(func.count()).select_from(DisputeRow)
    if merchant is not None:
        orders = orders.where(OrderRow.merchant == merchant)
        disputes = disputes.where(DisputeRow.merchant == merchant)
    order_count = session.scalar(orders) or 0
    dispute_count = session.scalar(disputes) or 0
    return DisputeStatsPublic(
        orders=order_count,
        disputes=dispute_count,
        rate=dispute_count / order_count if order_count else None,
    )


def _credit(session: Session) -> CreditStatsPublic:
    rows = session.execute(
        select(CreditDecisionRow.band, CreditDecisionRow.approved, func.count()).group_by(
            CreditDecisionRow.band, CreditDecisionRow.approved
        )
    )
    tiers: dict[int, dict[bool, int]] = defaultdict(lambda: {True: 0, False: 0})
    for band, approved, count in rows:
        tiers[int(band)][bool(approved)] += int(count)
    return CreditStatsPublic(
        by_tier=[
            CreditTierPublic(tier=tier, approved=counts[True], denied=counts[False])
            for tier, counts in sorted(tiers.items())
        ],
        pool=_pool(session),
    )


def _pool(session: Session) -> CreditPoolStatsPublic | None:
    """Totals of the vault's events (uint256 sums in Python) and of refunds settled to lines."""
    totals: dict[str, int] = defaultdict(int)
    counts: dict[str, int] = defaultdict(int)
    for kind, amount in session.execute(select(CreditPoolEventRow.kind, CreditPoolEventRow.amount)):
        totals[kind] += int(amount)
        counts[kind] += 1
    refunds = sum(int(r) for r in session.scalars(select(CreditRefundRow.refund)))
    if not counts and not refunds:
        return None
    return CreditPoolStatsPublic(
        principal_impaired=str(totals[PRINCIPAL_IMPAIRED]),
        losses_recognized=str(totals[LOSS_RECOGNIZED]),
        income_locked=str(totals[INCOME_LOCKED]),
        redeem_requests=counts[REDEEM_REQUEST],
        shares_requested=str(totals[REDEEM_REQUEST]),
        refunds_settled=str(refunds),
    )
