"""Sales leads over HTTP: a repair's opportunity becomes a routed lead, is worked to won or lost,
and counts in the conversion per outlet and technician; tenants; the rebuild equals the live model."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from libs.events import catalog
from libs.events.catalog import LeadOpened
from libs.events.projection import dump_read_model
from services.dispatch.leads import PROJECTION, open_lead, route_once
from tests.dispatch.factory import OUTLET, report
from tests.support.app import auth

pytestmark = pytest.mark.integration

DISPATCHER, TECH = auth("dispatcher"), auth("technician")


async def repaired(api: Any, technician: str, opportunity: str | None) -> str:
    order = await report(api.runtime.store, api.clock())
    await api.sync()
    base = f"/dispatch/orders/{order}"
    assert (await api.client.post(f"{base}/dispatch", headers=DISPATCHER,
                                  json={"outlet_id": "wh-jiangxia", "technician_id": technician})).status_code == 200
    assert (await api.client.post(f"{base}/arrive", json={"staff_count": 1}, headers=TECH)).status_code == 200
    body = {"diagnosis": "x", "solution": "y", "labour_hours": 1, "sales_opportunity": opportunity}
    assert (await api.client.post(f"{base}/repair", json=body, headers=TECH)).status_code == 200
    return order


async def leads_of(api: Any, **params: str) -> list[dict[str, Any]]:
    await api.sync()
    answer = await api.client.get("/dispatch/leads", params=params, headers=DISPATCHER)
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["leads"]
    return found


async def history(api: Any) -> list[str]:
    assert (await api.client.post("/dispatch/outlets", json=OUTLET, headers=DISPATCHER)).status_code == 201
    table = {"default_route": "hq-sales", "rules": [
        {"category": "accessory", "keywords": ["支架"], "route_to": "store-jiangxia", "route_kind": "store"}]}
    answer = await api.client.put("/dispatch/lead-rules/gree", json=table, headers=DISPATCHER)
    assert answer.status_code == 200 and answer.json()["version"] == 1, answer.text
    orders = [await repaired(api, "tech-wh-01", "客户有意购买空调支架"),
              await repaired(api, "tech-wh-01", "问起热水器"),
              await repaired(api, "tech-wh-02", "想要支架"),
              await repaired(api, "tech-wh-02", None),
              await repaired(api, "tech-wh-02", "   ")]
    await api.sync()
    assert await route_once(api.runtime) == 3
    await api.sync()
    assert await route_once(api.runtime) == 0  # each opportunity is opened once
    return orders


async def test_opportunities_become_routed_leads_worked_to_an_end(sqlite_api: Any) -> None:
    api = sqlite_api
    orders = await history(api)
    by_order = {lead["order_id"]: lead for lead in await leads_of(api)}
    assert set(by_order) == set(orders[:3])
    first, second = by_order[orders[0]], by_order[orders[1]]
    assert (first["category"], first["route_to"], first["route_kind"], first["status"]) == (
        "accessory", "store-jiangxia", "store", "open")
    assert (second["category"], second["route_to"]) == ("other", "hq-sales")
    assert (first["outlet_id"], first["technician_id"], first["provider_id"]) == ("wh-jiangxia", "tech-wh-01", "prov-wuhan")

    base = f"/dispatch/leads/{orders[0]}"
    assert (await api.client.post(f"{base}/contacted", json={"note": "电话"}, headers=DISPATCHER)).status_code == 200
    assert (await api.client.post(f"{base}/won", json={"amount_fen": 15_000}, headers=DISPATCHER)).status_code == 200
    final = await api.client.post(f"{base}/lost", json={"reason": "late"}, headers=DISPATCHER)
    assert final.status_code == 409
    assert (await api.client.post(f"/dispatch/leads/{orders[1]}/lost", json={"reason": "不需要"},
                                  headers=DISPATCHER)).status_code == 200
    assert (await api.client.post(f"/dispatch/leads/{orders[1]}/lost", json={"reason": ""},
                                  headers=DISPATCHER)).status_code == 422
    bad = await api.client.post(f"{base}/won", json={"amount_fen": -1}, headers=DISPATCHER)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].endswith("amount_fen")
    assert (await api.client.post(f"/dispatch/leads/{orders[3]}/contacted", json={}, headers=DISPATCHER)).status_code == 404
    assert (await api.client.post(f"{base}/contacted", json={}, headers=TECH)).status_code == 403

    await api.sync()
    one = (await api.client.get(base, headers=DISPATCHER)).json()
    assert (one["status"], one["contacts"], one["amount_fen"]) == ("won", 1, 15_000)
    numbers = (await api.client.get("/dispatch/leads/conversion", headers=DISPATCHER)).json()
    [outlet] = numbers["outlets"]
    assert (outlet["outlet_id"], outlet["leads"], outlet["won"], outlet["lost"], outlet["open"]) == ("wh-jiangxia", 3, 1, 1, 1)
    assert outlet["conversion"] == 0.3333 and outlet["won_fen"] == 15_000
    techs = {t["technician_id"]: (t["leads"], t["won"], t["conversion"]) for t in numbers["technicians"]}
    assert techs == {"tech-wh-01": (2, 1, 0.5), "tech-wh-02": (1, 0, 0.0)}
    month = (await api.client.get("/dispatch/leads/conversion", params={"month": "2026-04"}, headers=DISPATCHER)).json()
    assert month["outlets"] == []
    assert [x["order_id"] for x in await leads_of(api, status="won")] == [orders[0]]
    provider = (await api.client.get("/dispatch/leads", headers=auth("provider"))).json()["leads"]
    assert len(provider) == 3


async def test_another_makers_lead_is_not_found(sqlite_api: Any) -> None:
    api = sqlite_api
    lead = LeadOpened(order_id="ord-other-1", maker="midea", outlet_id="o", provider_id="prov-other", technician_id="t",
                      category="other", route_to="x", route_kind="department", text="想买", noted_at=api.clock())
    await api.runtime.store.append("lead-ord-other-1", [catalog.new_event(
        lead, type_="lead.opened", source="dispatch", actor="system:lead-router", occurred_at=api.clock())], 0)
    assert await leads_of(api) == []
    assert (await api.client.get("/dispatch/leads/ord-other-1", headers=DISPATCHER)).status_code == 404
    answer = await api.client.post("/dispatch/leads/ord-other-1/contacted", json={}, headers=DISPATCHER)
    assert answer.status_code == 404 and "midea" not in answer.text
    assert (await api.client.get("/dispatch/leads/conversion", headers=DISPATCHER)).json()["outlets"] == []
    assert len((await api.client.get("/dispatch/leads", headers=auth("operator"))).json()["leads"]) == 1


async def test_rules_are_validated_and_scoped_to_the_makers_desk(sqlite_api: Any) -> None:
    api = sqlite_api
    default = (await api.client.get("/dispatch/lead-rules/gree", headers=DISPATCHER)).json()
    assert default["version"] == 0 and default["default_route"] == "customer-management"
    repeated = {"default_route": "x", "rules": [{"category": "a", "keywords": ["k"], "route_to": "s"}] * 2}
    answer = await api.client.put("/dispatch/lead-rules/gree", json=repeated, headers=DISPATCHER)
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "rules[1].category"
    empty = {"default_route": "x", "rules": [{"category": "a", "keywords": [], "route_to": "s"}]}
    assert (await api.client.put("/dispatch/lead-rules/gree", json=empty, headers=DISPATCHER)).status_code == 422
    assert (await api.client.put("/dispatch/lead-rules/midea", json={"default_route": "x", "rules": []},
                                 headers=DISPATCHER)).status_code == 404
    assert (await api.client.get("/dispatch/lead-rules/midea", headers=DISPATCHER)).status_code == 404
    assert (await api.client.get("/dispatch/leads/ord-nobody", headers=DISPATCHER)).status_code == 404


async def test_the_leads_rebuilt_from_events_equal_the_live_ones(api: Any) -> None:
    orders = await history(api)
    await api.client.post(f"/dispatch/leads/{orders[0]}/contacted", json={}, headers=DISPATCHER)
    await api.client.post(f"/dispatch/leads/{orders[0]}/contacted", json={"note": "2"}, headers=DISPATCHER)
    await api.client.post(f"/dispatch/leads/{orders[2]}/won", json={}, headers=DISPATCHER)
    await api.sync()
    live = await dump_read_model(api.runtime.engine, PROJECTION.metadata)
    assert len(live["dispatch_leads"]) == 3 and len(live["dispatch_lead_candidates"]) == 3
    view = (await api.client.get("/dispatch/leads/conversion", headers=DISPATCHER)).json()
    await api.runtime.projectors[PROJECTION.name].rebuild(batch=2)
    assert await dump_read_model(api.runtime.engine, PROJECTION.metadata) == live
    assert (await api.client.get("/dispatch/leads/conversion", headers=DISPATCHER)).json() == view


async def test_racing_routers_open_one_lead(sqlite_api: Any) -> None:
    api = sqlite_api
    assert (await api.client.post("/dispatch/outlets", json=OUTLET, headers=DISPATCHER)).status_code == 201
    order = await repaired(api, "tech-wh-01", "想买新机")
    opened = await asyncio.gather(*(open_lead(api.runtime, order) for _ in range(4)))
    assert sorted(opened) == [0, 0, 0, 1]
    stream = await api.runtime.store.read_stream(f"lead-{order}")
    assert [e.type for e in stream] == ["lead.opened"] and stream[0].data["category"] == "replacement"
    assert await open_lead(api.runtime, "ord-never-reported") == 0
