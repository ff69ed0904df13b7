"""The customer's status page in a real browser on a phone-sized viewport: the demo's order,
its progress, the feedback form filled in by tapping and sent, no console or CSP errors."""

from __future__ import annotations

import asyncio
from typing import Any

from playwright.async_api import Browser

from tests.browser.conftest import Site, screenshot_path

PHONE = {"width": 390, "height": 844}
OPERATOR = {"Authorization": "Bearer demo-operator-key"}


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
