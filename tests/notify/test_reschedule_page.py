"""The customer's appointment on the status page: book or move the window into one with room,
within the policy (how often, how late), a later window pausing the SLA; the technician's
"on the way" with its estimate shown on the page and sent to the customer."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.notify.test_status_api import OUTLET, path, reported, states
from tests.support.app import auth

pytestmark = pytest.mark.integration

OFFERED = re.compile(r"name='window_start' value='([^']+)'")


async def dispatched(api: Any, hours: float | None) -> tuple[str, str]:
    """A reported order dispatched to the outlet (with the window `hours` from now, if any)."""
    order_id, link = await reported(api)
    assert (await api.client.post("/dispatch/outlets", json=OUTLET,
                                  headers=auth("dispatcher"))).status_code == 201
    await api.sync()
    body: dict[str, Any] = {"outlet_id": OUTLET["id"], "technician_id": "tech-1"}
    if hours is not None:
        body["window_start"] = (api.clock() + timedelta(hours=hours)).isoformat()
    answer = await api.client.post(f"/dispatch/orders/{order_id}/dispatch", json=body,
                                   headers=auth("dispatcher"))
    assert answer.status_code == 200, answer.text
    await api.sync()
    return order_id, path(link)


async def test_the_customer_moves_the_window_twice_at_most(sqlite_api: Any) -> None:
    api = sqlite_api
    order_id, page_path = await dispatched(api, 3)  # 12:00-14:00 Beijing
    page = (await api.client.get(page_path)).text
    assert "预约时段</dt><dd>05月04日 12:00–14:00</dd>" in page and "改约上门时间" in page
    offered = OFFERED.findall(page)
    booked = (api.clock() + timedelta(hours=3)).isoformat()
    assert offered and booked not in offered  # the window already booked is not offered again
    bad = await api.client.post(f"{page_path}/reschedule", data={"window_start": "tomorrow"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "window_start"
    later = next(o for o in offered if datetime.fromisoformat(o) > datetime.fromisoformat(booked))
    moved = await api.client.post(f"{page_path}/reschedule", data={"window_start": later})
    assert moved.status_code == 303 and moved.headers["location"].endswith("?moved=1")
    [event] = [e for e in await api.runtime.store.read_stream(order_id)
               if e.type == "order.rescheduled"]
    assert event.actor == "customer:status-link"
    assert event.data["pause_reason"] == "customer_rescheduled"
    confirmed = (await api.client.get(moved.headers["location"])).text
    assert "已为您改约" in confirmed
    start = datetime.fromisoformat(later).astimezone(datetime.fromisoformat(booked).tzinfo)
    assert f"{(start + timedelta(hours=8)):%H:%M}" in confirmed  # the new window, China time
    again = OFFERED.findall(confirmed)
    assert later not in again
    second = await api.client.post(f"{page_path}/reschedule", data={"window_start": again[-1]})
    assert second.status_code == 303
    await api.sync()
    last = (await api.client.get(page_path)).text
    assert "name='window_start'" not in last  # two moves: the policy allows no third
    third = await api.client.post(f"{page_path}/reschedule", data={"window_start": again[0]})
    assert third.status_code == 422 and "at most 2 times" in third.text


async def test_a_customer_books_a_window_the_dispatcher_left_open(sqlite_api: Any) -> None:
    api = sqlite_api
    order_id, page_path = await dispatched(api, None)
    page = (await api.client.get(page_path)).text
    assert "预约上门时间" in page and "预约时段" not in page
    first = OFFERED.findall(page)[0]
    booked = await api.client.post(f"{page_path}/reschedule", data={"window_start": first})
    assert booked.status_code == 303
    [event] = [e for e in await api.runtime.store.read_stream(order_id)
               if e.type == "order.rescheduled"]
    assert event.data["previous_start"] is None and event.data["pause_reason"] is None
    assert "预约时段" in (await api.client.get(page_path)).text


async def test_on_the_way_shows_the_estimate_and_tells_the_customer(sqlite_api: Any) -> None:
    api = sqlite_api
    order_id, page_path = await dispatched(api, 3)
    eta = api.clock() + timedelta(hours=3, minutes=20)  # 12:20 Beijing
    sets_out = await api.client.post(f"/dispatch/orders/{order_id}/on-the-way",
                                     json={"eta": eta.isoformat()}, headers=auth("technician"))
    assert sets_out.status_code == 200, sets_out.text
    await api.sync()
    page = (await api.client.get(page_path)).text
    assert "师傅已出发" in page and "预计05月04日 12:20到达" in page
    for _ in range(100):  # the dispatcher job sends it; on_the_way is urgent (no quiet hours)
        found = await states(api, order_id)
        if found.get("on_the_way") == "delivered":
            break
        await asyncio.sleep(0.05)
    assert found.get("on_the_way") == "delivered"
    arrived = await api.client.post(f"/dispatch/orders/{order_id}/arrive", json={},
                                    headers=auth("technician"))
    assert arrived.status_code == 200
    await api.sync()
    visited = (await api.client.get(page_path)).text
    assert "name='window_start'" not in visited and "师傅已出发" not in visited
    late = await api.client.post(f"{page_path}/reschedule",
                                 data={"window_start": (eta + timedelta(hours=4)).isoformat()})
    assert late.status_code == 409  # visited: nothing to move


async def test_the_read_model_rebuilt_after_moves_and_estimates_is_identical(sqlite_api: Any) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    from libs.events.projection import Projector, dump_read_model
    from libs.events.store import store_for
    from services.notify.projection import PROJECTION

    api = sqlite_api
    order_id, page_path = await dispatched(api, 3)
    later = OFFERED.findall((await api.client.get(page_path)).text)[-1]
    assert (await api.client.post(f"{page_path}/reschedule", data={"window_start": later})).status_code == 303
    eta = (api.clock() + timedelta(hours=2)).isoformat()
    assert (await api.client.post(f"/dispatch/orders/{order_id}/on-the-way", json={"eta": eta},
                                  headers=auth("technician"))).status_code == 200
    await api.sync()
    live = await dump_read_model(api.runtime.engine, PROJECTION.metadata)
    columns = [c.name for c in PROJECTION.metadata.tables["notify_orders"].columns]
    [row] = [dict(zip(columns, r, strict=True)) for r in live["notify_orders"] if r[0] == order_id]
    assert row["eta"] is not None and row["window_start"] == datetime.fromisoformat(later)
    bare = create_async_engine(api.runtime.engine.url)
    try:
        await Projector(bare, PROJECTION, store_for(bare)).rebuild()
        assert await dump_read_model(bare, PROJECTION.metadata) == live
    finally:
        await bare.dispose()
