"""the latest published manifest found by its time, for the item pages

Revision 0009, after 0008.
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("shop_manifests", schema=None) as batch_op:
        batch_op.create_index("ix_shop_manifests_published_at", ["published_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("shop_manifests", schema=None) as batch_op:
        batch_op.drop_index("ix_shop_manifests_published_at")
