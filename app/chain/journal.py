"""The sender's journal: every transaction the service signs, and every signed attempt of it.

A transaction is one nonce of one account; its attempts are the signed versions sent for that
nonce (the first, then fee bumps, and for a transaction the node kept refusing a no-op that
only spends the nonce). At most one attempt of a nonce can ever mine, so looking up the receipts
of all of them tells exactly whether the transaction took effect. Everything is
written *before* it is broadcast, so a crash between signing and sending loses nothing.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from eth_account.typed_transactions.typed_transaction import TypedTransaction
from hexbytes import HexBytes
from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, utc_now


class TxState(StrEnum):
    """Where a journalled transaction stands."""

    PENDING = "pending"  # signed (and sent, or about to be); no receipt yet
    MINED = "mined"  # has a receipt, not yet at the confirmation depth
    CONFIRMED = "confirmed"  # receipt at the confirmation depth; `succeeded` says how it ended
    REPLACED = "replaced"  # its nonce was used by a transaction this journal never signed
    # the node kept refusing it; a no-op of the sender's own, journalled as its last attempt,
    # spent its nonce (at the confirmation depth) so that later nonces could mine
    CANCELLED = "cancelled"


OPEN_STATES = (TxState.PENDING, TxState.MINED)


class ChainTransaction(Base):
    """One nonce of one sending account, and what became of it."""

    __tablename__ = "chain_transactions"
    __table_args__ = (Index("ix_chain_transactions_open", "chain_id", "sender", "state", "nonce"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    sender: Mapped[str] = mapped_column(String(42))
    nonce: Mapped[int] = mapped_column(BigInteger)
    to: Mapped[str] = mapped_column(String(42))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    gas_limit: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default=TxState.PENDING)
    succeeded: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    # The attempt that mined, once one did.
    tx_hash: Mapped[str | None] = mapped_column(String(66), nullable=True)
    block_number: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    block_hash: Mapped[str | None] = mapped_column(String(66), nullable=True)
    gas_used: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    broadcasts: Mapped[int] = mapped_column(Integer, default=0)
    # Unix seconds of the latest broadcast of any attempt (None: signed, never sent).
    last_broadcast_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utc_now, onupdate=utc_now
    )

    attempts: Mapped[list[TransactionAttempt]] = relationship(
        back_populates="transaction", order_by="TransactionAttempt.id", lazy="selectin"
    )

    @property
    def latest_attempt(self) -> TransactionAttempt:
        return self.attempts[-1]

    def is_no_op(self, attempt: TransactionAttempt) -> bool:
        """Whether ``attempt`` only spends the nonce: a transfer of nothing to the sender."""
        fields = TypedTransaction.from_bytes(HexBytes(attempt.raw)).as_dict()
        return bytes(fields["to"]) == bytes.fromhex(self.sender[2:])

    def watched_call(self) -> tuple[str, int | None]:
        """The hash a client should watch and its block: the mined call's, else the newest
        attempt at the call and no block (a no-op that spent the nonce carried none of it)."""
        calls = [attempt.tx_hash for attempt in self.attempts if not self.is_no_op(attempt)]
        if self.tx_hash in calls:
            return self.tx_hash, self.block_number
        return calls[-1], None


class TransactionAttempt(Base):
    """One signed version of a transaction: the raw bytes as sent, and its fees."""

    __tablename__ = "chain_transaction_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("chain_transactions.id"), index=True)
    tx_hash: Mapped[str] = mapped_column(String(66), unique=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    max_fee_per_gas: Mapped[int] = mapped_column(BigInteger)
    max_priority_fee_per_gas: Mapped[int] = mapped_column(BigInteger)
    # Unix seconds when it was signed: fee bumps count from the newest attempt.
    signed_at: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)

    transaction: Mapped[ChainTransaction] = relationship(back_populates="attempts")
