"""PostgreSQL adapter: a transaction-scoped advisory lock orders appends by commit."""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events.store.sql import SqlEventStore

APPEND_LOCK = 7_351_000


class PostgresEventStore(SqlEventStore):
    async def _lock(self, conn: AsyncConnection) -> None:
        await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": APPEND_LOCK})
