"""``GET /v1/stats``'s answer, from the dashboard's counters (``app.stats.counters``): the same
numbers it always gave, read from a handful of rows instead of counted per request."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from app.index.queries import index_time
from app.stats.counting import CREDIT, DISPUTES, GMV, ITEMS, ORDERS, POOL
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
from app.stats.series import CounterView, read_view
from app.stats.sources import RelayLagPublic

_POOL_PRESENT = ("impaired", "lost", "income_locked", "redeem_requests", "refunds_settled")


def platform_stats(
    session: Session, *, merchant: str | None, days: int, relay: RelayLagPublic | None
) -> StatsPublic:
    view = read_view(session, merchant, days)
    platform = view if merchant is None else read_view(session, None, 1)
    latest = index_time(session)
    return StatsPublic(
        as_of_block=view.as_of_block,
        as_of_time=datetime.fromtimestamp(latest[1], UTC) if latest else None,
        merchant=merchant,
        items=_items(view),
        orders_by_day=_orders_by_day(view),
        disputes=_disputes(view),
        credit=_credit(platform),
        relay=relay,
    )


def _items(view: CounterView) -> ItemStatsPublic:
    single = view.total(ITEMS, "single")
    declared = view.total(ITEMS, "batch_declared")
    return ItemStatsPublic(
        registered=single + declared,
        single=single,
        batches=view.total(ITEMS, "batches"),
        batch_items_declared=declared,
        batch_items_activated=view.total(ITEMS, "batch_activated"),
    )


def _orders_by_day(view: CounterView) -> list[OrdersDayPublic]:
    tokens = view.keys(ORDERS)
    found: list[OrdersDayPublic] = []
    for day in view.window:
        orders = {token: view.day(ORDERS, day, token) for token in tokens}
        if not any(orders.values()):
            continue
        found.append(
            OrdersDayPublic(
                day=day,
                orders=sum(orders.values()),
                value=[
                    TokenAmountPublic(token=token, amount=str(view.day(GMV, day, token)))
                    for token in tokens
                    if orders[token]
                ],
            )
        )
    return found


def _disputes(view: CounterView) -> DisputeStatsPublic:
    orders = sum(view.total(ORDERS, token) for token in view.keys(ORDERS))
    disputes = view.total(DISPUTES, "")
    return DisputeStatsPublic(
        orders=orders, disputes=disputes, rate=disputes / orders if orders else None
    )


def _credit(view: CounterView) -> CreditStatsPublic:
    tiers: dict[int, dict[str, int]] = {}
    for key in view.keys(CREDIT):
        band, outcome = key.split(":")
        tiers.setdefault(int(band), {"approved": 0, "denied": 0})[outcome] = view.total(CREDIT, key)
    pool = None
    if any(view.total(POOL, key) for key in _POOL_PRESENT):
        pool = CreditPoolStatsPublic(
            principal_impaired=str(view.total(POOL, "impaired")),
            losses_recognized=str(view.total(POOL, "lost")),
            income_locked=str(view.total(POOL, "income_locked")),
            redeem_requests=view.total(POOL, "redeem_requests"),
            shares_requested=str(view.total(POOL, "redeem_shares")),
            refunds_settled=str(view.total(POOL, "refunds_settled")),
        )
    return CreditStatsPublic(
        by_tier=[
            CreditTierPublic(tier=tier, approved=counts["approved"], denied=counts["denied"])
            for tier, counts in sorted(tiers.items())
        ],
        pool=pool,
    )
