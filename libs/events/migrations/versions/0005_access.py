"""Access: principals' scopes, outlet, own rate limit and revocation; the audited key events;
complaint platforms' HMAC secrets (two valid during a changeover).

Revision ID: 0005_access

A database of the previous release may already have these from `ensure_tables` (which made
them at start-up before this revision): a present table or column is adopted as it is.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_access"
down_revision = "0004_notifications"

UTC = sa.DateTime(timezone=True)
COLUMNS = (
    ("scopes", sa.String(length=1000)),
    ("outlet_id", sa.String(length=100)),
    ("rate_limit", sa.String(length=100)),
    ("revoked_at", UTC),
)


def _missing(name: str) -> bool:
    return not sa.inspect(op.get_bind()).has_table(name)


def upgrade() -> None:
    present = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("principals")}
    for name, kind in COLUMNS:
        if name not in present:
            op.add_column("principals", sa.Column(name, kind, nullable=True))
    if _missing("principal_key_events"):
        op.create_table(
            "principal_key_events",
            sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("at", UTC, nullable=False),
            sa.Column("actor", sa.String(length=130), nullable=False),
            sa.Column("principal_id", sa.String(length=100), nullable=False),
            sa.Column("role", sa.String(length=20), nullable=False),
            sa.Column("action", sa.String(length=40), nullable=False),
            sa.Column("fingerprint", sa.String(length=16), nullable=False),
            sa.PrimaryKeyConstraint("seq"),
        )
    if _missing("platform_secrets"):
        op.create_table(
            "platform_secrets",
            sa.Column("secret_id", sa.String(length=32), nullable=False),
            sa.Column("platform_id", sa.String(length=100), nullable=False),
            sa.Column("secret", sa.String(length=200), nullable=False),
            sa.Column("created_at", UTC, nullable=False),
            sa.Column("valid_until", UTC, nullable=True),
            sa.PrimaryKeyConstraint("secret_id"),
        )


def downgrade() -> None:
    op.drop_table("platform_secrets")
    op.drop_table("principal_key_events")
    with op.batch_alter_table("principals") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
