"""SQLite adapter (embedded default): BEGIN IMMEDIATE is the append lock."""

from libs.events.store.sql import SqlEventStore


class SqliteEventStore(SqlEventStore):
    """The engine's BEGIN IMMEDIATE already serialises writers; nothing more to lock."""
