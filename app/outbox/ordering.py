"""Which escrow logistics reports may go together in one batch.

Reports of one order go in the order they were accepted: a report waits while an earlier report
of its order is neither in this batch nor mined. And a batch holds at most one report per
(order, kind, carrier), so that each ``LogisticsUpdateRejected`` log of its receipt names exactly
one record (``app.outbox.rejections``); a second such report waits for the next batch, and every
later report of its order with it."""

from __future__ import annotations

from sqlalchemy import and_, not_, or_, select
from sqlalchemy.orm import Session

from app.chain.journal import ChainTransaction, TxState
from app.outbox.calls import RowView
from app.outbox.models import OutboxRecord, RelayKind, RelayStatus
from app.outbox.rejections import report_key


def logistics_batch(session: Session, rows: list[RowView]) -> list[RowView]:
    """The rows (oldest first) that may be sent together now."""
    return _one_per_report_key(_in_order(session, rows))


def _in_order(session: Session, rows: list[RowView]) -> list[RowView]:
    """A row waits while an earlier update of its order is neither in this batch nor mined."""
    batch_ids = {row.id for row in rows}
    subjects = {row.subject for row in rows}
    applied = and_(
        ChainTransaction.state.in_((TxState.MINED, TxState.CONFIRMED)),
        ChainTransaction.succeeded.is_(True),
    )
    unfinished = session.execute(
        select(OutboxRecord.id, OutboxRecord.subject)
        .outerjoin(ChainTransaction, OutboxRecord.transaction_id == ChainTransaction.id)
        .where(
            OutboxRecord.kind == RelayKind.ORDER_LOGISTICS,
            OutboxRecord.subject.in_(subjects),
            or_(
                OutboxRecord.status == RelayStatus.QUEUED,
                and_(OutboxRecord.status == RelayStatus.SUBMITTED, not_(applied)),
            ),
        )
        .order_by(OutboxRecord.id)
    ).all()
    blocked_from: dict[str, int] = {}
    for record_id, subject in unfinished:
        if record_id not in batch_ids and subject not in blocked_from:
            blocked_from[subject] = record_id
    return [
        row for row in rows if row.subject not in blocked_from or row.id < blocked_from[row.subject]
    ]


def _one_per_report_key(rows: list[RowView]) -> list[RowView]:
    seen: set[tuple[str, int, int]] = set()
    held: set[str] = set()
    kept: list[RowView] = []
    for row in rows:
        if row.subject in held:
            continue
        key = report_key(row.payload)
        if key in seen:
            held.add(row.subject)
            continue
        seen.add(key)
        kept.append(row)
    return kept
