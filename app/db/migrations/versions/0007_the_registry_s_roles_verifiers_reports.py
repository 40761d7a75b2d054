"""The registry's role grants and revocations, so only verifiers' reports open a review

Revision 0007, after 0006. The index read no ``RoleGranted`` before: an existing index starts
over (its cursor's fingerprint set to one no deployment has, so the indexer wipes its rows and
reads the deployment again from its first block, the roles' grants with it).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "index_registry_roles",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("role", sa.String(length=66), nullable=False),
        sa.Column("account", sa.String(length=42), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("sender", sa.String(length=42), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_registry_roles")),
    )
    with op.batch_alter_table("index_registry_roles", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_index_registry_roles_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(
            "ix_index_registry_roles_role_account",
            ["role", "account", "block_number", "log_index"],
            unique=False,
        )
    op.execute(sa.text("UPDATE index_cursor SET fingerprint = 'reindex: registry roles'"))


def downgrade() -> None:
    with op.batch_alter_table("index_registry_roles", schema=None) as batch_op:
        batch_op.drop_index("ix_index_registry_roles_role_account")
        batch_op.drop_index(batch_op.f("ix_index_registry_roles_block_number"))

    op.drop_table("index_registry_roles")
