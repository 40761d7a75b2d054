"""Shoppers' problem reports and their photos

Revision 0003, after 0002.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shop_problem_report_photos",
        sa.Column("receipt_id", sa.String(length=32), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("receipt_id", name=op.f("pk_shop_problem_report_photos")),
    )
    op.create_table(
        "shop_problem_reports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("receipt_id", sa.String(length=32), nullable=False),
        sa.Column("item_id", sa.String(length=66), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("contact", sa.Text(), nullable=False),
        sa.Column("evidence_hash", sa.String(length=66), nullable=False),
        sa.Column("photo_type", sa.String(length=16), nullable=True),
        sa.Column("photo_bytes", sa.BigInteger(), nullable=True),
        sa.Column("photo_sha256", sa.String(length=64), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_problem_reports")),
        sa.UniqueConstraint("receipt_id", name=op.f("uq_shop_problem_reports_receipt_id")),
    )
    with op.batch_alter_table("shop_problem_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_shop_problem_reports_evidence_hash"), ["evidence_hash"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_shop_problem_reports_item_id"), ["item_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("shop_problem_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shop_problem_reports_item_id"))
        batch_op.drop_index(batch_op.f("ix_shop_problem_reports_evidence_hash"))

    op.drop_table("shop_problem_reports")
    op.drop_table("shop_problem_report_photos")
