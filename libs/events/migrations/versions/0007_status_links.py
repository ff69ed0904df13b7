"""Customers' status links: every opening of the page, and each order's revocation.

The shape is frozen here (the live definition is services/notify/tables.py; the
autogenerate test checks they agree), so this revision never imports a service.

Revision ID: 0007_status_links
"""

import sqlalchemy as sa
from alembic import op

from libs.events.schema import UTCDateTime

revision = "0007_status_links"
down_revision = "0006_personal"


def upgrade() -> None:
    op.create_table(
        "notify_link_opens",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("order_id", sa.String(200), nullable=False),
        sa.Column("opened_at", UTCDateTime, nullable=False),
        sa.Column("issued_at", UTCDateTime, nullable=False),
        sa.Column("user_agent", sa.String(200), nullable=False),
    )
    op.create_index("ix_notify_link_opens_order_id", "notify_link_opens", ["order_id"])
    op.create_table(
        "notify_link_revocations",
        sa.Column("order_id", sa.String(200), primary_key=True),
        sa.Column("revoked_before", UTCDateTime, nullable=False),
        sa.Column("revoked_by", sa.String(130), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("notify_link_revocations")
    op.drop_index("ix_notify_link_opens_order_id", table_name="notify_link_opens")
    op.drop_table("notify_link_opens")
