"""The dispatch API over HTTP: outlets, commands, queues, SLA states as the clock moves."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from libs.web.auth import create_principal
from tests.dispatch.factory import OUTLET, XIANNING, complaint, report
from tests.support.app import auth

pytestmark = pytest.mark.integration

DISPATCHER, TECH = auth("dispatcher"), auth("technician")
TO = {"outlet_id": "wh-jiangxia", "technician_id": "tech-wh-01"}


async def with_outlet(api: Any) -> None:
    response = await api.client.post("/dispatch/outlets", json=OUTLET, headers=DISPATCHER)
    assert response.status_code == 201, response.text


async def new_order(api: Any, **kwargs: Any) -> str:
    order_id = await report(api.runtime.store, api.clock(), **kwargs)
    await api.sync()
    return order_id


async def post(api: Any, path: str, body: dict[str, Any], headers: dict[str, str] = DISPATCHER) -> Any:
    return await api.client.post(f"/dispatch/orders/{path}", json=body, headers=headers)


async def queue(api: Any, outlet: str | None = None, region: str = "武汉市") -> dict[str, Any]:
    await api.sync()
    if outlet:
        response = await api.client.get(f"/dispatch/queues/{outlet}", headers=DISPATCHER)
    else:
        response = await api.client.get("/dispatch/queues", params={"region": region}, headers=DISPATCHER)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_an_order_goes_through_dispatch_pause_arrival_and_repair(api: Any) -> None:
    await with_outlet(api)
    order = await new_order(api)
    [waiting] = (await queue(api))["orders"]
    assert (waiting["order_id"], waiting["status"], waiting["sla_state"]) == (order, "reported", "on_time")
    route = (await api.client.get(f"/dispatch/orders/{order}/route", headers=DISPATCHER)).json()
    assert route["best"]["outlet_id"] == "wh-jiangxia" and route["best"]["match"] == "county"

    assert (await post(api, f"{order}/dispatch", TO)).json()["events"] == ["order.dispatched"]
    api.clock.advance(hours=1)
    assert (await post(api, f"{order}/sla/pause", {"reason": "customer_rescheduled"}, TECH)).status_code == 200
    api.clock.advance(hours=2)
    [paused] = (await queue(api, "wh-jiangxia"))["orders"]
    assert (paused["sla_state"], paused["paused_seconds"], paused["time_left_seconds"]) == ("paused", 7200, 3 * 3600)
    assert (await post(api, f"{order}/sla/resume", {}, TECH)).status_code == 200
    view = (await api.client.get(f"/dispatch/orders/{order}", headers=TECH)).json()
    assert (view["status"], view["technician_id"], view["paused_seconds"], view["due_at"]) == (
        "dispatched", "tech-wh-01", 7200, "2026-05-04T07:00:00Z")  # four hours plus two paused
    assert [(p["started_at"], p["ended_at"]) for p in view["pauses"]] == [("2026-05-04T02:00:00Z", "2026-05-04T04:00:00Z")]
    api.clock.advance(hours=2.5)
    body = await queue(api, "wh-jiangxia")
    [at_risk] = body["orders"]
    assert (at_risk["sla_state"], at_risk["time_left_seconds"]) == ("at_risk", 1800)
    assert body["load"] == [{"outlet_id": "wh-jiangxia", "open_orders": 1,
                             "technicians": [{"technician_id": "tech-wh-01", "open_orders": 1}]}]

    assert (await post(api, f"{order}/arrive", {"staff_count": 2}, TECH)).status_code == 200
    repair = {"diagnosis": "缺氟", "solution": "补氟", "labour_hours": "1.5", "sales_opportunity": "空调支架",
              "parts": [{"part_no": "GR-R32", "quantity": 1, "unit_cost_fen": 4500, "original": True}]}
    assert (await post(api, f"{order}/repair", repair, TECH)).json()["events"] == ["order.repaired"]
    final = await queue(api, "wh-jiangxia")
    assert final["orders"] == [] and final["load"] == []


async def test_commands_in_the_wrong_state_are_refused_with_a_problem(sqlite_api: Any) -> None:
    api = sqlite_api
    await with_outlet(api)
    order = await new_order(api)
    await post(api, f"{order}/dispatch", TO)
    again = await post(api, f"{order}/dispatch", TO)
    assert again.status_code == 409 and again.headers["content-type"].startswith("application/problem+json")
    assert "use reassign" in again.json()["detail"]
    early = await post(api, f"{order}/repair", {"diagnosis": "x", "solution": "y", "labour_hours": 1}, TECH)
    assert early.status_code == 409 and "after arrival" in early.json()["detail"]
    assert (await post(api, f"{order}/sla/resume", {}, TECH)).status_code == 409
    assert (await post(api, "ord-missing/dispatch", TO)).status_code == 404


async def test_bad_input_names_the_field_and_writes_nothing(sqlite_api: Any) -> None:
    api = sqlite_api
    await with_outlet(api)
    order = await new_order(api)
    cases = [
        ({"outlet_id": "nowhere", "technician_id": "tech-wh-01"}, "outlet_id"),
        ({"outlet_id": "wh-jiangxia", "technician_id": "nobody"}, "technician_id"),
    ]
    for body, field in cases:
        response = await post(api, f"{order}/dispatch", body)
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == field
    washer = await new_order(api, category="refrigerator")
    unskilled = await post(api, f"{washer}/dispatch", TO)
    assert unskilled.status_code == 422 and "not skilled" in unskilled.json()["detail"]
    await post(api, f"{order}/dispatch", TO)
    future = (api.clock() + timedelta(hours=1)).isoformat()
    response = await post(api, f"{order}/arrive", {"arrived_at": future}, TECH)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "arrived_at"
    response = await post(api, f"{order}/arrive", {"staff_count": 0}, TECH)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "staff_count"
    assert await api.runtime.store.stream_version(order) == 2


async def test_who_may_do_what(sqlite_api: Any) -> None:
    api = sqlite_api
    await with_outlet(api)
    order = await new_order(api)
    assert (await post(api, f"{order}/dispatch", TO, TECH)).status_code == 403
    assert (await post(api, f"{order}/arrive", {}, TECH)).status_code == 404  # not dispatched to its provider yet
    midea = await new_order(api, maker="midea")
    assert (await post(api, f"{midea}/dispatch", TO)).status_code == 404  # the desk acts for gree
    await post(api, f"{order}/dispatch", TO)
    await create_principal(api.runtime.engine, api.clock, id="tech-x", role="technician", name="x",
                           party="prov-other", key="other-tech-key")
    other = {"Authorization": "Bearer other-tech-key"}
    assert (await post(api, f"{order}/arrive", {}, other)).status_code == 404  # another tenant's: unknown
    assert (await api.client.get("/dispatch/queues/wh-jiangxia", headers=other)).status_code == 404
    assert (await api.client.get(f"/dispatch/orders/{order}", headers=other)).status_code == 404
    assert (await api.client.get(f"/dispatch/orders/{order}", headers=TECH)).status_code == 200
    assert (await api.client.get("/dispatch/overdue", headers=auth("partner"))).status_code == 403
    assert (await api.client.post("/dispatch/outlets", json=OUTLET, headers=TECH)).status_code == 403


async def test_outlet_registry_keeps_versions(sqlite_api: Any) -> None:
    client = sqlite_api.client
    await with_outlet(sqlite_api)
    assert (await client.post("/dispatch/outlets", json=OUTLET, headers=DISPATCHER)).status_code == 409
    changed = {**OUTLET, "capacity_per_day": 30, "version": 1}
    updated = await client.put("/dispatch/outlets/wh-jiangxia", json=changed, headers=DISPATCHER)
    assert updated.status_code == 200 and updated.json()["version"] == 2
    stale = await client.put("/dispatch/outlets/wh-jiangxia", json=changed, headers=DISPATCHER)
    assert stale.status_code == 409
    assert (await client.get("/dispatch/outlets/wh-jiangxia", headers=TECH)).json()["capacity_per_day"] == 30
    assert (await client.get("/dispatch/outlets/nope", headers=TECH)).status_code == 404
    bad = await client.post("/dispatch/outlets", json={**OUTLET, "id": "x", "capacity_per_day": 0}, headers=DISPATCHER)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "capacity_per_day"
    twins = {**OUTLET, "id": "y", "technicians": [OUTLET["technicians"][0]] * 2}  # type: ignore[index]
    assert (await client.post("/dispatch/outlets", json=twins, headers=DISPATCHER)).status_code == 422
    racing = await asyncio.gather(*(client.post("/dispatch/outlets", json={**OUTLET, "id": "z"}, headers=DISPATCHER)
                                    for _ in range(2)))
    assert sorted(r.status_code for r in racing) == [201, 409]


async def test_sla_state_follows_the_clock_and_a_breach_escalates_once(api: Any) -> None:
    from services.dispatch.jobs import watch_once

    await with_outlet(api)
    capital, elsewhere = await new_order(api), await new_order(api, location={**XIANNING, "city": "武汉市"})
    states = {o["order_id"]: o["sla_state"] for o in (await queue(api))["orders"]}
    assert states == {capital: "on_time", elsewhere: "on_time"}
    api.clock.advance(hours=3.5)
    states = {o["order_id"]: o["sla_state"] for o in (await queue(api))["orders"]}
    assert states == {capital: "at_risk", elsewhere: "on_time"}
    api.clock.advance(hours=1)
    overdue = (await api.client.get("/dispatch/overdue", headers=DISPATCHER)).json()
    assert [o["order_id"] for o in overdue["orders"]] == [capital]
    assert overdue["orders"][0]["time_left_seconds"] == -1800
    assert await watch_once(api.runtime) == 1
    await api.sync()
    assert await watch_once(api.runtime) == 0
    [row] = [o for o in (await queue(api))["orders"] if o["order_id"] == capital]
    assert (row["escalated"], row["tier"]) == (True, "regional")
    escalations = [e for e in await api.runtime.store.read_stream(capital) if e.type == "order.escalated"]
    assert [(e.data["trigger"], e.data["breach"], e.source) for e in escalations] == [("sla_breach", "on_site", "dispatch")]


async def test_an_offline_arrival_is_measured_when_it_happened(sqlite_api: Any) -> None:
    api = sqlite_api
    await with_outlet(api)
    order = await new_order(api)
    await post(api, f"{order}/dispatch", TO)
    arrived = (api.clock() + timedelta(hours=3, minutes=50)).isoformat()
    api.clock.advance(hours=6)  # the technician's phone synced two hours after the deadline
    assert (await post(api, f"{order}/arrive", {"arrived_at": arrived}, TECH)).status_code == 200
    [event] = (await api.runtime.store.read_stream(order))[-1:]
    assert event.occurred_at.isoformat() == arrived.replace("+00:00", "+00:00") and event.recorded_at == api.clock()
    await api.sync()
    overdue = (await api.client.get("/dispatch/overdue", headers=DISPATCHER)).json()
    assert overdue["orders"] == []
    from services.dispatch.jobs import watch_once

    assert await watch_once(api.runtime) == 0


async def test_a_makers_business_calendar_sets_the_deadline(sqlite_api: Any) -> None:
    api = sqlite_api
    before = await new_order(api)
    policy = {"on_site_capital_hours": 4, "calendar": {"opens": "08:30", "closes": "17:30"}}
    assert (await api.client.put("/dispatch/sla-policies/midea", json=policy,
                                 headers=auth("supervisor"))).status_code == 404  # not its maker
    bad = await api.client.put("/dispatch/sla-policies/gree", json={"calendar": {"tz": "Nowhere/City"}},
                               headers=auth("supervisor"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "calendar"
    api.clock.advance(hours=6)  # 15:00 in Beijing
    response = await api.client.put("/dispatch/sla-policies/gree", json=policy, headers=auth("supervisor"))
    assert response.status_code == 200 and response.json()["version"] == 1
    assert response.json()["effective_from"] == "2026-05-04T07:01:00Z"  # announced a minute ahead
    early = await new_order(api)
    api.clock.advance(minutes=1)
    after = await new_order(api)
    due = {o["order_id"]: o["due_at"] for o in (await queue(api))["orders"]}
    assert due[before] == "2026-05-04T05:00:00Z"  # recorded under the default: 4 h of wall time
    assert due[early] == "2026-05-04T11:00:00Z"  # still the default
    assert due[after] == "2026-05-05T02:01:00Z"  # 2.5 h less a minute on Monday + the rest from 08:30 Tuesday
    current = (await api.client.get("/dispatch/sla-policies/gree", headers=DISPATCHER)).json()
    assert current["version"] == 1 and current["calendar"]["closes"] == "17:30:00"


async def test_a_complaint_must_be_answered_within_the_hour(sqlite_api: Any) -> None:
    from services.dispatch.jobs import watch_once

    api = sqlite_api
    await with_outlet(api)
    answered, ignored = await new_order(api), await new_order(api)
    for order in (answered, ignored):
        await api.runtime.store.append(order, [complaint(api.clock())], 1)
    await api.sync()
    cid = (await api.runtime.store.read_stream(answered))[1].data["complaint_id"]
    api.clock.advance(minutes=40)
    reply = await post(api, f"{answered}/complaints/{cid}/respond", {"response": "师傅下午两点到"})
    assert reply.status_code == 200
    assert (await post(api, f"{answered}/complaints/{cid}/respond", {"response": "again"})).status_code == 409
    api.clock.advance(minutes=30)
    await api.sync()
    overdue = (await api.client.get("/dispatch/overdue", headers=DISPATCHER)).json()
    assert [c["order_id"] for c in overdue["complaints"]] == [ignored]
    assert await watch_once(api.runtime) == 1
    [event] = [e for e in await api.runtime.store.read_stream(ignored) if e.type == "order.escalated"]
    assert event.data["breach"].startswith("complaint:")


async def test_sla_compliance_per_region_counts_arrivals_of_the_month(api: Any) -> None:
    await with_outlet(api)
    on_time, late, elsewhere = await new_order(api), await new_order(api), await new_order(api, location=XIANNING)
    for order in (on_time, late):
        assert (await post(api, f"{order}/dispatch", TO)).status_code == 200
    api.clock.advance(hours=1)
    assert (await post(api, f"{on_time}/arrive", {"staff_count": 1}, TECH)).status_code == 200
    api.clock.advance(hours=5)  # past the 4-hour deadline of the provincial capital
    assert (await post(api, f"{late}/arrive", {"staff_count": 1}, TECH)).status_code == 200
    await api.sync()
    body = (await api.client.get("/dispatch/compliance", params={"month": "2026-05"}, headers=DISPATCHER)).json()
    assert body == {"month": "2026-05", "regions": [
        {"province": "湖北省", "arrived": 2, "on_time": 1, "late": 1, "window_missed": 0,
         "on_time_percent": "50.0"}]}
    assert elsewhere  # reported but not arrived: not counted yet
    april = (await api.client.get("/dispatch/compliance", params={"month": "2026-04"}, headers=DISPATCHER)).json()
    assert april["regions"] == []
    bad = await api.client.get("/dispatch/compliance", params={"month": "2026-13"}, headers=DISPATCHER)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "month"


async def test_a_dispatch_entered_late_carries_its_own_time_beside_the_recorded_one(sqlite_api: Any) -> None:
    """Issue 15 item 7: `occurred_at` on a dispatch, inside the late-entry window, not before the report."""
    api = sqlite_api
    await with_outlet(api)
    order = await new_order(api)
    api.clock.advance(hours=3)
    too_early = await post(api, f"{order}/dispatch", {**TO, "occurred_at": (api.clock() - timedelta(hours=4)).isoformat()})
    assert too_early.status_code == 422 and too_early.json()["errors"][0]["field"] == "occurred_at"
    ahead = await post(api, f"{order}/dispatch", {**TO, "occurred_at": (api.clock() + timedelta(minutes=1)).isoformat()})
    assert ahead.status_code == 422 and ahead.json()["errors"][0]["field"] == "occurred_at"
    slip = api.clock() - timedelta(hours=2)
    done = await post(api, f"{order}/dispatch", {**TO, "occurred_at": slip.isoformat()})
    assert done.status_code == 200, done.text
    event = (await api.runtime.store.read_stream(order))[-1]
    assert (event.type, event.occurred_at, event.recorded_at) == ("order.dispatched", slip, api.clock())
