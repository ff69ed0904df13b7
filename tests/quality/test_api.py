"""Quality over HTTP: the seed's worked example, roles, complaints, closing, late items, rebuilds."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from libs.events.projection import dump_read_model
from libs.events.settings import Settings
from libs.web.problems import Problem
from services.quality.api.queries import DEMO_SAMPLE_KEY, sample_key
from services.quality.domain.scoring import GRADE_POINTS
from services.quality.projection import PROJECTION
from tests.quality import factory
from tests.support.app import auth

pytestmark = pytest.mark.integration

APRIL = datetime(2026, 4, 20, 6, 0, tzinfo=UTC)
MAY = datetime(2026, 5, 3, 6, 0, tzinfo=UTC)  # before the test clock's start (2026-05-04 01:00Z)


async def post_review(client: httpx.AsyncClient, order_id: str, grades: str, channel: str = "feedback_form",
                      who: str = "supervisor") -> httpx.Response:
    body = {"channel": channel, "timeliness": grades[0], "quality": grades[1], "attitude": grades[2], "overall": 4,
            "comment": "师傅很专业"}
    return await client.post(f"/orders/{order_id}/reviews", json=body, headers=auth(who))


async def scores(api: Any, month: str, level: str = "provider", sync: bool = True) -> dict[str, Any]:
    if sync:
        await api.sync()
    response = await api.client.get(
        "/quality/scores", params={"month": month, "maker": "gree", "level": level}, headers=auth("supervisor")
    )
    assert response.status_code == 200, response.text
    [sheet] = response.json()["makers"]
    found: dict[str, Any] = sheet
    return found


def line(sheet: dict[str, Any], subject: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [s for s in sheet["scores"] if s["id"] == subject]
    assert len(found) == 1, sheet
    return found[0]


async def worked_example(api: Any, over_http: bool = True) -> None:
    """April: 2 forms, total 7 (avg 3.5). May: 10 forms, total 40 (avg 4).

    Without `over_http` the forms go straight to the store (faster, for tests about something else).
    """
    store = api.runtime.store
    forms = [(f"apr-{i}", APRIL + timedelta(hours=i), g, 12_000) for i, g in enumerate(["AAC", "ABC"])]
    forms += [(f"may-{i}", MAY + timedelta(minutes=i), "AAC" if i % 2 else "ABB", 8_050) for i in range(10)]
    for order_id, repaired_at, grades, cost in forms:
        await factory.repaired_order(store, order_id, repaired_at, cost_fen=cost)
        if not over_http:
            await store.append(order_id, [factory.review(api.clock(), grades)], 4)
            continue
        response = await post_review(api.client, order_id, grades)
        assert response.status_code == 201, response.text
        assert response.json()["points"] == sum(GRADE_POINTS[g] for g in grades)
        assert response.json()["provider_id"] == "prov-wuhan"


async def test_the_seeds_worked_example_survives_close_late_items_and_a_rebuild(api: Any) -> None:
    await worked_example(api)
    may = line(await scores(api, "2026-05"), "prov-wuhan")
    assert (may["n"], may["total"]) == (10, 40)
    assert Decimal(may["avg"]) == Decimal("4.0") and Decimal(may["previous_avg"]) == Decimal("3.5")
    assert Decimal(may["delta"]) == Decimal("0.5")
    assert may["improvement_fen"] == 1000 * 100 and may["complaints"] == 0 and may["complaint_fen"] == 5000 * 100
    assert may["amount_fen"] == 6000 * 100
    assert line(await scores(api, "2026-05", "outlet"), "outlet-wh-1")["n"] == 10

    # close April; a form for an April repair and an April complaint arriving later go to May
    closed = await api.client.post("/quality/months/2026-04/close", headers=auth("supervisor"))
    assert closed.status_code == 201, closed.text
    frozen_april = line({"scores": [s for s in closed.json()["scores"] if s["level"] == "provider"]}, "prov-wuhan")
    assert (frozen_april["n"], frozen_april["total"], frozen_april["avg"]) == (2, 7, "3.5000")
    await factory.repaired_order(api.runtime.store, "apr-late", APRIL + timedelta(days=5))
    assert (await post_review(api.client, "apr-late", "EEE")).status_code == 201
    late = {"channel": "hotline", "text": "四月的投诉", "order_id": "apr-0", "received_at": APRIL.isoformat()}
    assert (await api.client.post("/quality/complaints", json=late, headers=auth("supervisor"))).status_code == 201

    april = await scores(api, "2026-04")
    assert april["closed"] and line(april, "prov-wuhan") == frozen_april
    # never silently: both months show the late items, where they belong and where they count
    assert [(i["kind"], i["order_id"], i["channel"], i["belongs_to"], i["counted_in"]) for i in april["late_items"]] == [
        ("complaint", "apr-0", "hotline", "2026-04", "2026-05"), ("repair", "apr-late", None, "2026-04", "2026-05"),
        ("review", "apr-late", "feedback_form", "2026-04", "2026-05")]
    assert (await scores(api, "2026-05"))["late_items"] == april["late_items"]
    assert (await scores(api, "2026-06"))["late_items"] == []
    may = line(await scores(api, "2026-05"), "prov-wuhan")
    assert (may["n"], may["total"], may["complaints"]) == (11, 34, 1)
    assert may["adjustments"] == {"late_complaints": 1, "late_reviews": 1}
    assert may["previous_avg"] == "3.5000" and may["improvement_fen"] == -1000 * 100  # 34/11 < 3.5

    api.clock.set(datetime(2026, 6, 1, 2, 0, tzinfo=UTC))
    assert (await api.client.post("/quality/months/2026-05/close", headers=auth("supervisor"))).status_code == 201
    assert line(await scores(api, "2026-05"), "prov-wuhan") == may  # frozen = what was live

    # rebuilt from the events, the read model and every answer come out the same
    await api.sync()
    before = await dump_read_model(api.runtime.engine, PROJECTION.metadata)
    asked = [(m, lv) for m in ("2026-04", "2026-05") for lv in ("provider", "outlet")]
    answers = [await scores(api, m, lv, sync=False) for m, lv in asked]
    await api.runtime.projectors["quality"].rebuild()
    assert await dump_read_model(api.runtime.engine, PROJECTION.metadata) == before
    assert [await scores(api, m, lv, sync=False) for m, lv in asked] == answers


async def test_only_supervision_records_reviews_and_never_for_its_own_work(sqlite_api: Any) -> None:
    api = sqlite_api
    await factory.repaired_order(api.runtime.store, "o-1", MAY)
    await api.runtime.store.append("o-2", [factory.reported(MAY)], 0)
    for who in ("provider", "technician", "partner", "finance"):
        response = await post_review(api.client, "o-1", "AAA", who=who)
        assert response.status_code == 403, who
        assert response.headers["content-type"].startswith("application/problem+json")
    assert (await api.client.post("/orders/o-1/reviews", json={})).status_code == 401
    assert (await post_review(api.client, "o-2", "AAA")).status_code == 409  # not repaired
    assert (await post_review(api.client, "nope", "AAA")).status_code == 404
    bad = await post_review(api.client, "o-1", "AXA")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "quality"
    assert (await post_review(api.client, "o-1", "AAB")).status_code == 201
    again = await post_review(api.client, "o-1", "AAA")
    assert again.status_code == 409 and again.json()["field"] == "channel"
    assert (await post_review(api.client, "o-1", "CCC", "call_back")).status_code == 201
    sheet = line(await scores(api, "2026-05"), "prov-wuhan")
    assert (sheet["n"], sheet["total"]) == (1, 0)  # the call-back is the scored form
    assert await api.runtime.store.stream_version("o-1") == 5  # nothing half-written by the refusals


async def test_complaints_from_every_channel_count_against_the_provider_and_month(sqlite_api: Any) -> None:
    api, store = sqlite_api, sqlite_api.runtime.store
    await factory.repaired_order(store, "o-1", MAY)
    await store.append("o-2", [factory.reported(MAY), factory.platform_complaint(MAY)], 0)  # before dispatch
    await store.append("o-1", [factory.platform_complaint(MAY + timedelta(hours=1))], 3)  # no provider named
    for channel in ("hotline", "web_form", "internal_monitor"):
        body = {"channel": channel, "text": "服务差", "order_id": "o-1"}
        response = await api.client.post("/quality/complaints", json=body, headers=auth("supervisor"))
        assert response.status_code == 201 and response.json()["provider_id"] == "prov-wuhan"
    direct = {"channel": "suggestion_form", "text": "网点乱收费", "provider_id": "prov-wuhan", "maker": "gree"}
    assert (await api.client.post("/quality/complaints", json=direct, headers=auth("supervisor"))).status_code == 201
    assert line(await scores(api, "2026-05"), "prov-wuhan")["complaints"] == 5
    await store.append("o-2", [factory.dispatched(MAY + timedelta(hours=2))], 2)
    sheet = line(await scores(api, "2026-05"), "prov-wuhan")
    assert (sheet["complaints"], sheet["complaint_band"], sheet["complaint_fen"]) == (6, "6-10", -3000 * 100)

    refused = [
        ({"channel": "hotline", "text": "x", "maker": "gree"}, "supervisor", 422),
        ({"channel": "platform", "text": "x", "order_id": "o-1"}, "supervisor", 422),
        ({"channel": "hotline", "text": "x", "order_id": "o-1", "received_at": "2026-06-01T00:00:00Z"},
         "supervisor", 422),
        ({"channel": "hotline", "text": "x", "order_id": "o-1", "received_at": "2026-05-01T00:00:00"},
         "supervisor", 422),
        ({"channel": "hotline", "text": "x", "order_id": "missing"}, "supervisor", 404),
        ({"channel": "hotline", "text": "x", "order_id": "o-1"}, "provider", 403),
        ({"channel": "hotline", "text": "x", "provider_id": "prov-wuhan", "maker": "midea"}, "supervisor", 403),
        ({"channel": "hotline", "text": "", "order_id": "o-1"}, "supervisor", 422),
    ]
    for body, who, status in refused:
        response = await api.client.post("/quality/complaints", json=body, headers=auth(who))
        assert response.status_code == status, (body, response.text)


async def test_a_month_closes_once_and_only_when_over(sqlite_api: Any) -> None:
    api = sqlite_api
    assert (await api.client.post("/quality/months/2026-05/close", headers=auth("supervisor"))).status_code == 409
    assert (await api.client.post("/quality/months/2026-13/close", headers=auth("supervisor"))).status_code == 422
    assert (await api.client.post("/quality/months/2026-04/close", headers=auth("provider"))).status_code == 403
    other = await api.client.post("/quality/months/2026-04/close", params={"maker": "midea"}, headers=auth("supervisor"))
    assert other.status_code == 404
    await factory.repaired_order(api.runtime.store, "apr-1", APRIL)
    await factory.repaired_order(api.runtime.store, "may-1", MAY)
    api.clock.set(datetime(2026, 5, 31, 16, 0, tzinfo=UTC))  # 1 June 00:00 in Beijing
    premature = await api.client.post("/quality/months/2026-05/close", headers=auth("supervisor"))
    assert premature.status_code == 409 and "2026-04" in premature.json()["detail"]
    assert (await api.client.post("/quality/months/2026-04/close", headers=auth("supervisor"))).status_code == 201
    assert (await api.client.post("/quality/months/2026-04/close", headers=auth("supervisor"))).status_code == 409
    events = await api.runtime.store.read_stream("quality-month:gree:2026-04")
    assert [e.type for e in events] == ["quality.month_closed"]
    may = await api.client.post("/quality/months/2026-05/close", headers=auth("supervisor"))
    assert may.status_code == 201 and [s["complaint_band"] for s in may.json()["scores"]] == ["0", "0"]


async def test_a_makers_policy_drives_open_months_and_closed_ones_keep_theirs(sqlite_api: Any) -> None:
    api = sqlite_api
    await worked_example(api, over_http=False)
    assert (await api.client.post("/quality/months/2026-04/close", headers=auth("supervisor"))).status_code == 201
    policy = {
        "improvement_reward_fen": 2_000_00, "decline_penalty_fen": 500_00, "all_max_reward_fen": 0,
        "all_min_penalty_fen": 0, "admin_action_threshold": 1,
        "complaint_bands": [{"max_complaints": 0, "amount_fen": 100_00}, {"max_complaints": None, "amount_fen": -1}],
        "complaint_weights": {"low": 1, "normal": 2, "high": 5}, "n_basis": "forms", "call_back_percent": 50,
    }
    assert (await api.client.put("/quality/policies/gree", json=policy, headers=auth("provider"))).status_code == 403
    assert (await api.client.put("/quality/policies/midea", json=policy, headers=auth("supervisor"))).status_code == 404
    too_long = await api.client.put(f"/quality/policies/{'g' * 101}", json=policy, headers=auth("supervisor"))
    assert too_long.status_code == 422
    broken = {**policy, "complaint_bands": [{"max_complaints": 3, "amount_fen": 0}]}
    response = await api.client.put("/quality/policies/gree", json=broken, headers=auth("supervisor"))
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "complaint_bands"
    seed = (await api.client.get("/quality/policies/gree", headers=auth("finance"))).json()
    assert seed["default"] and seed["policy"]["complaint_bands"][0] == {"max_complaints": 0, "amount_fen": 5000 * 100}
    assert (await api.client.put("/quality/policies/gree", json=policy, headers=auth("supervisor"))).status_code == 200
    await api.sync()
    assert (await api.client.get("/quality/policies/gree", headers=auth("finance"))).json() == {
        "maker": "gree", "default": False, "policy": policy}
    may = line(await scores(api, "2026-05"), "prov-wuhan")
    assert (may["improvement_fen"], may["complaint_fen"], may["amount_fen"]) == (2_000_00, 100_00, 2_100_00)
    april = line(await scores(api, "2026-04"), "prov-wuhan")
    assert april["complaint_fen"] == 5000 * 100  # frozen with the seed's policy


async def test_history_ranking_and_the_statistics_sheet(sqlite_api: Any) -> None:
    api = sqlite_api
    await worked_example(api, over_http=False)
    await factory.repaired_order(api.runtime.store, "may-x", MAY, provider="prov-hankou", outlet="outlet-hk")
    assert (await post_review(api.client, "may-x", "AAA")).status_code == 201
    await api.sync()

    history = await api.client.get("/quality/providers/prov-wuhan/history", headers=auth("provider"))
    assert [(m["month"], m["n"], m["total"]) for m in history.json()["months"]] == [("2026-04", 2, 7), ("2026-05", 10, 40)]
    other = await api.client.get("/quality/providers/prov-hankou/history", headers=auth("provider"))
    assert other.status_code == 404

    ranking = await api.client.get("/quality/rankings", params={"month": "2026-05", "maker": "gree"},
                                   headers=auth("finance"))
    assert [(r["rank"], r["id"], r["avg"]) for r in ranking.json()["ranking"]] == [
        (1, "prov-hankou", "6.0000"), (2, "prov-wuhan", "4.0000")]
    mine = await api.client.get("/quality/scores", params={"month": "2026-05"}, headers=auth("provider"))
    assert [s["id"] for sheet in mine.json()["makers"] for s in sheet["scores"]] == ["prov-wuhan"]

    response = await api.client.get("/quality/months/2026-04/statistics.csv", params={"maker": "gree"},
                                    headers=auth("supervisor"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert rows[0][:4] == ["序号", "客户名称", "产品类型", "产品型号"] and len(rows) == 3
    assert rows[1] == ["1", "张三", "空调", "KFR-35GW", "1", "不制冷", "制冷正常", "更换电容", "电压波动",
                       "2026-04-20 08:00", "2026-04-20 14:00", "120.00", "apr-0"]
    bad = await api.client.get("/quality/months/2026-4/statistics.csv", params={"maker": "gree"},
                               headers=auth("supervisor"))
    assert bad.status_code == 422
    bad = await api.client.get("/quality/scores", params={"month": "2026-13"}, headers=auth("supervisor"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "month"
    assert (await api.client.get("/quality/rankings", params={"month": "2026-05", "maker": "gree"},
                                 headers=auth("technician"))).status_code == 403


async def test_supervision_phones_back_a_reproducible_share_of_each_providers_week_of_forms(sqlite_api: Any) -> None:
    api = sqlite_api
    await worked_example(api, over_http=False)  # 12 prov-wuhan forms recorded at START, in 2026-W19
    for i in range(3):
        await factory.repaired_order(api.runtime.store, f"hk-{i}", MAY, provider="prov-hankou", outlet="outlet-hk")
        assert (await post_review(api.client, f"hk-{i}", "BBB")).status_code == 201
    seed = (await api.client.get("/quality/policies/gree", headers=auth("supervisor"))).json()["policy"]
    assert seed["call_back_percent"] == 10
    put = await api.client.put("/quality/policies/gree", json={**seed, "call_back_percent": 50}, headers=auth("supervisor"))
    assert put.status_code == 200, put.text
    await api.sync()

    async def call_backs(who: str = "supervisor", **params: str) -> httpx.Response:
        return await api.client.get("/quality/call-backs", params={"week": "2026-W19", **params}, headers=auth(who))

    listed = (await call_backs()).json()
    assert listed["call_back_percent"] == 50
    assert [(p["provider_id"], p["forms"], p["drawn"]) for p in listed["providers"]] == [
        ("prov-hankou", 3, 2), ("prov-wuhan", 12, 6)]
    assert (await call_backs()).json() == listed  # the same draw on every query
    assert (await call_backs(week="2026-W20")).json()["providers"] == []  # no forms recorded that week
    wuhan = next(p for p in listed["providers"] if p["provider_id"] == "prov-wuhan")
    assert all(not i["called_back"] and i["contradicts"] is None for i in wuhan["items"])
    assert wuhan["items"][0]["customer_name"] == "张三"

    # two call-backs: one confirms its form, one contradicts it (and is the form scored)
    confirm, contradict = wuhan["items"][0]["order_id"], wuhan["items"][1]["order_id"]
    grades = {f"may-{i}": "AAC" if i % 2 else "ABB" for i in range(10)} | {"apr-0": "AAC", "apr-1": "ABC"}
    assert (await post_review(api.client, confirm, grades[confirm], channel="call_back")).status_code == 201
    assert (await post_review(api.client, contradict, "EEE", channel="call_back")).status_code == 201
    await api.sync()
    again = next(p for p in (await call_backs()).json()["providers"] if p["provider_id"] == "prov-wuhan")
    assert [(i["order_id"], i["called_back"], i["contradicts"]) for i in again["items"][:2]] == [
        (confirm, True, False), (contradict, True, True)]
    sheets = [line(await scores(api, m), "prov-wuhan") for m in ("2026-04", "2026-05")]
    assert sum(s["verified"] for s in sheets) == 2 and sum(s["contradicted"] for s in sheets) == 1
    assert sum(s["forms_checkable"] for s in sheets) == 12

    # only supervision sees the draw (a provider that did could fix the drawn forms), of its own maker
    for who in ("provider", "finance", "technician"):
        assert (await call_backs(who)).status_code == 403, who
    assert (await call_backs(maker="midea")).status_code == 404
    for week in ("2025-W53", "2026-19", "2026-W54"):
        bad = await call_backs(week=week)
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "week", week

    listed = (await call_backs()).json()
    await api.runtime.projectors["quality"].rebuild()
    assert (await call_backs()).json() == listed  # a function of the events and the key


def test_the_call_back_draw_needs_a_key_outside_the_demo() -> None:
    assert sample_key(Settings(demo=False, quality_sample_key=SecretStr("a-key-from-the-store"))) == b"a-key-from-the-store"
    assert sample_key(Settings(demo=True)) == DEMO_SAMPLE_KEY
    with pytest.raises(Problem) as refused:
        sample_key(Settings(demo=False))
    assert refused.value.status == 503 and "QUALITY_SAMPLE_KEY" in refused.value.detail


async def test_a_hotline_complaint_escalates_its_order_and_a_late_paper_form_keeps_its_time(sqlite_api: Any) -> None:
    """Issue 15 items 2 and 7: a complaint from a quality channel moves its order up one tier in the
    same append; a paper form carries `reviewed_at` (30 days back at most, not before the repair)."""
    api, store = sqlite_api, sqlite_api.runtime.store
    await factory.repaired_order(store, "o-esc", MAY)
    response = await api.client.post("/quality/complaints", json={"channel": "hotline", "text": "服务差", "order_id": "o-esc"},
                                     headers=auth("supervisor"))
    assert response.status_code == 201, response.text
    types = [e.type for e in await store.read_stream("o-esc")]
    assert types[-2:] == ["complaint.received", "order.escalated"]
    await api.sync()
    order = (await api.client.get("/orders/o-esc", headers=auth("operator"))).json()
    assert (order["tier"], order["complaints"]) == ("regional", 1)
    body = {"channel": "feedback_form", "timeliness": "A", "quality": "A", "attitude": "B", "overall": 5}
    early = await api.client.post("/orders/o-esc/reviews", json={**body, "reviewed_at": (MAY - timedelta(hours=1)).isoformat()},
                                  headers=auth("supervisor"))
    assert early.status_code == 422 and early.json()["errors"][0]["field"] == "reviewed_at", early.text
    stale = await api.client.post("/orders/o-esc/reviews", json={**body, "reviewed_at": "2026-04-01T00:00:00Z"},
                                  headers=auth("supervisor"))
    assert stale.status_code == 422 and stale.json()["errors"][0]["field"] == "reviewed_at", stale.text
    filled = MAY + timedelta(hours=2)
    done = await api.client.post("/orders/o-esc/reviews", json={**body, "reviewed_at": filled.isoformat()},
                                 headers=auth("supervisor"))
    assert done.status_code == 201, done.text
    form = (await store.read_stream("o-esc"))[-1]
    assert (form.type, form.occurred_at, form.recorded_at) == ("order.reviewed", filled, api.clock())
