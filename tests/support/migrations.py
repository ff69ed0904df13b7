"""Step a migrated database down to a revision, as the per-feature migration tests do."""

from __future__ import annotations

from collections.abc import Callable

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, inspect

from libs.events.db import MIGRATIONS


def down_to(revision: str) -> Callable[[Connection], set[str]]:
    """For `conn.run_sync`: downgrade to `revision`, then the table names left."""

    def run(conn: Connection) -> set[str]:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
        return set(inspect(conn).get_table_names())

    return run
