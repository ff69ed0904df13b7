"""The customer's status page in a real browser on a phone-sized viewport: the demo's order,
its progress, the feedback form filled in by tapping and sent; an order waiting for its visit
booked into a window and moved by tapping; no console or CSP errors."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from playwright.async_api import Browser

from bench.intake_bodies import order_body
from tests.browser.conftest import Site, screenshot_path

PHONE = {"width": 390, "height": 844}
OPERATOR = {"Authorization": "Bearer demo-operator-key"}
PARTNER = {"Authorization": "Bearer demo-partner-key"}
DISPATCHER = {"Authorization": "Bearer demo-dispatcher-key"}
OUTLET = {
    "id": "outlet-browser", "name": "洪山改约网点", "provider_id": "prov-wuhan",
    "areas": [{"city": "武汉", "county": "洪山区"}], "capacity_per_day": 20, "contact": "027-8888 0000",
    "technicians": [{"id": "tech-b1", "name": "周师傅", "skills": ["air_conditioner"]},
                    {"id": "tech-b2", "name": "吴师傅", "skills": ["air_conditioner"]}],
}


def _path(link: str) -> str:
    return link[link.index("/s/"):]


def _repaired_without_feedback(site: Site) -> dict[str, Any]:
    for order_id in site.demo.orders:
        found = site.api.get(f"/ops/status-links/{order_id}", headers=OPERATOR)  # ops only, not the viewer
        if found.status_code != 200:
            continue
        link: dict[str, Any] = found.json()
        if link["status"] in ("repaired", "settled") and not link["feedback_given"]:
            return link
    raise AssertionError("the demo has no repaired order without a feedback form")


async def test_the_status_page_on_a_phone_with_the_feedback_form(site: Site, browser: Browser) -> None:
    link = _repaired_without_feedback(site)
    assert link["status_link"], link
    context = await browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai",
                                        is_mobile=True, has_touch=True)
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    try:
        answer = await page.goto(site.url + _path(link["status_link"]))
        assert answer is not None and answer.status == 200
        assert await page.locator("h1").inner_text() == "服务进度"
        assert await page.locator(".steps li.done").count() == 4  # 已受理 … 已完工
        facts = await page.locator(".facts").inner_text()
        assert "服务网点" in facts and "维修师傅" in facts
        background = await page.locator("button[type=submit]").evaluate(
            "b => getComputedStyle(b).backgroundColor")
        assert background == "rgb(31, 95, 191)"  # the external stylesheet applied under the CSP
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]  # nothing wider than the phone
        for field, grade in (("timeliness", "A"), ("quality", "B"), ("attitude", "A")):
            await page.locator(f"input[name={field}][value={grade}]").tap()
        await page.locator("input[name=overall][value='5']").tap()
        await page.locator("textarea[name=comment]").fill("师傅准时，修得好")
        await page.screenshot(path=str(screenshot_path("status-page-phone")), full_page=True)
        await page.locator("button[type=submit]").tap()
        await page.wait_for_selector("#thanks")
        assert await page.locator("form.feedback").count() == 0
        for _ in range(100):  # the notify read model follows the order.reviewed event
            after = site.api.get(f"/ops/status-links/{link['order_id']}", headers=OPERATOR).json()
            if after["feedback_given"]:
                break
            await asyncio.sleep(0.05)
        assert after["feedback_given"] is True and after["opens"] >= 2
        assert problems == []
    finally:
        await context.close()


def _dispatched_without_window(site: Site) -> dict[str, Any]:
    """A fresh order (now, so its windows lie ahead) dispatched without a window; its link."""
    created = site.api.post("/orders", json=order_body(partner_ref=f"BROWSER-{uuid.uuid4().hex[:10]}"),
                            headers=PARTNER)
    assert created.status_code == 201, created.text
    order_id = created.json()["order_id"]
    assert site.api.post("/dispatch/outlets", json=OUTLET, headers=DISPATCHER).status_code in (201, 409)
    for _ in range(100):  # dispatch's read model must know the order first
        sent = site.api.post(f"/dispatch/orders/{order_id}/dispatch", headers=DISPATCHER,
                             json={"outlet_id": OUTLET["id"], "technician_id": "tech-b1"})
        if sent.status_code != 404:
            break
    assert sent.status_code == 200, sent.text
    for _ in range(100):
        link: dict[str, Any] = site.api.get(f"/ops/status-links/{order_id}", headers=OPERATOR).json()
        if link.get("status") == "dispatched":
            return link
    raise AssertionError(f"the notify read model never saw {order_id} dispatched")


async def test_the_customer_books_and_moves_the_window_on_a_phone(site: Site, browser: Browser) -> None:
    link = _dispatched_without_window(site)
    context = await browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai",
                                        is_mobile=True, has_touch=True)
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    try:
        answer = await page.goto(site.url + _path(link["status_link"]))
        assert answer is not None and answer.status == 200
        assert await page.locator("form.reschedule h2").inner_text() == "预约上门时间"
        options = page.locator("input[name=window_start]")
        assert await options.count() >= 2
        last = await options.last.get_attribute("value")  # far enough ahead to be moved again
        await options.last.tap()
        await page.locator("form.reschedule button[type=submit]").tap()
        await page.wait_for_selector("#moved")
        facts = await page.locator(".facts").inner_text()
        assert "预约时段" in facts
        assert await page.locator("form.reschedule h2").inner_text() == "改约上门时间"
        assert await page.locator(f"input[name=window_start][value='{last}']").count() == 0  # booked: not offered
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
        await page.screenshot(path=str(screenshot_path("status-page-reschedule")), full_page=True)
        first = await page.locator("input[name=window_start]").first.get_attribute("value")
        await page.locator("input[name=window_start]").first.tap()  # an earlier window: no SLA pause
        await page.locator("form.reschedule button[type=submit]").tap()
        await page.wait_for_selector("#moved")
        moved = await page.locator(".facts").inner_text()
        assert moved != facts and "预约时段" in moved
        for _ in range(100):  # the dispatcher's queue follows: the window and one move (a booking is none)
            queue = site.api.get(f"/dispatch/queues/{OUTLET['id']}", headers=DISPATCHER).json()["orders"]
            row = next(o for o in queue if o["order_id"] == link["order_id"])
            if row["reschedules"] == 1:
                break
            await asyncio.sleep(0.05)
        assert row["reschedules"] == 1 and row["window_start"] == str(first).replace("+00:00", "Z")
        assert problems == []
    finally:
        await context.close()
