"""Personal data: subject keys, erasure records, the access log (issue 16).

The shape is frozen here (the live definition is libs/events/personal/tables.py; a test
checks they agree). `down_revision` is "0002" on this branch; other branches add
revisions in parallel, so it is re-parented onto whatever is head when merged.

Revision ID: 0006_personal
"""

import sqlalchemy as sa
from alembic import op

from libs.events.schema import Position, UTCDateTime

revision = "0006_personal"
down_revision = "0005_access"


def upgrade() -> None:
    op.create_table(
        "subject_keys",
        sa.Column("subject_id", sa.String(40), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("key", sa.Text),
        sa.Column("wrapped", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("erased_at", UTCDateTime),
    )
    op.create_table(
        "subject_erasures",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("subject_id", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("keys_destroyed", sa.Integer, nullable=False),
        sa.Column("erased_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_subject_erasures_subject", "subject_erasures", ["subject_id"])
    op.create_table(
        "personal_access",
        sa.Column("id", Position, primary_key=True, autoincrement=True),
        sa.Column("principal", sa.String(200), nullable=False),
        sa.Column("subject_id", sa.String(40), nullable=False),
        sa.Column("order_id", sa.String(200)),
        sa.Column("purpose", sa.String(200), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_personal_access_subject_at", "personal_access", ["subject_id", "at"])
    op.create_index("ix_personal_access_at", "personal_access", ["at"])


def downgrade() -> None:
    op.drop_index("ix_personal_access_at", table_name="personal_access")
    op.drop_index("ix_personal_access_subject_at", table_name="personal_access")
    op.drop_table("personal_access")
    op.drop_index("ix_subject_erasures_subject", table_name="subject_erasures")
    op.drop_table("subject_erasures")
    op.drop_table("subject_keys")
