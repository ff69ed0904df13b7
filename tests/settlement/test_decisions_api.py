"""Finance over HTTP: flags on the open proposals, line decisions with reasons, claimed vs approved everywhere."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.settlement.factory import part, repaired_order, standard_body
from tests.support.app import auth

pytestmark = pytest.mark.integration

PARTS = [part("P-100", 4000), part("P-200", 9000, original=False)]  # lines: travel, labour, P-100, P-200


async def _setup(api: Any) -> None:
    created = await api.client.post("/settlement/standards", json=standard_body(), headers=auth("finance"))
    assert created.status_code == 201, created.text
    await repaired_order(api.runtime.store, "o-1", parts=PARTS, hours="5")
    await api.sync()


async def test_open_proposals_carry_flags_and_the_rules_decision(sqlite_api: Any) -> None:
    api = sqlite_api
    await _setup(api)
    body = (await api.client.get("/settlements/open", headers=auth("supervisor"))).json()
    [item] = body["items"]
    assert sorted(f["kind"] for f in item["flags"]) == ["labour_above_norm", "non_original_part"]
    assert all(f["reason"] for f in item["flags"])
    lines = item["proposal"]["lines"]
    assert [(x["line"], x["kind"], x["decision"]) for x in lines] == [
        (0, "travel", "approved"), (1, "labour", "approved"), (2, "part", "approved"), (3, "part", "rejected")]
    assert (lines[3]["claimed_fen"], lines[3]["amount_fen"], lines[3]["decided_by"]) == (9000, 0, "rule")
    assert item["proposal"]["total_fen"] == 4000 + 30000 + 4000 == body["total_proposed_fen"]
    assert item["proposal"]["claimed_fen"] == item["proposal"]["total_fen"] + 9000
    detail = (await api.client.get("/settlements/o-1", headers=auth("finance"))).json()
    assert detail["flags"] == item["flags"] and detail["proposal"] == item["proposal"]


@pytest.mark.parametrize(("lines", "field"), [
    ([{"line": 1, "decision": "reduced", "reason": "norm"}], "lines.0.amount_fen"),
    ([{"line": 1, "decision": "reduced", "amount_fen": 30000, "reason": "norm"}], "lines.0.amount_fen"),
    ([{"line": 9, "decision": "rejected", "reason": "x"}], "lines.0.line"),
    ([{"line": 1, "decision": "rejected"}], "lines.0.reason"),
    ([{"line": 1, "decision": "maybe", "reason": "x"}], "lines.0.decision"),
    ([{"line": 1, "decision": "rejected", "reason": "x"}, {"line": 1, "decision": "approved", "reason": "y"}],
     "lines.1.line"),
])
async def test_a_line_decision_that_cannot_apply_is_a_422_naming_it_and_nothing_is_written(
        sqlite_api: Any, lines: list[dict[str, Any]], field: str) -> None:
    await _setup(sqlite_api)
    answer = await sqlite_api.client.post("/settlements/o-1", json={"lines": lines}, headers=auth("finance"))
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == field
    assert await sqlite_api.runtime.store.stream_version("o-1") == 4


async def test_finance_decides_line_by_line_and_ledger_and_statements_show_claimed_and_approved(api: Any) -> None:
    await _setup(api)
    decisions = [{"line": 1, "decision": "reduced", "amount_fen": 12000, "reason": "2 h is the norm"},
                 {"line": 3, "decision": "approved", "reason": "原厂缺货, 厂家书面同意"}]
    answer = await api.client.post("/settlements/o-1", json={"lines": decisions}, headers=auth("finance"))
    assert answer.status_code == 201, answer.text
    settled = answer.json()["settlement"]
    assert [(x["claimed_fen"], x["amount_fen"], x["decision"], x["decided_by"]) for x in settled["lines"]] == [
        (4000, 4000, "approved", "finance:finance-01"), (30000, 12000, "reduced", "finance:finance-01"),
        (4000, 4000, "approved", "finance:finance-01"), (9000, 9000, "approved", "finance:finance-01")]
    assert settled["lines"][3]["rule"] == "non_original_part" and settled["lines"][1]["reason"] == "2 h is the norm"
    assert settled["total_fen"] == 4000 + 12000 + 4000 + 9000
    [event] = (await api.runtime.store.read_stream("o-1"))[-1:]
    assert (event.type, event.schema_version) == ("order.settled", 2)

    await api.sync()
    [entry] = (await api.client.get("/settlement/ledger/prov-wuhan", headers=auth("provider"))).json()["entries"]
    assert (entry["claimed_fen"], entry["amount_fen"]) == (4000 + 30000 + 4000 + 9000, 29000)
    month = (await api.client.get("/settlement/statements/prov-wuhan?month=2026-05", headers=auth("finance"))).json()
    assert (month["totals"]["claimed_fen"], month["totals"]["amount_fen"]) == (47000, 29000)
    csv_text = (await api.client.get("/settlement/statements/prov-wuhan?month=2026-05&format=csv",
                                     headers=auth("finance"))).content.decode("utf-8-sig")
    rows = [r for r in csv.DictReader(io.StringIO(csv_text)) if r["order_id"] == "o-1"]
    assert [(r["claimed_fen"], r["amount_fen"], r["decision"]) for r in rows] == [
        ("4000", "4000", "approved"), ("30000", "12000", "reduced"), ("4000", "4000", "approved"),
        ("9000", "9000", "approved")]
    assert rows[1]["decision_reason"] == "2 h is the norm" and rows[1]["decided_by"] == "finance:finance-01"
    assert rows[0]["entry_claimed_fen"] == "47000" and rows[0]["entry_total_fen"] == "29000"

    corrected = await api.client.post("/settlements/o-1/corrections", json={
        "reason": "厂家撤回同意", "lines": [{"line": 0, "decision": "rejected", "reason": "上门费已结"}]},
        headers=auth("finance"))
    assert corrected.status_code == 201, corrected.text
    lines = corrected.json()["settlement"]["lines"]
    assert [x["amount_fen"] for x in lines] == [0, 30000, 4000, 0] and lines[3]["decided_by"] == "rule"
    await api.sync()
    entries = (await api.client.get("/settlement/ledger/prov-wuhan", headers=auth("finance"))).json()["entries"]
    assert [(e["kind"], e["claimed_fen"], e["amount_fen"]) for e in entries] == [
        ("settlement", 47000, 29000), ("reversal", -47000, -29000), ("settlement", 47000, 34000)]
