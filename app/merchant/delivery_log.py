"""A delivery as the merchant's delivery log shows it."""

from __future__ import annotations

from app.merchant.event_types import EventType
from app.merchant.models import DeliveryStatus, WebhookDeliveryRow
from app.merchant.schemas import WebhookDeliveryPublic
from app.merchant.siwe import utc


def delivery_public(row: WebhookDeliveryRow, event_type: str) -> WebhookDeliveryPublic:
    pending = row.status == DeliveryStatus.PENDING
    return WebhookDeliveryPublic(
        id=row.id,
        event_id=row.event_id,
        event_type=EventType(event_type),
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=utc(row.next_attempt_at) if pending and row.next_attempt_at else None,
        last_attempt_at=None if row.last_attempt_at is None else utc(row.last_attempt_at),
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        replay_of=row.replay_of,
        created_at=row.created_at,
    )
