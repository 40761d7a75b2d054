"""``GET /v1/relay/{relay_id}``: an accepted record's state on its way to the chain.

Relay ids are random (128 bits) and the answer holds nothing the chain will not show anyway
(hashes, never the source's texts), so the endpoint needs no key.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path
from sqlalchemy import select

from app.api.deps import SessionDep
from app.api.errors import ApiError, ErrorPublic
from app.chain.journal import ChainTransaction
from app.outbox.models import OutboxRecord, RelayKind, RelayStatus
from app.outbox.schemas import RelayId, RelayRecordPublic

router = APIRouter(prefix="/v1/relay", tags=["relay"])


@router.get(
    "/{relay_id}",
    response_model=RelayRecordPublic,
    responses={
        404: {"model": ErrorPublic, "description": "No record has this relay id."},
        422: {"model": ErrorPublic, "description": "A malformed relay id."},
    },
)
def get_relay_record(
    relay_id: Annotated[RelayId, Path(description="As the accepting answer gave it")],
    session: SessionDep,
) -> RelayRecordPublic:
    """The record's state: queued, submitted (tx hash), confirmed (block) or failed (reason)."""
    found = session.execute(
        select(OutboxRecord, ChainTransaction)
        .outerjoin(ChainTransaction, OutboxRecord.transaction_id == ChainTransaction.id)
        .where(OutboxRecord.relay_id == relay_id)
    ).first()
    if found is None:
        raise ApiError(404, "relay_record_not_found", f"no relay record {relay_id}")
    record, tx = found
    tx_hash, block = record.tx_hash, record.block_number
    if record.status == RelayStatus.SUBMITTED and tx is not None:
        tx_hash, block = tx.watched_call()
    return RelayRecordPublic(
        relay_id=record.relay_id,
        status=RelayStatus(record.status),
        kind=RelayKind(record.kind),
        source_event_id=record.source_event_id,
        subject=record.subject,
        action=record.action,
        occurred_at=datetime.fromtimestamp(record.occurred_at, UTC),
        accepted_at=_utc(record.accepted_at),
        custody_event_id=record.custody_event_id,
        tx_hash=tx_hash,
        block_number=block,
        attempts=record.attempts,
        failure_reason=record.failure_reason,
        last_error=record.last_error,
    )


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were written in UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
