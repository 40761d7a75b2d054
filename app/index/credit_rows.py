"""The index's tables for explaining a credit line to its borrower: what each decision's
attestation committed to, the policies as published, the draws' amounts and the repayments.

They sit beside the credit rows of ``app.index.models`` (decisions by band, refunds, line events,
the vault's events) and follow the same rules: one row per event, tagged with its block, only ever
inserted; amounts as decimal text.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.index.models import ADDRESS, HEX32, ChainRecord

AMOUNT = 80


class CreditAttestationRow(ChainRecord, Base):
    """The attestation a ``CreditApproved`` / ``CreditDenied`` carried (the decision's own row is
    ``CreditDecisionRow``, at the same block and log index): the scoring model, the commitment to
    the report, the nonce and the issue and expiry times."""

    __tablename__ = "index_credit_attestations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    borrower: Mapped[str] = mapped_column(String(ADDRESS), index=True)
    model_id: Mapped[str] = mapped_column(String(HEX32))
    report_hash: Mapped[str] = mapped_column(String(HEX32))
    nonce: Mapped[str] = mapped_column(String(AMOUNT))
    issued_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)


class CreditPolicyRow(ChainRecord, Base):
    """``PolicyPublished``: a version's rules and tiers as the event states them, JSON (``rules``
    an object, ``tiers`` a list whose index is the band; every number as the event has it)."""

    __tablename__ = "index_credit_policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[int] = mapped_column(Integer, index=True)
    rules: Mapped[str] = mapped_column(Text)
    tiers: Mapped[str] = mapped_column(Text)


class CreditDrawRow(ChainRecord, Base):
    """``CreditDrawn``: what a draw lent (into ``order_id``, or to the wallet: none), the line's
    principal after it and its due time."""

    __tablename__ = "index_credit_draws"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    borrower: Mapped[str] = mapped_column(String(ADDRESS), index=True)
    order_id: Mapped[str | None] = mapped_column(String(HEX32))
    amount: Mapped[str] = mapped_column(String(AMOUNT))
    principal: Mapped[str] = mapped_column(String(AMOUNT))
    due_at: Mapped[int] = mapped_column(BigInteger)


class CreditRepaymentRow(ChainRecord, Base):
    """``CreditRepaid``: a payment applied to a line by ``payer`` (the borrower, anyone, or the
    line itself settling an order's refund), split into fees, interest and principal."""

    __tablename__ = "index_credit_repayments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    borrower: Mapped[str] = mapped_column(String(ADDRESS), index=True)
    payer: Mapped[str] = mapped_column(String(ADDRESS))
    fees: Mapped[str] = mapped_column(String(AMOUNT))
    interest: Mapped[str] = mapped_column(String(AMOUNT))
    principal: Mapped[str] = mapped_column(String(AMOUNT))
