"""What each index row counts on the dashboard: the rules, in one place.

``row_counts(session, first_block)`` is what the rows of blocks ``first_block`` on (every row when
None) add to the counters. A row's count depends only on itself and on rows at earlier chain
positions (block, log index), which exist whenever it does: so the same rows count the same when
they are written, when a reorg deletes them and when everything is counted afresh, and the
counters (``app.stats.counters``) always equal a recount.

- ``items``: by the registering merchant and the day of the row: ``single`` (an id's first
  single registration: an id registered again after a verifier revoked it is one item),
  ``batches`` and ``batch_declared`` (the items a batch declares), ``batch_activated`` (a batch
  item's first activation).
- ``orders`` and ``gmv``: per token, on the day the order was opened (funded).
- ``delivery``: an order's first delivery report, in the bin of the time since it was opened.
- ``disputes``: disputes opened; ``refunds``: orders refunded (whole or in part), on the day of
  their first refund.
- ``reports``: ``{kind}:filed`` on the day filed, ``{kind}:confirmed|dismissed`` on the day
  decided, for the merchant whose item it was when filed (its latest registration or verifier's
  reassignment before the report). A decision on a report filed before the index began is not
  counted (its filing is not either).
- ``credit`` (the platform's): ``{band}:approved|denied``.
- ``pool`` (the platform's): the credit vault's ``deposited``, ``withdrawn``, ``lent``, ``repaid``
  (principal back) and ``income`` cash flows, and its ``impaired``, ``lost``, ``income_locked``,
  ``redeem_requests`` (a count), ``redeem_shares`` and the ``refunds_settled`` to borrowers' lines.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Hashable, Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, select, tuple_
from sqlalchemy.orm import Session

from app.domain.vocab import ReportKind, ReportStatus
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
    ItemReassignRow,
    ItemRow,
    OrderEventRow,
    OrderRow,
    ReportOutcomeRow,
    ReportRow,
)
from app.index.pool_events import DEPOSITED, LENT, REPAID, WITHDRAWN
from app.stats.models import ALL_TIME, PLATFORM

ITEMS, ORDERS, GMV, DELIVERY = "items", "orders", "gmv", "delivery"
DISPUTES, REFUNDS, REPORTS, CREDIT, POOL = "disputes", "refunds", "reports", "credit", "pool"
DAY_SECONDS = 86_400
# Delivery-time bins: a delivery within DELIVERY_BIN_DAYS[i] days of opening is in bin i; later
# ones in the last bin.
DELIVERY_BIN_DAYS = (1, 2, 3, 5, 7, 10)
_ZERO_ADDRESS = "0x" + "00" * 20
_POOL_KINDS = {
    DEPOSITED: "deposited",
    WITHDRAWN: "withdrawn",
    LENT: "lent",
    REPAID: "repaid",
    PRINCIPAL_IMPAIRED: "impaired",
    LOSS_RECOGNIZED: "lost",
    INCOME_LOCKED: "income_locked",
    REDEEM_REQUEST: "redeem_shares",
}
_REPORT_OUTCOMES = {
    int(ReportStatus.CONFIRMED): "confirmed",
    int(ReportStatus.DISMISSED): "dismissed",
}

CounterKey = tuple[str, str, str, str]  # scope, series, day, key
Counts = dict[CounterKey, int]


def utc_day(block_time: int) -> str:
    return datetime.fromtimestamp(block_time, UTC).date().isoformat()


def delivery_bin(seconds: int) -> int:
    """The bin of a delivery ``seconds`` after its order opened."""
    for index, days in enumerate(DELIVERY_BIN_DAYS):
        if seconds < days * DAY_SECONDS:
            return index
    return len(DELIVERY_BIN_DAYS)


def report_kind_name(kind: int) -> str:
    try:
        return ReportKind(kind).name.lower()
    except ValueError:
        return f"kind{kind}"  # a kind added to the registry after this service


class _Tally:
    """Counts added per scope, series, day and key, with the all-time total beside each day."""

    def __init__(self) -> None:
        self.counts: Counts = defaultdict(int)

    def add(
        self, merchant: str | None, series: str, block_time: int, key: str, value: int = 1
    ) -> None:
        day = utc_day(block_time)
        scopes = [PLATFORM] if merchant in (None, _ZERO_ADDRESS) else [PLATFORM, str(merchant)]
        for scope in scopes:
            self.counts[(scope, series, day, key)] += value
            self.counts[(scope, series, ALL_TIME, key)] += value


def row_counts(session: Session, first_block: int | None) -> Counts:
    """What the rows of blocks ``first_block`` on (every row when None) count."""
    tally = _Tally()
    _items(session, tally, first_block)
    _orders(session, tally, first_block)
    _order_events(session, tally, first_block)
    _reports(session, tally, first_block)
    _credit(session, tally, first_block)
    return {key: value for key, value in tally.counts.items() if value}


def _since(table: Any, first_block: int | None) -> list[ColumnElement[bool]]:
    """The condition on ``table``'s rows of blocks ``first_block`` on (none: every row)."""
    return [] if first_block is None else [table.block_number >= first_block]


def _first_rows(rows: Iterable[tuple[Hashable, int, int, int]]) -> set[int]:
    """The ids of the first row of each group, from (group, block, log index, id)."""
    first: dict[Hashable, tuple[int, int, int]] = {}
    for group, block, log_index, row_id in rows:
        position = (block, log_index, row_id)
        if group not in first or position < first[group]:
            first[group] = position
    return {position[2] for position in first.values()}


def _items(session: Session, tally: _Tally, first_block: int | None) -> None:
    new = session.execute(
        select(
            ItemRow.id, ItemRow.item_id, ItemRow.batch_root, ItemRow.merchant, ItemRow.block_time
        ).where(*_since(ItemRow, first_block))
    ).all()
    if new:
        ids = sorted({row.item_id for row in new})
        group_rows: list[Any] = []
        for start in range(0, len(ids), 500):
            group_rows += session.execute(
                select(
                    ItemRow.id,
                    ItemRow.item_id,
                    ItemRow.batch_root,
                    ItemRow.block_number,
                    ItemRow.log_index,
                ).where(ItemRow.item_id.in_(ids[start : start + 500]))
            ).all()
        firsts = _first_rows(
            ((r.item_id, r.batch_root is None), r.block_number, r.log_index, r.id)
            for r in group_rows
        )
        for row in new:
            if row.id in firsts:
                key = "single" if row.batch_root is None else "batch_activated"
                tally.add(row.merchant, ITEMS, row.block_time, key)
    batches = select(BatchRow.merchant, BatchRow.item_count, BatchRow.block_time)
    for merchant, item_count, block_time in session.execute(
        batches.where(*_since(BatchRow, first_block))
    ):
        tally.add(merchant, ITEMS, block_time, "batches")
        tally.add(merchant, ITEMS, block_time, "batch_declared", int(item_count))


def _orders(session: Session, tally: _Tally, first_block: int | None) -> None:
    query = select(OrderRow.merchant, OrderRow.token, OrderRow.amount, OrderRow.block_time)
    for merchant, token, amount, block_time in session.execute(
        query.where(*_since(OrderRow, first_block))
    ):
        tally.add(merchant, ORDERS, block_time, token)
        tally.add(merchant, GMV, block_time, token, int(amount))
    disputes = select(DisputeRow.merchant, DisputeRow.block_time)
    for merchant, block_time in session.execute(disputes.where(*_since(DisputeRow, first_block))):
        tally.add(merchant, DISPUTES, block_time, "")


def _order_events(session: Session, tally: _Tally, first_block: int | None) -> None:
    """An order's first delivery and first refund (the order's earlier rows always exist)."""
    kinds = ("delivered", "refunded")
    new = session.execute(
        select(
            OrderEventRow.id,
            OrderEventRow.order_id,
            OrderEventRow.kind,
            OrderEventRow.merchant,
            OrderEventRow.block_time,
        )
        .where(OrderEventRow.kind.in_(kinds))
        .where(*_since(OrderEventRow, first_block))
    ).all()
    if not new:
        return
    groups = sorted({(row.order_id, row.kind) for row in new})
    rows: list[Any] = []
    opened: dict[str, int] = {}
    for start in range(0, len(groups), 500):
        chunk = groups[start : start + 500]
        rows += session.execute(
            select(
                OrderEventRow.id,
                OrderEventRow.order_id,
                OrderEventRow.kind,
                OrderEventRow.block_number,
                OrderEventRow.log_index,
            ).where(tuple_(OrderEventRow.order_id, OrderEventRow.kind).in_(chunk))
        ).all()
        order_ids = sorted({order_id for order_id, _ in chunk})
        for order_id, block_time in session.execute(
            select(OrderRow.order_id, OrderRow.block_time).where(OrderRow.order_id.in_(order_ids))
        ):
            opened[order_id] = block_time
    firsts = _first_rows(((r.order_id, r.kind), r.block_number, r.log_index, r.id) for r in rows)
    for row in new:
        if row.id not in firsts:
            continue
        if row.kind == "refunded":
            tally.add(row.merchant, REFUNDS, row.block_time, "")
        elif row.order_id in opened:
            waited = row.block_time - opened[row.order_id]
            tally.add(row.merchant, DELIVERY, row.block_time, str(delivery_bin(waited)))


def _reports(session: Session, tally: _Tally, first_block: int | None) -> None:
    filed = session.execute(
        select(
            ReportRow.report_id,
            ReportRow.item_id,
            ReportRow.kind,
            ReportRow.block_number,
            ReportRow.log_index,
            ReportRow.block_time,
        ).where(*_since(ReportRow, first_block))
    ).all()
    for row in filed:
        merchant = _item_merchant_before(session, row.item_id, row.block_number, row.log_index)
        tally.add(merchant, REPORTS, row.block_time, f"{report_kind_name(row.kind)}:filed")
    decided = session.execute(
        select(
            ReportOutcomeRow.report_id, ReportOutcomeRow.status, ReportOutcomeRow.block_time
        ).where(*_since(ReportOutcomeRow, first_block))
    ).all()
    for report_id, status, block_time in decided:
        report = session.get(ReportRow, report_id)
        outcome = _REPORT_OUTCOMES.get(int(status))
        if report is None or outcome is None:
            continue
        merchant = _item_merchant_before(
            session, report.item_id, report.block_number, report.log_index
        )
        tally.add(merchant, REPORTS, block_time, f"{report_kind_name(report.kind)}:{outcome}")


def _item_merchant_before(session: Session, item_id: str, block: int, log_index: int) -> str | None:
    """The item's merchant just before (block, log index): its latest registration or verifier's
    reassignment there (the zero address once revoked); None if the index has neither."""
    found: list[tuple[int, int, str]] = []
    for table, column in (
        (ItemRow, ItemRow.merchant),
        (ItemReassignRow, ItemReassignRow.to_merchant),
    ):
        row = session.execute(
            select(table.block_number, table.log_index, column)
            .where(table.item_id == item_id)
            .where(tuple_(table.block_number, table.log_index) < (block, log_index))
            .order_by(table.block_number.desc(), table.log_index.desc())
            .limit(1)
        ).first()
        if row is not None:
            found.append((int(row[0]), int(row[1]), str(row[2])))
    return max(found)[2] if found else None


def _credit(session: Session, tally: _Tally, first_block: int | None) -> None:
    decisions = select(
        CreditDecisionRow.band, CreditDecisionRow.approved, CreditDecisionRow.block_time
    )
    for band, approved, block_time in session.execute(
        decisions.where(*_since(CreditDecisionRow, first_block))
    ):
        outcome = "approved" if approved else "denied"
        tally.add(None, CREDIT, block_time, f"{int(band)}:{outcome}")
    pool = select(
        CreditPoolEventRow.kind,
        CreditPoolEventRow.amount,
        CreditPoolEventRow.details,
        CreditPoolEventRow.block_time,
    )
    for kind, amount, details, block_time in session.execute(
        pool.where(*_since(CreditPoolEventRow, first_block))
    ):
        key = _POOL_KINDS.get(kind)
        if key is None:
            continue
        tally.add(None, POOL, block_time, key, int(amount))
        if kind == REDEEM_REQUEST:
            tally.add(None, POOL, block_time, "redeem_requests")
        if kind == REPAID:
            tally.add(None, POOL, block_time, "income", int(json.loads(details)["income"]))
    refunds = select(CreditRefundRow.refund, CreditRefundRow.block_time)
    for refund, block_time in session.execute(refunds.where(*_since(CreditRefundRow, first_block))):
        tally.add(None, POOL, block_time, "refunds_settled", int(refund))
