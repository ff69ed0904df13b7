"""Revision 0002 goes down and up again cleanly (the store's tables untouched)."""

from __future__ import annotations

from collections.abc import Callable

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events.db import MIGRATIONS, migrate


def _to(revision: str) -> Callable[[Connection], set[str]]:
    def run(conn: Connection) -> set[str]:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
        return set(inspect(conn).get_table_names())

    return run


async def test_downgrade_drops_only_the_notification_tables(sqlite_engine: AsyncEngine) -> None:
    async with sqlite_engine.begin() as conn:
        head = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        before = await conn.run_sync(_to("0002"))  # later revisions (other features) go first
        after = await conn.run_sync(_to("0001"))
    assert before - after == {"notifications", "notify_opt_outs"}
    assert "events" in after
    await migrate(sqlite_engine)
    async with sqlite_engine.connect() as conn:
        again = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    assert again == head
