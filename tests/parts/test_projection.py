"""The parts read model is deterministic: rebuilt = live, redelivered and shuffled events
never double-count a move, and the levels computed from it agree."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events import catalog
from libs.events.catalog import Payload, ShippedLine, StockLine
from libs.events.command import type_of
from libs.events.projection import Projector, dump_read_model
from libs.events.store import store_for
from libs.events.store.port import EventStore
from libs.events.subscription import StoreTail
from services.parts.projection import PROJECTION, md, moves
from services.parts.queries import Scope, stock
from tests.parts.factory import OUTLET, repaired_order, used
from tests.support.app import START

pytestmark = pytest.mark.integration


async def _append(store: EventStore, stream: str, payloads: list[Payload], days: float = 0) -> None:
    head = await store.read_stream(stream)
    events = [catalog.new_event(p, type_=type_of(p), source="parts", actor="provider:p",
                                occurred_at=START + timedelta(days=days)) for p in payloads]
    await store.append(stream, events, head[-1].version if head else 0)


async def _history(store: EventStore) -> int:
    """A catalogue, receipts on the shelf and in a van, parts orders, repairs, counts, returns.
    Returns the number of stock moves expected."""
    for i, no in enumerate(("GR-C1", "GR-F2", "GR-B3")):
        await _append(store, f"part-gree:{no}", [
            catalog.PartCatalogued(maker="gree", part_no=no, name=no, returnable=i == 0, return_within_days=5),
            catalog.PartCostSet(maker="gree", part_no=no, cost_fen=1000 * (i + 1), effective_from=date(2026, 5, 1))])
    await _append(store, f"stock-{OUTLET}", [catalog.StockReceived(
        outlet_id=OUTLET, provider_id="prov-wuhan", maker="gree",
        lines=[StockLine(part_no="GR-C1", quantity=4), StockLine(part_no="GR-F2", quantity=2)])])
    await _append(store, f"stock-{OUTLET}", [catalog.StockReceived(
        outlet_id=OUTLET, provider_id="prov-wuhan", maker="gree", technician_id="tech-wh-01",
        lines=[StockLine(part_no="GR-C1", quantity=1)])])
    expected = 3
    for n in range(3):
        pid = f"po-{n}"
        await _append(store, f"parts-order-{pid}", [catalog.PartsOrderRequested(
            parts_order_id=pid, maker="gree", outlet_id=OUTLET, provider_id="prov-wuhan", supplier="dealer",
            lines=[StockLine(part_no="GR-B3", quantity=n + 1)], for_order_id=f"o-{n}")], n)
        if n < 2:
            await _append(store, f"parts-order-{pid}", [catalog.PartsOrderShipped(
                lines=[ShippedLine(part_no="GR-B3", quantity=n + 1, unit_cost_fen=3000)], total_fen=3000 * (n + 1))],
                n + 0.5)
        if n < 1:
            await _append(store, f"parts-order-{pid}", [catalog.PartsOrderReceived(
                lines=[StockLine(part_no="GR-B3", quantity=1)])], n + 0.7)
            expected += 1
    for n in range(6):
        parts = [used("GR-C1", 1000, serial=f"N{n}", faulty=f"F{n}")] + ([used("GR-X9", 50)] if n % 3 == 0 else [])
        await repaired_order(store, f"o-{n}", parts, START + timedelta(days=n, hours=5))
        expected += len(parts)
    await _append(store, f"stock-{OUTLET}", [catalog.StockAdjusted(
        outlet_id=OUTLET, provider_id="prov-wuhan", maker="gree", part_no="GR-F2", counted=1, delta=-1,
        reason="broken in the van")], 7)
    await _append(store, f"stock-{OUTLET}", [catalog.StockReturned(
        outlet_id=OUTLET, provider_id="prov-wuhan", maker="gree", lines=[StockLine(part_no="GR-F2", quantity=1)],
        reason="surplus")], 7.5)
    expected += 2
    for n in range(3):
        rid = f"o-{n}:F{n}"
        await _append(store, f"part-return-{rid}", [catalog.PartReturnShipped(
            return_id=rid, order_id=f"o-{n}", maker="gree", provider_id="prov-wuhan", outlet_id=OUTLET,
            part_no="GR-C1", faulty_serial=f"F{n}")], 8)
        if n == 0:
            await _append(store, f"part-return-{rid}", [catalog.PartReturnReceived(note="ok")], 9)
    return expected


async def test_rebuilt_equals_live_and_redelivered_events_never_double_count(engine: AsyncEngine) -> None:
    store = store_for(engine)
    expected = await _history(store)
    projector = Projector(engine, PROJECTION, store)
    await projector.setup()
    await StoreTail(store, projector, batch=7).catch_up()
    live = await dump_read_model(engine, md)
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(moves))).scalar_one() == expected
    levels = await stock(engine, OUTLET, Scope())
    assert levels is not None
    shelf = {i["part_no"]: i["on_hand"] for i in levels if i["location"] == "shelf"}
    # the van's one capacitor goes to the first repair, the other five come off the shelf's four
    assert shelf == {"GR-B3": 1, "GR-C1": -1, "GR-F2": 0, "GR-X9": -2}
    assert len(live["parts_returns"]) == 3 and len(live["parts_orders"]) == 3

    everything = await store.read_all(0, 10_000)
    await projector.handle(everything)
    await projector.handle(list(reversed(everything[:30])))
    shuffled = everything[:]
    random.Random(17).shuffle(shuffled)
    await projector.handle(shuffled)
    assert await dump_read_model(engine, md) == live

    await projector.rebuild(batch=5)
    assert await dump_read_model(engine, md) == live
    assert await stock(engine, OUTLET, Scope()) == levels
