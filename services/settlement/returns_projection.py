"""Settlement's read model of faulty-part returns (旧件返还): one row per return the parts
service recorded (stream `part-return-{id}`), with its receipt. The settlement of a returnable
part reads it (services/settlement/domain/returns.py). Its own projection, so it rebuilds on
its own; rows hold facts from the return's events only, so a rebuild gives identical rows."""

from __future__ import annotations

from sqlalchemy import Column, Index, MetaData, String, Table, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.events.catalog import PartReturnReceived, PartReturnShipped
from libs.events.db import reader
from libs.events.envelope import StoredEvent
from libs.events.projection import Projection
from libs.events.schema import UTCDateTime
from libs.events.sqlutil import upsert

md = MetaData()

part_returns = Table(
    "settlement_part_returns",
    md,
    Column("return_id", String(300), primary_key=True),
    Column("order_id", String(200), nullable=False),
    Column("maker", String(100), nullable=False),
    Column("part_no", String(100), nullable=False),
    Column("faulty_serial", String(200), nullable=False),
    Column("received_at", UTCDateTime),
)
Index("ix_settlement_part_returns_order", part_returns.c.order_id)


async def on_shipped(conn: AsyncConnection, event: StoredEvent, data: PartReturnShipped) -> None:
    row = {"return_id": data.return_id, "order_id": data.order_id, "maker": data.maker, "part_no": data.part_no,
           "faulty_serial": data.faulty_serial, "received_at": None}
    await upsert(conn, part_returns, [row], ["return_id"])


async def on_received(conn: AsyncConnection, event: StoredEvent, data: PartReturnReceived) -> None:
    rid = event.stream_id.removeprefix("part-return-")
    await conn.execute(update(part_returns).where(part_returns.c.return_id == rid).values(received_at=event.occurred_at))


PROJECTION = Projection("settlement_returns", md, {
    "part_return.shipped": on_shipped,
    "part_return.received": on_received,
})


async def received_parts(engine: AsyncEngine, order_id: str) -> frozenset[str]:
    """The part numbers of the order whose faulty unit the maker received back."""
    query = select(part_returns.c.part_no).where(part_returns.c.order_id == order_id,
                                                 part_returns.c.received_at.is_not(None))
    async with reader(engine).connect() as conn:
        return frozenset((await conn.execute(query)).scalars())
