"""What the relay endpoints answer."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from app.outbox.models import RelayKind, RelayStatus

# A relay id: 128 bits as 32 lowercase hex digits (a random UUID's, or a signed request's
# digest's first 16 bytes: ``app.domain.forward_requests.request_id`` without its ``req_``).
RELAY_ID_PATTERN = r"^[0-9a-f]{32}$"
RelayId = Annotated[str, StringConstraints(pattern=RELAY_ID_PATTERN)]


def new_relay_id() -> str:
    return uuid.uuid4().hex


class RelayRecordPublic(BaseModel):
    """Where one accepted record stands on its way to the chain."""

    relay_id: RelayId
    status: RelayStatus = Field(
        description="queued, submitted (tx_hash), confirmed (block_number) or failed (reason)"
    )
    kind: RelayKind
    source_event_id: str = Field(description="The source's own id of the event.")
    subject: str = Field(
        description="The item id or order id (or, for a credit application, the borrower)."
    )
    action: str
    occurred_at: datetime
    accepted_at: datetime
    custody_event_id: str | None = Field(
        default=None, description="The oracle's custody event id (decimal), once allocated."
    )
    tx_hash: str | None = Field(
        default=None, description="The transaction carrying the record (the newest attempt)."
    )
    block_number: int | None = Field(
        default=None, description="The block that includes it: mined (submitted) or final."
    )
    attempts: int = Field(description="Transactions the record was sent in.")
    failure_reason: str | None = None
    last_error: str | None = Field(
        default=None, description="Why the latest attempt did not go through, while retrying."
    )
