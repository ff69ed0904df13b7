"""Revision 0006_personal: its tables match libs/events/personal/tables.py, and it goes down
(dropping only its tables) and up again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events.db import migrate
from libs.events.personal.tables import metadata
from tests.support.migrations import down_to

MINE = {"subject_keys", "subject_erasures", "personal_access"}


def _shape(conn: Connection) -> dict[str, Any]:
    found = inspect(conn)
    return {
        name: (sorted((c["name"], c["nullable"]) for c in found.get_columns(name)),
               sorted(found.get_pk_constraint(name)["constrained_columns"]),
               sorted(str(i["name"]) for i in found.get_indexes(name)))
        for name in MINE
    }


async def test_migration_matches_the_live_tables(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        migrated = await conn.run_sync(_shape)
    expected = {
        table.name: (sorted((c.name, bool(c.nullable)) for c in table.columns),
                     sorted(c.name for c in table.primary_key.columns),
                     sorted(str(i.name) for i in table.indexes))
        for table in metadata.tables.values()
    }
    assert migrated == expected




async def test_downgrade_drops_only_these_tables(sqlite_engine: AsyncEngine) -> None:
    async with sqlite_engine.begin() as conn:
        before = await conn.run_sync(down_to("0006_personal"))  # later revisions go first
        after = await conn.run_sync(down_to("0005_access"))
    assert before - after == MINE
    await migrate(sqlite_engine)
    async with sqlite_engine.connect() as conn:
        again = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    assert again >= before
