"""Partner routes over HTTP, on SQLite and PostgreSQL: report, read, list, escalate, idempotency."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from uuid import UUID, uuid4, uuid5

import pytest

from libs.events import catalog
from libs.events.projection import dump_read_model
from libs.events.settings import Settings
from services.intake.handlers import id_key
from services.intake.projection import metadata as read_model
from tests.intake.support import PUBLISHED, order_body
from tests.support.app import auth, running_api

pytestmark = pytest.mark.integration


async def _report(api: Any, who: str = "partner", **changes: Any) -> dict[str, Any]:
    response = await api.client.post("/orders", json=order_body(**changes), headers=auth(who))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_the_published_body_is_accepted_and_the_order_reads_back_with_its_timeline(api: Any) -> None:
    response = await api.client.post("/orders", json=PUBLISHED, headers=auth("partner"))
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["stream_version"] == 1 and answer["position"] >= 1
    link = f"/orders/{answer['order_id']}?min_position={answer['position']}"  # read-your-writes
    assert response.headers["location"] == answer["status_url"] == link
    assert answer["maker"] == "gree" and answer["warranty"]["coverage"] == "replacement"
    assert "gree-2026/air_conditioner" in answer["warranty"]["rule"]
    await api.client.post(f"/orders/{answer['order_id']}/escalations", json={"reason": "经销商无法处理"}, headers=auth("partner"))
    order = (await api.client.get(answer["status_url"], headers=auth("partner"))).json()
    assert (order["status"], order["tier"], order["version"], order["external_ref"]) == \
        ("reported", "regional", 2, "JD-2026-000123")
    assert [e["type"] for e in order["timeline"]] == ["order.reported", "order.escalated"]
    assert all(e["actor"] == "partner:jd-retail" and e["occurred_at"] for e in order["timeline"])


async def test_idempotency_key_returns_the_first_answer_and_refuses_a_different_body(api: Any) -> None:
    headers = {**auth("partner"), "Idempotency-Key": "retry-7"}
    first = await api.client.post("/orders", json=PUBLISHED, headers=headers)
    api.clock.advance(minutes=3)
    again = await api.client.post("/orders", content=json.dumps(PUBLISHED, indent=2),
                                  headers={**headers, "Content-Type": "application/json"})
    assert again.status_code == 201, again.text
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    head = await api.runtime.store.head_position()
    other = await api.client.post("/orders", json=order_body(fault="不制热"), headers=headers)
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert await api.runtime.store.head_position() == head == 1
    # the same key from another partner is another request
    theirs = await api.client.post("/orders", json=PUBLISHED, headers={**auth("partner2"), "Idempotency-Key": "retry-7"})
    assert theirs.status_code == 201 and theirs.json()["order_id"] != first.json()["order_id"]


async def test_concurrent_retries_with_one_key_append_one_order(api: Any) -> None:
    headers = {**auth("partner"), "Idempotency-Key": "burst"}
    answers = await asyncio.gather(*(api.client.post("/orders", json=PUBLISHED, headers=headers) for _ in range(5)))
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["order_id"] for a in answers}) == 1
    assert await api.runtime.store.head_position() == 1


async def test_another_partners_order_is_not_found_and_a_key_is_needed(sqlite_api: Any) -> None:
    order = await _report(sqlite_api)
    url = order["status_url"]
    assert (await sqlite_api.client.get(url, headers=auth("partner2"))).status_code == 404
    escalation = await sqlite_api.client.post(f"/orders/{order['order_id']}/escalations", json={"reason": "x"},
                                              headers=auth("partner2"))
    assert escalation.status_code == 404
    assert (await sqlite_api.client.get(f"/orders/{uuid4()}", headers=auth("partner"))).status_code == 404
    assert (await sqlite_api.client.get(url)).status_code == 401
    assert (await sqlite_api.client.get(url, headers={"Authorization": "Bearer nope"})).status_code == 401
    assert (await sqlite_api.client.get(url, headers=auth("technician"))).status_code == 403
    assert (await sqlite_api.client.get(url, headers=auth("operator"))).status_code == 200


BAD_INPUT: list[tuple[dict[str, Any], str]] = [
    ({"customer.phone": "12345"}, "customer.phone"),
    ({"customer.phone": "138001380001"}, "customer.phone"),
    ({"product.purchase_date": "2026-05-05"}, "product.purchase_date"),
    ({"product.factory_date": "2027-01-01"}, "product.factory_date"),
    ({"product.purchase_date": "2025-02-01"}, "product.purchase_date"),
    ({"product.purchase_date": "18/06/2025"}, "product.purchase_date"),
    ({"location.provincial_capital": "yes"}, "location.provincial_capital"),
    ({"customer.nickname": "小张"}, "customer.nickname"),
    ({"priority": "urgent"}, "priority"),
    ({"fault": "   "}, "fault"),
    ({"fault": "坏" * 2001}, "fault"),
    ({"product.category": "Air Conditioner"}, "product.category"),
    ({"partner_ref": 123}, "partner_ref"),
    ({"customer.name": "张\x00伟"}, "customer.name"),
]


async def test_bad_input_is_a_problem_naming_the_field_and_changes_nothing(sqlite_api: Any) -> None:
    for changes, field in BAD_INPUT:
        response = await sqlite_api.client.post("/orders", json=order_body(**changes), headers=auth("partner"))
        assert response.status_code == 422, (changes, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert field in problem["detail"] and field in {e["field"] for e in problem["errors"]}, (changes, problem)
    assert await sqlite_api.runtime.store.head_position() == 0


async def test_missing_fields_and_oversized_bodies_are_refused(sqlite_api: Any) -> None:
    body = order_body()
    del body["customer"]["phone"]
    missing = await sqlite_api.client.post("/orders", json=body, headers=auth("partner"))
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "customer.phone"
    huge = await sqlite_api.client.post("/orders", json=order_body(working_conditions="x" * 70_000),
                                        headers=auth("partner"))
    assert huge.status_code == 413 and huge.json()["title"] == "Payload too large"
    assert await sqlite_api.runtime.store.head_position() == 0


async def test_list_filters_and_pages_only_the_partners_own_orders(api: Any) -> None:
    made = []
    for i, city in enumerate(["武汉", "宜昌", "武汉", "武汉", "宜昌"]):
        made.append((await _report(api, partner_ref=f"JD-{i}", **{"location.city": city}))["order_id"])
        api.clock.advance(days=1)
    await _report(api, who="partner2")
    await api.client.post(f"/orders/{made[0]}/escalations", json={"reason": "x"}, headers=auth("partner"))
    await api.sync()
    seen, cursor = [], None
    while True:
        params = {"limit": 2, "city": "武汉", **({"cursor": cursor} if cursor else {})}
        page = (await api.client.get("/orders", params=params, headers=auth("partner"))).json()
        seen += [item["order_id"] for item in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == [made[3], made[2], made[0]]
    by_day = await api.client.get("/orders", params={"reported_from": "2026-05-05", "reported_to": "2026-05-06"},
                                  headers=auth("partner"))
    assert [i["partner_ref"] for i in by_day.json()["items"]] == ["JD-2", "JD-1"]
    escalated = (await api.client.get("/orders", params={"status": "reported"}, headers=auth("partner2"))).json()
    assert len(escalated["items"]) == 1
    bad = await api.client.get("/orders", params={"cursor": "not-a-cursor"}, headers=auth("partner"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"
    wrong = await api.client.get("/orders", params={"status": "lost"}, headers=auth("partner"))
    assert wrong.status_code == 422


async def test_escalation_chain_is_upward_one_tier_at_a_time_and_closed_after_settlement(api: Any) -> None:
    order = await _report(api)
    url = f"/orders/{order['order_id']}/escalations"
    skip = await api.client.post(url, json={"reason": "x", "to_tier": "hq"}, headers=auth("partner"))
    assert skip.status_code == 422 and skip.json()["errors"][0]["field"] == "to_tier"
    up = [await api.client.post(url, json={"reason": "x"}, headers=auth("partner")) for _ in range(3)]
    assert [r.status_code for r in up] == [201, 201, 409]
    assert [r.json().get("to_tier") for r in up[:2]] == ["regional", "hq"]
    other = await _report(api, partner_ref="JD-2")
    settled = catalog.new_event(catalog.OrderSettled(
        settlement_id=uuid4(), provider_id="p", maker="gree", payer="maker", standard_id="s", lines=[], total_fen=0,
    ), type_="order.settled", source="settlement", actor="finance:f", occurred_at=api.clock())
    await api.runtime.store.append(other["order_id"], [settled], 1)
    closed = await api.client.post(f"/orders/{other['order_id']}/escalations", json={"reason": "x"}, headers=auth("partner"))
    assert closed.status_code == 409 and "closed" in closed.json()["detail"]


async def test_the_read_model_rebuilds_identically(api: Any) -> None:
    for i in range(3):
        order = await _report(api, partner_ref=f"JD-{i}")
        await api.client.post(f"/orders/{order['order_id']}/escalations", json={"reason": "x"}, headers=auth("partner"))
    await api.sync()
    live = await dump_read_model(api.runtime.engine, read_model)
    assert len(live["intake_orders"]) == 3
    await api.runtime.projectors["intake_orders"].rebuild()
    assert await dump_read_model(api.runtime.engine, read_model) == live


async def test_concurrent_escalations_never_skip_or_repeat_a_tier(api: Any) -> None:
    order = await _report(api)
    url = f"/orders/{order['order_id']}/escalations"
    answers = await asyncio.gather(*(api.client.post(url, json={"reason": f"r{i}"}, headers=auth("partner"))
                                     for i in range(5)))
    assert {a.status_code for a in answers} <= {201, 409}
    assert 1 <= sum(a.status_code == 201 for a in answers) <= 2
    timeline = (await api.client.get(order["status_url"], headers=auth("partner"))).json()["timeline"]
    moves = [(e["data"]["from_tier"], e["data"]["to_tier"]) for e in timeline[1:]]
    assert moves == [("dealer", "regional"), ("regional", "hq")][: len(moves)]


async def test_a_partner_sees_that_its_order_was_settled_not_the_makers_amounts(sqlite_api: Any) -> None:
    api = sqlite_api
    order = await _report(api)
    line = catalog.SettlementLine(kind="labour", description="人工", quantity="1", unit_fen=8000, amount_fen=8000)
    settled = catalog.new_event(catalog.OrderSettled(
        settlement_id=uuid4(), provider_id="prov-wuhan", maker="gree", payer="maker", standard_id="std-gree",
        lines=[line], total_fen=8000,
    ), type_="order.settled", source="settlement", actor="finance:f", occurred_at=api.clock())
    await api.runtime.store.append(order["order_id"], [settled], 1)
    seen = {}
    for who in ("partner", "operator"):
        body = (await api.client.get(order["status_url"], headers=auth(who))).json()
        seen[who] = next(e["data"] for e in body["timeline"] if e["type"] == "order.settled")
    assert seen["partner"] == {"settlement_id": str(settled.data["settlement_id"]), "payer": "maker", "replaces": None}
    assert seen["operator"]["total_fen"] == 8000 and seen["operator"]["lines"][0]["amount_fen"] == 8000


async def test_keyed_order_ids_come_from_the_deployments_key_not_from_the_request(tmp_path: Any) -> None:
    """The ids of keyed orders were uuid5 under a namespace in the source: anyone could compute
    a partner's order id from its Idempotency-Key. Now an HMAC under Settings.intake_id_key."""
    ids = []
    for n, key in enumerate(("first-deployment-key", "second-deployment-key")):
        async with running_api(f"sqlite:///{tmp_path / f'ids{n}.db'}", intake_id_key=key) as api:
            headers, body = {**auth("partner"), "Idempotency-Key": "JD-KEY-1"}, order_body()
            first = await api.client.post("/orders", json=body, headers=headers)
            again = await api.client.post("/orders", json=body, headers=headers)
            assert first.status_code == again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
            assert first.json()["order_id"] == again.json()["order_id"]
            ids.append(first.json()["order_id"])
    published = uuid5(UUID("6d1f2f7e-6a43-4bde-9a36-1f0b5d9c0e11"), "\x1f".join(("order", "jd-retail", "JD-KEY-1")))
    assert ids[0] != ids[1] and str(published) not in ids
    with pytest.raises(RuntimeError, match="INTAKE_ID_KEY"):
        id_key(Settings(demo=False))


async def test_a_hotline_agent_files_orders_on_the_hotline_channel_for_its_makers(sqlite_api: Any) -> None:
    """Before, only the operator could file for a caller, and it was recorded as channel partner."""
    api, hotline = sqlite_api, {"Authorization": "Bearer demo-hotline-key"}  # a gree hotline agent
    created = await api.client.post("/orders", json=order_body(), headers={**hotline, "Idempotency-Key": "CALL-1"})
    assert created.status_code == 201, created.text
    order = (await api.client.get(created.json()["status_url"], headers=hotline)).json()
    assert (order["channel"], order["maker"]) == ("hotline", "gree")
    assert order["timeline"][0]["actor"] == "hotline:hotline-01" and order["timeline"][0]["data"]["partner_id"] is None
    assert (await api.client.get(created.json()["status_url"], headers=auth("partner"))).status_code == 404
    await api.sync()
    listed = (await api.client.get("/orders", headers=hotline)).json()["items"]
    assert [i["order_id"] for i in listed] == [created.json()["order_id"]]
    midea = await api.client.post("/orders", json=order_body(**{"product.brand": "美的"}), headers=hotline)
    assert midea.status_code == 422 and midea.json()["errors"][0]["field"] == "product.brand"
    escalate = await api.client.post(f"/orders/{created.json()['order_id']}/escalations", json={"reason": "x"},
                                     headers=hotline)
    assert escalate.status_code == 403
    for role in ("operator", "viewer"):  # read only: they read it, never file one
        refused = await api.client.post("/orders", json=order_body(), headers={"Authorization": f"Bearer demo-{role}-key"})
        assert refused.status_code == 403
    assert await api.runtime.store.head_position() == 1


async def test_a_phoned_in_order_keeps_the_customers_report_time_beside_the_recorded_time(sqlite_api: Any) -> None:
    """Issue 15 item 7: `reported_at` within the late-entry window (30 days back, 5 minutes ahead)."""
    from datetime import timedelta

    api, hotline = sqlite_api, {"Authorization": "Bearer demo-hotline-key"}
    at = api.clock() - timedelta(days=2, hours=3)
    created = await api.client.post("/orders", json={**order_body(), "reported_at": at.isoformat()}, headers=hotline)
    assert created.status_code == 201, created.text
    [event] = await api.runtime.store.read_stream(created.json()["order_id"])
    assert (event.occurred_at, event.recorded_at) == (at, api.clock())
    for field, when in (("reported_at", api.clock() - timedelta(days=31)), ("reported_at", api.clock() + timedelta(hours=1))):
        refused = await api.client.post("/orders", json={**order_body(partner_ref="JD-LATE-2"), field: when.isoformat()},
                                        headers=auth("partner"))
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == field, refused.text
    naive = await api.client.post("/orders", json={**order_body(partner_ref="JD-LATE-3"), "reported_at": "2026-05-01T08:00:00"},
                                  headers=auth("partner"))
    assert naive.status_code == 422
    keyed = {**auth("partner"), "Idempotency-Key": "JD-LATE-4"}
    first = await api.client.post("/orders", json={**order_body(partner_ref="JD-LATE-4"), "reported_at": at.isoformat()},
                                  headers=keyed)
    assert first.status_code == 201, first.text
    other = (at + timedelta(hours=1)).isoformat()
    retry = await api.client.post("/orders", json={**order_body(partner_ref="JD-LATE-4"), "reported_at": other}, headers=keyed)
    assert retry.status_code == 422 and retry.json()["errors"][0]["field"] == "Idempotency-Key"
    assert await api.runtime.store.head_position() == 2
