"""Customer notifications: the outbox (one row per order, step and channel) and opt-outs.

The shape is frozen here (the service's live definition is services/notify/tables.py; a test
checks they agree), so this revision never imports a service.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

from libs.events.schema import Json, UTCDateTime

revision = "0004_notifications"
down_revision = "0003_receipts"


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("order_id", sa.String(200), nullable=False),
        sa.Column("step", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("recipient_ref", sa.String(100), nullable=False),
        sa.Column("maker", sa.String(100), nullable=False),
        sa.Column("template", sa.String(100), nullable=False),
        sa.Column("payload", Json, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("useful_until", UTCDateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("provider_ref", sa.String(200)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("delivered_at", UTCDateTime),
        sa.UniqueConstraint("order_id", "step", "channel",
                            name="uq_notifications_order_step_channel"),
    )
    op.create_index("ix_notifications_due", "notifications", ["state", "next_attempt_at"])
    op.create_table(
        "notify_opt_outs",
        sa.Column("recipient_ref", sa.String(100), primary_key=True),
        sa.Column("channel", sa.String(20), primary_key=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("notify_opt_outs")
    op.drop_index("ix_notifications_due", table_name="notifications")
    op.drop_table("notifications")
