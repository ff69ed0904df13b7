"""The history import (issue 15, item 7): a month of a maker's history from JSONL and CSV through the API."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.importer.records import Problem, Record, nest, record
from app.importer.run import Summary, import_text
from libs.web.auth import principals
from tests.history.support import live_standard
from tests.intake.support import PUBLISHED
from tests.support.app import auth

pytestmark = pytest.mark.integration

MARCH = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 33 to 63 days before the test clock: beyond the API's 30
OUTLET = {
    "id": "outlet-wh-1", "name": "洪山服务网点", "provider_id": "prov-wuhan",
    "areas": [{"city": "武汉", "county": "洪山区"}],
    "technicians": [{"id": "tech-1", "name": "李师傅", "skills": ["air_conditioner"], "phone": "13912345678"}],
    "capacity_per_day": 20, "contact": "027-8888 0000",
}
GRADES = ("AAA", "AAB", "ABC", "BBB", "AAC")  # points 6, 5, 3, 3, 4 (A 2, B 1, C 0)


def history(prefix: str, orders: int = 10) -> list[dict[str, Any]]:
    """March: an order every third day, dispatched, visited, repaired and reviewed the next day."""
    out: list[dict[str, Any]] = []
    for i in range(orders):
        day = MARCH + timedelta(days=3 * i)
        ref = f"{prefix}-{i:03d}"
        body = {k: v for k, v in PUBLISHED.items() if k != "partner_ref"}
        out += [
            {"kind": "order", "ref": ref, "partner": "old-crm", **body, "reported_at": day.isoformat()},
            {"kind": "dispatch", "ref": ref, "outlet_id": "outlet-wh-1", "technician_id": "tech-1",
             "occurred_at": (day + timedelta(hours=1)).isoformat()},
            {"kind": "arrival", "ref": ref, "arrived_at": (day + timedelta(hours=3)).isoformat(), "staff_count": 1},
            {"kind": "repair", "ref": ref, "diagnosis": "冷媒不足", "solution": "补充冷媒", "labour_hours": "1.5",
             "parts": [{"part_no": "P-100", "name": "冷媒", "quantity": 1, "unit_cost_fen": 4500, "original": True}],
             "departed_at": (day + timedelta(hours=5)).isoformat()},
            {"kind": "review", "ref": ref, "channel": "feedback_form", "timeliness": GRADES[i % 5][0],
             "quality": GRADES[i % 5][1], "attitude": GRADES[i % 5][2], "overall": 4,
             "reviewed_at": (day + timedelta(days=1)).isoformat()},
        ]
    return out


def jsonl(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def as_csv(records: list[dict[str, Any]]) -> str:
    """The same records as CSV: dotted columns for nested fields, a JSON cell for the parts."""
    flat: list[dict[str, str]] = []
    for r in records:
        row: dict[str, str] = {}
        for key, value in r.items():
            if isinstance(value, dict):
                row |= {f"{key}.{k}": str(v).lower() if isinstance(v, bool) else str(v) for k, v in value.items()}
            else:
                row[key] = json.dumps(value, ensure_ascii=False) if isinstance(value, list) else str(value)
        flat.append(row)
    columns = list(dict.fromkeys(c for row in flat for c in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, columns)
    writer.writeheader()
    writer.writerows(flat)
    return out.getvalue()


async def prepare(api: Any) -> None:
    """What a new deployment has before the import: the outlet and the fee standard."""
    created = await api.client.post("/dispatch/outlets", json=OUTLET, headers=auth("dispatcher"))
    assert created.status_code == 201, created.text
    await live_standard(api)


async def run(api: Any, name: str, text: str, **kw: Any) -> Summary:
    return await import_text(api.client, api.runtime, name, text, "gree", **kw)


async def march(api: Any) -> dict[str, Any]:
    await api.sync()
    answer = await api.client.get("/quality/scores", params={"month": "2026-03", "maker": "gree", "level": "provider"},
                                  headers=auth("supervisor"))
    assert answer.status_code == 200, answer.text
    [sheet] = answer.json()["makers"]
    [line] = [s for s in sheet["scores"] if s["id"] == "prov-wuhan"]
    return dict(line)


async def open_settlements(api: Any) -> dict[str, int]:
    answer = await api.client.get("/settlements/open", headers=auth("finance"))
    assert answer.status_code == 200, answer.text
    return {p["order_id"]: p["proposal"]["total_fen"] for p in answer.json()["items"]}


@pytest.mark.parametrize("name", ["march.jsonl", "march.csv"])
async def test_a_month_of_history_imports_and_shows_in_the_months_scores_and_settlements(api: Any, name: str) -> None:
    await prepare(api)
    records = history("OLD")
    text = as_csv(records) if name.endswith(".csv") else jsonl(records)
    seen: list[tuple[int, int]] = []
    summary = await run(api, name, text, progress=lambda done, total: seen.append((done, total)))
    assert (summary.imported, summary.skipped, summary.refused) == (50, 0, [])
    assert seen[0] == (1, 50) and seen[-1] == (50, 50)
    line = await march(api)
    assert (line["n"], line["total"]) == (10, 2 * (6 + 5 + 3 + 3 + 4))
    proposals = await open_settlements(api)
    # the standard's travel band for 洪山区 (12 km), 1.5 h at 6000 fen, the part at its 4500 fen
    assert sorted(proposals.values()) == [4000 + 9000 + 4500] * 10

    # rebuilt from the events, the month comes out the same
    await api.runtime.projectors["quality"].rebuild()
    assert await march(api) == line

    # the events keep their past times and say they were imported (actor and the run's correlation id)
    order_id = next(iter(proposals))
    events = await api.runtime.store.read_stream(order_id)
    assert [e.type for e in events][:5] == ["order.reported", "order.dispatched", "order.arrived", "order.repaired",
                                            "order.reviewed"]
    assert events[0].occurred_at < api.clock() - timedelta(days=30)
    assert {e.actor for e in events[:5]} == {"partner:import-partner-old-crm", "dispatcher:import-dispatcher-gree",
                                             "technician:import-technician-prov-wuhan",
                                             "supervisor:import-supervisor-gree"}
    assert {str(e.correlation_id) for e in events[:5]} == {summary.correlation_id}

    # the run's wider window was the run's: the API still refuses a report 33 days back, and the
    # importer's keys no longer work
    late = {**PUBLISHED, "partner_ref": "LATE-1", "reported_at": MARCH.isoformat()}
    refused = await api.client.post("/orders", json=late, headers=auth("partner"))
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "reported_at"
    async with api.runtime.engine.connect() as conn:
        keys = (await conn.execute(select(principals.c.id, principals.c.revoked_at).where(
            principals.c.id.like("import-%")))).all()
    assert len(keys) == 4 and all(revoked is not None for _, revoked in keys)


async def test_a_bad_line_is_reported_by_line_and_field_and_the_rest_imported(sqlite_api: Any) -> None:
    api = sqlite_api
    await prepare(api)
    records = history("BAD", orders=3)
    records[4]["overall"] = 9  # line 5: the first order's review
    records[6]["customer"] = {**records[5]["customer"], "phone": "x"}  # line 7: the second order's dispatch has no order
    records[5]["customer"] = {**records[5]["customer"], "phone": "not a phone"}  # line 6: the second order
    records[10]["reported_at"] = (api.clock() - timedelta(days=401)).isoformat()  # line 11: beyond the import's 400 days
    text = jsonl(records).replace(json.dumps(records[12], ensure_ascii=False), "{not json")  # line 13
    before = await api.runtime.store.head_position()
    summary = await run(api, "bad.jsonl", text)
    refused = {p.line: p.field for p in summary.refused}
    assert refused[5].endswith("overall") and refused[6].endswith("phone") and refused[11] == "reported_at"
    assert refused[13] == "-" and refused[7] == "ref"  # the refused order's later records have no order
    assert set(refused) == {5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
    assert (summary.imported, summary.skipped) == (4, 0)
    assert await api.runtime.store.head_position() - before == 4  # nothing of a refused record was written
    assert "line 5: " in "\n".join(summary.lines())


async def test_a_second_run_imports_nothing_and_an_interrupted_run_resumes(sqlite_api: Any) -> None:
    api = sqlite_api
    await prepare(api)
    text = jsonl(history("RES", orders=4))

    def interrupt(done: int, total: int) -> None:
        if done == 7:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        await run(api, "res.jsonl", text, progress=interrupt)
    written = await api.runtime.store.head_position()
    resumed = await run(api, "res.jsonl", text)
    assert (resumed.skipped, resumed.imported, resumed.refused, resumed.resumed_at) == (7, 13, [], 8)
    assert "resumed at line 8" in "\n".join(resumed.lines())
    assert await api.runtime.store.head_position() > written
    line = await march(api)
    assert line["n"] == 4

    head = await api.runtime.store.head_position()
    again = await run(api, "res.jsonl", text)
    assert (again.imported, again.skipped, again.refused, again.resumed_at) == (0, 20, [], None)
    assert await api.runtime.store.head_position() == head


def test_a_csv_row_nests_its_dotted_columns_and_reads_numbers_and_lists() -> None:
    row = nest([("kind", "repair"), ("customer.name", "张伟"), ("staff_count", "2"), ("parts", '[{"part_no": "P"}]'),
                ("comment", ""), ("location.provincial_capital", "TRUE")])
    assert row == {"kind": "repair", "customer": {"name": "张伟"}, "staff_count": 2, "parts": [{"part_no": "P"}],
                   "location": {"provincial_capital": True}}
    with pytest.raises(ValueError, match="staff_count: not a whole number"):
        nest([("staff_count", "two")])


def refused_field(made: Record | Problem) -> str:
    assert isinstance(made, Problem), made
    return made.field


def test_a_record_needs_its_kind_ref_maker_and_its_own_time() -> None:
    at = "2026-03-02T01:00:00+00:00"
    assert record(1, {"kind": "visit", "ref": "A"}, "gree") == Problem(
        1, "kind", "one of order, dispatch, arrival, repair, review")
    assert refused_field(record(2, {"kind": "order", "reported_at": at}, "gree")) == "ref"
    assert refused_field(record(3, {"kind": "order", "ref": "A", "reported_at": at}, None)) == "maker"
    assert refused_field(record(4, {"kind": "order", "ref": "A", "maker": "midea", "reported_at": at}, "gree")) == "maker"
    assert refused_field(record(5, {"kind": "arrival", "ref": "A", "arrived_at": "2026-03-02T01:00:00"}, "gree")) == "arrived_at"
    assert refused_field(record(6, {"kind": "review", "ref": "A"}, "gree")) == "reviewed_at"
    made = record(7, {"kind": "order", "ref": "A", "reported_at": at, "partner": "crm", "fault": "x"}, "gree")
    assert not isinstance(made, Problem)
    assert (made.partner, made.maker, made.body) == ("crm", "gree", {"reported_at": at, "fault": "x", "partner_ref": "A"})


def test_the_cli_shows_progress_on_stderr_and_a_summary_and_resumes(tmp_path: Path) -> None:
    """The command as an operator runs it: its own process (a hang fails after 120 s, never waits)."""
    import os
    import subprocess
    import sys

    orders = [r for r in history("CLI", orders=3) if r["kind"] == "order"]
    file = tmp_path / "orders.jsonl"
    file.write_text(jsonl(orders) + '{"kind": "order", "ref": "CLI-X"}\n', encoding="utf-8")
    argv = [sys.executable, "-m", "app.importer", str(file), "--maker", "gree",
            "--database-url", f"sqlite:///{tmp_path / 'cli.db'}"]
    env = {**os.environ, "DEMO": "true", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}  # a local run

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)

    first = run()
    assert first.returncode == 1, first.stderr  # a refused line
    assert first.stdout.startswith("import: 3 imported, 0 skipped as already there, 1 refused, of 4 records"), first.stdout
    assert "refused: line 4: reported_at: an aware ISO 8601 time is required" in first.stdout
    assert "4/4 records" in first.stderr
    again = run()
    assert again.returncode == 1, again.stderr
    assert again.stdout.startswith("import: 0 imported, 3 skipped as already there, 1 refused"), again.stdout


async def test_the_orders_and_their_later_steps_may_come_in_separate_files(sqlite_api: Any) -> None:
    api = sqlite_api
    await prepare(api)
    records = history("SPLIT", orders=2)
    first = await run(api, "orders.jsonl", jsonl([r for r in records if r["kind"] == "order"]))
    steps = [r for r in records if r["kind"] != "order"]
    stray = {**steps[0], "partner": "someone-else"}  # not that partner's reference: no such order
    assert "partner" not in steps[0]  # found by its reference within the maker
    rest = await run(api, "steps.jsonl", jsonl([*steps, stray]))
    assert (first.imported, rest.imported, [(p.line, p.field) for p in rest.refused]) == (2, 8, [(9, "ref")])
    assert (await march(api))["n"] == 2
