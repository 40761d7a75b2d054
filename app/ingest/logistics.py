"""Accepting a carrier's events: validation, subjects checked on chain, and the outbox rows and
the idempotency record written in one database transaction.

Answers:

* ``202`` — every event is accepted (a new or an already known record, with its relay id) or
  rejected by name (an unknown item or order; an event id already used for another event);
* ``422 validation_failed`` — the body is not valid; nothing is kept, nothing is remembered;
* ``422 unknown_subjects`` — every event names an unknown item or order (``events_rejected``
  when some are refused for another reason);
* ``409`` — the ``Idempotency-Key`` was used with another body (or is in use right now).

A request with an ``Idempotency-Key`` gets its first ``202``/``422 unknown_subjects`` answer
again for the same body. Without a key, a resent event (same ``event_id``, same content) maps to
the record accepted the first time, so a carrier's retries never relay anything twice. Parsing
and validation of the body are in ``app.ingest.events``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.api.errors import ApiError, ErrorBody, ErrorPublic
from app.chain.contracts import DeploymentMissing
from app.domain.custody_rows import text_hash
from app.domain.ids import item_id_from_gs1
from app.ingest.activations import published_proofs, queue_activations
from app.ingest.custody_scope import NOT_CARRIED, NOT_CARRIED_MESSAGE, items_carried
from app.ingest.events import parse_events
from app.ingest.models import IdempotencyRecord
from app.ingest.schemas import (
    ITEM_ACTIONS,
    ORDER_ACTIONS,
    AcceptedEventPublic,
    LogisticsEventCreate,
    LogisticsIngestPublic,
    RejectedEventPublic,
)
from app.ingest.state import IngestState
from app.ingest.subjects import ChainUnavailable
from app.outbox.models import OutboxRecord, RelayKind, RelayStatus
from app.outbox.schemas import new_relay_id
from app.services import AppServices

SCOPE = "logistics"


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: status, JSON body, and whether it is a replay of a stored one."""

    status_code: int
    body: dict[str, Any]
    replayed: bool = False


@dataclass(frozen=True)
class Prepared:
    """A valid event, resolved to what the outbox keeps."""

    index: int
    event: LogisticsEventCreate
    kind: RelayKind
    subject: str
    occurred_at: int
    payload: dict[str, Any]
    details: dict[str, Any]
    content_hash: str


def ingest_logistics(
    services: AppServices, source: str, body: bytes, idempotency_key: str | None
) -> Answer:
    """Handles one authenticated request (blocking: run it in a worker thread)."""
    request_hash = hashlib.sha256(body).hexdigest()
    if idempotency_key is not None:
        stored = stored_answer(services, source, idempotency_key, request_hash)
        if stored is not None:
            return stored
    # The source's carrier id goes in each of its order reports: the escrow applies a report
    # only from the carrier the merchant assigned to the order.
    carrier_id = services.settings.sources[source].carrier_id or 0
    events = parse_events(body)
    prepared = [_prepare(index, event, carrier_id) for index, event in enumerate(events)]
    unknown_items, unknown_orders = _unknown_subjects(services, prepared)
    carried = _carried(services, source, prepared)
    for attempt in (1, 2):
        try:
            with services.database.transaction() as session:
                answer = _write(session, source, prepared, unknown_items, unknown_orders, carried)
                if idempotency_key is not None:
                    remember_answer(session, source, SCOPE, idempotency_key, request_hash, answer)
            return answer
        except IntegrityError:
            # Another request with this key or one of these event ids committed first: look
            # again (its answer for the key, its records for the events).
            if idempotency_key is not None:
                stored = stored_answer(services, source, idempotency_key, request_hash)
                if stored is not None:
                    return stored
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _prepare(index: int, event: LogisticsEventCreate, carrier_id: int) -> Prepared:
    occurred_at = int(event.occurred_at.timestamp())
    details = event.model_dump(mode="json", exclude_none=True)
    if event.order_id is not None:
        bitmap = sum(1 << i for i in event.items or [])
        kind, subject = RelayKind.ORDER_LOGISTICS, event.order_id
        payload: dict[str, Any] = {
            "order_id": subject,
            "kind": int(ORDER_ACTIONS[event.action]),
            "carrier": carrier_id,
            "items": bitmap,
            "evidence_hash": _text_hash(event.reference),
        }
    else:
        if event.item_id is not None:
            subject = event.item_id
        else:
            assert event.gtin is not None and event.serial is not None
            subject = "0x" + item_id_from_gs1(event.gtin, event.serial).hex()
        kind = RelayKind.CUSTODY
        payload = {
            "item_id": subject,
            "action": int(ITEM_ACTIONS[event.action]),
            "occurred_at": occurred_at,
            "location_hash": _text_hash(event.location),
            "context_hash": _text_hash(event.reference),
        }
    canonical = json.dumps(
        {"kind": kind, "payload": payload, "details": details}, sort_keys=True, default=str
    )
    return Prepared(
        index=index,
        event=event,
        kind=kind,
        subject=subject,
        occurred_at=occurred_at,
        payload=payload,
        details=details,
        content_hash=hashlib.sha256(canonical.encode()).hexdigest(),
    )


def _unknown_subjects(services: AppServices, prepared: list[Prepared]) -> tuple[set[str], set[str]]:
    items = [p.subject for p in prepared if p.kind is RelayKind.CUSTODY]
    orders = [p.subject for p in prepared if p.kind is RelayKind.ORDER_LOGISTICS]
    with _reading_chain():
        return services.state(IngestState).subjects.unknown(
            services.settings, services.database, items, orders
        )


def _carried(services: AppServices, source: str, prepared: list[Prepared]) -> set[str]:
    items = {p.subject for p in prepared if p.kind is RelayKind.CUSTODY}
    with _reading_chain():
        return items_carried(
            services.settings,
            services.database,
            services.state(IngestState).subjects,
            services.settings.sources[source],
            items,
        )


@contextlib.contextmanager
def _reading_chain() -> Iterator[None]:
    """A chain that cannot be read is a 503 the carrier retries."""
    try:
        yield
    except (ChainUnavailable, DeploymentMissing) as error:
        raise ApiError(
            503,
            "chain_unavailable",
            f"items and orders cannot be checked right now: {error}",
            headers={"Retry-After": "5"},
        ) from None


def _write(
    session: Session,
    source: str,
    prepared: list[Prepared],
    unknown_items: set[str],
    unknown_orders: set[str],
    carried: set[str],
) -> Answer:
    existing = {
        row.source_event_id: row
        for row in session.execute(
            select(
                OutboxRecord.source_event_id,
                OutboxRecord.relay_id,
                OutboxRecord.status,
                OutboxRecord.content_hash,
            ).where(
                OutboxRecord.source == source,
                OutboxRecord.source_event_id.in_([p.event.event_id for p in prepared]),
            )
        )
    }
    accepted: list[AcceptedEventPublic] = []
    rejected: list[RejectedEventPublic] = []
    rows: list[dict[str, Any]] = []
    # Batch items without a record of their own are known by their published manifest's proof.
    provable = published_proofs(session, {p.subject for p in prepared} & unknown_items)
    activate: dict[str, dict[str, Any]] = {}
    for p in prepared:
        event_id = p.event.event_id
        known = existing.get(event_id)
        if known is not None:
            if known.content_hash == p.content_hash:
                accepted.append(
                    AcceptedEventPublic(
                        index=p.index,
                        event_id=event_id,
                        relay_id=known.relay_id,
                        status=RelayStatus(known.status),
                        duplicate=True,
                    )
                )
            else:
                rejected.append(
                    RejectedEventPublic(
                        index=p.index,
                        event_id=event_id,
                        code="event_id_conflict",
                        message="this event_id was accepted before with other content",
                        subject=p.subject,
                    )
                )
            continue
        if p.subject not in provable and (
            p.subject in unknown_items or p.subject in unknown_orders
        ):
            is_item = p.kind is RelayKind.CUSTODY
            rejected.append(
                RejectedEventPublic(
                    index=p.index,
                    event_id=event_id,
                    code="unknown_item" if is_item else "unknown_order",
                    message=(
                        "no item with this id is registered (a batch item is known once its "
                        "merchant published the batch's manifest)"
                        if is_item
                        else "no escrow order has this id"
                    ),
                    subject=p.subject,
                )
            )
            continue
        # Only items found carried before this transaction: a manifest published since waits.
        if p.kind is RelayKind.CUSTODY and p.subject not in carried:
            rejected.append(
                RejectedEventPublic(
                    index=p.index,
                    event_id=event_id,
                    code=NOT_CARRIED,
                    message=NOT_CARRIED_MESSAGE,
                    subject=p.subject,
                )
            )
            continue
        if p.subject in provable:
            activate[p.subject] = provable[p.subject]
        relay_id = new_relay_id()
        rows.append(
            {
                "relay_id": relay_id,
                "source": source,
                "source_event_id": event_id,
                "kind": p.kind,
                "subject": p.subject,
                "action": p.event.action,
                "occurred_at": p.occurred_at,
                "payload": p.payload,
                "details": p.details,
                "content_hash": p.content_hash,
                "status": RelayStatus.QUEUED,
                "attempts": 0,
            }
        )
        accepted.append(
            AcceptedEventPublic(
                index=p.index,
                event_id=event_id,
                relay_id=relay_id,
                status=RelayStatus.QUEUED,
                duplicate=False,
            )
        )
    queue_activations(session, activate)  # before the events: relayed in the order queued
    if rows:
        session.execute(insert(OutboxRecord), rows)
    if not accepted:
        unknown_only = all(r.code in ("unknown_item", "unknown_order") for r in rejected)
        error = ErrorPublic(
            error=ErrorBody(
                code="unknown_subjects" if unknown_only else "events_rejected",
                message="no event of the request can be accepted",
                details=[r.model_dump(mode="json") for r in rejected],
            )
        )
        return Answer(422, error.model_dump(mode="json"))
    result = LogisticsIngestPublic(accepted=accepted, rejected=rejected)
    return Answer(202, result.model_dump(mode="json"))


def stored_answer(
    services: AppServices, source: str, key: str, request_hash: str, scope: str = SCOPE
) -> Answer | None:
    """The first answer to this source's ``key`` on ``scope`` (an endpoint); ``None`` if the key
    is new. The same key with another body is refused (409)."""
    with services.database.sessions() as session:
        record = session.scalars(
            select(IdempotencyRecord).where(
                IdempotencyRecord.source == source,
                IdempotencyRecord.scope == scope,
                IdempotencyRecord.key == key,
            )
        ).first()
    if record is None:
        return None
    if record.request_hash != request_hash:
        raise ApiError(
            409,
            "idempotency_key_reused",
            "this Idempotency-Key was used with another request body",
        )
    return Answer(record.status_code, dict(record.response_body), replayed=True)


def remember_answer(
    session: Session, source: str, scope: str, key: str, request_hash: str, answer: Answer
) -> None:
    """Keeps ``answer`` for replays of ``key``, in the caller's transaction (the one that wrote
    what the answer reports, so both exist or neither does)."""
    session.add(
        IdempotencyRecord(
            source=source,
            scope=scope,
            key=key,
            request_hash=request_hash,
            status_code=answer.status_code,
            response_body=answer.body,
            created_at=time.time(),
        )
    )


def _text_hash(text: str | None) -> str:
    """keccak256 of UTF-8 text, as the scripts hash locations and references; zero if none."""
    return "0x" + text_hash(text).hex()
