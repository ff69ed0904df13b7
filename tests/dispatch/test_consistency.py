"""Exactly-once escalation under racing watchers and restarts; queue rebuild equals live."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from libs.events import catalog
from libs.events.envelope import StoredEvent
from libs.events.projection import dump_read_model
from libs.events.settings import Settings
from libs.web.runtime import Runtime
from services.dispatch.app import SERVICE
from services.dispatch.domain import EscalateBreaches, decide
from services.dispatch.handlers import load_order, offered_slots, policy_for, reschedule
from services.dispatch.jobs import escalate_order, watch_once
from services.dispatch.projection import PROJECTION
from tests.dispatch.factory import OUTLET, XIANNING, complaint, report
from tests.support.app import auth

pytestmark = pytest.mark.integration

DISPATCHER, TECH = auth("dispatcher"), auth("technician")
TO = {"outlet_id": "wh-jiangxia", "technician_id": "tech-wh-01"}


def second_process(api: Any) -> Runtime:
    """Another process's runtime on the same database (its own engine and pool)."""
    return Runtime(Settings(database_url=api.runtime.settings.database_url, services="dispatch"), [SERVICE], api.clock)


async def escalations(api: Any, order_id: str) -> list[str]:
    return [e.data["breach"] for e in await api.runtime.store.read_stream(order_id) if e.type == "order.escalated"]


async def test_two_racing_watchers_escalate_each_breach_exactly_once(api: Any) -> None:
    orders = [await report(api.runtime.store, api.clock()) for _ in range(8)]
    complained = orders[:3]
    for order in complained:
        await api.runtime.store.append(order, [complaint(api.clock())], 1)
    await api.sync()
    api.clock.advance(hours=5)
    other = second_process(api)
    try:
        counts = await asyncio.gather(*(watch_once(rt) for rt in (api.runtime, other, api.runtime, other)))
        assert sum(counts) == 11  # 8 on-site breaches + 3 unanswered complaints
        for order in orders:
            found = await escalations(api, order)
            assert found.count("on_site") == 1 and len(found) == len(set(found)) == (2 if order in complained else 1)
        restarted = second_process(api)  # a watcher that starts afresh finds nothing left to do
        try:
            await api.sync()
            assert await watch_once(restarted) == 0
            api.clock.advance(hours=1)
            assert await watch_once(restarted) == 0
        finally:
            await restarted.engine.dispose()
    finally:
        await other.engine.dispose()


async def test_of_two_watchers_deciding_on_the_same_version_only_one_appends(sqlite_api: Any) -> None:
    api = sqlite_api
    order = await report(api.runtime.store, api.clock())
    api.clock.advance(hours=5)
    state = await load_order(api.runtime.store, order)
    changes = decide(state, EscalateBreaches(api.clock()))

    async def append() -> tuple[StoredEvent, ...]:
        events = [catalog.new_event(p, type_=catalog.type_of(type(p)), source="dispatch", actor="w",
                                    occurred_at=api.clock()) for p in changes]
        return (await api.runtime.store.append(order, events, state.version)).events

    results = await asyncio.gather(*(append() for _ in range(2)), return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["ConcurrencyConflict", "tuple"]
    assert await escalate_order(api.runtime, order) == 0  # the loser re-reads and finds the breach escalated
    assert await escalations(api, order) == ["on_site"]


async def test_a_watcher_working_from_a_stale_queue_does_not_repeat_itself(sqlite_api: Any) -> None:
    api = sqlite_api
    order = await report(api.runtime.store, api.clock())
    await api.sync()
    api.clock.advance(hours=5)
    assert await watch_once(api.runtime) == 1
    assert await watch_once(api.runtime) == 0  # the queue has not seen the escalation yet; the stream has
    assert await escalations(api, order) == ["on_site"]


async def test_the_queue_rebuilt_from_events_equals_the_live_one(api: Any) -> None:
    client = api.client
    assert (await client.post("/dispatch/outlets", json=OUTLET, headers=DISPATCHER)).status_code == 201
    calendar = {"calendar": {"opens": "08:30", "closes": "17:30"}}
    assert (await client.put("/dispatch/sla-policies/gree", json=calendar, headers=auth("supervisor"))).status_code == 200
    early = await report(api.runtime.store, api.clock())  # recorded before the policy is in force
    api.clock.advance(minutes=1)
    orders = [early] + [await report(api.runtime.store, api.clock(), location=XIANNING if i % 2 else None) for i in range(5)]
    await api.runtime.store.append(orders[5], [complaint(api.clock())], 1)
    await api.sync()
    for order in orders[:4]:
        assert (await client.post(f"/dispatch/orders/{order}/dispatch", json=TO, headers=DISPATCHER)).status_code == 200
    policy = await policy_for(api.runtime.engine, await load_order(api.runtime.store, orders[4]))
    slots = await offered_slots(api.runtime.engine, "wh-jiangxia", api.clock(), policy)
    booking = {**TO, "window_start": slots[1].window.start.isoformat()}  # a window, moved later, on the way
    assert (await client.post(f"/dispatch/orders/{orders[4]}/dispatch", json=booking, headers=DISPATCHER)).status_code == 200
    await api.sync()
    await reschedule(api.runtime, orders[4], slots[3].window.start, "customer:status-link")
    eta = {"eta": (api.clock() + timedelta(hours=2)).isoformat()}
    assert (await client.post(f"/dispatch/orders/{orders[4]}/on-the-way", json=eta, headers=TECH)).status_code == 200
    api.clock.advance(hours=1)
    await client.post(f"/dispatch/orders/{orders[0]}/sla/pause", json={"reason": "parts_on_order"}, headers=TECH)
    await client.post(f"/dispatch/orders/{orders[1]}/sla/pause", json={"reason": "customer_unreachable"}, headers=TECH)
    await client.post(f"/dispatch/orders/{orders[2]}/reassign", headers=DISPATCHER,
                      json={"outlet_id": "wh-jiangxia", "technician_id": "tech-wh-02", "reason": "closer"})
    api.clock.advance(hours=16)  # past 17:30 and into Tuesday morning
    await client.post(f"/dispatch/orders/{orders[1]}/sla/resume", json={}, headers=TECH)
    await client.post(f"/dispatch/orders/{orders[3]}/arrive", json={"staff_count": 2}, headers=TECH)
    await api.sync()
    assert await watch_once(api.runtime) > 0
    await api.sync()
    live = await dump_read_model(api.runtime.engine, PROJECTION.metadata)
    assert len(live["dispatch_queue"]) == 6 and len(live["dispatch_complaints"]) == 1
    live_view = (await client.get("/dispatch/queues", params={"region": "湖北省"}, headers=DISPATCHER)).json()
    await api.runtime.projectors[PROJECTION.name].rebuild(batch=3)
    assert await dump_read_model(api.runtime.engine, PROJECTION.metadata) == live
    assert (await client.get("/dispatch/queues", params={"region": "湖北省"}, headers=DISPATCHER)).json() == live_view
