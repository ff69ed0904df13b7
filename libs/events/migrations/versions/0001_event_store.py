"""Event store, checkpoints and dead letters.

Revision ID: 0001
"""

from alembic import op

from libs.events.schema import checkpoints, dead_letters, events, stream_checkpoints

revision = "0001"
down_revision = None


def upgrade() -> None:
    bind = op.get_bind()
    for table in (events, checkpoints, stream_checkpoints, dead_letters):
        table.create(bind, checkfirst=True)


def downgrade() -> None:
    bind = op.get_bind()
    for table in (dead_letters, stream_checkpoints, checkpoints, events):
        table.drop(bind, checkfirst=True)
