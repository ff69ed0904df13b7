"""Service-level inputs (issue 14): what used to be a 500, or accepted and then dead-lettered,
is a 422 naming the field; strict types; a repeated partner_ref is a 409."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from libs.events.schema import dead_letters
from tests.intake.support import order_body
from tests.settlement.factory import part, repaired_order, standard_body
from tests.support.app import auth

pytestmark = pytest.mark.integration
NUL = "bad\x00text"
HUGE = 10**30


def _fields(response: Any) -> list[str]:
    assert response.status_code == 422, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    return [e["field"] for e in response.json()["errors"]]


def _names(response: Any, field: str) -> None:
    found = _fields(response)
    assert any(f == field or f.endswith("." + field) for f in found), found


@pytest.mark.parametrize("month", ["0000-01", "9999-12", "1999-12", "2101-01"])
async def test_months_outside_the_window_are_refused_by_every_service(sqlite_api: Any, month: str) -> None:
    client = sqlite_api.client
    _names(await client.get("/dispatch/compliance", params={"month": month}, headers=auth("dispatcher")), "month")
    _names(await client.post(f"/quality/months/{month}/close", params={"maker": "gree"},
                             headers=auth("supervisor")), "month")
    _names(await client.get("/quality/scores", params={"month": month}, headers=auth("supervisor")), "month")
    _names(await client.get("/settlement/totals", params={"month": month}, headers=auth("finance")), "month")


async def test_a_month_inside_the_window_is_answered(sqlite_api: Any) -> None:
    found = await sqlite_api.client.get("/dispatch/compliance", params={"month": "2000-01"},
                                        headers=auth("dispatcher"))
    assert found.status_code == 200, found.text


@pytest.mark.parametrize(("name", "value"), [
    ("reported_from", "0001-01-01"), ("reported_to", "9999-12-31"), ("reported_to", "0"), ("reported_from", "20260101"),
])
async def test_order_list_dates_outside_the_window_or_not_dates_are_refused(sqlite_api: Any, name: str,
                                                                           value: str) -> None:
    found = await sqlite_api.client.get("/orders", params={name: value}, headers=auth("partner"))
    _names(found, name)


async def test_a_calendar_time_with_a_zone_is_refused(sqlite_api: Any) -> None:
    found = await sqlite_api.client.put("/dispatch/sla-policies/gree", json={"calendar": {"closes": "00:00:00Z"}},
                                        headers=auth("supervisor"))
    _names(found, "closes")


def _outlet(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"id": "o-nul", "name": "武汉洪山网点", "provider_id": "prov-wuhan",
                            "areas": [{"city": "武汉"}], "capacity_per_day": 10}
    return body | over


async def test_nul_and_invisible_characters_are_refused_in_names_and_free_text(api: Any) -> None:
    """On PostgreSQL a NUL byte used to be a 500 (text refuses it) or a misleading 503."""
    client = api.client
    repair = {"diagnosis": NUL, "solution": "换电容", "labour_hours": "1"}
    _names(await client.post("/dispatch/orders/o-1/repair", json=repair, headers=auth("technician")), "diagnosis")
    pause = {"reason": "parts_on_order", "note": NUL}
    _names(await client.post("/dispatch/orders/o-1/sla/pause", json=pause, headers=auth("dispatcher")), "note")
    complaint = {"channel": "hotline", "text": NUL, "maker": "gree", "provider_id": "prov-wuhan"}
    _names(await client.post("/quality/complaints", json=complaint, headers=auth("supervisor")), "text")
    _names(await client.post("/dispatch/outlets", json=_outlet(name=NUL), headers=auth("dispatcher")), "name")
    _names(await client.post("/dispatch/outlets", json=_outlet(name="网点\u202e"), headers=auth("dispatcher")),
           "name")
    reverse = {"reason": "a\u200bb"}
    _names(await client.post("/settlements/o-1/reversal", json=reverse, headers=auth("finance")), "reason")


async def test_what_finance_approves_is_in_the_providers_ledger_with_no_dead_letters(api: Any) -> None:
    """A fee standard at 10^30 fen used to be accepted; the settled order was then dead-lettered by
    the settlement and quality projections and missing from the ledger. Whatever is accepted
    must be applied: the standard is refused, a standard at the bound settles and is booked."""
    client = api.client
    huge = standard_body(labour_fen_per_hour={"air_conditioner": HUGE})
    _names(await client.post("/settlement/standards", json=huge, headers=auth("finance")), "air_conditioner")
    huge = standard_body(parts_price_list={"P-100": HUGE})
    _names(await client.post("/settlement/standards", json=huge, headers=auth("finance")), "P-100")
    at_bound = standard_body(parts_price_list={"P-100": 10**12})
    assert (await client.post("/settlement/standards", json=at_bound, headers=auth("finance"))).status_code == 201
    await repaired_order(api.runtime.store, "o-1", parts=[part("P-100", 10**11)])
    await api.sync()
    approved = await client.post("/settlements/o-1", json={}, headers=auth("finance"))
    assert approved.status_code == 201, approved.text
    await api.sync()
    ledger = (await client.get("/settlement/ledger/prov-wuhan", headers=auth("finance"))).json()
    assert [e["order_id"] for e in ledger["entries"]] == ["o-1"]
    assert ledger["complete"] is True
    assert await api.runtime.dead_letter_counts() == {}
    month = ledger["entries"][0]["booked_at"][:7]
    sheet = await client.get("/settlement/statements/prov-wuhan", params={"month": month, "format": "csv"},
                             headers=auth("finance"))
    assert sheet.headers["x-figures-complete"] == "true" and "INCOMPLETE" not in sheet.text
    assert "o-1" in sheet.text


async def test_a_repair_part_at_10_30_fen_is_refused_naming_the_field(sqlite_api: Any) -> None:
    repair = {"diagnosis": "电容损坏", "solution": "换电容", "labour_hours": "1",
              "parts": [{"part_no": "P-1", "quantity": 1, "unit_cost_fen": HUGE, "original": True}]}
    found = await sqlite_api.client.post("/dispatch/orders/o-1/repair", json=repair, headers=auth("technician"))
    _names(found, "unit_cost_fen")


async def test_a_complaint_dated_0001_01_01_is_refused(sqlite_api: Any) -> None:
    complaint = {"channel": "hotline", "text": "服务差", "maker": "gree", "provider_id": "prov-wuhan",
                 "received_at": "0001-01-01T00:00:00Z"}
    found = await sqlite_api.client.post("/quality/complaints", json=complaint, headers=auth("supervisor"))
    _names(found, "received_at")


async def test_figures_over_a_read_model_with_dead_letters_say_they_are_incomplete(sqlite_api: Any) -> None:
    api = sqlite_api
    async with api.runtime.engine.begin() as conn:
        for projection in ("settlement", "quality"):
            await conn.execute(dead_letters.insert().values(
                projection=projection, event_id=uuid.uuid4(), stream_id="o-1", version=1, position=1,
                type="order.settled", schema_version=1, reason="test", event={}, created_at=api.clock()))
    ledger = await api.client.get("/settlement/ledger/prov-wuhan", headers=auth("finance"))
    assert ledger.json()["complete"] is False and "settlement" in ledger.json()["incomplete"]
    statement = await api.client.get("/settlement/statements/prov-wuhan", params={"month": "2026-05"},
                                     headers=auth("finance"))
    assert statement.json()["complete"] is False
    scores = await api.client.get("/quality/scores", params={"month": "2026-05"}, headers=auth("supervisor"))
    assert scores.json()["complete"] is False and "quality" in scores.json()["incomplete"]
    # the downloads say it too: a header, and a last row a spreadsheet shows
    sheet = await api.client.get("/settlement/statements/prov-wuhan", params={"month": "2026-05", "format": "csv"},
                                 headers=auth("finance"))
    assert sheet.headers["x-figures-complete"] == "false" and sheet.headers["x-figures-incomplete"] == "settlement"
    assert sheet.text.rstrip().splitlines()[-1].startswith("INCOMPLETE"), sheet.text
    table = await api.client.get("/quality/months/2026-05/statistics.csv", params={"maker": "gree"},
                                 headers=auth("supervisor"))
    assert table.status_code == 200 and table.headers["x-figures-complete"] == "false", table.text
    assert table.text.rstrip().splitlines()[-1].startswith("INCOMPLETE"), table.text


@pytest.mark.parametrize(("path", "params"), [
    ("/settlement/anomalies", {"since": "0.5"}),
    ("/settlement/anomalies", {"since": "0"}),
])
async def test_query_datetimes_refuse_bare_numbers(sqlite_api: Any, path: str, params: dict[str, str]) -> None:
    _names(await sqlite_api.client.get(path, params=params, headers=auth("finance")), "since")


@pytest.mark.parametrize(("body", "field"), [
    (_outlet(active=0), "active"),
    (_outlet(capacity_per_day=False), "capacity_per_day"),
    (_outlet(capacity_per_day="10"), "capacity_per_day"),
])
async def test_bodies_refuse_loose_coercions(sqlite_api: Any, body: dict[str, Any], field: str) -> None:
    _names(await sqlite_api.client.post("/dispatch/outlets", json=body, headers=auth("dispatcher")), field)


async def test_staff_count_false_is_not_a_number(sqlite_api: Any) -> None:
    found = await sqlite_api.client.post("/dispatch/orders/o-1/arrive", json={"staff_count": False},
                                         headers=auth("technician"))
    _names(found, "staff_count")


async def test_a_repeated_partner_ref_without_a_key_is_a_409_naming_the_order(api: Any) -> None:
    client = api.client
    body = order_body(partner_ref="JD-2026-000123")
    first = await client.post("/orders", json=body, headers=auth("partner"))
    assert first.status_code == 201, first.text
    await api.sync()
    again = await client.post("/orders", json=body, headers=auth("partner"))
    assert again.status_code == 409, again.text
    assert again.json()["order_id"] == first.json()["order_id"]
    assert first.json()["order_id"] in again.json()["detail"]
    other = await client.post("/orders", json=body, headers=auth("partner2"))
    assert other.status_code == 201, other.text  # another partner's references are its own


async def test_racing_reports_of_one_partner_ref_make_one_order(api: Any) -> None:
    """The repeated-reference check read the intake read model, which lags the store: requests
    sent together (no key, or each its own key) all passed it and made one order each."""
    client, body = api.client, order_body()
    answers = await asyncio.gather(*(client.post("/orders", json=body, headers=auth("partner"))
                                     for _ in range(4)),
                                   *(client.post("/orders", json=body,
                                                 headers={**auth("partner"), "Idempotency-Key": f"k-{i}"})
                                     for i in range(4)))
    assert sorted(a.status_code for a in answers) == [201] + [409] * 7, [a.text for a in answers]
    made = next(a for a in answers if a.status_code == 201).json()["order_id"]
    assert {a.json()["order_id"] for a in answers if a.status_code == 409} == {made}
    assert await api.runtime.store.head_position() == 1


async def test_a_key_reused_for_another_partner_ref_is_a_422_naming_the_key(api: Any) -> None:
    headers = {**auth("partner"), "Idempotency-Key": "once"}
    assert (await api.client.post("/orders", json=order_body(partner_ref="JD-1"), headers=headers)).status_code == 201
    other = await api.client.post("/orders", json=order_body(partner_ref="JD-OTHER"), headers=headers)
    assert other.status_code == 422, other.text
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert await api.runtime.store.head_position() == 1


async def test_an_oversized_order_is_413_chunked_or_not(sqlite_api: Any) -> None:
    """On the real hot route (POST /orders has a fast path of its own), not only a test app."""
    big = b'{"partner_ref": "' + b"x" * (10 * 1024 * 1024) + b'"}'

    async def chunks() -> Any:
        for start in range(0, len(big), 65536):
            yield big[start:start + 65536]

    headers = {**auth("partner"), "Content-Type": "application/json"}
    sized = await sqlite_api.client.post("/orders", content=big, headers=headers)
    chunked = await sqlite_api.client.post("/orders", content=chunks(), headers=headers)
    for answer in (sized, chunked):
        assert answer.status_code == 413, answer.text[:200]
        assert answer.headers["content-type"].startswith("application/problem+json")
    assert await sqlite_api.runtime.store.head_position() == 0
