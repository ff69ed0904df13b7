"""Event store, checkpoints and dead letters.

Revision ID: 0001

Frozen history: written out table by table (it created the tables from the live metadata
until the schema was put under migrations in full; the tables are the same). A table that
already exists is left alone, as then.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None

POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
UTC = sa.DateTime(timezone=True)


def _missing(name: str) -> bool:
    return not sa.inspect(op.get_bind()).has_table(name)


def upgrade() -> None:
    if _missing("events"):
        op.create_table(
            "events",
            sa.Column("position", POSITION, autoincrement=True, nullable=False),
            sa.Column("id", sa.Uuid(), nullable=False),
            sa.Column("stream_id", sa.String(length=200), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("type", sa.String(length=100), nullable=False),
            sa.Column("schema_version", sa.Integer(), nullable=False),
            sa.Column("occurred_at", UTC, nullable=False),
            sa.Column("recorded_at", UTC, nullable=False),
            sa.Column("source", sa.String(length=50), nullable=False),
            sa.Column("actor", sa.String(length=200), nullable=False),
            sa.Column("correlation_id", sa.Uuid(), nullable=False),
            sa.Column("causation_id", sa.Uuid(), nullable=True),
            sa.Column("data", JSON, nullable=False),
            sa.Column("prev_hash", sa.String(length=64), nullable=False),
            sa.Column("hash", sa.String(length=64), nullable=False),
            sa.PrimaryKeyConstraint("position"),
            sa.UniqueConstraint("id"),
            sa.UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
        )
        op.create_index("ix_events_type", "events", ["type"], unique=False)
    if _missing("checkpoints"):
        op.create_table(
            "checkpoints",
            sa.Column("name", sa.String(length=100), nullable=False),
            sa.Column("position", sa.BigInteger(), nullable=False),
            sa.Column("fingerprint", sa.String(length=64), nullable=False),
            sa.Column("updated_at", UTC, nullable=False),
            sa.PrimaryKeyConstraint("name"),
        )
    if _missing("stream_checkpoints"):
        op.create_table(
            "stream_checkpoints",
            sa.Column("projection", sa.String(length=100), nullable=False),
            sa.Column("stream_id", sa.String(length=200), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("projection", "stream_id"),
        )
    if _missing("dead_letters"):
        op.create_table(
            "dead_letters",
            sa.Column("id", POSITION, autoincrement=True, nullable=False),
            sa.Column("projection", sa.String(length=100), nullable=False),
            sa.Column("event_id", sa.Uuid(), nullable=False),
            sa.Column("stream_id", sa.String(length=200), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("position", sa.BigInteger(), nullable=False),
            sa.Column("type", sa.String(length=100), nullable=False),
            sa.Column("schema_version", sa.Integer(), nullable=False),
            sa.Column("reason", sa.Text(), nullable=False),
            sa.Column("event", JSON, nullable=False),
            sa.Column("created_at", UTC, nullable=False),
            sa.Column("resolved_at", UTC, nullable=True),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("projection", "event_id", name="uq_dead_letter_event"),
        )


def downgrade() -> None:
    for name in ("dead_letters", "stream_checkpoints", "checkpoints", "events"):
        op.drop_table(name)
