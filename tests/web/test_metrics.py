"""/metrics, /readyz and /ops/projections tell operators what went wrong, not only what went right."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Column, Integer, MetaData, String, Table
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events.envelope import StoredEvent
from libs.events.errors import ConcurrencyConflict
from libs.events.projection import Projection
from libs.events.settings import Settings
from libs.web.app import build_app
from libs.web.runtime import Runtime, ServiceSpec
from tests.factories import escalated

md = MetaData()
moves = Table("test_fragile_moves", md, Column("stream_id", String(100), primary_key=True), Column("n", Integer))


async def on_escalated(conn: AsyncConnection, event: StoredEvent, data: Any) -> None:
    if data.reason == "boom":
        raise ValueError("handler bug")


racy = APIRouter()


@racy.post("/race")
async def race() -> None:
    raise ConcurrencyConflict("order-1", 3, 4)


@pytest.fixture
async def ops(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    fragile = Projection("test_fragile", md, {"order.escalated": on_escalated})
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'ops.db'}")
    app = build_app(settings, [ServiceSpec(name="t", router=racy, projections=[fragile])])
    runtime: Runtime = app.state.runtime
    await runtime.start()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            yield client, runtime
    finally:
        await runtime.stop()


async def _sample(client: httpx.AsyncClient, name: str, **labels: str) -> float:
    text = (await client.get("/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    raise AssertionError(f"{name}{labels} not exported")


async def test_process_and_runtime_collectors_are_exported(ops: tuple[httpx.AsyncClient, Runtime]) -> None:
    client, _ = ops
    assert await _sample(client, "process_cpu_seconds_total") > 0
    assert await _sample(client, "process_resident_memory_bytes") > 0
    assert await _sample(client, "python_info", implementation="CPython") == 1
    assert await _sample(client, "python_gc_objects_collected_total", generation="0") >= 0


async def test_a_version_conflict_is_counted(ops: tuple[httpx.AsyncClient, Runtime]) -> None:
    client, _ = ops
    before = await _sample(client, "event_append_conflicts_total")
    answer = await client.post("/race")
    assert answer.status_code == 409
    assert await _sample(client, "event_append_conflicts_total") == before + 1


async def test_a_dead_letter_is_an_alarm(ops: tuple[httpx.AsyncClient, Runtime]) -> None:
    client, runtime = ops
    await runtime.store.append("order-1", [escalated(1)], 0)
    await runtime.sync()
    assert (await client.get("/readyz")).json()["status"] == "ready"
    assert (await client.get("/ops/projections")).json()["projections"]["test_fragile"]["status"] == "ok"
    before = await _sample(client, "projection_dead_letters_total", projection="test_fragile")
    bad = escalated(2).model_copy(update={"data": {**escalated(2).data, "reason": "boom"}})
    await runtime.store.append("order-1", [bad], 1)
    await runtime.sync()
    ready = await client.get("/readyz")
    assert ready.status_code == 200  # the API still answers; the read model is what is incomplete
    assert ready.json()["status"] == "degraded" and "test_fragile" in ready.json()["degraded"]
    fresh = (await client.get("/ops/projections")).json()["projections"]["test_fragile"]
    assert fresh["status"] == "degraded" and fresh["dead_letters"] == 1
    assert await _sample(client, "projection_dead_letters_total", projection="test_fragile") == before + 1


async def test_relay_figures_come_only_from_a_process_that_runs_a_relay(
        ops: tuple[httpx.AsyncClient, Runtime]) -> None:
    """An API process exported `relay_lag_events 0` as if it had a relay that was keeping up."""
    from libs.web import metrics

    client, _ = ops
    text = (await client.get("/metrics")).text
    assert "relay_lag_events" not in text and "relay_published_events" not in text

    class Relay:  # what the runtime registers when it runs one (published, failures, lag)
        published, failures, lag = 42, 1, 7

    relay = Relay()
    metrics.pipeline.relays.append(relay)
    try:
        assert await _sample(client, "relay_lag_events") == 7
        assert await _sample(client, "relay_published_events_total") == 42
    finally:
        metrics.pipeline.relays.remove(relay)
