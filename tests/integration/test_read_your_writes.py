"""Read-your-writes (libs/web/consistency.py) through GET /orders, on both backends: a query
with min_position waits for the read model (woken, not polling) and is never stale; one the
read model does not reach in time is a 503 problem with Retry-After."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from libs.events.db import create_engine
from libs.events.projection import Projector
from libs.events.store import store_for
from libs.events.subscription import StoreTail
from services.intake.projection import PROJECTION
from tests.conftest import api_database
from tests.intake.support import order_body
from tests.support.app import Api, auth, running_api

pytestmark = pytest.mark.integration
LATE = 0.3  # the projector applies this long after the command
SAFETY_POLL = 1.0  # Watermarks' fallback: answering sooner proves a notification woke the query


@pytest.fixture(params=["sqlite", "postgres"])
async def behind(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    """The API with no projection running in it: the read model moves only when a test says."""
    url = await api_database(request, tmp_path)
    async with running_api(url, run_projections=False, read_your_writes_wait=1.5) as api:
        yield api


async def _post(api: Api) -> tuple[str, int]:
    answer = await api.client.post("/orders", json=order_body(), headers=auth("partner"))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert int(answer.headers["X-Position"]) == body["position"] > 0
    return body["order_id"], body["position"]


async def _later(projector: Projector, store: Any) -> None:
    await asyncio.sleep(LATE)
    await StoreTail(store, projector).catch_up()


async def _timed_get(api: Api, headers: dict[str, str] | None = None, **kwargs: Any) -> tuple[Any, float]:
    started = time.monotonic()
    answer = await api.client.get("/orders", headers={**auth("partner"), **(headers or {})}, **kwargs)
    return answer, time.monotonic() - started


async def test_a_query_with_min_position_waits_for_this_process_projector(behind: Api) -> None:
    order_id, position = await _post(behind)
    stale = await behind.client.get("/orders", headers=auth("partner"))
    assert stale.status_code == 200 and stale.json()["items"] == []  # without it: whatever is there
    projector = behind.runtime.projectors[PROJECTION.name]
    applying = asyncio.create_task(_later(projector, behind.runtime.store))
    answer, took = await _timed_get(behind, params={"min_position": position})
    await applying
    assert answer.status_code == 200, answer.text
    assert [o["order_id"] for o in answer.json()["items"]] == [order_id]
    assert LATE <= took < SAFETY_POLL, took  # woken by the projector's checkpoint hook


async def test_a_query_waits_for_a_projector_in_another_process(behind: Api) -> None:
    """The projector has its own engine and no link to the API's runtime: on PostgreSQL its
    checkpoint's NOTIFY wakes the query; on SQLite the safety poll does."""
    order_id, position = await _post(behind)
    engine = create_engine(str(behind.runtime.engine.url))
    try:
        projector = Projector(engine, PROJECTION, store_for(engine))
        applying = asyncio.create_task(_later(projector, projector.store))
        answer, took = await _timed_get(behind, headers={"X-Min-Position": str(position)})
        await applying
    finally:
        await engine.dispose()
    assert answer.status_code == 200 and [o["order_id"] for o in answer.json()["items"]] == [order_id]
    if behind.runtime.engine.dialect.name == "postgresql":
        assert LATE <= took < SAFETY_POLL, took


async def test_a_read_model_that_does_not_catch_up_in_time_answers_503_never_stale(behind: Api) -> None:
    _, position = await _post(behind)
    answer, took = await _timed_get(behind, params={"min_position": position})
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "1"
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["field"] == "min_position" and problem["min_position"] == position
    assert problem["position"] < position and took >= 1.5  # the bound READ_YOUR_WRITES_WAIT


@pytest.mark.parametrize("bad", ["-1", "abc", str(2**63)])
async def test_a_bad_min_position_is_a_422_naming_it(behind: Api, bad: str) -> None:
    answer = await behind.client.get("/orders", params={"min_position": bad}, headers=auth("partner"))
    assert answer.status_code == 422 and "min_position" in answer.text


async def test_embedded_default_answers_at_once_when_already_there(tmp_path: Path) -> None:
    async with running_api(f"sqlite:///{tmp_path / 'api.db'}") as api:
        order_id, position = await _post(api)
        answer, _ = await _timed_get(api, params={"min_position": position})
    assert answer.status_code == 200 and [o["order_id"] for o in answer.json()["items"]] == [order_id]
