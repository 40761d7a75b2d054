"""Published product passports and pictures

Revision 0004, after 0003.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shop_media",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("media_hash", sa.String(length=66), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_media")),
        sa.UniqueConstraint("media_hash", name=op.f("uq_shop_media_media_hash")),
    )
    op.create_table(
        "shop_passports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("metadata_hash", sa.String(length=66), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_passports")),
        sa.UniqueConstraint("metadata_hash", name=op.f("uq_shop_passports_metadata_hash")),
    )


def downgrade() -> None:
    op.drop_table("shop_passports")
    op.drop_table("shop_media")
