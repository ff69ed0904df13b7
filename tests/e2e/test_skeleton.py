"""The process shape: health, readiness, OpenAPI, problems, metrics, body limits."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.integration


async def test_health_ready_docs_and_metrics(api: Any) -> None:
    client = api.client
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok"
    assert (await client.get("/openapi.json")).json()["info"]["title"]
    assert (await client.get("/docs")).status_code == 200
    metrics = (await client.get("/metrics")).text
    assert "http_requests_total" in metrics


async def test_unknown_path_is_a_problem_document(sqlite_api: Any) -> None:
    response = await sqlite_api.client.get("/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 404


async def test_oversized_body_is_413_problem(sqlite_api: Any) -> None:
    response = await sqlite_api.client.post("/healthz", content=b"x" * (70 * 1024))
    assert response.status_code == 413 and response.json()["title"] == "Payload too large"


async def test_correlation_id_is_echoed(sqlite_api: Any) -> None:
    cid = "0d6f5c1e-2f55-4d7c-9b5c-0c7c7bb8f3a1"
    response = await sqlite_api.client.get("/healthz", headers={"X-Correlation-ID": cid})
    assert response.headers["x-correlation-id"] == cid


async def test_projection_freshness_is_reported(sqlite_api: Any) -> None:
    body = (await sqlite_api.client.get("/ops/projections")).json()
    assert body["mode"] == "embedded"
    for lag in body["projections"].values():
        assert lag["lag_events"] == lag["head"] - lag["position"]
