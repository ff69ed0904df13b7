"""Certified technicians over HTTP: certify, dispatch refuses the uncertified and the expired
under `certified_only`, routing suggests only certified ones, tenants, and the rebuild."""

from __future__ import annotations

from typing import Any

import pytest

from libs.events.projection import dump_read_model
from services.dispatch.certifications import PROJECTION
from tests.dispatch.factory import OUTLET, report
from tests.support.app import auth

pytestmark = pytest.mark.integration

DISPATCHER, SUPERVISOR = auth("dispatcher"), auth("supervisor")
CERTS = "/dispatch/outlets/wh-jiangxia/technicians/{}/certifications"


async def setup(api: Any, *, certified_only: bool = True) -> None:
    assert (await api.client.post("/dispatch/outlets", json=OUTLET, headers=DISPATCHER)).status_code == 201
    policy = {"certified_only": certified_only}
    answer = await api.client.put("/dispatch/sla-policies/gree", json=policy, headers=SUPERVISOR)
    assert answer.status_code == 200 and answer.json()["certified_only"] is certified_only
    api.clock.advance(minutes=1)  # the policy is in force for orders recorded from now on


async def certify(api: Any, technician: str, until: str, category: str = "air_conditioner",
                  headers: dict[str, str] = SUPERVISOR, maker: str = "gree") -> Any:
    return await api.client.post(CERTS.format(technician), headers=headers,
                                 json={"maker": maker, "category": category, "valid_until": until})


async def dispatch(api: Any, order: str, technician: str) -> Any:
    return await api.client.post(f"/dispatch/orders/{order}/dispatch", headers=DISPATCHER,
                                 json={"outlet_id": "wh-jiangxia", "technician_id": technician})


async def test_dispatch_and_routing_follow_the_certifications(sqlite_api: Any) -> None:
    api = sqlite_api
    await setup(api)
    # START is 2026-05-04 09:00 in Beijing: tech-wh-02 certified through today, tech-wh-01 not at all
    answer = await certify(api, "tech-wh-02", "2026-05-04")
    assert answer.status_code == 200 and answer.json()["events"] == ["technician.certified"], answer.text
    assert (await certify(api, "tech-wh-02", "2026-05-04")).json()["events"] == []  # a retry adds nothing
    orders = [await report(api.runtime.store, api.clock()) for _ in range(3)]
    await api.sync()

    route = (await api.client.get(f"/dispatch/orders/{orders[0]}/route", headers=DISPATCHER)).json()
    assert [c["technician_id"] for c in route["candidates"]] == ["tech-wh-02"]
    refused = await dispatch(api, orders[0], "tech-wh-01")
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "technician_id"
    assert "not certified" in refused.json()["detail"]
    assert (await dispatch(api, orders[0], "tech-wh-02")).status_code == 200

    api.clock.advance(hours=15)  # 00:00 on 5 May in Beijing: the certification has lapsed
    expired = await dispatch(api, orders[1], "tech-wh-02")
    assert expired.status_code == 422 and "expired after 2026-05-04" in expired.json()["detail"]
    await api.sync()
    route = (await api.client.get(f"/dispatch/orders/{orders[1]}/route", headers=DISPATCHER)).json()
    assert route["candidates"] == [] and route["best"] is None

    assert (await certify(api, "tech-wh-01", "2027-05-04")).status_code == 200
    revoked = await api.client.post(CERTS.format("tech-wh-01") + "/air_conditioner/revocation", headers=DISPATCHER,
                                    json={"maker": "gree", "reason": "failed the re-test"})
    assert revoked.json()["events"] == ["certification.revoked"]
    assert (await dispatch(api, orders[1], "tech-wh-01")).status_code == 422  # revoked counts at once
    again = await api.client.post(CERTS.format("tech-wh-01") + "/air_conditioner/revocation", headers=DISPATCHER,
                                  json={"maker": "gree", "reason": "twice"})
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "category"

    await api.sync()
    listed = (await api.client.get("/dispatch/certifications", headers=DISPATCHER)).json()["certifications"]
    assert [(c["technician_id"], c["status"]) for c in listed] == [("tech-wh-01", "revoked"), ("tech-wh-02", "expired")]
    provider = (await api.client.get("/dispatch/certifications", headers=auth("provider"))).json()
    assert len(provider["certifications"]) == 2  # prov-wuhan runs wh-jiangxia


async def test_bad_input_and_other_tenants(sqlite_api: Any) -> None:
    api = sqlite_api
    await setup(api)
    past = await certify(api, "tech-wh-01", "2026-05-03")
    assert past.status_code == 422 and past.json()["errors"][0]["field"] == "valid_until"
    assert (await certify(api, "tech-wh-01", "2026-13-01")).status_code == 422
    assert (await certify(api, "tech-nobody", "2026-06-01")).status_code == 404
    assert (await certify(api, "tech-wh-01", "2026-06-01", maker="midea")).status_code == 404  # not its maker
    assert (await certify(api, "tech-wh-01", "2026-06-01", headers=auth("technician"))).status_code == 403
    await api.sync()
    assert (await api.client.get("/dispatch/certifications", headers=DISPATCHER)).json()["certifications"] == []


async def test_without_certified_only_dispatch_ignores_certifications(sqlite_api: Any) -> None:
    api = sqlite_api
    await setup(api, certified_only=False)
    order = await report(api.runtime.store, api.clock())
    await api.sync()
    assert (await dispatch(api, order, "tech-wh-01")).status_code == 200


async def test_the_certifications_rebuilt_from_events_equal_the_live_ones(api: Any) -> None:
    await setup(api)
    for technician, until in (("tech-wh-01", "2026-06-30"), ("tech-wh-02", "2026-05-10")):
        await certify(api, technician, until)
    await certify(api, "tech-wh-01", "2026-07-31", category="washing_machine")
    await certify(api, "tech-wh-01", "2027-06-30")  # renewal
    await api.client.post(CERTS.format("tech-wh-02") + "/air_conditioner/revocation", headers=DISPATCHER,
                          json={"maker": "gree", "reason": "left"})
    await api.sync()
    live = await dump_read_model(api.runtime.engine, PROJECTION.metadata)
    assert len(live["dispatch_certifications"]) == 3
    view = (await api.client.get("/dispatch/certifications", headers=DISPATCHER)).json()
    await api.runtime.projectors[PROJECTION.name].rebuild(batch=2)
    assert await dump_read_model(api.runtime.engine, PROJECTION.metadata) == live
    assert (await api.client.get("/dispatch/certifications", headers=DISPATCHER)).json() == view
