"""Batched handlers: the same read model as per-event handlers, with the same guarantees."""

from __future__ import annotations

import random
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.events import catalog
from libs.events.envelope import StoredEvent
from libs.events.projection import Batched, Projection, Projector, dump_read_model
from libs.events.schema import dead_letters
from libs.events.sqlutil import upsert
from libs.events.store import SqlEventStore, store_for
from tests.factories import escalated

pytestmark = pytest.mark.integration

md = MetaData()
moves = Table(
    "test_batched_moves",
    md,
    Column("stream_id", String(100), primary_key=True),
    Column("tier", String(20)),
    Column("moves", Integer),
    Column("last_position", Integer),
)
md_one = MetaData()
moves_one = moves.to_metadata(md_one, name="test_batched_moves_one")
runs: list[int] = []


async def one(conn: AsyncConnection, event: StoredEvent, data: catalog.OrderEscalated) -> None:
    if data.reason == "boom":
        raise RuntimeError("handler bug")
    row = (await conn.execute(select(moves_one.c.moves).where(moves_one.c.stream_id == event.stream_id))).first()
    values = {"stream_id": event.stream_id, "tier": data.to_tier, "moves": (row[0] if row else 0) + 1,
              "last_position": event.position}
    await upsert(conn, moves_one, [values], ["stream_id"])


async def many(conn: AsyncConnection, items: list[tuple[StoredEvent, Any]]) -> None:
    runs.append(len(items))
    if any(data.reason == "boom" for _, data in items):
        raise RuntimeError("handler bug")
    streams = {event.stream_id for event, _ in items}
    found = await conn.execute(select(moves.c.stream_id, moves.c.moves).where(moves.c.stream_id.in_(streams)))
    count = {r[0]: r[1] for r in found}
    rows: dict[str, dict[str, Any]] = {}
    for event, data in items:
        count[event.stream_id] = count.get(event.stream_id, 0) + 1
        rows[event.stream_id] = {"stream_id": event.stream_id, "tier": data.to_tier,
                                 "moves": count[event.stream_id], "last_position": event.position}
    await upsert(conn, moves, list(rows.values()), ["stream_id"])


async def test_batched_equals_per_event_with_duplicates_and_a_failing_event(engine: AsyncEngine) -> None:
    raw = SqlEventStore(engine, validate=False)
    rng = random.Random(3)
    for i in range(300):
        event = escalated(i)
        if i == 150:
            event = event.model_copy(update={"data": {**event.data, "reason": "boom"}})
        await raw.append(f"order-{rng.randrange(20)}", [event], None)
    everything = await raw.read_all(0, 10_000)
    batched = Projector(engine, Projection("batched", md, {"order.escalated": Batched(many)}), raw)
    per_event = Projector(engine, Projection("per_event", md_one, {"order.escalated": one}), raw)
    for projector in (batched, per_event):
        await projector.setup()
        await projector.handle(everything[:120])
        await projector.handle(everything[60:200])
        await projector.handle(everything)
    runs.clear()
    await batched.handle(everything)  # all duplicates: the handler is not even called
    assert runs == []
    a = (await dump_read_model(engine, md))["test_batched_moves"]
    b = (await dump_read_model(engine, md_one))["test_batched_moves_one"]
    assert a == b and sum(r[2] for r in a) == 299
    async with engine.connect() as conn:
        dead = (await conn.execute(select(dead_letters.c.projection, dead_letters.c.reason))).all()
    assert sorted(p for p, _ in dead) == ["batched", "per_event"] and all("handler bug" in r for _, r in dead)


async def test_batched_handler_gets_consecutive_runs(engine: AsyncEngine) -> None:
    store = store_for(engine)
    await store.append("order-1", [escalated(i) for i in range(50)], 0)
    projector = Projector(engine, Projection("batched", md, {"order.escalated": Batched(many)}), store)
    await projector.setup()
    runs.clear()
    result = await projector.handle(await store.read_all(0, 100))
    assert runs == [50] and result.applied == 50
