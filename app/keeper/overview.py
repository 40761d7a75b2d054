"""The keeper's work as the database has it, for ``GET /v1/keeper`` and ``/metrics``: duties due
by the index's latest block time and not queued, and the keeper's outbox records by state.

'Due' is judged by the index's latest block (no chain call per request); the keeper itself judges
by the chain's head, and queues only what the contract accepts, so a duty shown due may be one
the contract still refuses (a party's move the index has not read yet)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from app.chain.journal import ChainTransaction
from app.index.queries import index_time
from app.keeper.due import KEEPER_KINDS, KEEPER_SOURCE, DueDuty
from app.keeper.duties import due_duties
from app.keeper.schemas import DueDutyPublic, KeeperDutyPublic, KeeperPublic
from app.outbox.models import OutboxRecord, RelayStatus
from app.settings import KeeperDuty, Settings

OPEN = (RelayStatus.QUEUED, RelayStatus.SUBMITTED)


@dataclass(frozen=True)
class KeeperFigures:
    """Counts by state (``due``: not queued yet) and the lag, in block-time seconds."""

    counts: dict[str, int]
    lag_seconds: float | None


def keeper_overview(
    session: Session, settings: Settings, keeper: str | None, limit: int
) -> KeeperPublic:
    """Up to ``limit`` duties of each state, newest first (due ones oldest first)."""
    position = index_time(session)
    due = _due(session, settings, position)
    return KeeperPublic(
        enabled=keeper is not None,
        keeper=keeper,
        duties=sorted(settings.keeper_duties),
        grace_seconds=settings.keeper_grace_seconds,
        as_of_block=None if position is None else position[0],
        as_of_time=None if position is None else _time(position[1]),
        due=[_due_public(d) for d in due[:limit]],
        queued=_records(session, OPEN, limit),
        done=_records(session, (RelayStatus.CONFIRMED,), limit),
        failed=_records(session, (RelayStatus.FAILED,), limit),
        lag_seconds=_lag(session, due, position),
    )


def keeper_figures(session: Session, settings: Settings) -> KeeperFigures:
    """What ``/metrics`` shows of the keeper."""
    position = index_time(session)
    due = _due(session, settings, position)
    counts = {status.value: 0 for status in RelayStatus}
    counts.update(
        {
            str(status): int(count)
            for status, count in session.execute(
                select(OutboxRecord.status, func.count(OutboxRecord.id))
                .where(_keeper_records())
                .group_by(OutboxRecord.status)
            ).all()
        }
    )
    counts["due"] = len(due)
    return KeeperFigures(counts, _lag(session, due, position))


def _due(session: Session, settings: Settings, position: tuple[int, int] | None) -> list[DueDuty]:
    if position is None:
        return []
    return due_duties(session, position[1], settings.keeper_grace_seconds, settings.keeper_duties)


def _lag(session: Session, due: list[DueDuty], position: tuple[int, int] | None) -> float | None:
    """Block-time seconds since the oldest duty due and not done (not queued, queued or in
    flight) became due; None when there is none."""
    if position is None:
        return None
    oldest_open = session.scalar(
        select(func.min(OutboxRecord.occurred_at)).where(
            _keeper_records(), OutboxRecord.status.in_(OPEN)
        )
    )
    # An accrual is listed from its line's due time; its grace is the policy's (read by the
    # keeper), so it counts in the lag once queued.
    times = [d.due_at for d in due if d.duty != KeeperDuty.ACCRUE]
    if oldest_open is not None:
        times.append(int(oldest_open))
    oldest = min(times, default=None)
    return None if oldest is None else float(max(0, position[1] - oldest))


def _records(
    session: Session, statuses: tuple[RelayStatus, ...], limit: int
) -> list[KeeperDutyPublic]:
    found = session.execute(
        select(OutboxRecord, ChainTransaction)
        .outerjoin(ChainTransaction, OutboxRecord.transaction_id == ChainTransaction.id)
        .where(_keeper_records(), OutboxRecord.status.in_(statuses))
        .order_by(OutboxRecord.id.desc())
        .limit(limit)
    ).all()
    answer: list[KeeperDutyPublic] = []
    for record, tx in found:
        tx_hash, block = record.tx_hash, record.block_number
        if record.status == RelayStatus.SUBMITTED and tx is not None:
            tx_hash, block = tx.watched_call()
        answer.append(
            KeeperDutyPublic(
                relay_id=record.relay_id,
                **_subject(KeeperDuty(record.action), record.subject),
                items=_items(record.details.get("items")),
                stage=record.details.get("stage"),
                duty=KeeperDuty(record.action),
                function=str(record.details.get("function", "")),
                status=RelayStatus(record.status),
                due_at=_time(record.occurred_at),
                queued_at=_utc(record.accepted_at),
                tx_hash=tx_hash,
                block_number=block,
                attempts=record.attempts,
                failure_reason=record.failure_reason,
                last_error=record.last_error,
            )
        )
    return answer


def _keeper_records() -> ColumnElement[bool]:
    return and_(OutboxRecord.source == KEEPER_SOURCE, OutboxRecord.kind.in_(KEEPER_KINDS))


def _due_public(duty: DueDuty) -> DueDutyPublic:
    return DueDutyPublic(
        **_subject(duty.duty, duty.subject),
        duty=duty.duty,
        due_at=_time(duty.due_at),
        items=int(duty.detail) if duty.duty == KeeperDuty.REFUND_RECALLED else None,
        stage=duty.detail.partition(":")[2] or None if duty.duty == KeeperDuty.ACCRUE else None,
    )


def _subject(duty: KeeperDuty, subject: str) -> dict[str, str | None]:
    """An accrual's subject is a line (its borrower); every other duty's an order."""
    if duty == KeeperDuty.ACCRUE:
        return {"order_id": None, "borrower": subject}
    return {"order_id": subject, "borrower": None}


def _items(value: object) -> int | None:
    return None if value is None else int(str(value))


def _time(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were written in UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
