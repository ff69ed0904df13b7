"""The services' durable reference tables: API keys, platform nonces, webhook secrets, cursor
and deliveries, outlets, SLA policies, fee standards.

Revision ID: 0002

Until this revision each was made by `create_all` at start-up, so a database of the
previous release already has them (with the same columns): such a table is adopted as it
is, a missing one is created.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"

POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = sa.DateTime(timezone=True)
TABLES = (
    "principals", "intake_platform_nonces", "intake_partner_secrets", "intake_webhook_cursor",
    "intake_webhook_deliveries", "dispatch_outlets", "dispatch_sla_policies", "settlement_fee_standards",
)


def _missing(name: str) -> bool:
    return not sa.inspect(op.get_bind()).has_table(name)


def upgrade() -> None:
    if _missing("principals"):
        op.create_table(
            "principals",
            sa.Column("key_hash", sa.String(length=64), nullable=False),
            sa.Column("id", sa.String(length=100), nullable=False),
            sa.Column("role", sa.String(length=20), nullable=False),
            sa.Column("name", sa.String(length=200), nullable=False),
            sa.Column("party", sa.String(length=100), nullable=False),
            sa.Column("webhook_url", sa.String(length=500), nullable=True),
            sa.Column("created_at", UTC, nullable=False),
            sa.PrimaryKeyConstraint("key_hash"),
        )
    if _missing("intake_platform_nonces"):
        op.create_table(
            "intake_platform_nonces",
            sa.Column("platform_id", sa.String(length=100), nullable=False),
            sa.Column("nonce", sa.String(length=200), nullable=False),
            sa.Column("seen_at", UTC, nullable=False),
            sa.PrimaryKeyConstraint("platform_id", "nonce"),
        )
    if _missing("intake_partner_secrets"):
        op.create_table(
            "intake_partner_secrets",
            sa.Column("partner_id", sa.String(length=100), nullable=False),
            sa.Column("webhook_secret", sa.String(length=100), nullable=False),
            sa.Column("created_at", UTC, nullable=False),
            sa.PrimaryKeyConstraint("partner_id"),
        )
    if _missing("intake_webhook_cursor"):
        op.create_table(
            "intake_webhook_cursor",
            sa.Column("name", sa.String(length=50), nullable=False),
            sa.Column("position", POSITION, nullable=False),
            sa.PrimaryKeyConstraint("name"),
        )
    if _missing("intake_webhook_deliveries"):
        op.create_table(
            "intake_webhook_deliveries",
            sa.Column("event_id", sa.Uuid(), nullable=False),
            sa.Column("partner_id", sa.String(length=100), nullable=False),
            sa.Column("order_id", sa.String(length=200), nullable=False),
            sa.Column("position", POSITION, nullable=False),
            sa.Column("url", sa.String(length=500), nullable=False),
            sa.Column("payload", sa.Text(), nullable=False),
            sa.Column("state", sa.String(length=20), nullable=False),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("next_attempt_at", UTC, nullable=False),
            sa.Column("delivered_at", UTC, nullable=True),
            sa.Column("last_error", sa.String(length=500), nullable=True),
            sa.PrimaryKeyConstraint("event_id"),
        )
        op.create_index("ix_intake_webhook_due", "intake_webhook_deliveries", ["state", "next_attempt_at"])
    if _missing("dispatch_outlets"):
        op.create_table(
            "dispatch_outlets",
            sa.Column("id", sa.String(length=100), nullable=False),
            sa.Column("name", sa.String(length=200), nullable=False),
            sa.Column("provider_id", sa.String(length=100), nullable=False),
            sa.Column("capacity_per_day", sa.Integer(), nullable=False),
            sa.Column("contact", sa.String(length=200), nullable=False),
            sa.Column("active", sa.Boolean(), nullable=False),
            sa.Column("areas", sa.JSON(), nullable=False),
            sa.Column("technicians", sa.JSON(), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("updated_at", UTC, nullable=False),
            sa.Column("updated_by", sa.String(length=200), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
    if _missing("dispatch_sla_policies"):
        op.create_table(
            "dispatch_sla_policies",
            sa.Column("maker", sa.String(length=100), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("effective_from", UTC, nullable=False),
            sa.Column("definition", sa.JSON(), nullable=False),
            sa.Column("set_by", sa.String(length=200), nullable=False),
            sa.PrimaryKeyConstraint("maker", "version"),
        )
    if _missing("settlement_fee_standards"):
        op.create_table(
            "settlement_fee_standards",
            sa.Column("standard_id", sa.String(length=250), nullable=False),
            sa.Column("maker", sa.String(length=100), nullable=False),
            sa.Column("provider_id", sa.String(length=100), nullable=False),
            sa.Column("seq", sa.Integer(), nullable=False),
            sa.Column("effective_from", sa.Date(), nullable=False),
            sa.Column("kind", sa.String(length=20), nullable=False),
            sa.Column("body", sa.JSON(), nullable=False),
            sa.Column("recorded_at", UTC, nullable=False),
            sa.Column("recorded_by", sa.String(length=200), nullable=False),
            sa.PrimaryKeyConstraint("standard_id"),
            sa.UniqueConstraint("maker", "provider_id", "seq", name="uq_settlement_standard_seq"),
        )
        op.create_index("ix_settlement_fee_standards_maker", "settlement_fee_standards", ["maker"])


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
