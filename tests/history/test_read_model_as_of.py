"""As-of for whole read models: settlement's ledger and statement rebuilt to a past position."""

from __future__ import annotations

from typing import Any

import pytest

from libs.events.history import ScratchCache, rebuild_until
from libs.events.projection import dump_read_model
from services.settlement.api.history import scratch_cache
from services.settlement.projection import PROJECTION, md
from tests.history.support import live_standard
from tests.settlement.factory import part, repaired_order
from tests.support.app import auth

pytestmark = pytest.mark.integration
LEDGER, STATEMENT, MAY = (
    "/settlement/ledger/prov-wuhan",
    "/settlement/statements/prov-wuhan",
    {"month": "2026-05"},
)


async def _approve(api: Any, order_id: str) -> None:
    response = await api.client.post(f"/settlements/{order_id}", json={}, headers=auth("finance"))
    assert response.status_code == 201, response.text


async def _live(api: Any) -> tuple[int, Any, Any]:
    await api.sync()
    ledger = (await api.client.get(LEDGER, headers=auth("finance"))).json()
    statement = (await api.client.get(STATEMENT, params=MAY, headers=auth("provider"))).json()
    return await api.runtime.store.head_position(), ledger, statement


async def test_ledger_and_statement_as_of_a_past_position_equal_the_live_answers_then(
    api: Any,
) -> None:
    await live_standard(api)
    store = api.runtime.store
    await repaired_order(store, "o-1", parts=[part("P-100", 5000)])
    await _approve(api, "o-1")
    seen = [await _live(api)]
    await repaired_order(store, "o-2", serial="SN-2", ref="JD-0002")
    await _approve(api, "o-2")
    seen.append(await _live(api))
    fixed = await api.client.post(
        "/settlements/o-1/corrections",
        json={"reason": "form says 5 km", "distance_km": 5},
        headers=auth("finance"),
    )
    assert fixed.status_code == 201, fixed.text
    seen.append(await _live(api))
    assert [len(s[1]["entries"]) for s in seen] == [
        1,
        2,
        4,
    ]  # the scenario changed the ledger each time
    try:
        for head, ledger, statement in seen:
            past = await api.client.get(
                f"/history{LEDGER}", params={"as_of": head}, headers=auth("finance")
            )
            assert past.status_code == 200, past.text
            assert past.json() == ledger
            sheet = await api.client.get(
                f"/history{STATEMENT}", params={**MAY, "as_of": head}, headers=auth("provider")
            )
            assert sheet.json() == statement
        before = await api.client.get(
            f"/history{LEDGER}", params={"as_of": 0}, headers=auth("finance")
        )
        assert before.json() == {"provider_id": "prov-wuhan", "entries": [], "balance_fen": 0,
                                 "complete": True, "incomplete": []}
        assert (
            scratch_cache(api.runtime).rebuilds == len(seen) + 1
        )  # the second route reused the cache
        other = await api.client.get(
            "/history/settlement/ledger/prov-other", params={"as_of": 1}, headers=auth("provider")
        )
        assert other.status_code == 404  # another tenant's ledger: not found
        for bad in ("-1", "soon", str(seen[-1][0] + 1)):
            problem = await api.client.get(
                f"/history{LEDGER}", params={"as_of": bad}, headers=auth("finance")
            )
            assert problem.status_code == 422, (bad, problem.text)
            assert "as_of" in problem.text
    finally:
        await scratch_cache(api.runtime).close()


async def test_rebuild_until_equals_the_live_read_model_and_the_cache_is_bounded(
    sqlite_api: Any,
) -> None:
    api = sqlite_api
    store = api.runtime.store
    await repaired_order(store, "o-1")
    await api.sync()
    live = await dump_read_model(api.runtime.engine, md)
    scratch = await rebuild_until(store, PROJECTION, await store.head_position())
    try:
        assert await dump_read_model(scratch.engine, md) == live and scratch.events == 4
    finally:
        await scratch.close()
    assert not scratch.directory.exists()
    cache = ScratchCache(store, size=2)
    first = await cache.get(PROJECTION, 1)
    await cache.get(PROJECTION, 2)
    assert await cache.get(PROJECTION, 1) is first and cache.rebuilds == 2
    await cache.get(PROJECTION, 3)  # evicts position 2, the least recently used
    assert len(cache) == 2 and first.directory.exists()
    await cache.get(PROJECTION, 2)
    assert cache.rebuilds == 4
    await cache.close()
    assert len(cache) == 0 and not first.directory.exists()
