"""Complaints without an order over HTTP (issue 15 item 9): answered, matched to an order, counted
there, gone from /dispatch/overdue once answered; another maker's is 404; rebuilds are identical."""

from __future__ import annotations

from typing import Any

import pytest

from libs.events.projection import dump_read_model
from libs.web.auth import create_principal
from services.dispatch.projection import PROJECTION as DISPATCH
from services.intake.projection import PROJECTION as INTAKE
from services.quality.projection import PROJECTION as QUALITY
from tests.dispatch.factory import report
from tests.support.app import auth

pytestmark = pytest.mark.integration

DISPATCHER = auth("dispatcher")


async def _file(api: Any, text: str, provider: str = "prov-wuhan") -> str:
    body = {"channel": "hotline", "text": text, "provider_id": provider, "maker": "gree"}
    response = await api.client.post("/quality/complaints", json=body, headers=auth("supervisor"))
    assert response.status_code == 201, response.text
    assert response.json()["stream_id"].startswith("complaint:")
    return str(response.json()["complaint_id"])


async def _overdue(api: Any) -> list[dict[str, Any]]:
    await api.sync()
    response = await api.client.get("/dispatch/overdue", headers=DISPATCHER)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["complaints"]
    return found


async def test_an_orderless_complaint_is_answered_and_matched_and_then_counts_on_its_order(api: Any) -> None:
    order = await report(api.runtime.store, api.clock())
    answered, matched = await _file(api, "电话打不通"), await _file(api, "师傅乱收费")
    api.clock.advance(hours=2)
    assert sorted(c["complaint_id"] for c in await _overdue(api)) == sorted([answered, matched])  # the maker's own desk

    reply = await api.client.post(f"/dispatch/complaints/{answered}/respond", json={"response": "已回电致歉"},
                                  headers=DISPATCHER)
    assert reply.status_code == 200, reply.text
    assert (reply.json()["stream_id"], reply.json()["events"]) == (f"complaint:{answered}", ["complaint.responded"])
    again = await api.client.post(f"/dispatch/complaints/{answered}/respond", json={"response": "x"}, headers=DISPATCHER)
    assert again.status_code == 409
    assert [c["complaint_id"] for c in await _overdue(api)] == [matched]

    bad = await api.client.post(f"/dispatch/complaints/{matched}/order", json={"order_id": "no-such-order"},
                                headers=DISPATCHER)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "order_id"
    done = await api.client.post(f"/dispatch/complaints/{matched}/order", json={"order_id": order}, headers=DISPATCHER)
    assert done.status_code == 200 and done.json()["events"] == ["complaint.matched", "order.escalated"], done.text
    step = (await api.runtime.store.read_stream(order))[-1]
    assert (step.type, step.data["to_tier"], step.data["trigger"]) == ("order.escalated", "regional", "complaint")
    retry = await api.client.post(f"/dispatch/complaints/{matched}/order", json={"order_id": order}, headers=DISPATCHER)
    assert retry.status_code == 200 and retry.json()["events"] == []  # the same match again: nothing new
    other = await report(api.runtime.store, api.clock())
    twice = await api.client.post(f"/dispatch/complaints/{matched}/order", json={"order_id": other}, headers=DISPATCHER)
    assert twice.status_code == 409
    [late] = await _overdue(api)
    assert (late["complaint_id"], late["order_id"], late["provider_id"]) == (matched, order, "prov-wuhan")
    listed = (await api.client.get("/orders", headers=auth("operator"))).json()["items"]
    assert {(i["order_id"], i["complaints"], i["tier"]) for i in listed} == {(order, 1, "regional"), (other, 0, "dealer")}
    reply = await api.client.post(f"/dispatch/complaints/{matched}/respond", json={"response": "已退款"}, headers=DISPATCHER)
    assert reply.status_code == 200, reply.text
    assert await _overdue(api) == []

    for projection in (DISPATCH, INTAKE, QUALITY):
        live = await dump_read_model(api.runtime.engine, projection.metadata)
        await api.runtime.projectors[projection.name].rebuild()
        assert await dump_read_model(api.runtime.engine, projection.metadata) == live, projection.name


async def test_another_makers_desk_finds_no_such_complaint(sqlite_api: Any) -> None:
    api = sqlite_api
    cid = await _file(api, "态度差")
    order = await report(api.runtime.store, api.clock())
    key = await create_principal(api.runtime.engine, api.clock, id="midea-desk", role="dispatcher", name="美的调度",
                                 party="midea")
    midea = {"Authorization": f"Bearer {key}"}
    for path, body in (("respond", {"response": "x"}), ("order", {"order_id": order})):
        response = await api.client.post(f"/dispatch/complaints/{cid}/{path}", json=body, headers=midea)
        assert response.status_code == 404, response.text
    unknown = await api.client.post("/dispatch/complaints/00000000-0000-4000-8000-000000000000/respond",
                                    json={"response": "x"}, headers=DISPATCHER)
    assert unknown.status_code == 404
    for role in ("technician", "supervisor", "operator"):
        refused = await api.client.post(f"/dispatch/complaints/{cid}/respond", json={"response": "x"}, headers=auth(role))
        assert refused.status_code == 403, role
