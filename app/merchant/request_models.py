"""Merchants' signed requests the service accepted: who signed what, for quotas and status.

The request itself (what the forwarder executes) is an outbox record of kind
``merchant_request`` (``app.outbox.kinds.forwarded``), written in the same database transaction,
so its way to the chain (queued, submitted, confirmed, failed) is the outbox's. One signer's
nonce is accepted once at a time: the outbox's unique (source, source event id) is
(``merchant-request``, ``request_event_id``), which numbers the requests of a nonce that failed
without using it.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.index.models import ADDRESS, HEX32

# The ``RequestUsage`` signer whose row counts every merchant's requests of a day.
ALL_SIGNERS = "*"


class MerchantRequestRow(Base):
    __tablename__ = "merchant_requests"
    __table_args__ = (
        Index("ix_merchant_requests_signer_day", "signer", "day"),
        Index("ix_merchant_requests_signer_nonce", "signer", "nonce"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # req_ + 32 hex of the digest
    digest: Mapped[str] = mapped_column(String(HEX32), unique=True)
    signer: Mapped[str] = mapped_column(String(ADDRESS))
    nonce: Mapped[int] = mapped_column(BigInteger)
    target: Mapped[str] = mapped_column(String(ADDRESS))
    function: Mapped[str] = mapped_column(String(64))
    gas: Mapped[int] = mapped_column(BigInteger)
    deadline: Mapped[int] = mapped_column(BigInteger)
    # The UTC day (YYYY-MM-DD) it was accepted on, which its quota and gas count against.
    day: Mapped[str] = mapped_column(String(10))
    accepted_at: Mapped[float] = mapped_column(Float)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox_records.id"), unique=True)
    # The outcome a request.confirmed / request.failed webhook event was written for.
    notified: Mapped[str | None] = mapped_column(String(16), nullable=True)


class RequestUsage(Base):
    """What a signer's requests accepted on one UTC day count against its quotas: how many, and
    the gas they were signed with; the row of ``ALL_SIGNERS`` counts all merchants' gas against
    the service's daily budget. Counters, raised in the transaction that keeps each request, by
    an update that holds only within the limits: a check costs the same late in a busy day, and
    two requests at once cannot both take the last of a quota."""

    __tablename__ = "merchant_request_usage"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    signer: Mapped[str] = mapped_column(String(ADDRESS), primary_key=True)
    requests: Mapped[int] = mapped_column(BigInteger, default=0)
    gas: Mapped[int] = mapped_column(BigInteger, default=0)
