"""What the credit endpoints keep: each report (ciphertext only) with its attestation and the
signatures gathered for it, and the attestation nonce counter."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


def _now() -> datetime:
    return datetime.now(UTC)


class ReportStatus(StrEnum):
    """``awaiting_signatures``: the service's own attester keys do not meet the verifier's quorum,
    and the bureau's cosignatures are awaited; ``queued``: the application went to the outbox."""

    AWAITING_SIGNATURES = "awaiting_signatures"
    QUEUED = "queued"


class CreditReportRecord(Base):
    """A bureau's report: the report, its raw score, the borrower's legal identifier and the
    commitment's salt live only in ``ciphertext`` (Fernet); the attestation (band, commitments,
    no score) is kept in the clear, with the signatures gathered so far."""

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
    status: Mapped[str] = mapped_column(String(24), default=ReportStatus.QUEUED)
    # The verifier's quorum when the report was attested (a change voids the signatures anyway:
    # it bumps the attester set version the attestation names).
    quorum: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class CreditSignatureRecord(Base):
    """One attester's signature of a report's attestation: the service's own, or a cosigner's
    posted by the bureau. One per signer and report."""

    __tablename__ = "credit_report_signatures"
    __table_args__ = (
        UniqueConstraint("report_id", "signer", name="uq_credit_report_signatures_signer"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[str] = mapped_column(String(36), index=True)
    signer: Mapped[str] = mapped_column(String(42))
    signature: Mapped[str] = mapped_column(String(132))
    by_service: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class AttestationNonceCounter(Base):
    """The next attestation nonce per verifier contract: sequential nonces share the verifier's
    bitmap words on chain (a random nonce costs a fresh storage slot, ~17k gas more)."""

    __tablename__ = "credit_attestation_nonces"

    verifier: Mapped[str] = mapped_column(String(42), primary_key=True)
    next_nonce: Mapped[int] = mapped_column(Integer, default=0)


class BorrowerSessionRow(Base):
    """A borrower's session from Sign-In with Ethereum (``app.credit.borrower_sessions``): it
    reads that borrower's own report and nothing else. Only the token's SHA-256 is kept."""

    __tablename__ = "credit_borrower_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    borrower: Mapped[str] = mapped_column(String(42), index=True)
    issued_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
