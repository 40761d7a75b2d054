"""What the relay endpoints answer."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.outbox.models import RelayKind, RelayStatus


class RelayRecordPublic(BaseModel):
    """Where one accepted record stands on its way to the chain."""

    relay_id: str
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
