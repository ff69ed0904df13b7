"""A parts_on_order pause over HTTP: linked to its parts order, shown on the queue, resumed by the
parts watcher when the parts order is received — once, under racing watchers and restarts —
and the queue rebuilt from events equal to the live one."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from libs.events.projection import dump_read_model
from services.dispatch.jobs import resume_received_once
from services.dispatch.projection import PROJECTION
from tests.dispatch.test_api import TECH, TO, new_order, post, queue, with_outlet
from tests.dispatch.test_consistency import second_process
from tests.support.app import auth

pytestmark = pytest.mark.integration

CAPACITOR = {"maker": "gree", "part_no": "GR-C1", "name": "压缩机电容", "cost_fen": 4000,
             "effective_from": "2026-05-01"}


async def _ok(response: Any, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


async def parts_order(api: Any, for_order_id: str | None = None, maker: str = "gree") -> str:
    body = {"maker": maker, "outlet_id": "wh-jiangxia", "supplier": "dealer-wuhan",
            "lines": [{"part_no": "GR-C1", "quantity": 2}], **({"for_order_id": for_order_id} if for_order_id else {})}
    return str((await _ok(await api.client.post("/parts/orders", json=body, headers=auth("provider"))))["id"])


async def ship_and_receive(api: Any, pid: str) -> None:
    lines = [{"part_no": "GR-C1", "quantity": 2, "unit_cost_fen": 4000}]
    await _ok(await api.client.post(f"/parts/orders/{pid}/shipment", json={"lines": lines}, headers=auth("dispatcher")))
    await _ok(await api.client.post(f"/parts/orders/{pid}/receipt", json={}, headers=TECH))


async def resumes(api: Any, order: str) -> list[dict[str, Any]]:
    return [e.data for e in await api.runtime.store.read_stream(order) if e.type == "order.sla_resumed"]


async def test_the_receipt_of_the_parts_order_resumes_the_sla_once(api: Any) -> None:
    await with_outlet(api)
    await _ok(await api.client.post("/parts/catalogue", json=CAPACITOR, headers=auth("dispatcher")))
    order = await new_order(api)
    await post(api, f"{order}/dispatch", TO)
    pid = await parts_order(api, for_order_id=order)
    api.clock.advance(hours=1)
    paused = await post(api, f"{order}/sla/pause", {"reason": "parts_on_order", "parts_order_id": pid}, TECH)
    assert paused.status_code == 200, paused.text
    [item] = (await queue(api, "wh-jiangxia"))["orders"]
    assert item["sla_state"] == "paused" and item["waiting_for_parts"] == {
        "parts_order_id": pid, "lines": [{"part_no": "GR-C1", "quantity": 2}], "received_at": None}
    assert await resume_received_once(api.runtime) == 0  # not received yet: nothing to do

    api.clock.advance(hours=2)
    await ship_and_receive(api, pid)
    await api.sync()
    other = second_process(api)
    try:  # two watchers racing, and each going again: one resume
        counts = await asyncio.gather(*(resume_received_once(rt) for rt in (api.runtime, other, api.runtime, other)))
        assert sum(counts) == 1
        restarted = second_process(api)
        try:
            await api.sync()
            assert await resume_received_once(restarted) == 0
        finally:
            await restarted.engine.dispose()
    finally:
        await other.engine.dispose()
    assert await resumes(api, order) == [
        {"note": f"parts order {pid} received", "cause": "parts_received", "parts_order_id": pid}]
    view = await _ok(await api.client.get(f"/dispatch/orders/{order}", headers=TECH), 200)
    assert (view["sla_state"], view["paused_seconds"], view["due_at"]) == ("on_time", 7200, "2026-05-04T07:00:00Z")
    [item] = (await queue(api, "wh-jiangxia"))["orders"]
    assert (item["pause_reason"], item["waiting_for_parts"]) == (None, None)

    live = await dump_read_model(api.runtime.engine, PROJECTION.metadata)
    assert [r[0] for r in live["dispatch_parts_orders"]] == [pid]
    await api.runtime.projectors[PROJECTION.name].rebuild(batch=2)
    assert await dump_read_model(api.runtime.engine, PROJECTION.metadata) == live


async def test_a_manual_resume_first_leaves_the_watcher_nothing(sqlite_api: Any) -> None:
    api = sqlite_api
    await with_outlet(api)
    await _ok(await api.client.post("/parts/catalogue", json=CAPACITOR, headers=auth("dispatcher")))
    order = await new_order(api)
    await post(api, f"{order}/dispatch", TO)
    pid = await parts_order(api)
    assert (await post(api, f"{order}/sla/pause", {"reason": "parts_on_order", "parts_order_id": pid}, TECH)
            ).status_code == 200
    assert (await post(api, f"{order}/sla/resume", {}, TECH)).status_code == 200
    await ship_and_receive(api, pid)
    await api.sync()
    assert await resume_received_once(api.runtime) == 0
    assert [r["cause"] for r in await resumes(api, order)] == ["manual"]


async def test_a_bad_parts_order_link_is_a_problem_and_writes_nothing(sqlite_api: Any) -> None:
    api = sqlite_api
    await with_outlet(api)
    await _ok(await api.client.post("/parts/catalogue", json=CAPACITOR, headers=auth("dispatcher")))
    order = await new_order(api)
    await post(api, f"{order}/dispatch", TO)
    mine, elsewhere, received = await parts_order(api), await parts_order(api, for_order_id="ord-other"), \
        await parts_order(api)
    await ship_and_receive(api, received)
    version = len(await api.runtime.store.read_stream(order))
    cases = [
        ({"reason": "parts_on_order", "parts_order_id": "po-missing"}, 422, "no parts order"),
        ({"reason": "customer_unreachable", "parts_order_id": mine}, 422, "only a parts_on_order"),
        ({"reason": "parts_on_order", "parts_order_id": elsewhere}, 422, "is for order ord-other"),
        ({"reason": "parts_on_order", "parts_order_id": received}, 422, "nothing to wait for"),
        ({"reason": "parts_on_order", "parts_order_id": "bad id/"}, 422, None),
    ]
    for body, status, detail in cases:
        answer = await post(api, f"{order}/sla/pause", body, TECH)
        assert answer.status_code == status, (body, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert "parts_order_id" in answer.text
        if detail:
            assert detail in answer.json()["detail"]
    assert len(await api.runtime.store.read_stream(order)) == version


async def test_a_repair_records_the_fitted_and_the_faulty_serial(sqlite_api: Any) -> None:
    """旧件返还: the repair names the new part's serial and the removed one's, which a return must name."""
    api = sqlite_api
    await with_outlet(api)
    order = await new_order(api)
    await post(api, f"{order}/dispatch", TO)
    await post(api, f"{order}/arrive", {}, TECH)
    part = {"part_no": "GR-C1", "quantity": 1, "unit_cost_fen": 4000, "original": True}
    body = {"diagnosis": "电容损坏", "solution": "更换电容", "labour_hours": "1"}
    bad = await post(api, f"{order}/repair", {**body, "parts": [{**part, "faulty_serial": "F 1/x"}]}, TECH)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "parts.0.faulty_serial", bad.text
    done = await post(api, f"{order}/repair", {**body, "parts": [{**part, "serial": "N-1", "faulty_serial": "F-1"}]}, TECH)
    assert done.status_code == 200, done.text
    [repaired] = [e for e in await api.runtime.store.read_stream(order) if e.type == "order.repaired"]
    assert (repaired.data["parts"][0]["serial"], repaired.data["parts"][0]["faulty_serial"]) == ("N-1", "F-1")
