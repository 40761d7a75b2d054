"""The schema the service had before migrations: every table ``create_all`` made from the models
(a database of that time is stamped with this revision, then upgraded).

Revision 0001, the first.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chain_transactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("sender", sa.String(length=42), nullable=False),
        sa.Column("nonce", sa.BigInteger(), nullable=False),
        sa.Column("to", sa.String(length=42), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("gas_limit", sa.BigInteger(), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=True),
        sa.Column("tx_hash", sa.String(length=66), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("block_hash", sa.String(length=66), nullable=True),
        sa.Column("gas_used", sa.BigInteger(), nullable=True),
        sa.Column("broadcasts", sa.Integer(), nullable=False),
        sa.Column("last_broadcast_at", sa.Float(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_transactions")),
    )
    with op.batch_alter_table("chain_transactions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_chain_transactions_open", ["chain_id", "sender", "state", "nonce"], unique=False
        )

    op.create_table(
        "credit_attestation_nonces",
        sa.Column("verifier", sa.String(length=42), nullable=False),
        sa.Column("next_nonce", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("verifier", name=op.f("pk_credit_attestation_nonces")),
    )
    op.create_table(
        "credit_report_signatures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("report_id", sa.String(length=36), nullable=False),
        sa.Column("signer", sa.String(length=42), nullable=False),
        sa.Column("signature", sa.String(length=132), nullable=False),
        sa.Column("by_service", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_report_signatures")),
        sa.UniqueConstraint("report_id", "signer", name="uq_credit_report_signatures_signer"),
    )
    with op.batch_alter_table("credit_report_signatures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credit_report_signatures_report_id"), ["report_id"], unique=False
        )

    op.create_table(
        "credit_reports",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("borrower", sa.String(length=42), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("report_hash", sa.String(length=66), nullable=False),
        sa.Column("verifier", sa.String(length=42), nullable=False),
        sa.Column("nonce", sa.BigInteger(), nullable=False),
        sa.Column("signed_attestation", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("quorum", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_reports")),
        sa.UniqueConstraint("verifier", "nonce", name="uq_credit_reports_nonce"),
    )
    with op.batch_alter_table("credit_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credit_reports_borrower"), ["borrower"], unique=False)
        batch_op.create_index(batch_op.f("ix_credit_reports_source"), ["source"], unique=False)

    op.create_table(
        "idempotency_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response_body", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_records")),
        sa.UniqueConstraint("source", "scope", "key", name="uq_idempotency_records_key"),
    )
    op.create_table(
        "index_batch_recalls",
        sa.Column("root", sa.String(length=66), nullable=False),
        sa.Column("merchant", sa.String(length=42), nullable=False),
        sa.Column("reason_hash", sa.String(length=66), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("root", name=op.f("pk_index_batch_recalls")),
    )
    with op.batch_alter_table("index_batch_recalls", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_index_batch_recalls_block_number"), ["block_number"], unique=False
        )

    op.create_table(
        "index_batches",
        sa.Column("root", sa.String(length=66), nullable=False),
        sa.Column("merchant", sa.String(length=42), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("metadata_hash", sa.String(length=66), nullable=False),
        sa.Column("metadata_uri", sa.Text(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("root", name=op.f("pk_index_batches")),
    )
    with op.batch_alter_table("index_batches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_index_batches_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_index_batches_merchant"), ["merchant"], unique=False)

    op.create_table(
        "index_blocks",
        sa.Column("number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=66), nullable=False),
        sa.Column("time", sa.BigInteger(), nullable=False),
        sa.Column("has_logs", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_index_blocks")),
    )
    op.create_table(
        "index_credit_decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("borrower", sa.String(length=42), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("band", sa.Integer(), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("denial_reasons", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_credit_decisions")),
    )
    with op.batch_alter_table("index_credit_decisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_index_credit_decisions_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_index_credit_decisions_borrower"), ["borrower"], unique=False
        )

    op.create_table(
        "index_credit_line_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("borrower", sa.String(length=42), nullable=False),
        sa.Column("due_at", sa.BigInteger(), nullable=True),
        sa.Column("order_id", sa.String(length=66), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_credit_line_events")),
    )
    with op.batch_alter_table("index_credit_line_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_index_credit_line_events_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_index_credit_line_events_borrower"), ["borrower"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_index_credit_line_events_order_id"), ["order_id"], unique=False
        )

    op.create_table(
        "index_credit_pool_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("account", sa.String(length=42), nullable=True),
        sa.Column("amount", sa.String(length=80), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_credit_pool_events")),
    )
    with op.batch_alter_table("index_credit_pool_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_index_credit_pool_events_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_index_credit_pool_events_kind"), ["kind"], unique=False
        )

    op.create_table(
        "index_credit_refunds",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(length=66), nullable=False),
        sa.Column("borrower", sa.String(length=42), nullable=False),
        sa.Column("refund", sa.String(length=80), nullable=False),
        sa.Column("surplus", sa.String(length=80), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_credit_refunds")),
    )
    with op.batch_alter_table("index_credit_refunds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_index_credit_refunds_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_index_credit_refunds_borrower"), ["borrower"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_index_credit_refunds_order_id"), ["order_id"], unique=False
        )

    op.create_table(
        "index_cursor",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("fingerprint", sa.String(length=66), nullable=False),
        sa.Column("start_block", sa.BigInteger(), nullable=False),
        sa.Column("last_block", sa.BigInteger(), nullable=False),
        sa.Column("last_block_hash", sa.String(length=66), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_index_cursor")),
    )
    op.create_table(
        "index_custody",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("item_id", sa.String(length=66), nullable=False),
        sa.Column("submitter", sa.String(length=42), nullable=False),
        sa.Column("event_id", sa.String(length=80), nullable=False),
        sa.Column("action", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.BigInteger(), nullable=False),
        sa.Column("location_hash", sa.String(length=66), nullable=False),
        sa.Column("context_hash", sa.String(length=66), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_custody")),
    )
    with op.batch_alter_table("index_custody", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_index_custody_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(
            "ix_index_custody_item_block", ["item_id", "block_number", "log_index"], unique=False
        )

    op.create_table(
        "index_derived",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_index_derived")),
    )
    op.create_table(
        "index_disputes",
        sa.Column("order_id", sa.String(length=66), nullable=False),
        sa.Column("merchant", sa.String(length=42), nullable=False),
        sa.Column("buyer", sa.String(length=42), nullable=False),
        sa.Column("opened_by", sa.String(length=42), nullable=False),
        sa.Column("evidence_hash", sa.String(length=66), nullable=False),
        sa.Column("deadline", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_index_disputes")),
    )
    with op.batch_alter_table("index_disputes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_index_disputes_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_index_disputes_merchant"), ["merchant"], unique=False)

    op.create_table(
        "index_gs1_prefixes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("merchant", sa.String(length=42), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("verifier", sa.String(length=42), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_gs1_prefixes")),
    )
    with op.batch_alter_table("index_gs1_prefixes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_index_gs1_prefixes_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_index_gs1_prefixes_merchant"), ["merchant"], unique=False
        )
        batch_op.create_index(
            "ix_index_gs1_prefixes_prefix", ["prefix", "block_number"], unique=False
        )

    op.create_table(
        "index_item_flags",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("item_id", sa.String(length=66), nullable=False),
        sa.Column("report_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_item_flags")),
    )
    with op.batch_alter_table("index_item_flags", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_index_item_flags_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_index_item_flags_item_id"), ["item_id"], unique=False)

    op.create_table(
        "index_item_holds",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("item_id", sa.String(length=66), nullable=False),
        sa.Column("order_id", sa.String(length=66), nullable=False),
        sa.Column("held", sa.Boolean(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_item_holds")),
    )
    with op.batch_alter_table("index_item_holds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_index_item_holds_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(
            "ix_index_item_holds_item", ["item_id", "block_number", "log_index"], unique=False
        )

    op.create_table(
        "index_item_reassignments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("item_id", sa.String(length=66), nullable=False),
        sa.Column("from_merchant", sa.String(length=42), nullable=False),
        sa.Column("to_merchant", sa.String(length=42), nullable=False),
        sa.Column("reason_hash", sa.String(length=66), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_item_reassignments")),
    )
    with op.batch_alter_table("index_item_reassignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_index_item_reassignments_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(
            "ix_index_item_reassignments_item", ["item_id", "block_number"], unique=False
        )

    op.create_table(
        "index_item_recalls",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("item_id", sa.String(length=66), nullable=False),
        sa.Column("merchant", sa.String(length=42), nullable=False),
        sa.Column("reason_hash", sa.String(length=66), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_item_recalls")),
    )
    with op.batch_alter_table("index_item_recalls", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_index_item_recalls_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_index_item_recalls_item_id"), ["item_id"], unique=False
        )

    op.create_table(
        "index_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("item_id", sa.String(length=66), nullable=False),
        sa.Column("merchant", sa.String(length=42), nullable=False),
        sa.Column("metadata_hash", sa.String(length=66), nullable=False),
        sa.Column("metadata_uri", sa.Text(), nullable=True),
        sa.Column("batch_root", sa.String(length=66), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_items")),
    )
    with op.batch_alter_table("index_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_index_items_batch_root"), ["batch_root"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_index_items_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(
            "ix_index_items_item_block", ["item_id", "block_number", "log_index"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_index_items_merchant"), ["merchant"], unique=False)

    op.create_table(
        "index_merchant_status",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("merchant", sa.String(length=42), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("reason_hash", sa.String(length=66), nullable=True),
        sa.Column("verifier", sa.String(length=42), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_merchant_status")),
    )
    with op.batch_alter_table("index_merchant_status", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_index_merchant_status_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(
            "ix_index_merchant_status_merchant_block", ["merchant", "block_number"], unique=False
        )

    op.create_table(
        "index_merchants",
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("identity_hash", sa.String(length=66), nullable=False),
        sa.Column("verifier", sa.String(length=42), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_index_merchants")),
    )
    with op.batch_alter_table("index_merchants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_index_merchants_block_number"), ["block_number"], unique=False
        )

    op.create_table(
        "index_order_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(length=66), nullable=False),
        sa.Column("merchant", sa.String(length=42), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=42), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("delivered_items", sa.BigInteger(), nullable=False),
        sa.Column("released_items", sa.BigInteger(), nullable=False),
        sa.Column("refunded_items", sa.BigInteger(), nullable=False),
        sa.Column("carrier", sa.Integer(), nullable=False),
        sa.Column("dispute_outcome", sa.String(length=16), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_order_events")),
    )
    with op.batch_alter_table("index_order_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_index_order_events_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(
            "ix_index_order_events_merchant_status", ["merchant", "status"], unique=False
        )
        batch_op.create_index(
            "ix_index_order_events_order_block",
            ["order_id", "block_number", "log_index"],
            unique=False,
        )

    op.create_table(
        "index_order_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(length=66), nullable=False),
        sa.Column("item_id", sa.String(length=66), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_order_items")),
    )
    with op.batch_alter_table("index_order_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_index_order_items_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_index_order_items_item_id"), ["item_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_index_order_items_order_id"), ["order_id"], unique=False
        )

    op.create_table(
        "index_orders",
        sa.Column("order_id", sa.String(length=66), nullable=False),
        sa.Column("buyer", sa.String(length=42), nullable=False),
        sa.Column("merchant", sa.String(length=42), nullable=False),
        sa.Column("payer", sa.String(length=42), nullable=False),
        sa.Column("token", sa.String(length=42), nullable=False),
        sa.Column("amount", sa.String(length=80), nullable=False),
        sa.Column("amount_key", sa.String(length=78), nullable=False),
        sa.Column("ship_by", sa.BigInteger(), nullable=False),
        sa.Column("deliver_by", sa.BigInteger(), nullable=False),
        sa.Column("dispute_window", sa.BigInteger(), nullable=False),
        sa.Column("fee_bps", sa.Integer(), nullable=False),
        sa.Column("order_ref", sa.String(length=66), nullable=False),
        sa.Column("salt", sa.String(length=80), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_index_orders")),
    )
    with op.batch_alter_table("index_orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_index_orders_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_index_orders_buyer"), ["buyer"], unique=False)
        batch_op.create_index(batch_op.f("ix_index_orders_merchant"), ["merchant"], unique=False)
        batch_op.create_index(
            "ix_index_orders_merchant_token_amount",
            ["merchant", "token", "amount_key"],
            unique=False,
        )

    op.create_table(
        "index_report_outcomes",
        sa.Column("report_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("item_id", sa.String(length=66), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("finding_hash", sa.String(length=66), nullable=False),
        sa.Column("verifier", sa.String(length=42), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_index_report_outcomes")),
    )
    with op.batch_alter_table("index_report_outcomes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_index_report_outcomes_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_index_report_outcomes_item_id"), ["item_id"], unique=False
        )

    op.create_table(
        "index_reports",
        sa.Column("report_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("item_id", sa.String(length=66), nullable=False),
        sa.Column("reporter", sa.String(length=42), nullable=False),
        sa.Column("kind", sa.Integer(), nullable=False),
        sa.Column("evidence_hash", sa.String(length=66), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_index_reports")),
    )
    with op.batch_alter_table("index_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_index_reports_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_index_reports_item_id"), ["item_id"], unique=False)

    op.create_table(
        "index_seller_record_floors",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("token", sa.String(length=42), nullable=False),
        sa.Column("amount", sa.String(length=80), nullable=False),
        sa.Column("amount_key", sa.String(length=78), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_seller_record_floors")),
    )
    with op.batch_alter_table("index_seller_record_floors", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_index_seller_record_floors_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(
            "ix_index_seller_record_floors_token", ["token", "block_number"], unique=False
        )

    op.create_table(
        "index_seller_records",
        sa.Column("merchant", sa.String(length=42), nullable=False),
        sa.Column("orders_total", sa.Integer(), nullable=False),
        sa.Column("orders_completed", sa.Integer(), nullable=False),
        sa.Column("orders_refunded", sa.Integer(), nullable=False),
        sa.Column("disputes_total", sa.Integer(), nullable=False),
        sa.Column("disputes_lost", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("merchant", name=op.f("pk_index_seller_records")),
    )
    op.create_table(
        "merchant_request_usage",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("signer", sa.String(length=42), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("gas", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "signer", name=op.f("pk_merchant_request_usage")),
    )
    op.create_table(
        "merchant_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("merchant", sa.String(length=42), nullable=False),
        sa.Column("issued_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_merchant_sessions")),
    )
    with op.batch_alter_table("merchant_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_merchant_sessions_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_merchant_sessions_merchant"), ["merchant"], unique=False
        )

    op.create_table(
        "merchant_siwe_nonces",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_merchant_siwe_nonces")),
    )
    with op.batch_alter_table("merchant_siwe_nonces", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_merchant_siwe_nonces_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "merchant_webhook_endpoints",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("merchant", sa.String(length=42), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("secret_ciphertext", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchant_webhook_endpoints")),
    )
    with op.batch_alter_table("merchant_webhook_endpoints", schema=None) as batch_op:
        batch_op.create_index(
            "ix_merchant_webhook_endpoints_merchant", ["merchant", "deleted_at"], unique=False
        )

    op.create_table(
        "merchant_webhook_events",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("merchant", sa.String(length=42), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchant_webhook_events")),
    )
    with op.batch_alter_table("merchant_webhook_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_merchant_webhook_events_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_merchant_webhook_events_merchant"), ["merchant"], unique=False
        )

    op.create_table(
        "relay_counters",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("value", sa.String(length=78), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_relay_counters")),
    )
    op.create_table(
        "relay_leases",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("owner", sa.String(length=32), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_relay_leases")),
    )
    op.create_table(
        "seen_signatures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("seen_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seen_signatures")),
        sa.UniqueConstraint("source", "signature", name="uq_seen_signatures_signature"),
    )
    with op.batch_alter_table("seen_signatures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_seen_signatures_timestamp"), ["timestamp"], unique=False
        )

    op.create_table(
        "shop_manifest_items",
        sa.Column("root", sa.String(length=66), nullable=False),
        sa.Column("item_id", sa.String(length=66), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("metadata_hash", sa.String(length=66), nullable=False),
        sa.Column("metadata_uri", sa.Text(), nullable=True),
        sa.Column("label", sa.Text(), nullable=True),
        sa.Column("leaf", sa.String(length=66), nullable=False),
        sa.Column("proof", sa.Text(), nullable=False),
        sa.Column("id_scheme", sa.Integer(), nullable=True),
        sa.Column("code", sa.Text(), nullable=True),
        sa.Column("serial", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("root", "item_id", name=op.f("pk_shop_manifest_items")),
    )
    with op.batch_alter_table("shop_manifest_items", schema=None) as batch_op:
        batch_op.create_index("ix_shop_manifest_items_item", ["item_id"], unique=False)

    op.create_table(
        "shop_manifests",
        sa.Column("root", sa.String(length=66), nullable=False),
        sa.Column("merchant", sa.String(length=42), nullable=False),
        sa.Column("content_hash", sa.String(length=66), nullable=False),
        sa.Column("onchain_metadata_hash", sa.String(length=66), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("manifest", sa.Text(), nullable=False),
        sa.Column("signature", sa.String(length=132), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("root", name=op.f("pk_shop_manifests")),
    )
    op.create_table(
        "shop_metadata_checks",
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("metadata_hash", sa.String(length=66), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("uri", "metadata_hash", name=op.f("pk_shop_metadata_checks")),
    )
    op.create_table(
        "chain_transaction_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("max_fee_per_gas", sa.BigInteger(), nullable=False),
        sa.Column("max_priority_fee_per_gas", sa.BigInteger(), nullable=False),
        sa.Column("signed_at", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["chain_transactions.id"],
            name=op.f("fk_chain_transaction_attempts_transaction_id_chain_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_transaction_attempts")),
        sa.UniqueConstraint("tx_hash", name=op.f("uq_chain_transaction_attempts_tx_hash")),
    )
    with op.batch_alter_table("chain_transaction_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_chain_transaction_attempts_transaction_id"),
            ["transaction_id"],
            unique=False,
        )

    op.create_table(
        "merchant_webhook_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("endpoint_id", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.Float(), nullable=False),
        sa.Column("give_up_at", sa.Float(), nullable=True),
        sa.Column("last_attempt_at", sa.Float(), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("replay_of", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["merchant_webhook_endpoints.id"],
            name=op.f("fk_merchant_webhook_deliveries_endpoint_id_merchant_webhook_endpoints"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["merchant_webhook_events.id"],
            name=op.f("fk_merchant_webhook_deliveries_event_id_merchant_webhook_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchant_webhook_deliveries")),
    )
    with op.batch_alter_table("merchant_webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_merchant_webhook_deliveries_due", ["status", "next_attempt_at"], unique=False
        )
        batch_op.create_index(
            "ix_merchant_webhook_deliveries_endpoint", ["endpoint_id", "id"], unique=False
        )

    op.create_table(
        "outbox_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("relay_id", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("source_event_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=66), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("occurred_at", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("custody_event_id", sa.String(length=78), nullable=True),
        sa.Column("transaction_id", sa.Integer(), nullable=True),
        sa.Column("tx_hash", sa.String(length=66), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.Float(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["chain_transactions.id"],
            name=op.f("fk_outbox_records_transaction_id_chain_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_records")),
        sa.UniqueConstraint("relay_id", name=op.f("uq_outbox_records_relay_id")),
        sa.UniqueConstraint("source", "source_event_id", name="uq_outbox_records_source_event"),
    )
    with op.batch_alter_table("outbox_records", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_records_status_id", ["status", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_records_subject"), ["subject"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_outbox_records_transaction_id"), ["transaction_id"], unique=False
        )

    op.create_table(
        "merchant_requests",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("digest", sa.String(length=66), nullable=False),
        sa.Column("signer", sa.String(length=42), nullable=False),
        sa.Column("nonce", sa.BigInteger(), nullable=False),
        sa.Column("target", sa.String(length=42), nullable=False),
        sa.Column("function", sa.String(length=64), nullable=False),
        sa.Column("gas", sa.BigInteger(), nullable=False),
        sa.Column("deadline", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("accepted_at", sa.Float(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("notified", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outbox_records.id"],
            name=op.f("fk_merchant_requests_outbox_id_outbox_records"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchant_requests")),
        sa.UniqueConstraint("digest", name=op.f("uq_merchant_requests_digest")),
        sa.UniqueConstraint("outbox_id", name=op.f("uq_merchant_requests_outbox_id")),
    )
    with op.batch_alter_table("merchant_requests", schema=None) as batch_op:
        batch_op.create_index("ix_merchant_requests_signer_day", ["signer", "day"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("merchant_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_merchant_requests_signer_day")

    op.drop_table("merchant_requests")
    with op.batch_alter_table("outbox_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_records_transaction_id"))
        batch_op.drop_index(batch_op.f("ix_outbox_records_subject"))
        batch_op.drop_index("ix_outbox_records_status_id")

    op.drop_table("outbox_records")
    with op.batch_alter_table("merchant_webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_merchant_webhook_deliveries_endpoint")
        batch_op.drop_index("ix_merchant_webhook_deliveries_due")

    op.drop_table("merchant_webhook_deliveries")
    with op.batch_alter_table("chain_transaction_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chain_transaction_attempts_transaction_id"))

    op.drop_table("chain_transaction_attempts")
    op.drop_table("shop_metadata_checks")
    op.drop_table("shop_manifests")
    with op.batch_alter_table("shop_manifest_items", schema=None) as batch_op:
        batch_op.drop_index("ix_shop_manifest_items_item")

    op.drop_table("shop_manifest_items")
    with op.batch_alter_table("seen_signatures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_seen_signatures_timestamp"))

    op.drop_table("seen_signatures")
    op.drop_table("relay_leases")
    op.drop_table("relay_counters")
    with op.batch_alter_table("merchant_webhook_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_merchant_webhook_events_merchant"))
        batch_op.drop_index(batch_op.f("ix_merchant_webhook_events_block_number"))

    op.drop_table("merchant_webhook_events")
    with op.batch_alter_table("merchant_webhook_endpoints", schema=None) as batch_op:
        batch_op.drop_index("ix_merchant_webhook_endpoints_merchant")

    op.drop_table("merchant_webhook_endpoints")
    with op.batch_alter_table("merchant_siwe_nonces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_merchant_siwe_nonces_expires_at"))

    op.drop_table("merchant_siwe_nonces")
    with op.batch_alter_table("merchant_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_merchant_sessions_merchant"))
        batch_op.drop_index(batch_op.f("ix_merchant_sessions_expires_at"))

    op.drop_table("merchant_sessions")
    op.drop_table("merchant_request_usage")
    op.drop_table("index_seller_records")
    with op.batch_alter_table("index_seller_record_floors", schema=None) as batch_op:
        batch_op.drop_index("ix_index_seller_record_floors_token")
        batch_op.drop_index(batch_op.f("ix_index_seller_record_floors_block_number"))

    op.drop_table("index_seller_record_floors")
    with op.batch_alter_table("index_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_index_reports_item_id"))
        batch_op.drop_index(batch_op.f("ix_index_reports_block_number"))

    op.drop_table("index_reports")
    with op.batch_alter_table("index_report_outcomes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_index_report_outcomes_item_id"))
        batch_op.drop_index(batch_op.f("ix_index_report_outcomes_block_number"))

    op.drop_table("index_report_outcomes")
    with op.batch_alter_table("index_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_index_orders_merchant_token_amount")
        batch_op.drop_index(batch_op.f("ix_index_orders_merchant"))
        batch_op.drop_index(batch_op.f("ix_index_orders_buyer"))
        batch_op.drop_index(batch_op.f("ix_index_orders_block_number"))

    op.drop_table("index_orders")
    with op.batch_alter_table("index_order_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_index_order_items_order_id"))
        batch_op.drop_index(batch_op.f("ix_index_order_items_item_id"))
        batch_op.drop_index(batch_op.f("ix_index_order_items_block_number"))

    op.drop_table("index_order_items")
    with op.batch_alter_table("index_order_events", schema=None) as batch_op:
        batch_op.drop_index("ix_index_order_events_order_block")
        batch_op.drop_index("ix_index_order_events_merchant_status")
        batch_op.drop_index(batch_op.f("ix_index_order_events_block_number"))

    op.drop_table("index_order_events")
    with op.batch_alter_table("index_merchants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_index_merchants_block_number"))

    op.drop_table("index_merchants")
    with op.batch_alter_table("index_merchant_status", schema=None) as batch_op:
        batch_op.drop_index("ix_index_merchant_status_merchant_block")
        batch_op.drop_index(batch_op.f("ix_index_merchant_status_block_number"))

    op.drop_table("index_merchant_status")
    with op.batch_alter_table("index_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_index_items_merchant"))
        batch_op.drop_index("ix_index_items_item_block")
        batch_op.drop_index(batch_op.f("ix_index_items_block_number"))
        batch_op.drop_index(batch_op.f("ix_index_items_batch_root"))

    op.drop_table("index_items")
    with op.batch_alter_table("index_item_recalls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_index_item_recalls_item_id"))
        batch_op.drop_index(batch_op.f("ix_index_item_recalls_block_number"))

    op.drop_table("index_item_recalls")
    with op.batch_alter_table("index_item_reassignments", schema=None) as batch_op:
        batch_op.drop_index("ix_index_item_reassignments_item")
        batch_op.drop_index(batch_op.f("ix_index_item_reassignments_block_number"))

    op.drop_table("index_item_reassignments")
    with op.batch_alter_table("index_item_holds", schema=None) as batch_op:
        batch_op.drop_index("ix_index_item_holds_item")
        batch_op.drop_index(batch_op.f("ix_index_item_holds_block_number"))

    op.drop_table("index_item_holds")
    with op.batch_alter_table("index_item_flags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_index_item_flags_item_id"))
        batch_op.drop_index(batch_op.f("ix_index_item_flags_block_number"))

    op.drop_table("index_item_flags")
    with op.batch_alter_table("index_gs1_prefixes", schema=None) as batch_op:
        batch_op.drop_index("ix_index_gs1_prefixes_prefix")
        batch_op.drop_index(batch_op.f("ix_index_gs1_prefixes_merchant"))
        batch_op.drop_index(batch_op.f("ix_index_gs1_prefixes_block_number"))

    op.drop_table("index_gs1_prefixes")
    with op.batch_alter_table("index_disputes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_index_disputes_merchant"))
        batch_op.drop_index(batch_op.f("ix_index_disputes_block_number"))

    op.drop_table("index_disputes")
    op.drop_table("index_derived")
    with op.batch_alter_table("index_custody", schema=None) as batch_op:
        batch_op.drop_index("ix_index_custody_item_block")
        batch_op.drop_index(batch_op.f("ix_index_custody_block_number"))

    op.drop_table("index_custody")
    op.drop_table("index_cursor")
    with op.batch_alter_table("index_credit_refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_index_credit_refunds_order_id"))
        batch_op.drop_index(batch_op.f("ix_index_credit_refunds_borrower"))
        batch_op.drop_index(batch_op.f("ix_index_credit_refunds_block_number"))

    op.drop_table("index_credit_refunds")
    with op.batch_alter_table("index_credit_pool_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_index_credit_pool_events_kind"))
        batch_op.drop_index(batch_op.f("ix_index_credit_pool_events_block_number"))

    op.drop_table("index_credit_pool_events")
    with op.batch_alter_table("index_credit_line_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_index_credit_line_events_order_id"))
        batch_op.drop_index(batch_op.f("ix_index_credit_line_events_borrower"))
        batch_op.drop_index(batch_op.f("ix_index_credit_line_events_block_number"))

    op.drop_table("index_credit_line_events")
    with op.batch_alter_table("index_credit_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_index_credit_decisions_borrower"))
        batch_op.drop_index(batch_op.f("ix_index_credit_decisions_block_number"))

    op.drop_table("index_credit_decisions")
    op.drop_table("index_blocks")
    with op.batch_alter_table("index_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_index_batches_merchant"))
        batch_op.drop_index(batch_op.f("ix_index_batches_block_number"))

    op.drop_table("index_batches")
    with op.batch_alter_table("index_batch_recalls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_index_batch_recalls_block_number"))

    op.drop_table("index_batch_recalls")
    op.drop_table("idempotency_records")
    with op.batch_alter_table("credit_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_reports_source"))
        batch_op.drop_index(batch_op.f("ix_credit_reports_borrower"))

    op.drop_table("credit_reports")
    with op.batch_alter_table("credit_report_signatures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_report_signatures_report_id"))

    op.drop_table("credit_report_signatures")
    op.drop_table("credit_attestation_nonces")
    with op.batch_alter_table("chain_transactions", schema=None) as batch_op:
        batch_op.drop_index("ix_chain_transactions_open")

    op.drop_table("chain_transactions")
