"""The dashboard's series, read from the counters of one scope (the platform or a merchant): a
handful of indexed reads, whatever the index holds. Each series is a table (named columns, one
row per day, bin, band or state) that the page draws, lists for screen readers and offers as CSV
and JSON, so the three cannot disagree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from itertools import pairwise

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.index.queries import index_position, index_time
from app.shop.tokens import AmountText
from app.stats.counting import (
    CREDIT,
    DELIVERY,
    DELIVERY_BIN_DAYS,
    DISPUTES,
    GMV,
    ITEMS,
    ORDERS,
    POOL,
    REFUNDS,
    REPORTS,
    utc_day,
)
from app.stats.models import ALL_TIME, PLATFORM, StatsCounterRow
from app.stats.sources import RelayLagPublic

Cell = str | int | None


class SeriesName(StrEnum):
    ITEMS = "items"
    ORDERS = "orders"
    GMV = "gmv"
    DELIVERY_TIME = "delivery_time"
    DISPUTES_REFUNDS = "disputes_refunds"
    REPORTS = "reports"
    CREDIT_BANDS = "credit_bands"
    POOL = "pool"
    RELAY_LAG = "relay_lag"


# The platform's alone: credit is not a merchant's, nor is the relay.
PLATFORM_ONLY = frozenset({SeriesName.CREDIT_BANDS, SeriesName.POOL, SeriesName.RELAY_LAG})


class SeriesPublic(BaseModel):
    """One series as a table: ``columns`` name the cells of each row. Amounts are in the token's
    base unit (``amount``) with their reading beside them (``amount_text``: ``0.25 ETH``)."""

    name: SeriesName
    merchant: str | None = Field(description="The merchant it is limited to; null: the platform")
    as_of_block: int | None = Field(description="The index's last block")
    days: int = Field(description="The window of the daily rows, ending on the index's last day")
    columns: list[str]
    rows: list[dict[str, Cell]]


@dataclass(frozen=True)
class CounterView:
    """One scope's counters: all-time totals, and the days of the window."""

    as_of_block: int | None
    window: list[date]
    totals: dict[tuple[str, str], int]
    daily: dict[tuple[str, str, str], int]

    def total(self, series: str, key: str) -> int:
        return self.totals.get((series, key), 0)

    def day(self, series: str, day: date, key: str) -> int:
        return self.daily.get((series, day.isoformat(), key), 0)

    def keys(self, series: str) -> list[str]:
        return sorted({key for (name, key) in self.totals if name == series})


def read_view(session: Session, scope: str | None, days: int) -> CounterView:
    """The counters of ``scope`` (None: the platform) for the ``days`` ending on the index's
    last block's day: three small indexed reads."""
    scope_key = PLATFORM if scope is None else scope
    position = index_position(session)
    latest = index_time(session)
    window: list[date] = []
    if latest is not None:
        last = date.fromisoformat(utc_day(latest[1]))
        window = [last - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    totals: dict[tuple[str, str], int] = {}
    daily: dict[tuple[str, str, str], int] = {}
    rows = select(StatsCounterRow.series, StatsCounterRow.key, StatsCounterRow.value)
    for series, key, value in session.execute(
        rows.where(StatsCounterRow.scope == scope_key, StatsCounterRow.day == ALL_TIME)
    ):
        totals[(series, key)] = int(value)
    if window:
        for series, day, key, value in session.execute(
            select(
                StatsCounterRow.series, StatsCounterRow.day, StatsCounterRow.key,
                StatsCounterRow.value,
            ).where(
                StatsCounterRow.scope == scope_key,
                StatsCounterRow.day >= window[0].isoformat(),
            )
        ):  # fmt: skip
            daily[(series, day, key)] = int(value)
    return CounterView(position.last_block if position else None, window, totals, daily)


def delivery_bin_labels() -> list[str]:
    """``< 1 d``, ``1-2 d``, ... ``≥ 10 d``: the bins of ``app.stats.counting.delivery_bin``."""
    labels = [f"{low}-{high} d" for low, high in pairwise((0, *DELIVERY_BIN_DAYS))]
    labels[0] = f"< {DELIVERY_BIN_DAYS[0]} d"
    return [*labels, f"≥ {DELIVERY_BIN_DAYS[-1]} d"]


def _rate(part: int, whole: int) -> str | None:
    return f"{part / whole:.4f}" if whole else None


def build_series(
    name: SeriesName,
    view: CounterView,
    *,
    merchant: str | None,
    amount_text: AmountText,
    relay: RelayLagPublic | None,
    pool_token: str | None,
) -> SeriesPublic:
    """The series ``name`` of ``view``."""
    columns, rows = _TABLES[name](view, _Inputs(amount_text, relay, pool_token))
    return SeriesPublic(
        name=name,
        merchant=merchant,
        as_of_block=view.as_of_block,
        days=len(view.window),
        columns=columns,
        rows=rows,
    )


Table = tuple[list[str], list[dict[str, Cell]]]


@dataclass(frozen=True)
class _Inputs:
    """What a series needs beside the counters."""

    amount_text: AmountText
    relay: RelayLagPublic | None
    pool_token: str | None


def _items(view: CounterView, _inputs: _Inputs) -> Table:
    columns = ["day", "registered", "single", "batch_declared", "batch_activated", "batches"]
    rows: list[dict[str, Cell]] = []
    for day in view.window:
        counts = {key: view.day(ITEMS, day, key) for key in columns[2:]}
        registered = counts["single"] + counts["batch_declared"]
        rows.append({"day": day.isoformat(), "registered": registered, **counts})
    return columns, rows


def _orders(view: CounterView, _inputs: _Inputs) -> Table:
    tokens = view.keys(ORDERS)
    rows: list[dict[str, Cell]] = [
        {"day": day.isoformat(), "orders": sum(view.day(ORDERS, day, t) for t in tokens)}
        for day in view.window
    ]
    return ["day", "orders"], rows


def _gmv(view: CounterView, inputs: _Inputs) -> Table:
    rows: list[dict[str, Cell]] = []
    for token in view.keys(GMV):
        for day in view.window:
            amount = view.day(GMV, day, token)
            rows.append(
                {
                    "day": day.isoformat(),
                    "token": token,
                    "orders": view.day(ORDERS, day, token),
                    "amount": str(amount),
                    "amount_text": inputs.amount_text(token, amount),
                }
            )
    return ["day", "token", "orders", "amount", "amount_text"], rows


def _delivery(view: CounterView, _inputs: _Inputs) -> Table:
    rows: list[dict[str, Cell]] = []
    for index, label in enumerate(delivery_bin_labels()):
        orders = sum(view.day(DELIVERY, day, str(index)) for day in view.window)
        rows.append({"bin": index, "label": label, "orders": orders})
    return ["bin", "label", "orders"], rows


def _disputes(view: CounterView, _inputs: _Inputs) -> Table:
    rows: list[dict[str, Cell]] = []
    tokens = view.keys(ORDERS)
    for day in view.window:
        orders = sum(view.day(ORDERS, day, token) for token in tokens)
        disputes, refunds = view.day(DISPUTES, day, ""), view.day(REFUNDS, day, "")
        rows.append(
            {
                "day": day.isoformat(),
                "orders": orders,
                "disputes": disputes,
                "refunds": refunds,
                "dispute_rate": _rate(disputes, orders),
                "refund_rate": _rate(refunds, orders),
            }
        )
    return ["day", "orders", "disputes", "refunds", "dispute_rate", "refund_rate"], rows


def _reports(view: CounterView, _inputs: _Inputs) -> Table:
    kinds = sorted({key.split(":")[0] for key in view.keys(REPORTS)} | {"counterfeit"})
    rows: list[dict[str, Cell]] = []
    for kind in kinds:
        filed = view.total(REPORTS, f"{kind}:filed")
        confirmed = view.total(REPORTS, f"{kind}:confirmed")
        dismissed = view.total(REPORTS, f"{kind}:dismissed")
        for status, count in (
            ("open", filed - confirmed - dismissed),
            ("confirmed", confirmed),
            ("dismissed", dismissed),
        ):
            rows.append({"kind": kind, "status": status, "reports": count})
    return ["kind", "status", "reports"], rows


def _credit(view: CounterView, _inputs: _Inputs) -> Table:
    bands: dict[int, dict[str, int]] = defaultdict(lambda: {"approved": 0, "denied": 0})
    for key in view.keys(CREDIT):
        band, outcome = key.split(":")
        bands[int(band)][outcome] = view.total(CREDIT, key)
    rows: list[dict[str, Cell]] = [
        {"band": band, "approved": counts["approved"], "denied": counts["denied"]}
        for band, counts in sorted(bands.items())
    ]
    return ["band", "approved", "denied"], rows


def pool_balances(view: CounterView) -> list[tuple[date, int, int]]:
    """(day, cash, principal lent out) at the end of each day of the window, from the vault's
    cash flows: the all-time totals less the window's later days."""
    flows = ("deposited", "withdrawn", "lent", "repaid", "income", "lost")
    running = {flow: view.total(POOL, flow) for flow in flows}
    balances: list[tuple[date, int, int]] = []
    for day in reversed(view.window):
        cash = (
            running["deposited"] - running["withdrawn"] - running["lent"]
            + running["repaid"] + running["income"]
        )  # fmt: skip
        lent = running["lent"] - running["repaid"] - running["lost"]
        balances.append((day, cash, lent))
        for flow in flows:
            running[flow] -= view.day(POOL, day, flow)
    return list(reversed(balances))


def _pool(view: CounterView, inputs: _Inputs) -> Table:
    rows: list[dict[str, Cell]] = []
    for day, cash, lent in pool_balances(view):
        size = cash + lent
        token = inputs.pool_token
        rows.append(
            {
                "day": day.isoformat(),
                "pool_size": str(size),
                "lent_out": str(lent),
                "utilisation": _rate(lent, size),
                "pool_size_text": inputs.amount_text(token, size) if token else str(size),
            }
        )
    return ["day", "pool_size", "lent_out", "utilisation", "pool_size_text"], rows


def _relay(view: CounterView, inputs: _Inputs) -> Table:
    rows: list[dict[str, Cell]] = []
    relay = inputs.relay
    if relay is not None:
        oldest = relay.oldest_unconfirmed_seconds
        seconds = None if oldest is None else int(oldest)
        for state, records in (
            ("queued", relay.queued),
            ("in_flight", relay.in_flight),
            ("failed", relay.failed),
        ):
            rows.append({"state": state, "records": records, "oldest_unconfirmed_seconds": seconds})
    return ["state", "records", "oldest_unconfirmed_seconds"], rows


_TABLES: dict[SeriesName, Callable[[CounterView, _Inputs], Table]] = {
    SeriesName.ITEMS: _items,
    SeriesName.ORDERS: _orders,
    SeriesName.GMV: _gmv,
    SeriesName.DELIVERY_TIME: _delivery,
    SeriesName.DISPUTES_REFUNDS: _disputes,
    SeriesName.REPORTS: _reports,
    SeriesName.CREDIT_BANDS: _credit,
    SeriesName.POOL: _pool,
    SeriesName.RELAY_LAG: _relay,
}
