"""Settlement over HTTP: standards, proposals, approval, corrections, ledgers, statements, flags."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import timedelta
from typing import Any

import pytest

from tests.settlement.factory import T0, lump_sum, part, repaired_order, reported, standard_body
from tests.support.app import auth

pytestmark = pytest.mark.integration


async def _standard(api: Any, **over: Any) -> dict[str, Any]:
    response = await api.client.post("/settlement/standards", json=standard_body(**over), headers=auth("finance"))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _approve(api: Any, order_id: str, **body: Any) -> Any:
    return await api.client.post(f"/settlements/{order_id}", json=body, headers=auth("finance"))


async def test_repaired_order_is_proposed_approved_once_and_booked(api: Any) -> None:
    await _standard(api)
    await repaired_order(api.runtime.store, "o-1", parts=[part("P-100", 5000)])
    await api.sync()
    open_ = (await api.client.get("/settlements/open", headers=auth("finance"))).json()
    [item] = open_["items"]
    assert item["order_id"] == "o-1" and item["partner_ref"] == "JD-0001"
    assert item["proposal"]["payer"] == "maker" and item["proposal"]["total_fen"] == 4000 + 9000 + 4500

    approved = await _approve(api, "o-1")
    assert approved.status_code == 201, approved.text
    settled = approved.json()["settlement"]
    assert settled["total_fen"] == 17500 == sum(line["amount_fen"] for line in settled["lines"])
    assert approved.json()["version"] == 5
    again = await _approve(api, "o-1")
    assert again.status_code == 409 and "already settled" in again.json()["detail"]

    await api.sync()
    assert (await api.client.get("/settlements/open", headers=auth("finance"))).json()["count"] == 0
    ledger = (await api.client.get("/settlement/ledger/prov-wuhan", headers=auth("finance"))).json()
    assert [(e["kind"], e["amount_fen"], e["balance_fen"]) for e in ledger["entries"]] == [("settlement", 17500, 17500)]
    detail = (await api.client.get("/settlements/o-1", headers=auth("supervisor"))).json()
    assert detail["settlement_id"] == settled["settlement_id"] and len(detail["settlements"]) == 1


async def test_settling_is_refused_when_not_repaired_unknown_or_without_standard(sqlite_api: Any) -> None:
    api = sqlite_api
    store = api.runtime.store
    assert (await _approve(api, "nope")).status_code == 404
    await repaired_order(store, "o-1")
    no_standard = await _approve(api, "o-1")
    assert no_standard.status_code == 422 and no_standard.json()["errors"][0]["field"] == "standard"
    await _standard(api)
    await store.append("o-2", [reported()], 0)
    not_repaired = await _approve(api, "o-2")
    assert not_repaired.status_code == 409 and "not repaired" in not_repaired.json()["detail"]
    bad = await api.client.post("/settlements/o-1", json={"distance_km": -3}, headers=auth("finance"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "distance_km"
    assert (await api.client.post("/settlements/o-1", json={}, headers=auth("supervisor"))).status_code == 403
    await repaired_order(store, "midea-1", maker="midea")
    other_maker = await _approve(api, "midea-1")
    assert other_maker.status_code == 404 and "belongs" not in other_maker.json()["detail"]  # as unknown
    assert await store.stream_version("o-1") == 4 and await store.stream_version("o-2") == 1  # nothing half-written


async def test_an_order_settles_under_the_standard_in_force_when_it_was_repaired(sqlite_api: Any) -> None:
    api = sqlite_api
    await _standard(api)
    await _standard(api, effective_from="2026-06-01", travel={"flat_fen": 100})
    await repaired_order(api.runtime.store, "may", at=T0)
    await repaired_order(api.runtime.store, "june", at=T0 + timedelta(days=40), serial="SN-2")
    may, june = (await _approve(api, "may")).json()["settlement"], (await _approve(api, "june")).json()["settlement"]
    assert (may["standard_id"], may["lines"][0]["amount_fen"]) == ("gree:prov-wuhan:v1", 4000)
    assert (june["standard_id"], june["lines"][0]["amount_fen"]) == ("gree:prov-wuhan:v2", 100)


async def test_a_correction_reverses_and_resettles_and_the_ledger_shows_all_three_entries(sqlite_api: Any) -> None:
    api = sqlite_api
    await _standard(api)
    await repaired_order(api.runtime.store, "o-1")
    first = (await _approve(api, "o-1")).json()["settlement"]
    corrected = await api.client.post("/settlements/o-1/corrections", json={"reason": "form says 5 km", "distance_km": 5},
                                      headers=auth("finance"))
    assert corrected.status_code == 201, corrected.text
    second = corrected.json()["settlement"]
    assert corrected.json()["reversed"] == [first["settlement_id"]] and second["replaces"] == first["settlement_id"]
    events = await api.runtime.store.read_stream("o-1")
    assert [e.type for e in events[-3:]] == ["order.settled", "order.settlement_reversed", "order.settled"]
    await api.sync()
    entries = (await api.client.get("/settlement/ledger/prov-wuhan", headers=auth("finance"))).json()["entries"]
    assert [(e["kind"], e["amount_fen"], e["balance_fen"]) for e in entries] == [
        ("settlement", 17500, 17500), ("reversal", -17500, 0), ("settlement", 15500, 15500)]
    reversed_ = await api.client.post("/settlements/o-1/reversal", json={"reason": "duplicate form"}, headers=auth("finance"))
    assert reversed_.status_code == 201
    await api.sync()
    assert (await api.client.get("/settlements/open", headers=auth("finance"))).json()["count"] == 1


async def test_monthly_statement_as_json_and_csv_reconciles_line_by_line(api: Any) -> None:
    await _standard(api)
    store = api.runtime.store
    await repaired_order(store, "o-1", parts=[part("P-100", 4000), part("P-200", 9000, qty=2)])
    await repaired_order(store, "o-2", in_warranty=False, serial="SN-2", ref="JD-0002")
    await _approve(api, "o-1")
    await _approve(api, "o-2")
    api.clock.advance(days=30)  # June
    await repaired_order(store, "o-3", serial="SN-3", at=T0 + timedelta(days=30))
    await _approve(api, "o-3")
    await api.sync()

    may = (await api.client.get("/settlement/statements/prov-wuhan?month=2026-05", headers=auth("provider"))).json()
    assert [e["order_id"] for e in may["entries"]] == ["o-1", "o-2"]
    maker_total = 4000 + 9000 + 4000 + 18000
    assert may["totals"]["by_payer"] == {"customer": {"entries": 1, "amount_fen": 17500},
                                         "maker": {"entries": 1, "amount_fen": maker_total}}
    assert (may["opening_balance_fen"], may["closing_balance_fen"]) == (0, maker_total)
    june = (await api.client.get("/settlement/statements/prov-wuhan?month=2026-06", headers=auth("finance"))).json()
    assert june["opening_balance_fen"] == maker_total and june["closing_balance_fen"] == maker_total + 17500

    response = await api.client.get("/settlement/statements/prov-wuhan?month=2026-05",
                                    headers={**auth("provider"), "Accept": "text/csv"})
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    lines = [r for r in rows if r["order_id"] in ("o-1", "o-2")]
    assert len(lines) == sum(len(e["lines"]) for e in may["entries"]) == 7
    assert sum(int(r["amount_fen"]) for r in lines) == may["totals"]["amount_fen"]
    assert {r["partner_ref"] for r in lines} == {"JD-0001", "JD-0002"} and all(r["repaired_at"] for r in lines)
    assert any("压缩机电容" in r["description"] for r in lines)
    as_query = await api.client.get("/settlement/statements/prov-wuhan?month=2026-05&format=csv", headers=auth("finance"))
    assert as_query.text == response.text


async def test_statement_access_and_input_are_checked(sqlite_api: Any) -> None:
    client = sqlite_api.client
    other = await client.get("/settlement/statements/prov-other?month=2026-05", headers=auth("provider"))
    assert other.status_code == 404
    bad = await client.get("/settlement/statements/prov-wuhan?month=2026-13", headers=auth("finance"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "month"
    assert (await client.get("/settlement/anomalies", headers=auth("provider"))).status_code == 403
    naive = await client.get("/settlement/anomalies?since=2026-05-01T00:00:00", headers=auth("supervisor"))
    assert naive.status_code == 422
    assert (await client.get("/settlement/totals?month=2026-05", headers=auth("partner"))).status_code == 403


async def test_standards_are_managed_by_the_makers_finance_and_validated(sqlite_api: Any) -> None:
    client = sqlite_api.client
    wrong_maker = await client.post("/settlement/standards", json=standard_body(maker="midea"), headers=auth("finance"))
    assert wrong_maker.status_code == 404
    as_provider = await client.post("/settlement/standards", json=standard_body(), headers=auth("provider"))
    assert as_provider.status_code == 403
    both = await client.post("/settlement/standards", json=standard_body(travel={"flat_fen": 1, "bands": [
        {"up_to_km": None, "fee_fen": 2}]}), headers=auth("finance"))
    assert both.status_code == 422 and "travel" in both.json()["detail"]
    first, second = await _standard(sqlite_api), await _standard(sqlite_api, effective_from="2026-07-01")
    assert (first["standard_id"], second["standard_id"]) == ("gree:prov-wuhan:v1", "gree:prov-wuhan:v2")
    listed = (await client.get("/settlement/standards", headers=auth("provider"))).json()
    assert [s["standard_id"] for s in listed["items"]] == ["gree:prov-wuhan:v1", "gree:prov-wuhan:v2"]
    assert listed["items"][0]["recorded_by"] == "finance:finance-01"


async def test_lump_sum_orders_are_charged_against_the_contract(sqlite_api: Any) -> None:
    api = sqlite_api
    contract = await _standard(api, **lump_sum())
    await repaired_order(api.runtime.store, "o-1")
    await repaired_order(api.runtime.store, "o-2", serial="SN-2", in_warranty=False)
    settled = (await _approve(api, "o-1")).json()["settlement"]
    assert settled["payer"] == "lump_sum" and settled["total_fen"] == 17500
    assert (await _approve(api, "o-2")).json()["settlement"]["payer"] == "customer"
    await api.sync()
    used = (await api.client.get(f"/settlement/contracts/{contract['standard_id']}", headers=auth("finance"))).json()
    assert (used["budget_fen"], used["consumed_fen"], used["remaining_fen"], used["orders"]) == (
        2_500_000, 17500, 2_500_000 - 17500, 1)
    corrected = await api.client.post("/settlements/o-1/corrections", json={"reason": "5 km", "distance_km": 5},
                                      headers=auth("finance"))
    assert corrected.json()["settlement"]["total_fen"] == 15500
    await api.sync()
    used = (await api.client.get(f"/settlement/contracts/{contract['standard_id']}", headers=auth("provider"))).json()
    assert (used["consumed_fen"], used["orders"]) == (15500, 1)  # the reversed settlement no longer counts
    ledger = (await api.client.get("/settlement/ledger/prov-wuhan", headers=auth("finance"))).json()
    assert ledger["balance_fen"] == 0  # neither contract nor customer work is owed per order by the maker
    totals = (await api.client.get("/settlement/totals?month=2026-05", headers=auth("supervisor"))).json()
    assert {(i["payer"], i["amount_fen"]) for i in totals["items"]} == {("lump_sum", 15500), ("customer", 17500)}


async def test_anomalies_are_listed_with_reasons(sqlite_api: Any) -> None:
    api = sqlite_api
    await _standard(api)
    store = api.runtime.store
    await repaired_order(store, "o-1", parts=[part("P-100", 9999, original=False)], hours="5")
    await repaired_order(store, "o-2", at=T0 + timedelta(days=12), parts=[])
    await repaired_order(store, "o-3", serial="SN-9", at=T0 + timedelta(days=1), parts=[])
    await api.sync()
    body = (await api.client.get("/settlement/anomalies", headers=auth("supervisor"))).json()
    found = sorted((i["kind"], i["order_id"]) for i in body["items"])
    assert found == [("labour_above_norm", "o-1"), ("non_original_part", "o-1"), ("part_above_price_list", "o-1"),
                     ("repeat_repair", "o-2")]
    assert all(i["reason"] for i in body["items"])
    recent = (await api.client.get("/settlement/anomalies?since=2026-05-10T00:00:00Z", headers=auth("finance"))).json()
    assert [i["order_id"] for i in recent["items"]] == ["o-2"]


async def test_two_clerks_approving_at_once_settle_the_order_exactly_once(sqlite_api: Any) -> None:
    api = sqlite_api
    await _standard(api)
    await repaired_order(api.runtime.store, "o-1")
    first, second = await asyncio.gather(_approve(api, "o-1"), _approve(api, "o-1"))
    assert sorted([first.status_code, second.status_code]) == [201, 409]
    types = [e.type for e in await api.runtime.store.read_stream("o-1")]
    assert types.count("order.settled") == 1


async def test_a_settlement_whose_maker_is_unknown_is_nobodys_but_ops(sqlite_api: Any) -> None:
    """A row the projection holds without a maker (its order.reported not seen) was readable by
    any finance clerk or supervisor of any maker."""
    from tests.settlement.factory import dispatched, repaired

    api = sqlite_api
    await api.runtime.store.append("o-orphan", [dispatched("prov-other", T0), repaired(at=T0)], 0)
    await api.sync()
    for role in ("finance", "supervisor"):
        answer = await api.client.get("/settlements/o-orphan", headers=auth(role))
        assert answer.status_code == 404, (role, answer.text)
    assert (await api.client.get("/settlements/o-orphan", headers=auth("operator"))).status_code == 200
