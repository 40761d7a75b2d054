"""The dashboard's counters, kept by the indexer

Revision 0006, after 0005.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stats_counters",
        sa.Column("scope", sa.String(length=42), nullable=False),
        sa.Column("series", sa.String(length=32), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "series", "day", "key", name=op.f("pk_stats_counters")),
    )
    with op.batch_alter_table("stats_counters", schema=None) as batch_op:
        batch_op.create_index("ix_stats_counters_scope_day", ["scope", "day"], unique=False)

    op.create_table(
        "stats_state",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("counting_version", sa.Integer(), nullable=False),
        sa.Column("changes", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_stats_state")),
    )


def downgrade() -> None:
    op.drop_table("stats_state")
    with op.batch_alter_table("stats_counters", schema=None) as batch_op:
        batch_op.drop_index("ix_stats_counters_scope_day")

    op.drop_table("stats_counters")
