"""What ``GET /v1/keeper`` answers."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.outbox.models import RelayStatus
from app.settings import KeeperDuty


class DueDutyPublic(BaseModel):
    """A duty the index says is due and that is not queued yet."""

    order_id: str | None = Field(default=None, description="Its order (none for an accrual).")
    borrower: str | None = Field(default=None, description="The credit line of an accrual.")
    duty: KeeperDuty
    items: int | None = Field(
        default=None, description="A recall refund's items: bit i is the order's itemIds[i]."
    )
    stage: str | None = Field(
        default=None, description="An accrual's stage: late_fee (past grace) or default."
    )
    due_at: datetime = Field(description="When its deadline passed (block time, UTC).")


class KeeperDutyPublic(DueDutyPublic):
    """A duty the keeper queued, and where it stands on its way to the chain."""

    relay_id: str = Field(description="Its outbox record (also at GET /v1/relay/{relay_id}).")
    function: str = Field(
        description="The OrderEscrow (or, for settle_refund and accrue, CreditLines) function "
        "it calls."
    )
    status: RelayStatus
    queued_at: datetime
    tx_hash: str | None = Field(default=None, description="Its transaction (the newest attempt).")
    block_number: int | None = Field(default=None, description="The block that includes it.")
    attempts: int
    failure_reason: str | None = Field(
        default=None,
        description="Why the contract refused it, in words (the order moved on: a party acted "
        "first).",
    )
    last_error: str | None = None


class KeeperPublic(BaseModel):
    """The keeper's work: due, queued or in flight, done and failed duties."""

    enabled: bool = Field(description="Whether the service holds a keeper key.")
    keeper: str | None = Field(default=None, description="The keeper's address.")
    duties: list[KeeperDuty] = Field(description="The duties it does.")
    grace_seconds: int
    as_of_block: int | None = Field(
        default=None, description="The index's latest block: 'due' is judged by its time."
    )
    as_of_time: datetime | None = None
    due: list[DueDutyPublic] = Field(description="Due by the index and not queued yet.")
    queued: list[KeeperDutyPublic] = Field(description="Queued or submitted.")
    done: list[KeeperDutyPublic] = Field(description="Confirmed, with tx hash and block.")
    failed: list[KeeperDutyPublic]
    lag_seconds: float | None = Field(
        default=None,
        description="Seconds (block time) since the oldest due duty not yet done became due.",
    )
