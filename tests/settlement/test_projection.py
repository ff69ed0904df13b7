"""The settlement read model is deterministic: rebuilt = live, duplicates never double-book."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from uuid import uuid4

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.servers import Broker
from libs.events import catalog
from libs.events.command import fold
from libs.events.envelope import NewEvent
from libs.events.projection import Projector, dump_read_model
from libs.events.relay import KafkaPublisher, Relay
from libs.events.store import store_for
from libs.events.store.port import EventStore
from libs.events.subscription import KafkaFeed, StoreTail
from services.settlement.domain import DECIDER, ApproveSettlement, Command, CorrectSettlement, ReverseSettlement, decide
from services.settlement.domain.review import LineReview
from services.settlement.projection import PROJECTION, ledger, md, settlements
from tests.settlement.factory import T0, part, repaired_order, standard

pytestmark = pytest.mark.integration


async def _command(store: EventStore, order_id: str, command: Command) -> int:
    events = await store.read_stream(order_id)
    state = fold(DECIDER, order_id, events)
    decided = decide(state, command)
    new = [catalog.new_event(p, type_=catalog.type_of(type(p)), source="settlement", actor="finance:f",
                             occurred_at=T0 + timedelta(days=len(events))) for p in decided]
    await store.append(order_id, new, state.version)
    return len(new)


async def _history(store: EventStore, orders: int = 12) -> int:
    """Orders repaired, settled, some corrected, some reversed; returns the ledger entries expected."""
    fee, entries = standard(), 0
    for i in range(orders):
        await repaired_order(store, f"o-{i}", serial=f"SN-{i % 4}", at=T0 + timedelta(days=i * 3),
                             parts=[part("P-100", 4000 + 300 * i)], in_warranty=i % 5 != 0)
    for i in range(orders):
        entries += await _command(store, f"o-{i}", ApproveSettlement(uuid4(), fee))
        if i % 3 == 0:
            entries += await _command(store, f"o-{i}", CorrectSettlement(uuid4(), "distance", fee, distance_km=i))
        if i % 4 == 1:
            entries += await _command(store, f"o-{i}", ReverseSettlement("duplicate form"))
    return entries


async def _entries(engine: AsyncEngine) -> tuple[int, int]:
    async with engine.connect() as conn:
        row = (await conn.execute(select(func.count(), func.coalesce(func.sum(ledger.c.amount_fen), 0)))).one()
    return int(row[0]), int(row[1])


async def test_rebuilt_equals_live_and_redelivered_events_never_double_book(engine: AsyncEngine) -> None:
    store = store_for(engine)
    expected = await _history(store)
    projector = Projector(engine, PROJECTION, store)
    await projector.setup()
    await StoreTail(store, projector, batch=7).catch_up()
    live = await dump_read_model(engine, md)
    count, net = await _entries(engine)
    assert count == expected and len(live["settlement_settlements"]) == 12 + 4  # 4 corrections

    everything = await store.read_all(0, 10_000)
    await projector.handle(everything)
    await projector.handle(list(reversed(everything[:40])))
    shuffled = everything[:]
    random.Random(5).shuffle(shuffled)
    await projector.handle(shuffled)
    assert await dump_read_model(engine, md) == live and await _entries(engine) == (count, net)

    await projector.rebuild(batch=11)
    assert await dump_read_model(engine, md) == live


async def test_the_kafka_path_with_every_message_twice_gives_the_same_ledger(postgres: AsyncEngine, broker: Broker) -> None:
    store = store_for(postgres)
    expected = await _history(store, orders=8)
    topic = f"settlement-{random.randrange(10**9)}"
    for name in ("relay", "relay-replay"):  # the second relay republishes everything: duplicates on the topic
        relay = Relay(store, postgres, KafkaPublisher(broker.bootstrap, topic, partitions=3), name=f"{name}:{topic}")
        await relay.publisher.start()
        while await relay.run_once():
            pass
        await relay.publisher.stop()

    projector = Projector(postgres, PROJECTION, store)
    await projector.setup()
    feed = KafkaFeed(broker.bootstrap, topic, projector, group_id=f"g-{topic}", reconcile_every=3600)
    total = 2 * len(await store.read_all(0, 10_000))
    stop = asyncio.Event()
    running = asyncio.create_task(feed.run(stop))
    for _ in range(300):
        if feed.consumed >= total:
            break
        await asyncio.sleep(0.1)
    stop.set()
    await running
    assert feed.consumed == total
    from_kafka = await dump_read_model(postgres, md)
    assert (await _entries(postgres))[0] == expected
    await projector.rebuild()
    assert await dump_read_model(postgres, md) == from_kafka


async def test_old_v1_settlements_and_line_decisions_rebuild_identically(engine: AsyncEngine) -> None:
    """A v1 order.settled (lines without decisions, as written before v2) applies through the upcast;
    v2 settlements with finance's line decisions and a rule-rejected part rebuild to the same rows."""
    store = store_for(engine)
    await repaired_order(store, "old", parts=[part("P-100", 4000)])
    line = {"kind": "travel", "description": "door fee", "quantity": "1", "unit_fen": 4000, "amount_fen": 4000}
    v1 = NewEvent(type="order.settled", schema_version=1, source="settlement", actor="finance:old", occurred_at=T0,
                  data={"settlement_id": str(uuid4()), "provider_id": "prov-wuhan", "maker": "gree", "payer": "maker",
                        "standard_id": "gree:prov-wuhan:v1", "lines": [line], "total_fen": 4000})
    await store.append("old", [v1], 4)
    await repaired_order(store, "new", serial="SN-2", parts=[part("P-100", 4000), part("P-200", 9000, original=False)])
    decisions = (LineReview(1, "reduced", "norm", 5000), LineReview(0, "rejected", "dup"))
    await _command(store, "new", ApproveSettlement(uuid4(), standard(), lines=decisions, decided_by="finance:f"))
    await _command(store, "new", CorrectSettlement(uuid4(), "override", standard(), decided_by="finance:f",
                                                   lines=(LineReview(3, "approved", "maker agreed"),)))
    projector = Projector(engine, PROJECTION, store)
    await projector.setup()
    await StoreTail(store, projector, batch=3).catch_up()
    live = await dump_read_model(engine, md)
    async with engine.connect() as conn:
        current = (await conn.execute(select(settlements).where(settlements.c.reversed_at.is_(None)))).mappings()
        by_order = {r["order_id"]: dict(r) for r in current}
    [old_line] = by_order["old"]["lines"]
    assert (old_line["claimed_fen"], old_line["decision"], old_line["decided_by"]) == (4000, "approved", "finance:old")
    assert [x["amount_fen"] for x in by_order["new"]["lines"]] == [4000, 9000, 4000, 9000]
    assert by_order["new"]["claimed_fen"] == 4000 + 9000 + 4000 + 9000
    await projector.rebuild(batch=2)
    assert await dump_read_model(engine, md) == live
