"""The ops dashboard in a real browser: the panels show what the API says, an order opens its timeline."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import Site, screenshot_path

pytestmark = pytest.mark.browser
SHANGHAI = ZoneInfo("Asia/Shanghai")


def this_month() -> str:
    return datetime.now(SHANGHAI).strftime("%Y-%m")


def month_with_visits() -> str:
    """The month whose panels are compared: this one, or in its first week the one before (the
    demo's three weeks end now, so a month two days old may hold no on-site visit yet)."""
    now = datetime.now(SHANGHAI)
    return now.strftime("%Y-%m") if now.day >= 8 else (now.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def yuan(fen: int) -> str:
    return f"{fen / 100:,.2f}"


async def open_dashboard(page: Page, site: Site, query: str = "") -> None:
    await page.goto(f"{site.url}/{query}")
    await page.wait_for_selector("body[data-loaded]", timeout=20_000)


async def rows(page: Page, table: str) -> str | None:
    return await page.get_attribute(f"#{table}", "data-rows")


async def test_demo_ran_without_refusals(site: Site) -> None:
    """The demo went through the real commands; the API refused none of them."""
    assert len(site.demo.orders) > 30
    assert not site.demo.refused, site.demo.examples


async def test_panels_show_the_api_numbers(page: Page, site: Site, tmp_path: Path) -> None:
    await open_dashboard(page, site)
    assert await page.input_value("#month") == this_month()  # the page opens on this month
    month = month_with_visits()
    if month != this_month():
        await open_dashboard(page, site, f"?month={month}")
        assert await page.input_value("#month") == month
    assert await page.input_value("#apikey") == "demo-viewer-key"  # the embedded demo pre-fills it

    # Freshness: one row per projection, the lag the API reports.
    projections = site.api.get("/ops/projections").json()["projections"]
    assert await rows(page, "freshness") == str(len(projections))
    for name, lag in projections.items():
        cell = page.locator(f'#freshness tr[data-projection="{name}"] td[data-lag-events]')
        assert int(await cell.inner_text()) >= 0 and lag["lag_events"] >= 0
    assert "lag" in await page.locator('[data-fresh="settlement"]').inner_text()

    # Settlement: totals per provider and payer, open orders, anomalies.
    totals = site.api.get("/settlement/totals", params={"month": month}).json()["items"]
    assert await rows(page, "totals") == str(len(totals))
    for t in totals:
        cell = page.locator(f'#totals tr[data-provider="{t["provider_id"]}"][data-payer="{t["payer"]}"] td[data-amount-fen]')
        assert await cell.inner_text() == yuan(t["amount_fen"])
    open_orders = site.api.get("/settlements/open").json()
    assert await rows(page, "open-orders") == str(open_orders["count"])
    for o in open_orders["items"][:30]:  # each proposal's flags and the lines a rule rejected
        cell = page.locator(f'#open-orders tr[data-order="{o["order_id"]}"] td[data-flags]')
        assert await cell.get_attribute("data-flags") == str(len(o["flags"]))
        ruled = sum(line["decided_by"] == "rule" for line in o["proposal"]["lines"]) if o["proposal"] else 0
        assert await cell.get_attribute("data-ruled") == str(ruled)
    anomalies = site.api.get("/settlement/anomalies", params={"since": f"{month}-01T00:00:00+08:00"}).json()
    assert await rows(page, "anomalies") == str(anomalies["count"])

    # Quality: the scoreboard's avg, complaints and amount per provider and maker.
    makers = site.api.get("/quality/scores", params={"month": month}).json()["makers"]
    scores = [(m["maker"], s) for m in makers for s in m["scores"]]
    assert await rows(page, "scores") == str(len(scores))
    for maker, s in scores:
        row = page.locator(f'#scores tr[data-provider="{s["id"]}"][data-maker="{maker}"]')
        if s["avg"] is not None:
            assert await row.locator("td[data-avg]").inner_text() == f"{float(s['avg']):.2f}"
        assert await row.locator("td[data-complaints]").inner_text() == str(s["complaints"])
        for cell, share in (("coverage", "form_coverage"), ("verified", "verified_share"),
                            ("contradicted", "contradicted_share")):
            shown = "" if s[share] is None else f"{(100 * Decimal(s[share])).quantize(Decimal(1), ROUND_HALF_UP)}%"
            assert await row.locator(f"td[data-{cell}]").inner_text() == shown, (cell, s)
        assert await row.locator("td[data-amount-fen]").inner_text() == yuan(s["amount_fen"])
    assert await rows(page, "late-items") == str(sum(len(m["late_items"]) for m in makers))
    complaints = [int(v) for v in await page.evaluate("JSON.parse(document.getElementById('chart-complaints').dataset.values)")]
    assert complaints[-1] == sum(s["complaints"] for _, s in scores)

    # SLA compliance per region: the chart plots what dispatch's compliance endpoint says.
    regions = site.api.get("/dispatch/compliance", params={"month": month}).json()["regions"]
    assert regions, "the demo month has on-site visits"
    plotted = await page.evaluate("JSON.parse(document.getElementById('chart-sla').dataset.values)")
    labels = await page.evaluate("JSON.parse(document.getElementById('chart-sla').dataset.labels)")
    assert labels == [r["province"] for r in regions]
    assert [float(v) for v in plotted] == [float(r["on_time_percent"]) for r in regions]

    await page.screenshot(path=str(screenshot_path("dashboard")), full_page=True)

    # The statistics sheet (表7-28) of a maker downloads as the API serves it.
    maker = makers[0]["maker"]
    async with page.expect_download() as download_info:
        await page.click(f'#sheets button[data-sheet="{maker}"]')
    download = await download_info.value
    assert download.suggested_filename == f"statistics-{maker}-{month}.csv"
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    api_sheet = site.api.get(f"/quality/months/{month}/statistics.csv", params={"maker": maker})
    assert saved.read_bytes() == api_sheet.content


def report(site: Site, ref: str) -> str:
    """A fresh order of now (real clock) from the demo partner, in 武汉 (a provincial capital: 4-hour SLA)."""
    body = {"partner_ref": ref,
            "customer": {"name": "张伟", "phone": "13800138000", "address": "洪山区珞喻路1号"},
            "product": {"category": "air_conditioner", "brand": "格力", "model": "KFR-35GW", "serial": f"GL{ref}",
                        "factory_date": "2025-03-01", "purchase_date": "2025-06-18"},
            "location": {"province": "湖北", "city": "武汉", "county": "洪山区", "provincial_capital": True},
            "fault": "不制冷"}
    created = site.api.post("/orders", json=body, headers={"Authorization": "Bearer demo-partner-key"})
    assert created.status_code == 201, created.text
    order_id: str = created.json()["order_id"]
    return order_id


def wait_until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 15  # embedded mode: the projections tail the store
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def report_and_dispatch(site: Site, ref: str) -> str:
    """A fresh order dispatched to 武汉洪山: due in 4 hours, so its countdown runs."""
    order_id = report(site, ref)
    dispatched = site.api.post(f"/dispatch/orders/{order_id}/dispatch",
                               json={"outlet_id": "WH-HS", "technician_id": "tech-wh-01"},
                               headers={"Authorization": "Bearer demo-dispatcher-key"})
    assert dispatched.status_code == 200, dispatched.text
    wait_until(lambda: order_id in [o["order_id"] for o in site.api.get("/dispatch/queues/WH-HS").json()["orders"]],
               "the dispatched order never reached its outlet's queue")
    return order_id


def report_and_escalate(site: Site, ref: str) -> str:
    """A fresh order the dealer cannot handle: escalated to the regional office, not dispatched yet."""
    order_id = report(site, ref)
    escalated = site.api.post(f"/orders/{order_id}/escalations", json={"reason": "经销商无法处理"},
                              headers={"Authorization": "Bearer demo-partner-key"})  # the operator only reads
    assert escalated.status_code == 201, escalated.text
    wait_until(lambda: any(o["order_id"] == order_id and o["tier"] == "regional"
                           for o in site.api.get("/dispatch/queues", params={"region": "武汉"}).json()["orders"]),
               "the escalated order never reached the region queue")
    return order_id


async def test_dispatch_panel_matches_the_queues(page: Page, site: Site) -> None:
    fresh = report_and_dispatch(site, "BROWSER-0001")
    waiting = report_and_escalate(site, "BROWSER-0002")
    eta = (datetime.now(UTC) + timedelta(hours=1)).replace(second=0, microsecond=0)
    coming = site.api.post(f"/dispatch/orders/{fresh}/on-the-way", json={"eta": eta.isoformat()},
                           headers={"Authorization": "Bearer demo-technician-key"})
    assert coming.status_code == 200, coming.text
    wait_until(lambda: any(o["order_id"] == fresh and o["eta"] for o in site.api.get("/dispatch/queues/WH-HS").json()["orders"]),
               "the technician's estimate never reached the queue")
    await open_dashboard(page, site)
    assert await page.locator(f'#queue tr[data-order="{fresh}"]').count() == 1
    local_eta = eta.astimezone(ZoneInfo("Asia/Shanghai"))
    assert await page.locator(f'#queue tr[data-order="{fresh}"] td.window').inner_text() == f"on the way, ETA {local_eta:%H:%M}"
    outlets = site.api.get("/dispatch/outlets").json()
    outlets = outlets if isinstance(outlets, list) else next(v for v in outlets.values() if isinstance(v, list))
    assert await rows(page, "outlet-queues") == str(len(outlets))
    total_open, queues = 0, []
    for outlet in outlets:
        queue = site.api.get(f"/dispatch/queues/{outlet['id']}").json()
        queues.append(queue)
        total_open += len(queue["orders"])
        cell = page.locator(f'#outlet-queues tr[data-outlet="{outlet["id"]}"] td[data-open]')
        assert await cell.inner_text() == str(len(queue["orders"]))
    cities = sorted({area["city"] for outlet in outlets for area in outlet["areas"]})
    open_ids = {o["order_id"] for q in queues for o in q["orders"]}
    for city in cities:
        regional = site.api.get("/dispatch/queues", params={"region": city}).json()["orders"]
        queues.append({"orders": regional})
        open_ids |= {o["order_id"] for o in regional}
        cell = page.locator(f'#region-queues tr[data-region="{city}"] td[data-open]')
        assert await cell.inner_text() == str(len(regional))
    assert await rows(page, "queue") == str(len(open_ids)) and total_open < len(open_ids)  # + the undispatched one
    booked = {o["order_id"] for q in queues for o in q["orders"] if o["window_start"]}
    for order_id in booked:  # the appointment window booked with the customer is in its row
        assert await page.locator(f'#queue tr[data-order="{order_id}"] td.window').inner_text() != ""
    overdue = site.api.get("/dispatch/overdue").json()
    assert await page.get_attribute("#overdue", "data-overdue") == str(len(overdue["orders"]))
    late = await page.locator('#overdue tr[data-overdue="1"]').evaluate_all("rs => rs.map(r => r.dataset.order)")
    assert late == [o["order_id"] for o in overdue["orders"]]
    escalated = {o["order_id"] for q in queues for o in q["orders"] if o["escalated"] or o["tier"] != "dealer"}
    shown = await page.locator('#overdue tr[data-overdue="0"]').evaluate_all("rs => rs.map(r => r.dataset.order)")
    assert set(shown) == escalated - set(late)
    assert waiting in shown
    waiting_complaints = await page.locator("#late-complaints tr[data-complaint]").evaluate_all(
        "rs => rs.map(r => [r.dataset.complaint, r.dataset.loose])")
    assert waiting_complaints == [[c["complaint_id"], "1" if c["order_id"].startswith("complaint:") else "0"]
                                  for c in overdue["complaints"]]
    # The countdown is live: computed in the browser from the due time, it moves.
    first = page.locator(f'#queue tr[data-order="{fresh}"] td.countdown')
    before = await first.inner_text()
    assert before.startswith(("3:5", "4:00"))  # h:mm:ss left of the 4-hour on-site SLA in a provincial capital
    # Ticks every second; a CPU-starved browser may tick late (CI once saw none in 1.5 s), so wait for it.
    await expect(first).not_to_have_text(before, timeout=15_000)
    await page.locator("#panel-dispatch").screenshot(path=str(screenshot_path("dispatch-panel")))


async def test_leads_and_certifications_panels_show_the_api_numbers(page: Page, site: Site) -> None:
    month = month_with_visits()
    await open_dashboard(page, site, f"?month={month}")
    assert site.api.get("/dispatch/leads").json()["leads"], "the demo noted no sales opportunity"
    conversion = site.api.get("/dispatch/leads/conversion", params={"month": month}).json()
    assert await rows(page, "lead-outlets") == str(len(conversion["outlets"]))
    assert await rows(page, "lead-technicians") == str(len(conversion["technicians"]))
    for o in conversion["outlets"]:
        row = page.locator(f'#lead-outlets tr[data-outlet="{o["outlet_id"]}"][data-maker="{o["maker"]}"]')
        assert await row.locator("td[data-leads]").inner_text() == str(o["leads"])
        assert await row.locator("td[data-won]").inner_text() == str(o["won"])
        assert await row.locator("td[data-amount-fen]").inner_text() == yuan(o["won_fen"])
    expiring = site.api.get("/dispatch/certifications", params={"expiring_within_days": 30}).json()["certifications"]
    assert expiring, "the demo's certifications should include some running out within 30 days"
    assert await rows(page, "certifications") == str(len(expiring))
    for c in expiring:
        cell = page.locator(f'#certifications tr[data-technician="{c["technician_id"]}"][data-category="{c["category"]}"] '
                            "td[data-days-left]")
        assert str(c["days_left"]) in await cell.all_inner_texts()
    await page.locator("#panel-leads").screenshot(path=str(screenshot_path("leads-panel")))


async def test_region_filter_reads_the_region_queue(page: Page, site: Site) -> None:
    region = "湖北"
    await open_dashboard(page, site, f"?region={region}")
    queue = site.api.get("/dispatch/queues", params={"region": region}).json()
    assert await rows(page, "queue") == str(len(queue["orders"]))
    assert region in await page.inner_text("#queue-scope")


async def test_order_page_shows_the_timeline(page: Page, site: Site) -> None:
    await open_dashboard(page, site)
    link = page.locator("a.order-link").first
    href = await link.get_attribute("href")
    assert href and href.startswith("/ui/orders/")
    await link.click()
    await page.wait_for_selector("body[data-loaded]")
    order_id = href.rsplit("/", 1)[1]
    order = site.api.get(f"/orders/{order_id}").json()
    assert await page.inner_text("#order-id") == order_id
    assert await page.get_attribute("#timeline", "data-events") == str(len(order["timeline"]))
    types = await page.locator("#timeline li").evaluate_all("els => els.map(e => e.dataset.type)")
    assert types == [e["type"] for e in order["timeline"]]
    assert types[0] == "order.reported"
    assert await page.inner_text('#order-state dd[data-field="status"]') == order["status"]
    await page.screenshot(path=str(screenshot_path("order-timeline")), full_page=True)


async def test_order_page_shows_finances_line_decisions(page: Page, site: Site) -> None:
    """The demo's finance rejects a line now and then, with a reason: the settled order's timeline shows it."""
    providers = {p["provider_id"] for m in (this_month(), month_with_visits())
                 for p in site.api.get("/settlement/totals", params={"month": m}).json()["items"]}
    decided = [(e["order_id"], line) for p in sorted(providers)
               for e in site.api.get(f"/settlement/ledger/{p}").json()["entries"] if e["kind"] == "settlement"
               for line in e["lines"] if line["reason"] and line["decided_by"] != "rule"]
    assert decided, "the demo decides some lines"
    order_id, line = decided[0]
    await page.goto(f"{site.url}/ui/orders/{order_id}")
    await page.wait_for_selector("body[data-loaded]")
    settled = page.locator('#timeline li[data-type="order.settled"]').last
    text = await settled.inner_text()
    assert line["reason"] in text and line["decision"] in text and line["decided_by"] in text


async def test_without_a_key_the_page_asks_for_one(page: Page, site: Site) -> None:
    await page.goto(site.url + "/")
    await page.evaluate("localStorage.setItem('aftersales.apiKey', 'wrong-key')")
    await page.reload()
    await page.wait_for_selector("body[data-loaded]")
    assert await page.is_visible("#keyerror")
    assert "refused" in await page.inner_text("#keyerror")
    assert await rows(page, "scores") == "unavailable"


async def test_parts_panel_shows_the_api_numbers(page: Page, site: Site) -> None:
    """Stock and shortages per outlet and the faulty parts outstanding, as the parts API says;
    an order waiting for a parts order shows the parts on its queue row."""
    fresh = report_and_dispatch(site, "BROWSER-0003")
    tech = {"Authorization": "Bearer demo-technician-key"}
    ordered = site.api.post("/parts/orders", headers=tech, json={
        "maker": "gree", "outlet_id": "WH-HS", "supplier": "dealer-gree", "for_order_id": fresh,
        "lines": [{"part_no": "AC-FAN-M01", "quantity": 1}]})
    assert ordered.status_code == 201, ordered.text
    paused = site.api.post(f"/dispatch/orders/{fresh}/sla/pause", headers=tech,
                           json={"reason": "parts_on_order", "parts_order_id": ordered.json()["id"]})
    assert paused.status_code == 200, paused.text
    wait_until(lambda: any(o["order_id"] == fresh and o["waiting_for_parts"]
                           for o in site.api.get("/dispatch/queues/WH-HS").json()["orders"]),
               "the queue never showed the parts wait")
    await open_dashboard(page, site)

    outlets = site.api.get("/dispatch/outlets").json()
    outlets = outlets if isinstance(outlets, list) else next(v for v in outlets.values() if isinstance(v, list))
    stocked = 0
    for outlet in outlets:
        answer = site.api.get(f"/parts/needs/{outlet['id']}", params={"days": 30})
        if answer.status_code == 404:
            continue
        stocked += 1
        items = answer.json()["items"]
        row = page.locator(f'#parts-stock tr[data-outlet="{outlet["id"]}"]')
        assert await row.locator("td[data-on-hand]").inner_text() == str(sum(max(0, i["on_hand"]) for i in items))
        assert await row.locator("td[data-on-order]").inner_text() == str(sum(i["on_order"] for i in items))
        assert await row.locator("td[data-short]").inner_text() == str(sum(i["short"] for i in items))
    assert stocked > 0 and await rows(page, "parts-stock") == str(stocked)  # the demo stocks every outlet
    hs = page.locator('#parts-stock tr[data-outlet="WH-HS"] td[data-on-order]')
    assert int(await hs.inner_text()) >= 1  # the parts order just requested

    returns = site.api.get("/parts/returns").json()["items"]
    assert returns, "the demo never sends back each maker's first faulty returnable part"
    assert await rows(page, "parts-returns") == str(len(returns))
    assert await page.get_attribute("#parts-returns", "data-overdue") == str(sum(r["overdue"] for r in returns))
    shown = await page.locator("#parts-returns tbody tr").evaluate_all("rs => rs.map(r => [r.dataset.order, r.dataset.part])")
    assert shown == [[r["order_id"], r["part_no"]] for r in returns]

    waits = page.locator(f'#queue tr[data-order="{fresh}"] [data-waits-for]')
    assert await waits.inner_text() == "waits for AC-FAN-M01×1"
    await page.locator("#panel-parts").screenshot(path=str(screenshot_path("parts-panel")))
