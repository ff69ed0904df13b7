"""The customer's side over HTTP: the link handed to the partner, the page, its openings,
feedback through quality's rules, revocation, and the notifications on the log channel."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from services.notify.tables import link_opens
from tests.intake.support import order_body
from tests.quality import factory
from tests.support.app import auth

pytestmark = pytest.mark.integration

OUTLET = {
    "id": "outlet-wh-1", "name": "洪山服务网点", "provider_id": "prov-wuhan",
    "areas": [{"city": "武汉", "county": "洪山区"}],
    "technicians": [{"id": "tech-1", "name": "李师傅", "skills": ["air_conditioner"],
                     "phone": "13912345678"}],
    "capacity_per_day": 20, "contact": "027-8888 0000",
}
ADMIN = {"Authorization": "Bearer demo-admin-key"}
FORM = {"timeliness": "A", "quality": "B", "attitude": "A", "overall": "5", "comment": "准时"}


def path(link: str) -> str:
    return link[link.index("/s/"):]


async def reported(api: Any) -> tuple[str, str]:
    """A partner reports an order; returns its id and the customer link it was given."""
    answer = await api.client.post("/orders", json=order_body(), headers=auth("partner"))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["customer_link"].startswith("http://127.0.0.1:8000/s/v1.")
    return body["order_id"], body["customer_link"]


async def repaired(api: Any, order_id: str) -> None:
    created = await api.client.post("/dispatch/outlets", json=OUTLET, headers=auth("dispatcher"))
    assert created.status_code == 201, created.text
    now = api.clock()
    await api.runtime.store.append(order_id, [factory.dispatched(now - timedelta(hours=2)),
                                              factory.repaired(now - timedelta(hours=1))], 1)
    await api.sync()


async def states(api: Any, order_id: str) -> dict[str, str]:
    listed = await api.client.get("/ops/notifications", params={"order_id": order_id},
                                  headers=auth("operator"))
    assert listed.status_code == 200, listed.text
    return {item["step"]: item["state"] for item in listed.json()["items"]}


async def test_the_partner_gets_the_link_and_the_page_shows_only_that_order(sqlite_api: Any) -> None:
    api = sqlite_api
    order_id, link = await reported(api)
    other_id, other_link = await reported(api)
    assert link != other_link
    view = await api.client.get(f"/orders/{order_id}", headers=auth("partner"))
    assert view.json()["customer_link"] == link
    await api.sync()
    page = await api.client.get(path(link), headers={"user-agent": "phone-test"})
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert "服务进度" in page.text and "已受理" in page.text and "不制冷" in page.text
    assert "13800138000" not in page.text  # the customer's own phone is not shown
    assert "script" not in page.text and "style=" not in page.text  # CSP: external CSS only
    assert other_id not in page.text
    css = await api.client.get("/s/static/status.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    async with api.runtime.engine.connect() as conn:
        opens = (await conn.execute(select(link_opens.c.order_id, link_opens.c.user_agent))).all()
    assert [tuple(o) for o in opens] == [(order_id, "phone-test")]


async def test_a_tampered_or_revoked_link_is_not_found(sqlite_api: Any) -> None:
    api = sqlite_api
    order_id, link = await reported(api)
    await api.sync()
    tampered = path(link)[:-2] + ("AA" if not path(link).endswith("AA") else "BB")
    assert (await api.client.get(tampered)).status_code == 404
    assert (await api.client.get("/s/v1.not-a-token.1.2.x")).status_code == 404
    refused = await api.client.post(f"/ops/status-links/{order_id}/revocation",
                                    headers=auth("dispatcher"))
    assert refused.status_code == 403
    api.clock.advance(minutes=5)
    revoked = await api.client.post(f"/ops/status-links/{order_id}/revocation",
                                    headers=ADMIN)
    assert revoked.status_code == 200, revoked.text
    new_link = revoked.json()["status_link"]
    assert new_link != link
    gone = await api.client.get(path(link))
    assert gone.status_code == 404 and "revoked" in gone.json()["detail"]
    assert (await api.client.get(path(new_link))).status_code == 200
    current = await api.client.get(f"/ops/status-links/{order_id}", headers=auth("operator"))
    assert current.json()["status_link"] == new_link and current.json()["opens"] == 1
    viewer = await api.client.get(f"/ops/status-links/{order_id}",
                                headers={"Authorization": "Bearer demo-viewer-key"})
    assert viewer.status_code == 403  # the rows span every maker: not for a scoped viewer
    api.clock.advance(days=60)  # NOTIFY_LINK_TTL_DAYS: each link lives 60 days from its issue
    assert (await api.client.get(path(new_link))).status_code == 200
    api.clock.advance(seconds=2)
    expired = await api.client.get(path(new_link))
    assert expired.status_code == 404 and "expired" in expired.json()["detail"]


async def test_feedback_after_the_repair_once_per_order_with_quality_rules(sqlite_api: Any) -> None:
    api = sqlite_api
    order_id, link = await reported(api)
    await api.sync()
    before = await api.client.get(path(link))
    assert "服务评价" not in before.text  # no form before the repair
    early = await api.client.post(f"{path(link)}/feedback", data=FORM)
    assert early.status_code == 409, early.text  # quality: not repaired yet
    await repaired(api, order_id)
    page = await api.client.get(path(link))
    assert "洪山服务网点" in page.text and "李师傅" in page.text
    assert "139****5678" in page.text and "13912345678" not in page.text
    assert "服务评价" in page.text and "name='overall'" in page.text
    bad = await api.client.post(f"{path(link)}/feedback", data={**FORM, "quality": "F"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "quality"
    sent = await api.client.post(f"{path(link)}/feedback", data=FORM)
    assert sent.status_code == 303, sent.text
    history = await api.runtime.store.read_stream(order_id)
    [review] = [e for e in history if e.type == "order.reviewed"]
    assert review.data["channel"] == "feedback_form" and review.data["overall"] == 5
    assert review.actor == "customer:status-link"
    await api.sync()
    thanks = await api.client.get(sent.headers["location"])
    assert "感谢您的评价" in thanks.text and "name='overall'" not in thanks.text
    again = await api.client.post(f"{path(link)}/feedback", data=FORM)
    assert again.status_code == 409  # one feedback_form per order
    provider = await api.client.post(f"/orders/{order_id}/reviews", headers=auth("provider"),
                                     json={"channel": "feedback_form", "timeliness": "A",
                                           "quality": "A", "attitude": "A", "overall": 5})
    assert provider.status_code == 403


async def test_each_step_is_notified_on_the_log_channel_with_the_link(sqlite_api: Any) -> None:
    api = sqlite_api
    order_id, link = await reported(api)
    await api.sync()
    await repaired(api, order_id)
    for _ in range(100):  # the dispatcher job runs in the app; it is woken after the commit
        found = await states(api, order_id)
        if found.get("repaired") == "delivered":
            break
        await asyncio.sleep(0.05)
    assert found == {"reported": "delivered", "dispatched": "delivered",
                     "repaired": "delivered", "feedback_request": "pending"}
    async with api.runtime.engine.connect() as conn:
        from services.notify.tables import notifications
        texts = (await conn.execute(select(notifications.c.payload))).scalars().all()
    assert all(link in t["text"] for t in texts), texts
    viewer = await api.client.get("/ops/notifications", headers=auth("partner"))
    assert viewer.status_code == 403


async def test_a_rebuild_without_the_keys_gives_the_same_read_model(sqlite_api: Any) -> None:
    """The CLI's rebuild (and the stack tests') runs the projection on an engine with no keys
    bound: the read model must not depend on them, or a rebuild would replace every recipient
    ref and status link (and the messages after it would carry the wrong ones)."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from libs.events.projection import Projector, dump_read_model
    from libs.events.store import store_for
    from services.notify.projection import PROJECTION

    api = sqlite_api
    order_id, _link = await reported(api)
    await repaired(api, order_id)
    live = await dump_read_model(api.runtime.engine, PROJECTION.metadata)
    bare = create_async_engine(api.runtime.engine.url)  # what `python -m libs.events.cli rebuild` has
    try:
        await Projector(bare, PROJECTION, store_for(bare)).rebuild()
        assert await dump_read_model(bare, PROJECTION.metadata) == live
    finally:
        await bare.dispose()
