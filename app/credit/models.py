"""What the credit endpoints keep: each report (ciphertext only) with its signed attestation, and
the attestation nonce counter."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class CreditReportRecord(Base):
    """A bureau's report: the report, its raw score and the commitment's salt live only in
    ``ciphertext`` (Fernet); the attestation (band, commitment, no score) is kept in the clear."""

    __tablename__ = "credit_reports"
    __table_args__ = (UniqueConstraint("verifier", "nonce", name="uq_credit_reports_nonce"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    borrower: Mapped[str] = mapped_column(String(42), index=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    report_hash: Mapped[str] = mapped_column(String(66))
    verifier: Mapped[str] = mapped_column(String(42))
    nonce: Mapped[int] = mapped_column(BigInteger)
    signed_attestation: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=lambda: datetime.now(UTC)
    )


class AttestationNonceCounter(Base):
    """The next attestation nonce per verifier contract: sequential nonces share the verifier's
    bitmap words on chain (a random nonce costs a fresh storage slot, ~17k gas more)."""

    __tablename__ = "credit_attestation_nonces"

    verifier: Mapped[str] = mapped_column(String(42), primary_key=True)
    next_nonce: Mapped[int] = mapped_column(Integer, default=0)
