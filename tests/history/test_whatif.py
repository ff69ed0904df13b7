"""What-if: a draft fee standard replayed over May answers the exact difference, live untouched."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData

from libs.events.projection import dump_read_model
from services.settlement.projection import md
from services.settlement.reference import owned
from services.settlement.whatif import cli, parse_cli
from tests.history.support import live_standard
from tests.settlement.factory import T0, part, repaired_order, standard_body
from tests.support.app import auth

pytestmark = pytest.mark.integration
MAY = {"from": "2026-05-01", "to": "2026-05-31"}


async def _snapshot(api: Any) -> tuple[Any, ...]:
    """Every live settlement table (read model and fee standards) and the log's head."""
    tables = MetaData()
    for table in (*md.sorted_tables, *owned.sorted_tables):
        table.to_metadata(tables)
    return await dump_read_model(
        api.runtime.engine, tables
    ), await api.runtime.store.head_position()


async def _poll(api: Any, url: str) -> dict[str, Any]:
    for _ in range(400):
        body: dict[str, Any] = (await api.client.get(url, headers=auth("finance"))).json()
        assert body["state"] != "failed", body
        if body["state"] == "done":
            return body
        await asyncio.sleep(0.025)
    raise AssertionError(f"what-if job did not finish: {body}")


async def test_a_draft_that_doubles_the_labour_rate_gives_exactly_that_difference(
    api: Any, tmp_path: Path
) -> None:
    await live_standard(api)
    store = api.runtime.store
    await repaired_order(store, "o-1", parts=[part("P-100", 5000)])
    settled = await api.client.post("/settlements/o-1", json={}, headers=auth("finance"))
    assert settled.status_code == 201 and settled.json()["settlement"]["total_fen"] == 17500
    await repaired_order(store, "o-2", serial="SN-2", ref="JD-0002")  # repaired, not settled yet
    await repaired_order(
        store, "o-3", serial="SN-3", ref="JD-0003", at=T0 + timedelta(days=30)
    )  # June
    await repaired_order(
        store, "o-4", provider="prov-other", serial="SN-4", ref="JD-0004"
    )  # not the draft's
    await api.sync()
    before = await _snapshot(api)

    draft = standard_body(labour_fen_per_hour={"air_conditioner": 12000, "washer": 4000})
    started = await api.client.post(
        "/settlement/whatif", json={"draft": draft, **MAY}, headers=auth("finance")
    )
    assert started.status_code == 202, started.text
    assert started.headers["location"] == started.json()["status_url"]
    job = await _poll(api, started.json()["status_url"])
    head = before[1]
    assert (job["processed"], job["total"]) == (head, head)
    result = job["result"]
    labour = 9000  # 1.5 h at 6,000 fen: the draft doubles it, every other line stays
    assert [
        (o["order_id"], o["actual_basis"], o["actual_fen"], o["draft_fen"], o["difference_fen"])
        for o in result["orders"]
    ] == [
        ("o-1", "settled", 17500, 17500 + labour, labour),
        ("o-2", "proposed", 17500, 17500 + labour, labour),
    ]
    assert result["providers"] == [
        {
            "provider_id": "prov-wuhan",
            "orders": 2,
            "actual_fen": 35000,
            "draft_fen": 35000 + 2 * labour,
            "difference_fen": 2 * labour,
        }
    ]
    assert result["totals"] == {
        "orders": 2,
        "actual_fen": 35000,
        "draft_fen": 35000 + 2 * labour,
        "difference_fen": 2 * labour,
    }
    assert await _snapshot(api) == before  # live tables byte-identical, nothing appended

    path = tmp_path / "draft.json"
    path.write_text(json.dumps(draft), encoding="utf-8")
    request, url = parse_cli(
        [
            "--draft",
            str(path),
            "--from",
            MAY["from"],
            "--to",
            MAY["to"],
            "--database-url",
            api.runtime.settings.database_url,
        ]
    )
    out, err = io.StringIO(), io.StringIO()
    assert url is not None and await cli(request, url, out, err) == 0
    assert json.loads(out.getvalue()) == result and f"{head}/{head}" in err.getvalue()
    assert await _snapshot(api) == before


async def test_what_if_access_and_input_are_checked(sqlite_api: Any) -> None:
    api = sqlite_api
    body = {"draft": standard_body(), **MAY}
    for who in ("partner", "provider"):
        assert (
            await api.client.post("/settlement/whatif", json=body, headers=auth(who))
        ).status_code == 403
    backwards = await api.client.post(
        "/settlement/whatif", json={**body, "from": "2026-06-01"}, headers=auth("finance")
    )
    assert backwards.status_code == 422, backwards.text
    no_rate = await api.client.post(
        "/settlement/whatif",
        json={**body, "draft": {**body["draft"], "kind": "x"}},
        headers=auth("finance"),
    )
    assert no_rate.status_code == 422 and "kind" in no_rate.text
    unknown = await api.client.get("/settlement/whatif/nope", headers=auth("finance"))
    assert unknown.status_code == 404


async def test_finances_line_decisions_and_the_parts_rule_hold_in_the_draft(sqlite_api: Any) -> None:
    """A labour line finance rejected stays rejected under a draft that doubles labour; a reduced
    travel line keeps its share; a non-original part stays unpaid (the draft's own rule)."""
    api = sqlite_api
    await live_standard(api)
    await repaired_order(api.runtime.store, "o-1", parts=[part("P-100", 4000), part("P-200", 9000, original=False)])
    decisions = [{"line": 1, "decision": "rejected", "reason": "no labour on a recall"},
                 {"line": 0, "decision": "reduced", "amount_fen": 2000, "reason": "half the way"}]
    settled = await api.client.post("/settlements/o-1", json={"lines": decisions}, headers=auth("finance"))
    assert settled.status_code == 201 and settled.json()["settlement"]["total_fen"] == 2000 + 4000
    await api.sync()
    draft = standard_body(labour_fen_per_hour={"air_conditioner": 12000}, travel={"flat_fen": 6000})
    started = await api.client.post("/settlement/whatif", json={"draft": draft, **MAY}, headers=auth("finance"))
    assert started.status_code == 202, started.text
    [order] = (await _poll(api, started.json()["status_url"]))["result"]["orders"]
    assert (order["actual_fen"], order["draft_fen"], order["decisions_carried"]) == (6000, 3000 + 4000, 2)
