"""Signed chain receipts (libs.events.receipt_store).

Revision ID: 0002_receipts
"""

from alembic import op

from libs.events.receipt_store import receipts

revision = "0003_receipts"
down_revision = "0002"


def upgrade() -> None:
    receipts.create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    receipts.drop(op.get_bind(), checkfirst=True)
