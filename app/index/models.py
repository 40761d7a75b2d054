"""The index's tables: what the suite's events said, one row per fact, each tagged with its block.

Every table built from events derives from ``ChainRecord`` (block number, log index, transaction
hash, block time). Rows are only ever inserted, never updated: a mutable thing (a merchant's
status, an order's status) is a series of rows, each carrying the state *after* its event, and the
current state is the latest row. Rolling back a reorg is therefore one ``DELETE ... WHERE
block_number >= n`` per table. Tables kept from these rows (seller records, the dashboard's
counters: ``app.index.derived``) are kept in step by the indexer.

Ids and hashes are stored as lowercase ``0x`` hex, addresses as EIP-55 checksums, uint256
amounts as decimal text (SQLite integers stop at 2**63).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base

HEX32 = 66  # "0x" + 64 hex digits
ADDRESS = 42
# Digits of the largest uint256: amounts padded to this many compare as text as they do as numbers.
AMOUNT_KEY_DIGITS = 78


def amount_key(amount: int) -> str:
    """A uint256 as zero-padded decimal text, ordered as the numbers are."""
    return str(amount).zfill(AMOUNT_KEY_DIGITS)


class ChainRecord:
    """Where on chain a row's event was emitted. Rows of these tables are rolled back by block."""

    block_number: Mapped[int] = mapped_column(BigInteger, index=True)
    log_index: Mapped[int] = mapped_column(Integer)
    tx_hash: Mapped[str] = mapped_column(String(HEX32))
    block_time: Mapped[int] = mapped_column(BigInteger)


# ------------------------------------------------------------------------------ bookkeeping


class IndexCursor(Base):
    """How far the index has got, for one deployment (chain id and contract addresses)."""

    __tablename__ = "index_cursor"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    fingerprint: Mapped[str] = mapped_column(String(HEX32))
    start_block: Mapped[int] = mapped_column(BigInteger)
    last_block: Mapped[int] = mapped_column(BigInteger)
    last_block_hash: Mapped[str | None] = mapped_column(String(HEX32))


class IndexedBlock(Base):
    """A block the index read: its hash (to notice reorgs) and time. Kept for every block that
    had one of the suite's events, and for the last blocks of recent ranges."""

    __tablename__ = "index_blocks"

    number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(HEX32))
    time: Mapped[int] = mapped_column(BigInteger)
    has_logs: Mapped[bool] = mapped_column(Boolean, default=False)


# ------------------------------------------------------------------------------ registry


class MerchantRow(ChainRecord, Base):
    """``MerchantApproved``."""

    __tablename__ = "index_merchants"

    address: Mapped[str] = mapped_column(String(ADDRESS), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    identity_hash: Mapped[str] = mapped_column(String(HEX32))
    verifier: Mapped[str] = mapped_column(String(ADDRESS))


class MerchantStatusRow(ChainRecord, Base):
    """``MerchantSuspended`` / ``MerchantReinstated``: the status after each."""

    __tablename__ = "index_merchant_status"
    __table_args__ = (Index("ix_index_merchant_status_merchant_block", "merchant", "block_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    merchant: Mapped[str] = mapped_column(String(ADDRESS))
    status: Mapped[int] = mapped_column(Integer)
    reason_hash: Mapped[str | None] = mapped_column(String(HEX32))
    verifier: Mapped[str] = mapped_column(String(ADDRESS))


class ItemRow(ChainRecord, Base):
    """``ItemRegistered`` (single items) or ``BatchItemActivated`` (batch items).

    An id can be registered again after a verifier revoked its record (``ItemReassigned`` to
    zero), so an item may have several rows: its current record is the latest."""

    __tablename__ = "index_items"
    __table_args__ = (Index("ix_index_items_item_block", "item_id", "block_number", "log_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(String(HEX32))
    merchant: Mapped[str] = mapped_column(String(ADDRESS), index=True)
    metadata_hash: Mapped[str] = mapped_column(String(HEX32))
    metadata_uri: Mapped[str | None] = mapped_column(Text)
    batch_root: Mapped[str | None] = mapped_column(String(HEX32), index=True)


class BatchRow(ChainRecord, Base):
    """``BatchRegistered``."""

    __tablename__ = "index_batches"

    root: Mapped[str] = mapped_column(String(HEX32), primary_key=True)
    merchant: Mapped[str] = mapped_column(String(ADDRESS), index=True)
    item_count: Mapped[int] = mapped_column(Integer)
    metadata_hash: Mapped[str] = mapped_column(String(HEX32))
    metadata_uri: Mapped[str] = mapped_column(Text)


class BatchRecallRow(ChainRecord, Base):
    """``BatchRecalled``."""

    __tablename__ = "index_batch_recalls"

    root: Mapped[str] = mapped_column(String(HEX32), primary_key=True)
    merchant: Mapped[str] = mapped_column(String(ADDRESS))
    reason_hash: Mapped[str] = mapped_column(String(HEX32))


class ItemRecallRow(ChainRecord, Base):
    """``ItemRecalled`` (a revoked and registered-again id can be recalled again)."""

    __tablename__ = "index_item_recalls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(String(HEX32), index=True)
    merchant: Mapped[str] = mapped_column(String(ADDRESS))
    reason_hash: Mapped[str] = mapped_column(String(HEX32))


class ItemFlagRow(ChainRecord, Base):
    """``ItemFlagged``: a confirmed report flagged the item."""

    __tablename__ = "index_item_flags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(String(HEX32), index=True)
    report_id: Mapped[int] = mapped_column(BigInteger)


class ItemReassignRow(ChainRecord, Base):
    """``ItemReassigned``: a verifier moved an item to ``to_merchant``, or revoked its record
    (``to_merchant`` the zero address). Either way the item leaves its batch."""

    __tablename__ = "index_item_reassignments"
    __table_args__ = (Index("ix_index_item_reassignments_item", "item_id", "block_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(String(HEX32))
    from_merchant: Mapped[str] = mapped_column(String(ADDRESS))
    to_merchant: Mapped[str] = mapped_column(String(ADDRESS))
    reason_hash: Mapped[str] = mapped_column(String(HEX32))


class Gs1PrefixRow(ChainRecord, Base):
    """``Gs1PrefixGranted`` / ``Gs1PrefixRevoked``: the prefix's holder after each (``granted``
    false: nobody holds it)."""

    __tablename__ = "index_gs1_prefixes"
    __table_args__ = (Index("ix_index_gs1_prefixes_prefix", "prefix", "block_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    prefix: Mapped[str] = mapped_column(String(16))
    merchant: Mapped[str] = mapped_column(String(ADDRESS), index=True)
    granted: Mapped[bool] = mapped_column(Boolean)
    verifier: Mapped[str] = mapped_column(String(ADDRESS))


class RoleRow(ChainRecord, Base):
    """The registry's ``RoleGranted`` / ``RoleRevoked``: whether ``account`` holds ``role`` after
    each (``sender`` the admin who changed it). A role is held at a point of the chain if the
    latest row before it is a grant."""

    __tablename__ = "index_registry_roles"
    __table_args__ = (
        Index(
            "ix_index_registry_roles_role_account",
            "role",
            "account",
            "block_number",
            "log_index",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    role: Mapped[str] = mapped_column(String(HEX32))
    account: Mapped[str] = mapped_column(String(ADDRESS))
    granted: Mapped[bool] = mapped_column(Boolean)
    sender: Mapped[str] = mapped_column(String(ADDRESS))


class ItemHoldRow(ChainRecord, Base):
    """``ItemHeld`` / ``ItemFreed``: which escrow order holds an item (``held`` after each)."""

    __tablename__ = "index_item_holds"
    # With the log index: the item verdict reads the latest hold without sorting.
    __table_args__ = (Index("ix_index_item_holds_item", "item_id", "block_number", "log_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(String(HEX32))
    order_id: Mapped[str] = mapped_column(String(HEX32))
    held: Mapped[bool] = mapped_column(Boolean)


class CustodyRow(ChainRecord, Base):
    """``CustodyRecorded``: one step of an item's trail."""

    __tablename__ = "index_custody"
    __table_args__ = (Index("ix_index_custody_item_block", "item_id", "block_number", "log_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(String(HEX32))
    submitter: Mapped[str] = mapped_column(String(ADDRESS))
    event_id: Mapped[str] = mapped_column(String(80))
    action: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[int] = mapped_column(BigInteger)
    location_hash: Mapped[str] = mapped_column(String(HEX32))
    context_hash: Mapped[str] = mapped_column(String(HEX32))


class ReportRow(ChainRecord, Base):
    """``ReportFiled``."""

    __tablename__ = "index_reports"

    report_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    item_id: Mapped[str] = mapped_column(String(HEX32), index=True)
    reporter: Mapped[str] = mapped_column(String(ADDRESS))
    kind: Mapped[int] = mapped_column(Integer)
    evidence_hash: Mapped[str] = mapped_column(String(HEX32))


class ReportOutcomeRow(ChainRecord, Base):
    """``ReportConfirmed`` / ``ReportDismissed``."""

    __tablename__ = "index_report_outcomes"

    report_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    item_id: Mapped[str] = mapped_column(String(HEX32), index=True)
    status: Mapped[int] = mapped_column(Integer)
    finding_hash: Mapped[str] = mapped_column(String(HEX32))
    verifier: Mapped[str] = mapped_column(String(ADDRESS))


# ------------------------------------------------------------------------------ escrow


class OrderRow(ChainRecord, Base):
    """``OrderOpened``: the order's terms, as the event carries them. ``amount_key`` is the amount
    zero-padded to 78 digits (every uint256), so that text order is number order: seller records
    find a merchant's orders below a floor with one index range scan."""

    __tablename__ = "index_orders"
    __table_args__ = (
        Index("ix_index_orders_merchant_token_amount", "merchant", "token", "amount_key"),
    )

    order_id: Mapped[str] = mapped_column(String(HEX32), primary_key=True)
    buyer: Mapped[str] = mapped_column(String(ADDRESS), index=True)
    merchant: Mapped[str] = mapped_column(String(ADDRESS), index=True)
    payer: Mapped[str] = mapped_column(String(ADDRESS))
    token: Mapped[str] = mapped_column(String(ADDRESS))
    amount: Mapped[str] = mapped_column(String(80))
    amount_key: Mapped[str] = mapped_column(String(AMOUNT_KEY_DIGITS), default="")
    ship_by: Mapped[int] = mapped_column(BigInteger)
    deliver_by: Mapped[int] = mapped_column(BigInteger)
    dispute_window: Mapped[int] = mapped_column(BigInteger)
    fee_bps: Mapped[int] = mapped_column(Integer)
    order_ref: Mapped[str] = mapped_column(String(HEX32))
    salt: Mapped[str] = mapped_column(String(80))
    item_count: Mapped[int] = mapped_column(Integer)


class OrderItemRow(ChainRecord, Base):
    """One registry item of an order (``OrderOpened``'s ``terms.itemIds``)."""

    __tablename__ = "index_order_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(HEX32), index=True)
    item_id: Mapped[str] = mapped_column(String(HEX32), index=True)
    position: Mapped[int] = mapped_column(Integer)


class OrderEventRow(ChainRecord, Base):
    """Every escrow event of an order after its opening, with the order's state after it.

    ``kind`` is the event in snake case (``carrier_assigned``, ``shipped``, ``delivered``,
    ``released``, ``refunded``, ``settled``, ``settlement_offered``,
    ``settlement_offer_withdrawn``, ``dispute_opened``, ``evidence_submitted``, ``dispute_ruled``,
    ``sale_recorded``, ``sale_not_recorded``, ``items_not_freed``, ``logistics_rejected``);
    ``details`` its other fields as JSON. ``refunded_items`` (a partial refund leaves the rest of
    the order going) and ``carrier`` (0: none assigned) are the order's after the event.
    ``dispute_outcome`` is set on the event that closed a dispute: ``merchant_lost`` (the payer
    got more than half of the remainder), ``merchant_won`` (less than half) or ``split``.
    """

    __tablename__ = "index_order_events"
    __table_args__ = (
        Index("ix_index_order_events_order_block", "order_id", "block_number", "log_index"),
        Index("ix_index_order_events_merchant_status", "merchant", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(HEX32))
    merchant: Mapped[str] = mapped_column(String(ADDRESS))
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(ADDRESS))
    details: Mapped[str] = mapped_column(Text, default="{}")
    status: Mapped[int] = mapped_column(Integer)
    delivered_items: Mapped[int] = mapped_column(BigInteger)
    released_items: Mapped[int] = mapped_column(BigInteger)
    refunded_items: Mapped[int] = mapped_column(BigInteger, default=0)
    carrier: Mapped[int] = mapped_column(Integer, default=0)
    dispute_outcome: Mapped[str | None] = mapped_column(String(16))


class DisputeRow(ChainRecord, Base):
    """``DisputeOpened`` (an order is disputed at most once: every way out of it is final)."""

    __tablename__ = "index_disputes"

    order_id: Mapped[str] = mapped_column(String(HEX32), primary_key=True)
    merchant: Mapped[str] = mapped_column(String(ADDRESS), index=True)
    buyer: Mapped[str] = mapped_column(String(ADDRESS))
    opened_by: Mapped[str] = mapped_column(String(ADDRESS))
    evidence_hash: Mapped[str] = mapped_column(String(HEX32))
    deadline: Mapped[int] = mapped_column(BigInteger)


class SellerRecordFloorRow(ChainRecord, Base):
    """``SellerRecordFloorChanged``: orders below a token's floor are left out of seller records."""

    __tablename__ = "index_seller_record_floors"
    __table_args__ = (Index("ix_index_seller_record_floors_token", "token", "block_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token: Mapped[str] = mapped_column(String(ADDRESS))
    amount: Mapped[str] = mapped_column(String(80))
    amount_key: Mapped[str] = mapped_column(String(AMOUNT_KEY_DIGITS))


# ------------------------------------------------------------------------------ credit


class CreditDecisionRow(ChainRecord, Base):
    """``CreditApproved`` / ``CreditDenied``, by the attested band (the policy tier)."""

    __tablename__ = "index_credit_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    borrower: Mapped[str] = mapped_column(String(ADDRESS), index=True)
    policy_version: Mapped[int] = mapped_column(Integer)
    band: Mapped[int] = mapped_column(Integer)
    approved: Mapped[bool] = mapped_column(Boolean)
    denial_reasons: Mapped[int] = mapped_column(BigInteger, default=0)


class CreditRefundRow(ChainRecord, Base):
    """``CreditRefundSettled``: one increment of an order's refund applied to the borrower's line
    (refunds settle incrementally, so an order can have several)."""

    __tablename__ = "index_credit_refunds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(HEX32), index=True)
    borrower: Mapped[str] = mapped_column(String(ADDRESS), index=True)
    refund: Mapped[str] = mapped_column(String(80))
    surplus: Mapped[str] = mapped_column(String(80))


class CreditLineEventRow(ChainRecord, Base):
    """A line's ``drawn`` (``due_at``; ``order_id`` the order it paid, if any),
    ``late_fee_charged`` (at ``due_at``), ``defaulted`` and ``restored`` events (the keeper's)."""

    __tablename__ = "index_credit_line_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    borrower: Mapped[str] = mapped_column(String(ADDRESS), index=True)
    due_at: Mapped[int | None] = mapped_column(BigInteger)
    order_id: Mapped[str | None] = mapped_column(String(HEX32), index=True)


class CreditPoolEventRow(ChainRecord, Base):
    """The credit vault's loss and exit events: ``kind`` is ``principal_impaired`` (``account``
    the line), ``loss_recognized`` (the line), ``income_locked`` (no account; ``locked_total``
    and ``unlocked_at`` in ``details``) or ``redeem_request`` (the controller; ``amount`` the
    shares; owner and sender in ``details``)."""

    __tablename__ = "index_credit_pool_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    account: Mapped[str | None] = mapped_column(String(ADDRESS))
    amount: Mapped[str] = mapped_column(String(80))
    details: Mapped[str] = mapped_column(Text, default="{}")


def chain_record_tables() -> list[type[ChainRecord]]:
    """Every table whose rows come from events (rolled back by block on a reorg)."""
    found: list[type[ChainRecord]] = []
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        if issubclass(cls, ChainRecord):
            found.append(cls)
    return found
