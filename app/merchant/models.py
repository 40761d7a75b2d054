"""Merchants' tables: sign-in nonces, sessions, webhook endpoints, events and their deliveries.

What only needs checking is stored hashed (a session token: SHA-256 of it). A webhook endpoint's
signing secret must be read back to sign each delivery, so it is stored encrypted (Fernet, under
``webhook_encryption_key``): a copy of the database alone signs nothing.

Events are index rows (``ChainRecord``): written by the indexer in the transaction that indexes
the log they come from, together with one delivery per endpoint subscribed to them, and rolled back
with the index on a reorg (their deliveries with them, by the foreign key's cascade).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, utc_now
from app.index.models import ADDRESS, ChainRecord

SHA256_HEX = 64


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # due at next_attempt_at
    DELIVERED = "delivered"  # the endpoint answered 2xx
    FAILED = "failed"  # still refused when the retry window ended
    CANCELLED = "cancelled"  # the endpoint was deleted first


class SiweNonceRow(Base):
    """A nonce handed out for one sign-in; deleted when it is used."""

    __tablename__ = "merchant_siwe_nonces"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[float] = mapped_column(Float, index=True)


class MerchantSessionRow(Base):
    """A merchant's session: only the SHA-256 of its bearer token is kept."""

    __tablename__ = "merchant_sessions"

    token_hash: Mapped[str] = mapped_column(String(SHA256_HEX), primary_key=True)
    merchant: Mapped[str] = mapped_column(String(ADDRESS), index=True)
    issued_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float, index=True)  # ended ones are purged


class WebhookEndpointRow(Base):
    """Where a merchant wants its events; ``deleted_at`` set once it unsubscribed."""

    __tablename__ = "merchant_webhook_endpoints"
    __table_args__ = (Index("ix_merchant_webhook_endpoints_merchant", "merchant", "deleted_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant: Mapped[str] = mapped_column(String(ADDRESS))
    url: Mapped[str] = mapped_column(Text)
    # Event types it wants (a list of EventType values).
    event_types: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(Text, default="")
    secret_ciphertext: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookEventRow(ChainRecord, Base):
    """One event for one merchant, with the exact JSON body every delivery of it sends."""

    __tablename__ = "merchant_webhook_events"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant: Mapped[str] = mapped_column(String(ADDRESS), index=True)
    type: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)


class WebhookDeliveryRow(Base):
    """One event sent (or to be sent) to one endpoint; a replay is a delivery of its own."""

    __tablename__ = "merchant_webhook_deliveries"
    __table_args__ = (
        Index("ix_merchant_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_merchant_webhook_deliveries_endpoint", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    endpoint_id: Mapped[str] = mapped_column(
        ForeignKey("merchant_webhook_endpoints.id", ondelete="CASCADE")
    )
    event_id: Mapped[str] = mapped_column(
        ForeignKey("merchant_webhook_events.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Unix seconds by the deliverer's clock; 0: due at once.
    next_attempt_at: Mapped[float] = mapped_column(Float, default=0.0)
    # Set at the first attempt: the end of its retry window.
    give_up_at: Mapped[float | None] = mapped_column(Float)
    last_attempt_at: Mapped[float | None] = mapped_column(Float)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    replay_of: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
