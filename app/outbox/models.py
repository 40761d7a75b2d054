"""The outbox: every record the service accepted, until it is on chain (or known never to be).

A record is written in the same database transaction as the ingestion's idempotency record, so
nothing answered ``202 Accepted`` can be lost. The relayer moves it
``queued -> submitted (a journalled transaction) -> confirmed (block)``, or ``failed (reason)``
when the contract refuses it for good; a transaction that reverts, or whose nonce someone else
took, puts its records back to ``queued``.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db.base import Base, utc_now
from app.db.rows import update_by_id


class RelayStatus(StrEnum):
    QUEUED = "queued"
    SUBMITTED = "submitted"
    CONFIRMED = "confirmed"
    FAILED = "failed"


class RelayKind(StrEnum):
    """What a record becomes on chain; each kind is sent with its contract's batch entry point, by
    its relay in ``app.outbox.kinds``."""

    CUSTODY = "custody"  # ProductRegistry.recordCustody
    ORDER_LOGISTICS = "order_logistics"  # OrderEscrow.reportLogistics
    # CreditLines.applyForCredit: one application per transaction (its signatures are dynamic,
    # and a spent attestation nonce must fail only its own record).
    CREDIT_APPLICATION = "credit_application"
    # The keeper's duties (OrderEscrow.release, cancel, resolveExpiredDispute, anyone's to call
    # once a deadline passed, and refundRecalled once items are recalled): one order per
    # transaction, the function named by the record.
    KEEPER_DUTY = "keeper_duty"
    # The keeper's credit duties (CreditLines.settleRefund, accrue; anyone's to call): one per
    # transaction, the function named by the record.
    KEEPER_CREDIT_DUTY = "keeper_credit_duty"
    # ProductRegistry.activateBatchItem: a batch item a carrier reports on, proven from its
    # published manifest before its custody events go (one per transaction: the proof is dynamic).
    BATCH_ACTIVATION = "batch_activation"
    # TrustMallForwarder.executeBatch: merchants' signed requests (app.merchant.requests), several
    # to a transaction, each run as its signer's own call; one that reverts fails alone.
    MERCHANT_REQUEST = "merchant_request"


def payload_hash(payload: Mapping[str, Any]) -> str:
    """The content hash of a record the service makes itself (an application, a keeper duty, a
    batch activation): sha256 of its payload as compact, key-sorted JSON."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class OutboxRecord(Base):
    """One accepted record and its way to the chain."""

    __tablename__ = "outbox_records"
    __table_args__ = (
        UniqueConstraint("source", "source_event_id", name="uq_outbox_records_source_event"),
        Index("ix_outbox_records_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    relay_id: Mapped[str] = mapped_column(String(32), unique=True)
    source: Mapped[str] = mapped_column(String(64))
    # The source's own id of the event: a resend of the same event maps to the same record.
    source_event_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))
    # The item id or order id (or a credit application's borrower address), 0x-prefixed hex.
    # Not unique (an order has many reports): what is queued once is (source, source_event_id).
    subject: Mapped[str] = mapped_column(String(66), index=True)
    action: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[int] = mapped_column(BigInteger)
    # What the contract call takes, ready to encode (hex strings and integers).
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The record as the source sent it, normalised (texts kept here, only hashes go on chain).
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=RelayStatus.QUEUED)
    # Custody records: the oracle's event id, allocated (and stored) before the first send.
    custody_event_id: Mapped[str | None] = mapped_column(String(78), nullable=True)
    transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("chain_transactions.id"), nullable=True, index=True
    )
    tx_hash: Mapped[str | None] = mapped_column(String(66), nullable=True)
    block_number: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    failure_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Times the record was put in a transaction.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Unix seconds before which the relayer leaves a queued record alone (a back-off).
    not_before: Mapped[float | None] = mapped_column(Float, nullable=True)
    accepted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utc_now, onupdate=utc_now
    )
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RelayCounter(Base):
    """A named counter, as a decimal string (custody event ids are uint256)."""

    __tablename__ = "relay_counters"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(String(78))


def take_from_queue(
    session: Session,
    record_ids: list[int],
    values: Mapping[str, Any],
    each: Mapping[str, Mapping[int, Any]] | None = None,
) -> bool:
    """Sets ``values`` (and each record's own value of every column of ``each``) on the records
    ``record_ids`` if every one is still queued, by one update that holds only for queued
    records; False (the caller rolls back) if any has left the queue. The relayer claiming a
    batch and a signer withdrawing its requests both take records this way, so each record goes
    to exactly one of them."""
    taken = update_by_id(
        session,
        OutboxRecord,
        record_ids,
        values,
        each=each,
        where=[OutboxRecord.status == RelayStatus.QUEUED],
    )
    return taken == len(record_ids)


def update_records(session: Session, updates: Iterable[Mapping[str, Any]]) -> None:
    """Applies ``updates`` (each a record's ``id`` and the values to set on it) by one UPDATE per
    distinct set of values. A batch's records mostly share theirs (confirmed by one transaction in
    one block), so settling a batch is a statement or two instead of one per record; on
    PostgreSQL each statement per record was a round of parsing and locking of its own."""
    by_values: dict[tuple[tuple[str, Any], ...], list[int]] = defaultdict(list)
    for change in updates:
        values = tuple(
            sorted((column, value) for column, value in change.items() if column != "id")
        )
        by_values[values].append(change["id"])
    for values, record_ids in by_values.items():
        update_by_id(session, OutboxRecord, record_ids, dict(values))
