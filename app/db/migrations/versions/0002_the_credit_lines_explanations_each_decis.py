"""The credit lines' explanations: each decision's attestation, published policies, draws and
repayments

Revision 0002, after 0001.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credit_borrower_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("borrower", sa.String(length=42), nullable=False),
        sa.Column("issued_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_credit_borrower_sessions")),
    )
    with op.batch_alter_table("credit_borrower_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credit_borrower_sessions_borrower"), ["borrower"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_credit_borrower_sessions_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "index_credit_attestations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("borrower", sa.String(length=42), nullable=False),
        sa.Column("model_id", sa.String(length=66), nullable=False),
        sa.Column("report_hash", sa.String(length=66), nullable=False),
        sa.Column("nonce", sa.String(length=80), nullable=False),
        sa.Column("issued_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_credit_attestations")),
    )
    with op.batch_alter_table("index_credit_attestations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_index_credit_attestations_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_index_credit_attestations_borrower"), ["borrower"], unique=False
        )

    op.create_table(
        "index_credit_draws",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("borrower", sa.String(length=42), nullable=False),
        sa.Column("order_id", sa.String(length=66), nullable=True),
        sa.Column("amount", sa.String(length=80), nullable=False),
        sa.Column("principal", sa.String(length=80), nullable=False),
        sa.Column("due_at", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_credit_draws")),
    )
    with op.batch_alter_table("index_credit_draws", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_index_credit_draws_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_index_credit_draws_borrower"), ["borrower"], unique=False
        )

    op.create_table(
        "index_credit_policies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("tiers", sa.Text(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_credit_policies")),
    )
    with op.batch_alter_table("index_credit_policies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_index_credit_policies_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_index_credit_policies_version"), ["version"], unique=False
        )

    op.create_table(
        "index_credit_repayments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("borrower", sa.String(length=42), nullable=False),
        sa.Column("payer", sa.String(length=42), nullable=False),
        sa.Column("fees", sa.String(length=80), nullable=False),
        sa.Column("interest", sa.String(length=80), nullable=False),
        sa.Column("principal", sa.String(length=80), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_credit_repayments")),
    )
    with op.batch_alter_table("index_credit_repayments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_index_credit_repayments_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_index_credit_repayments_borrower"), ["borrower"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("index_credit_repayments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_index_credit_repayments_borrower"))
        batch_op.drop_index(batch_op.f("ix_index_credit_repayments_block_number"))

    op.drop_table("index_credit_repayments")
    with op.batch_alter_table("index_credit_policies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_index_credit_policies_version"))
        batch_op.drop_index(batch_op.f("ix_index_credit_policies_block_number"))

    op.drop_table("index_credit_policies")
    with op.batch_alter_table("index_credit_draws", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_index_credit_draws_borrower"))
        batch_op.drop_index(batch_op.f("ix_index_credit_draws_block_number"))

    op.drop_table("index_credit_draws")
    with op.batch_alter_table("index_credit_attestations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_index_credit_attestations_borrower"))
        batch_op.drop_index(batch_op.f("ix_index_credit_attestations_block_number"))

    op.drop_table("index_credit_attestations")
    with op.batch_alter_table("credit_borrower_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_borrower_sessions_expires_at"))
        batch_op.drop_index(batch_op.f("ix_credit_borrower_sessions_borrower"))

    op.drop_table("credit_borrower_sessions")
