"""What ingestion keeps besides the outbox: idempotency records and the signatures seen lately."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Float, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class IdempotencyRecord(Base):
    """The first answer to a request with an ``Idempotency-Key``, per source and endpoint."""

    __tablename__ = "idempotency_records"
    __table_args__ = (
        UniqueConstraint("source", "scope", "key", name="uq_idempotency_records_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    # sha256 of the raw request body: the same key with another body is refused.
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[float] = mapped_column(Float)


class SeenSignature(Base):
    """A signature accepted within the tolerance window: the same one again is a replay."""

    __tablename__ = "seen_signatures"
    __table_args__ = (UniqueConstraint("source", "signature", name="uq_seen_signatures_signature"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(64))
    # The signature's own timestamp: the purge of old signatures goes by it.
    timestamp: Mapped[int] = mapped_column(BigInteger, index=True)
    seen_at: Mapped[float] = mapped_column(Float)
