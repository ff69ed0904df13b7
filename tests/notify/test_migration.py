"""Revision 0002 goes down and up again cleanly (the store's tables untouched)."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events.db import migrate
from tests.support.migrations import down_to


async def test_downgrade_drops_only_the_notification_tables(sqlite_engine: AsyncEngine) -> None:
    async with sqlite_engine.begin() as conn:
        before = await conn.run_sync(down_to("0004_notifications"))
        after = await conn.run_sync(down_to("0003_receipts"))
    assert before - after == {"notifications", "notify_opt_outs"}
    assert "events" in after
    await migrate(sqlite_engine)
    async with sqlite_engine.connect() as conn:
        again = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    assert again >= before
