"""Complaint-platform routes over HTTP: signatures, repair requests, complaints, the trail."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from libs.web.auth import add_platform_secret, create_principal, revoke
from services.intake.reference import nonces
from tests.intake.support import order_body, platform_report, signed
from tests.support.app import auth

pytestmark = pytest.mark.integration


async def _post(api: Any, body: dict[str, Any], **sign: Any) -> Any:
    raw, headers = signed(body, int(api.clock().timestamp()), **sign)
    return await api.client.post("/platform/reports", content=raw, headers=headers)


async def _trail(api: Any, ref: str) -> Any:
    _, headers = signed(None, int(api.clock().timestamp()))
    return await api.client.get(f"/platform/orders/{ref}", headers=headers)


async def _nonce_count(api: Any) -> int:
    async with api.runtime.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(nonces))).scalar_one())


async def test_a_repair_request_becomes_a_platform_order_the_platform_can_follow(api: Any) -> None:
    response = await _post(api, platform_report())
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["opened"] and answer["events"] == ["order.reported"]
    await api.sync()
    trail = await _trail(api, "HB-2026-0001")
    assert trail.status_code == 200, trail.text
    [order] = trail.json()["orders"]
    assert order["order_id"] == answer["order_id"] and order["kind"] == "repair" and order["maker"] == "midea"
    reported = order["timeline"][0]
    assert reported["data"]["channel"] == "platform" and reported["data"]["platform_id"] == "gov-platform"
    assert reported["data"]["attachments"] == ["https://platform.example/files/a1.jpg"]
    assert reported["actor"] == "platform:gov-platform"
    again = await _post(api, platform_report())  # re-sent with a fresh nonce: recorded once
    assert again.status_code == 200 and again.json()["order_id"] == answer["order_id"]
    assert await api.runtime.store.head_position() == 1


async def test_forged_stale_or_replayed_requests_are_401_and_change_nothing(sqlite_api: Any) -> None:
    api = sqlite_api
    body = platform_report()
    now = int(api.clock().timestamp())
    raw, headers = signed(body, now, nonce="nonce-used-once")
    assert (await api.client.post("/platform/reports", content=raw, headers=headers)).status_code == 201
    before, nonces_before = await api.runtime.store.head_position(), await _nonce_count(api)
    attacks = {
        "replay": (raw, headers),
        "bad signature": (raw.replace("宜昌".encode(), "武汉".encode()), headers),
        "wrong secret": signed(body, now, secret="guessed"),
        "stale": signed(body, now, ts=now - 301),
        "future": signed(body, now, ts=now + 301),
        "unsigned": (raw, {"Content-Type": "application/json"}),
        "malformed timestamp": signed(body, now, ts=10**13),
        "short nonce": signed(body, now, nonce="n1"),
    }
    for attack, (content, sent) in attacks.items():
        response = await api.client.post("/platform/reports", content=content, headers=sent)
        assert response.status_code == 401, (attack, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert await api.runtime.store.head_position() == before
    assert await _nonce_count(api) == nonces_before


async def test_the_window_is_five_minutes_either_way(sqlite_api: Any) -> None:
    now = int(sqlite_api.clock().timestamp())
    for ts in (now - 300, now + 300):
        raw, headers = signed(platform_report(ref=f"HB-{ts}"), now, ts=ts)
        assert (await sqlite_api.client.post("/platform/reports", content=raw, headers=headers)).status_code == 201


async def test_a_complaint_about_an_existing_order_is_recorded_and_escalates_it(api: Any) -> None:
    created = await api.client.post("/orders", json=order_body(), headers=auth("partner"))
    order_id = created.json()["order_id"]
    response = await _post(api, platform_report(ref="HB-C-1", kind="complaint", order_id=order_id, severity="high"))
    assert response.status_code == 201, response.text
    assert response.json()["events"] == ["complaint.received", "order.escalated"]
    assert response.json()["order_id"] == order_id and not response.json()["opened"]
    order = (await api.client.get(f"/orders/{order_id}", headers=auth("partner"))).json()
    assert (order["tier"], order["complaints"]) == ("regional", 1)
    complaint = order["timeline"][1]
    assert complaint["data"]["severity"] == "high" and complaint["data"]["external_ref"] == "HB-C-1"
    assert order["timeline"][2]["data"]["trigger"] == "complaint"
    await api.sync()
    [followed] = (await _trail(api, "HB-C-1")).json()["orders"]
    assert followed["order_id"] == order_id and followed["kind"] == "complaint"


async def test_complaints_match_by_earlier_reference_or_phone_and_serial(sqlite_api: Any) -> None:
    api = sqlite_api
    first = (await _post(api, platform_report(ref="HB-R-1"))).json()
    await api.sync()
    by_ref = (await _post(api, platform_report(ref="HB-C-2", kind="complaint", related_ref="HB-R-1"))).json()
    await api.sync()
    by_phone = (await _post(api, platform_report(ref="HB-C-3", kind="complaint"))).json()
    assert by_ref["order_id"] == by_phone["order_id"] == first["order_id"]
    assert by_ref["events"] == ["complaint.received", "order.escalated"]  # entered regional: now hq
    assert by_phone["events"] == ["complaint.received"]  # at hq: nowhere higher
    order = (await api.client.get(f"/orders/{first['order_id']}", headers=auth("operator"))).json()
    assert (order["tier"], order["complaints"]) == ("hq", 2)


async def test_an_unmatched_complaint_opens_an_order(sqlite_api: Any) -> None:
    response = await _post(sqlite_api, platform_report(ref="HB-C-9", kind="complaint", order_id="no-such-order"))
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["opened"] and answer["events"] == ["order.reported", "complaint.received"]  # entered regional
    again = await _post(sqlite_api, platform_report(ref="HB-C-9", kind="complaint", order_id="no-such-order"))
    assert again.status_code == 200 and await sqlite_api.runtime.store.head_position() == 2


async def test_the_customers_report_time_starts_the_promise_and_the_order_enters_regional(api: Any) -> None:
    """Issue 15 items 1-2: the platform's reported_at is the order's occurred time (SLA clock,
    表7-28 投诉时间), recorded beside the time it was forwarded; the order enters one tier up."""
    reported_at = api.clock() - timedelta(hours=3)
    response = await _post(api, platform_report(ref="HB-T-1", reported_at=reported_at.isoformat()))
    assert response.status_code == 201, response.text
    order_id = response.json()["order_id"]
    [event] = await api.runtime.store.read_stream(order_id)
    assert (event.occurred_at, event.recorded_at) == (reported_at, api.clock())
    assert event.data["tier"] == "regional"
    view = await api.client.get(f"/dispatch/orders/{order_id}", headers=auth("operator"))
    assert view.status_code == 200, view.text
    assert view.json()["reported_at"] == reported_at.isoformat().replace("+00:00", "Z")
    assert view.json()["due_at"] == (reported_at + timedelta(hours=12)).isoformat().replace("+00:00", "Z")
    await api.sync()
    rows = (await api.client.get(f"/orders/{order_id}", headers=auth("operator"))).json()
    assert rows["reported_at"].startswith(reported_at.isoformat()[:19]) and rows["tier"] == "regional"


async def test_a_reported_at_outside_the_late_entry_window_is_422_and_stores_nothing(sqlite_api: Any) -> None:
    api = sqlite_api
    for when in (api.clock() - timedelta(days=30, minutes=1), api.clock() + timedelta(minutes=6)):
        response = await _post(api, platform_report(ref="HB-T-2", reported_at=when.isoformat()))
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "reported_at"
    assert await api.runtime.store.head_position() == 0
    edge = await _post(api, platform_report(ref="HB-T-2", reported_at=(api.clock() - timedelta(days=30)).isoformat()))
    assert edge.status_code == 201, edge.text


async def test_platform_bodies_are_validated_and_unknown_refs_are_404(sqlite_api: Any) -> None:
    bad = await _post(sqlite_api, platform_report(attachments=["javascript:alert(1)"]))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "attachments.0"
    future = await _post(sqlite_api, platform_report(reported_at="2026-05-04T02:00:00+00:00"))
    assert future.status_code == 422 and future.json()["errors"][0]["field"] == "reported_at"
    naive = await _post(sqlite_api, platform_report(reported_at="2026-05-04T00:30:00"))
    assert naive.status_code == 422
    assert (await _trail(sqlite_api, "HB-none")).status_code == 404
    assert await sqlite_api.runtime.store.head_position() == 0


async def _trail_of(api: Any, ref: str, **sign: Any) -> Any:
    _, headers = signed(None, int(api.clock().timestamp()), **sign)
    return await api.client.get(f"/platform/orders/{ref}", headers=headers)


async def test_a_complaint_on_an_order_it_did_not_report_shows_the_platform_its_complaint_only(
        sqlite_api: Any) -> None:
    api = sqlite_api
    customer = {"customer.name": "陈先生", "customer.phone": "13700001111", "customer.address": "洪山区珞喻路 9 号",
                "product.serial": "GR-SECRET-1"}
    order_id = (await api.client.post("/orders", json=order_body(**customer), headers=auth("partner"))).json()[
        "order_id"]
    await api.sync()
    by_id = platform_report(ref="HB-X-1", kind="complaint", order_id=order_id)
    by_phone = platform_report(ref="HB-X-2", kind="complaint", reporter={"name": "某人", "phone": "13700001111"},
                               product={**platform_report()["product"], "serial": "GR-SECRET-1"})
    for ref, body in (("HB-X-1", by_id), ("HB-X-2", by_phone)):
        answer = await _post(api, body)
        assert answer.status_code == 201 and answer.json()["order_id"] == order_id, answer.text
        await api.sync()
        trail = await _trail(api, ref)
        assert trail.status_code == 200, trail.text
        for secret in ("陈先生", "13700001111", "洪山区", "珞喻路", "jd-retail", "JD-2026"):
            assert secret not in trail.text, (ref, secret, trail.text)
        [order] = trail.json()["orders"]
        assert [e["type"] for e in order["timeline"]] == ["complaint.received"]
        assert order["timeline"][0]["data"]["external_ref"] == ref and order["status"] == "reported"
        assert order["complaints"] == 1
        assert order["customer_link"] is None  # the customer's status page is not the platform's to open
    # the partner that reported it still reads its whole order, both complaints included
    full = (await api.client.get(f"/orders/{order_id}", headers=auth("partner"))).json()
    assert full["customer"]["name"] == "陈先生" and full["complaints"] == 2


async def test_platform_secrets_rotate_with_two_valid_during_the_changeover(sqlite_api: Any) -> None:
    api = sqlite_api
    engine, clock = api.runtime.engine, api.clock
    await create_principal(engine, clock, id="hb-12345", role="platform", name="12345 热线", key="hb-key")
    first = await add_platform_secret(engine, clock, "hb-12345", actor="test", secret="first-secret-0123456789")
    report = platform_report(ref="HB-ROT-1")
    assert (await _post(api, report, secret=first, platform="hb-12345")).status_code == 201
    assert (await _post(api, report, platform="hb-12345")).status_code == 401  # not the demo fallback
    second = await add_platform_secret(engine, clock, "hb-12345", actor="test", overlap=timedelta(hours=1))
    for secret in (first, second):  # the changeover: both
        assert (await _post(api, report, secret=secret, platform="hb-12345")).status_code == 200
    clock.advance(hours=2)
    assert (await _post(api, report, secret=first, platform="hb-12345")).status_code == 401
    assert (await _post(api, report, secret=second, platform="hb-12345")).status_code == 200
    await api.sync()  # the trail reads the read model
    assert (await _trail_of(api, "HB-ROT-1", secret=second, platform="hb-12345")).status_code == 200
    # a trail is per platform: the deployment's default platform forwarded nothing under this ref
    assert (await _trail_of(api, "HB-ROT-1")).status_code == 404
    await revoke(engine, clock, "hb-12345", actor="test")
    assert (await _post(api, report, secret=second, platform="hb-12345")).status_code == 401


async def test_the_settings_secret_is_only_a_fallback_until_the_platform_has_its_own(sqlite_api: Any) -> None:
    api = sqlite_api
    assert (await _post(api, platform_report(ref="HB-F-1"))).status_code == 201  # demo-platform-secret
    own = await add_platform_secret(api.runtime.engine, api.clock, "gov-platform", actor="test")
    assert (await _post(api, platform_report(ref="HB-F-2"))).status_code == 401
    assert (await _post(api, platform_report(ref="HB-F-2"), secret=own)).status_code == 201
    malformed = await _post(api, platform_report(ref="HB-F-3"), secret=own, platform="bad id!")
    assert malformed.status_code == 401
