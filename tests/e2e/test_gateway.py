"""The distributed mode's single origin: the dashboard plus routing to each service's process."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.gateway import create_gateway, merge_documents, owner
from libs.events.settings import Settings
from tests.support.app import auth

pytestmark = pytest.mark.integration

ORDER = {
    "partner_ref": "JD-GW-1",
    "customer": {"name": "张伟", "phone": "13800138000", "address": "洪山区珞喻路1号"},
    "product": {"category": "air_conditioner", "brand": "格力", "model": "KFR-35GW", "serial": "GL2503A0001",
                "factory_date": "2025-03-01", "purchase_date": "2025-06-18"},
    "location": {"province": "湖北", "city": "武汉", "county": "洪山区", "provincial_capital": True},
    "working_conditions": "卧室", "fault": "不制冷",
}


def test_every_api_path_has_one_owner() -> None:
    assert owner("/orders") == "intake" and owner("/orders/abc") == "intake"
    assert owner("/orders/abc/reviews") == "quality"
    assert owner("/platform/reports") == "intake"
    assert owner("/dispatch/queues/o1") == "dispatch"
    assert owner("/settlements/open") == owner("/settlement/totals") == "settlement"
    assert owner("/quality/scores") == "quality"
    assert owner("/healthz") is None and owner("/ordersx") is None


async def _gateway(tmp_path: Path, upstreams: str, transport: httpx.AsyncBaseTransport | None) -> Any:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'gw.db'}", upstreams=upstreams, role="gateway",
                        demo=True)  # its own database here: the demo keys (one shared database in a deployment)
    app = create_gateway(settings)
    runtime = app.state.runtime
    if transport is not None:
        runtime.state["gateway_transport"] = transport
    await runtime.start()
    return app, runtime


async def test_gateway_forwards_to_the_owning_service_and_merges_freshness(sqlite_api: Any, tmp_path: Path) -> None:
    every = ",".join(f"{s}=http://upstream" for s in ("intake", "dispatch", "settlement", "quality", "parts", "notify"))
    app, runtime = await _gateway(tmp_path, every, sqlite_api.transport)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as gw:
            created = await gw.post("/orders", json=ORDER, headers={**auth("partner"), "Idempotency-Key": "gw-1"})
            assert created.status_code == 201, created.text
            order_id = created.json()["order_id"]
            via_gateway = (await gw.get(f"/orders/{order_id}", headers=auth("partner"))).json()
            direct = (await sqlite_api.client.get(f"/orders/{order_id}", headers=auth("partner"))).json()
            assert via_gateway == direct
            refused = await gw.get(f"/orders/{order_id}", headers=auth("partner2"))
            assert refused.status_code == 404 and refused.headers["content-type"].startswith("application/problem+json")
            assert (await gw.get("/ops/projections")).status_code == 401  # not public on the public port
            assert (await gw.get("/ops/projections", headers=auth("partner"))).status_code == 403
            fresh = (await gw.get("/ops/projections", headers=auth("operator"))).json()
            assert set(sqlite_api.runtime.projectors) <= set(fresh["projections"])
            assert (await gw.get("/")).status_code == 200
            assert (await gw.get("/healthz")).json() == {"status": "ok"}
            assert (await gw.get("/metrics")).status_code == 404
            assert (await sqlite_api.client.get("/metrics")).status_code == 200  # the process itself still has it
            assert (await gw.get("/", headers={"Origin": "http://evil"})).headers["x-frame-options"] == "DENY"
    finally:
        await runtime.stop()


async def test_unreachable_service_is_a_503_problem(tmp_path: Path) -> None:
    app, runtime = await _gateway(tmp_path, "dispatch=http://127.0.0.1:9", None)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as gw:
            down = await gw.get("/dispatch/overdue", headers=auth("dispatcher"))
            assert down.status_code == 503 and down.json()["title"] == "Service unavailable"
            unknown = await gw.get("/orders", headers=auth("partner"))  # intake not configured
            assert unknown.status_code == 404
            document = await gw.get("/openapi.json")  # no half document passed off as the whole API
            assert document.status_code == 503 and "dispatch" in document.json()["detail"]
    finally:
        await runtime.stop()


async def test_one_correlation_id_through_gateway_and_service(
    sqlite_api: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    every = ",".join(f"{s}=http://upstream" for s in ("intake", "dispatch", "settlement", "quality", "parts", "notify"))
    app, runtime = await _gateway(tmp_path, every, sqlite_api.transport)
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as gw:
            with caplog.at_level(logging.INFO, logger="access"):
                created = await gw.post("/orders", json={**ORDER, "partner_ref": "JD-GW-CID"}, headers={
                    **auth("partner"), "Idempotency-Key": "gw-cid",
                    "traceparent": f"00-{trace}-00f067aa0ba902b7-01"})
        assert created.status_code == 201, created.text
        cid = str(uuid.UUID(trace))
        assert created.headers.get_list("x-correlation-id") == [cid]
        lines = [r for r in caplog.records if r.name == "access" and r.__dict__.get("path") == "/orders"]
        assert len(lines) == 2  # the gateway's and the service's
        assert {r.__dict__["correlation_id"] for r in lines} == {cid}
        assert {r.__dict__["actor"] for r in lines} >= {"partner:jd-retail"}
        assert all(r.__dict__["client"] for r in lines)
        stored = await sqlite_api.runtime.store.read_all(0, 100)
        assert [str(e.correlation_id) for e in stored if e.type == "order.reported"][-1] == cid
    finally:
        await runtime.stop()


async def test_the_gateway_serves_the_merged_document_of_every_service(sqlite_api: Any, tmp_path: Path) -> None:
    every = ",".join(f"{s}=http://upstream" for s in ("intake", "dispatch", "settlement", "quality", "parts", "notify"))
    app, runtime = await _gateway(tmp_path, every, sqlite_api.transport)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as gw:
            merged = (await gw.get("/openapi.json")).json()
        full = (await sqlite_api.client.get("/openapi.json")).json()
        service_paths = {p for p in full["paths"] if owner(p) is not None}
        assert len(service_paths) > 35 and service_paths <= set(merged["paths"])
        assert merged["paths"]["/orders"] == full["paths"]["/orders"]
        assert "/ops/projections" in merged["paths"]  # the gateway's own
        assert merged["components"]["securitySchemes"] == full["components"]["securitySchemes"]
        refs = {v for v in _values(merged, "$ref")}
        missing = {r for r in refs if r.rsplit("/", 1)[1] not in merged["components"]["schemas"]}
        assert not missing
    finally:
        await runtime.stop()


def test_two_services_defining_one_name_differently_both_stay_described() -> None:
    base: dict[str, Any] = {"paths": {}, "components": {"schemas": {}}}
    ref = {"$ref": "#/components/schemas/Policy"}
    ok = {"200": {"content": {"application/json": {"schema": ref}}}}
    dispatch = {"paths": {"/dispatch/p": {"get": {"responses": ok}}},
                "components": {"schemas": {"Policy": {"type": "object", "title": "hours"}}}}
    quality = {"paths": {"/quality/p": {"get": {"responses": ok}}},
               "components": {"schemas": {"Policy": {"type": "object", "title": "weights"}}}}
    merged = merge_documents(base, {"dispatch": dispatch, "quality": quality})
    schemas = merged["components"]["schemas"]
    assert schemas["Policy"]["title"] == "hours" and schemas["QualityPolicy"]["title"] == "weights"
    quality_ref = merged["paths"]["/quality/p"]["get"]["responses"]["200"]["content"]["application/json"]
    assert quality_ref["schema"] == {"$ref": "#/components/schemas/QualityPolicy"}
    assert merged["paths"]["/dispatch/p"]["get"]["responses"] == ok


def _values(value: Any, key: str) -> list[Any]:
    if isinstance(value, dict):
        return [v for k, item in value.items() for v in ([item] if k == key else _values(item, key))]
    if isinstance(value, list):
        return [v for item in value for v in _values(item, key)]
    return []
