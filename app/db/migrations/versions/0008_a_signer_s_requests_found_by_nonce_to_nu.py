"""A signer's requests found by nonce, to number those of a nonce signed again

Revision 0008, after 0007. A nonce whose request failed without using it (expired or stranded
unsent) is signed again; the new request's outbox key counts the earlier ones of that nonce, read
by this index.
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("merchant_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_merchant_requests_signer_nonce", ["signer", "nonce"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("merchant_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_merchant_requests_signer_nonce")
