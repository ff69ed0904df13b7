"""Windows in dispatch's read model: the queue shows an order's window, and a visit outside
its window counts late in the compliance figures even before the due time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from libs.events import catalog
from services.dispatch import handlers
from services.dispatch.domain.windows import WindowError
from tests.quality import factory
from tests.support.app import auth

pytestmark = pytest.mark.integration


def dispatched_with_window(at: Any, starts: Any) -> Any:
    payload = catalog.OrderDispatched(
        outlet_id="outlet-wh-1", provider_id="prov-wuhan", technician_id="tech-1",
        sla_due_at=at + timedelta(hours=24), sla_hours=24,
        window_start=starts, window_end=starts + timedelta(hours=2))
    return factory.event(payload, "order.dispatched", "dispatch", at)


def arrived(at: Any) -> Any:
    return factory.event(catalog.OrderArrived(arrived_at=at, staff_count=1), "order.arrived",
                         "dispatch", at)


async def test_the_queue_shows_windows_and_a_visit_outside_its_window_is_late(sqlite_api: Any) -> None:
    api = sqlite_api
    now = api.clock()
    base = now - timedelta(hours=10)
    window_at = base + timedelta(hours=3)
    store = api.runtime.store
    await store.append("in-window", [factory.reported(base), dispatched_with_window(base, window_at),
                                     arrived(window_at + timedelta(minutes=30))], 0)
    await store.append("too-early", [factory.reported(base), dispatched_with_window(base, window_at),
                                     arrived(window_at - timedelta(minutes=30))], 0)
    await store.append("waiting", [factory.reported(base), dispatched_with_window(base, window_at)], 0)
    await api.sync()
    queue = await api.client.get("/dispatch/queues", params={"region": "武汉"},
                                 headers=auth("dispatcher"))
    assert queue.status_code == 200, queue.text
    waiting = next(o for o in queue.json()["orders"] if o["order_id"] == "waiting")
    assert (waiting["window_start"], waiting["window_end"]) == (
        window_at.isoformat().replace("+00:00", "Z"),
        (window_at + timedelta(hours=2)).isoformat().replace("+00:00", "Z"))
    figures = await api.client.get("/dispatch/compliance", params={"month": "2026-05"},
                                   headers=auth("dispatcher"))
    [region] = figures.json()["regions"]
    assert (region["arrived"], region["on_time"], region["late"]) == (2, 1, 1)


OUTLET = {
    "id": "wh-hongshan", "name": "洪山服务网点", "provider_id": "prov-wuhan",
    "areas": [{"city": "武汉", "county": "洪山"}],
    "technicians": [{"id": "tech-1", "name": "李师傅", "skills": ["空调"]}],
    "capacity_per_day": 20, "contact": "027-8888 0000",
}


async def test_the_dispatcher_books_a_window_from_the_outlets_capacity(sqlite_api: Any) -> None:
    api = sqlite_api
    base = api.clock()  # 09:00 in Beijing; 7×24 policy: windows over 08:00–20:00 China time
    created = await api.client.post("/dispatch/outlets", json=OUTLET, headers=auth("dispatcher"))
    assert created.status_code == 201, created.text
    for order_id in ("first", "second"):
        await api.runtime.store.append(order_id, [factory.reported(base - timedelta(hours=1))], 0)
    await api.sync()
    starts = (base + timedelta(hours=3)).isoformat()  # 12:00 Beijing, on the two-hour grid
    body = {"outlet_id": "wh-hongshan", "technician_id": "tech-1", "window_start": starts}
    booked = await api.client.post("/dispatch/orders/first/dispatch", json=body,
                                   headers=auth("dispatcher"))
    assert booked.status_code == 200, booked.text
    [event] = [e for e in await api.runtime.store.read_stream("first") if e.type == "order.dispatched"]
    assert event.data["window_start"] is not None and event.data["window_end"] is not None
    await api.sync()
    full = await api.client.post("/dispatch/orders/second/dispatch", json=body,
                                 headers=auth("dispatcher"))
    assert full.status_code == 422 and full.json()["errors"][0]["field"] == "window_start"
    assert "fully booked" in full.text  # one technician: one visit per window
    off_grid = {**body, "window_start": (base + timedelta(hours=3, minutes=30)).isoformat()}
    refused = await api.client.post("/dispatch/orders/second/dispatch", json=off_grid,
                                    headers=auth("dispatcher"))
    assert refused.status_code == 422 and "not a window" in refused.text


async def _dispatched_in_window(api: Any, order_id: str, hours: float) -> Any:
    """An order dispatched to wh-hongshan with the window `hours` after now (on the grid)."""
    base = api.clock()
    if (await api.client.get("/dispatch/outlets/wh-hongshan", headers=auth("dispatcher"))).status_code == 404:
        assert (await api.client.post("/dispatch/outlets", json=OUTLET, headers=auth("dispatcher"))).status_code == 201
    await api.runtime.store.append(order_id, [factory.reported(base - timedelta(hours=1))], 0)
    await api.sync()
    body = {"outlet_id": "wh-hongshan", "technician_id": "tech-1",
            "window_start": (base + timedelta(hours=hours)).isoformat()}
    booked = await api.client.post(f"/dispatch/orders/{order_id}/dispatch", json=body, headers=auth("dispatcher"))
    assert booked.status_code == 200, booked.text
    await api.sync()
    return base


async def _row(api: Any, order_id: str) -> Any:
    queue = await api.client.get("/dispatch/queues", params={"region": "武汉"}, headers=auth("dispatcher"))
    return next(o for o in queue.json()["orders"] if o["order_id"] == order_id)


async def test_a_customers_later_window_pauses_the_sla_in_the_queue(sqlite_api: Any) -> None:
    api = sqlite_api
    base = await _dispatched_in_window(api, "moving", 3)  # 12:00-14:00 Beijing
    before = await _row(api, "moving")
    await handlers.reschedule(api.runtime, "moving", base + timedelta(hours=7), "customer:status-link")
    await api.sync()
    after = await _row(api, "moving")
    view = (await api.client.get("/dispatch/orders/moving", headers=auth("dispatcher"))).json()
    assert (view["window_start"], view["reschedules"]) == (after["window_start"], 1)
    assert after["window_start"] == (base + timedelta(hours=7)).isoformat().replace("+00:00", "Z")
    assert after["reschedules"] == 1
    assert after["paused_seconds"] == before["paused_seconds"] + 4 * 3600  # old start to new start
    due = datetime.fromisoformat(before["due_at"]) + timedelta(hours=4)
    assert datetime.fromisoformat(after["due_at"]) == due
    [event] = [e for e in await api.runtime.store.read_stream("moving") if e.type == "order.rescheduled"]
    assert event.actor == "customer:status-link" and event.data["pause_reason"] == "customer_rescheduled"
    with pytest.raises(WindowError, match="not a window"):
        await handlers.reschedule(api.runtime, "moving", base + timedelta(hours=6), "customer:status-link")


async def test_on_the_way_puts_the_estimate_on_the_queue(sqlite_api: Any) -> None:
    api = sqlite_api
    base = await _dispatched_in_window(api, "coming", 3)
    eta = (base + timedelta(hours=3, minutes=30)).isoformat()
    url = "/dispatch/orders/coming/on-the-way"
    past = await api.client.post(url, json={"eta": (base - timedelta(hours=1)).isoformat()}, headers=auth("technician"))
    assert past.status_code == 422 and past.json()["errors"][0]["field"] == "eta"
    assert (await api.client.post(url, json={"eta": eta}, headers=auth("provider"))).status_code == 403
    sets_out = await api.client.post(url, json={"eta": eta}, headers=auth("technician"))
    assert sets_out.status_code == 200 and sets_out.json()["events"] == ["order.on_the_way"]
    await api.sync()
    assert (await _row(api, "coming"))["eta"] == eta.replace("+00:00", "Z")
    assert (await api.client.post("/dispatch/orders/nowhere/on-the-way", json={"eta": eta},
                                  headers=auth("technician"))).status_code == 404


async def test_a_window_that_ends_without_a_visit_is_overdue_and_a_visit_outside_it_counts(sqlite_api: Any) -> None:
    api = sqlite_api
    base = await _dispatched_in_window(api, "missed", 3)  # 12:00-14:00 Beijing, due 13:00 (capital, 4 h)
    await _dispatched_in_window(api, "kept", 5)
    api.clock.advance(hours=5.5)  # 14:30: the window of "missed" is over, "kept" runs 14:00-16:00
    overdue = (await api.client.get("/dispatch/overdue", headers=auth("dispatcher"))).json()
    flagged = {o["order_id"]: o["window_missed"] for o in overdue["orders"]}
    assert flagged["missed"] is True and flagged.get("kept") in (None, False)
    arrived_at = (base + timedelta(hours=5.5)).isoformat()
    for order_id in ("missed", "kept"):
        done = await api.client.post(f"/dispatch/orders/{order_id}/arrive", json={"arrived_at": arrived_at},
                                     headers=auth("technician"))
        assert done.status_code == 200, done.text
    await api.sync()
    [region] = (await api.client.get("/dispatch/compliance", params={"month": "2026-05"},
                                     headers=auth("dispatcher"))).json()["regions"]
    assert (region["arrived"], region["window_missed"]) == (2, 1)
