"""``request.confirmed`` and ``request.failed``: webhook events of merchants' signed requests,
written once a request's outbox record is settled (confirmed at depth, or failed for good).

The deliverer writes them in its own cycle, each with its request's ``notified`` mark in one
database transaction: a crash writes an event and its mark, or neither. The id comes from the
request and the outcome, so a receiver's dedupe sees one event per outcome.
"""

from __future__ import annotations

from typing import Any

from eth_utils.crypto import keccak
from sqlalchemy import or_, select

from app.db.session import Database
from app.merchant.event_types import EventType
from app.merchant.events import add_event, event_body
from app.merchant.request_models import MerchantRequestRow
from app.outbox.models import OutboxRecord, RelayStatus

BATCH = 200
OUTCOMES = {
    RelayStatus.CONFIRMED: EventType.REQUEST_CONFIRMED,
    RelayStatus.FAILED: EventType.REQUEST_FAILED,
}


def notice_id(request_id: str, status: str) -> str:
    return "evt_" + keccak(text=f"{request_id}:{status}").hex()[:32]


def write_request_notices(database: Database, now: float) -> int:
    """Writes the events of requests settled since the last call (a batch at most); returns how
    many requests it marked."""
    with database.transaction() as session:
        rows = session.execute(
            select(MerchantRequestRow, OutboxRecord)
            .join(OutboxRecord, OutboxRecord.id == MerchantRequestRow.outbox_id)
            .where(
                OutboxRecord.status.in_(list(OUTCOMES)),
                or_(
                    MerchantRequestRow.notified.is_(None),
                    MerchantRequestRow.notified != OutboxRecord.status,
                ),
            )
            .order_by(OutboxRecord.id)
            .limit(BATCH)
        ).all()
        for request, record in rows:
            status = RelayStatus(record.status)
            type_ = OUTCOMES[status]
            id_ = notice_id(request.id, status)
            chain = _chain(record)
            body = event_body(id_, type_, request.signer, _data(request, record), int(now), chain)
            where = {
                "block_number": record.block_number or 0,
                "log_index": 0,
                "tx_hash": record.tx_hash or "",
                "block_time": int(now),
            }
            add_event(session, id_, type_, request.signer, body, where)
            request.notified = status
        return len(rows)


def _data(request: MerchantRequestRow, record: OutboxRecord) -> dict[str, Any]:
    return {
        "request": request.id,
        "status": record.status,
        "function": request.function,
        "target": request.target,
        "nonce": str(request.nonce),
        "reason": record.failure_reason,
    }


def _chain(record: OutboxRecord) -> dict[str, Any] | None:
    if record.tx_hash is None or record.status != RelayStatus.CONFIRMED:
        return None
    return {"block_number": record.block_number, "tx_hash": record.tx_hash, "log_index": None}
