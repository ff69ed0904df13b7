"""Signed chain receipts (libs.events.receipt_store), written out as this revision made them.

Revision ID: 0003_receipts
"""

import sqlalchemy as sa
from alembic import op

from libs.events.schema import UTCDateTime

revision = "0003_receipts"
down_revision = "0002"

POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("receipts"):  # a database that made it from the model before
        return
    op.create_table(
        "receipts",
        sa.Column("id", POSITION, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("period", sa.String(length=40), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("head_position", sa.BigInteger(), nullable=False),
        sa.Column("stream_count", sa.Integer(), nullable=False),
        sa.Column("root", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("heads", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "period", name="uq_receipts_period"),
    )


def downgrade() -> None:
    op.drop_table("receipts")
