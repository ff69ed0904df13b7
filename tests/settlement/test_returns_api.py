"""Settlement over HTTP against the faulty part's return: waits (the default) until the maker
received it, or settles now without the part's cost (policy reduce); the returns read model
rebuilt from events equals the live one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from libs.events.projection import dump_read_model
from services.settlement.returns_projection import PROJECTION as RETURNS
from tests.parts.factory import repaired_order, used
from tests.settlement.factory import standard_body
from tests.support.app import START, auth, running_api

pytestmark = pytest.mark.integration

FAN = {"maker": "gree", "part_no": "P-200", "name": "风扇电机", "returnable": True, "return_within_days": 15,
       "cost_fen": 12000, "effective_from": "2026-01-01"}
SEAL = {"maker": "gree", "part_no": "P-100", "name": "门封", "cost_fen": 4500, "effective_from": "2026-01-01"}


async def _ok(response: Any, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


async def _repaired(api: Any) -> None:
    for body in (FAN, SEAL):
        await _ok(await api.client.post("/parts/catalogue", json=body, headers=auth("dispatcher")))
    await _ok(await api.client.post("/settlement/standards", json=standard_body(), headers=auth("finance")))
    await repaired_order(api.runtime.store, "o-1", [used("P-200", 12000, faulty="F-9"), used("P-100", 4500)], START)
    await api.sync()


async def _approve(api: Any) -> Any:
    return await api.client.post("/settlements/o-1", json={}, headers=auth("finance"))


async def test_settlement_waits_for_the_faulty_parts_return(api: Any) -> None:
    await _repaired(api)
    waiting = await _approve(api)
    assert waiting.status_code == 409 and "return of the faulty part(s) P-200" in waiting.json()["detail"]
    assert [e.type for e in await api.runtime.store.read_stream("o-1")][-1] == "order.repaired"  # nothing written

    shipped = await _ok(await api.client.post("/parts/returns", headers=auth("provider"), json={
        "order_id": "o-1", "part_no": "P-200", "faulty_serial": "F-9", "waybill": "SF-1"}))
    await api.sync()
    assert (await _approve(api)).status_code == 409  # on its way is not back
    await _ok(await api.client.post(f"/parts/returns/{shipped['id']}/receipt", json={}, headers=auth("dispatcher")))
    settled = (await _ok(await _approve(api)))["settlement"]  # right after the receipt: the approval waits for it
    assert [x["amount_fen"] for x in settled["lines"] if x["kind"] == "part"] == [12000, 4500]

    live = await dump_read_model(api.runtime.engine, RETURNS.metadata)
    assert [(r[1], r[3], r[5] is not None) for r in live["settlement_part_returns"]] == [("o-1", "P-200", True)]
    await api.runtime.projectors[RETURNS.name].rebuild(batch=1)
    assert await dump_read_model(api.runtime.engine, RETURNS.metadata) == live


@pytest.fixture
async def reducing_api(tmp_path: Path) -> AsyncIterator[Any]:
    async with running_api(f"sqlite:///{tmp_path / 'api.db'}", settlement_return_policies='{"gree": "reduce"}') as api:
        yield api


async def test_under_policy_reduce_the_unreturned_parts_cost_is_withheld(reducing_api: Any) -> None:
    api = reducing_api
    await _repaired(api)
    settled = (await _ok(await _approve(api)))["settlement"]
    parts = [(x["amount_fen"], x["claimed_fen"], x["decision"], x["rule"]) for x in settled["lines"] if x["kind"] == "part"]
    assert parts == [(0, 12000, "rejected", "faulty_part_not_returned"), (4500, 4500, "approved", None)]
    assert settled["total_fen"] == sum(x["amount_fen"] for x in settled["lines"])
