"""Carriers' events about batch items that have no record of their own yet. A batch item is
registered only as a leaf of its Merkle root; once its merchant published the batch's manifest
(``POST /v1/batches/{root}/manifest``), the service knows the item's key and proof, so a carrier's
event about it is accepted, and the item is activated from that proof before the event is relayed
(``app.outbox.kinds.batch_activation``: once an item, whoever reports on it first)."""

from __future__ import annotations

import json
import time
from collections.abc import Collection
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.outbox.kinds.batch_activation import ACTIVATION_SOURCE, activation_payload
from app.outbox.models import OutboxRecord, RelayKind, RelayStatus, payload_hash
from app.outbox.schemas import new_relay_id
from app.shop.models import ManifestItem


def published_proofs(session: Session, item_ids: Collection[str]) -> dict[str, dict[str, Any]]:
    """The activation of each of ``item_ids`` a published manifest proves (with its key), by
    item id."""
    if not item_ids:
        return {}
    rows = session.scalars(select(ManifestItem).where(ManifestItem.item_id.in_(list(item_ids))))
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        key = row.key()
        if key is not None and row.item_id not in found:
            proof = [str(node) for node in json.loads(row.proof)]
            found[row.item_id] = activation_payload(
                row.root, row.item_id, key, row.metadata_hash, proof
            )
    return found


def queue_activations(session: Session, activations: dict[str, dict[str, Any]]) -> None:
    """Queues the activation of each item not queued before (the outbox keeps a source's event
    id once: a second request that races this one fails its insert and is retried)."""
    if not activations:
        return
    queued = set(
        session.scalars(
            select(OutboxRecord.source_event_id).where(
                OutboxRecord.source == ACTIVATION_SOURCE,
                OutboxRecord.source_event_id.in_(list(activations)),
            )
        )
    )
    rows = [
        {
            "relay_id": new_relay_id(),
            "source": ACTIVATION_SOURCE,
            "source_event_id": item_id,
            "kind": RelayKind.BATCH_ACTIVATION,
            "subject": item_id,
            "action": "activate",
            "occurred_at": int(time.time()),
            "payload": payload,
            "details": {"root": payload["root"]},
            "content_hash": payload_hash(payload),
            "status": RelayStatus.QUEUED,
            "attempts": 0,
        }
        for item_id, payload in activations.items()
        if item_id not in queued
    ]
    if rows:
        session.execute(insert(OutboxRecord), rows)
