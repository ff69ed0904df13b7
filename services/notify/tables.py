"""The notification outbox and the customers' opt-outs (created by Alembic revision 0002,
which freezes the same shape; tests/notify/test_outbox.py checks the two agree)."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text, UniqueConstraint, Uuid

from libs.events.schema import Json, UTCDateTime

metadata = MetaData()

STATES = ("pending", "delivered", "failed", "suppressed", "cancelled")

notifications = Table(
    "notifications",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("order_id", String(200), nullable=False),
    Column("step", String(40), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("recipient_ref", String(100), nullable=False),  # opaque: never the phone itself
    Column("maker", String(100), nullable=False),
    Column("template", String(100), nullable=False),
    Column("payload", Json, nullable=False),  # {"subject": ..., "text": ...} as rendered
    Column("state", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("useful_until", UTCDateTime),
    Column("last_error", Text),
    Column("provider_ref", String(200)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),
    UniqueConstraint("order_id", "step", "channel", name="uq_notifications_order_step_channel"),
)
Index("ix_notifications_due", notifications.c.state, notifications.c.next_attempt_at)

opt_outs = Table(
    "notify_opt_outs",
    metadata,
    Column("recipient_ref", String(100), primary_key=True),
    Column("channel", String(20), primary_key=True),  # a channel name, or "*" for all
    Column("created_at", UTCDateTime, nullable=False),
)

# Status links (revision 0006): each opening of a customer's page, and each order's revocation
# (links issued at or before `revoked_before` are refused; the next link is issued after it).
link_opens = Table(
    "notify_link_opens",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("order_id", String(200), nullable=False, index=True),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),  # which link of the order was opened
    Column("user_agent", String(200), nullable=False),
)

link_revocations = Table(
    "notify_link_revocations",
    metadata,
    Column("order_id", String(200), primary_key=True),
    Column("revoked_before", UTCDateTime, nullable=False),
    Column("revoked_by", String(130), nullable=False),
)
