"""Property over intake's OpenAPI: generated requests never get a 5xx, and nothing invalid is accepted.

Bodies come from the app's own published schemas (openapi_strategies); bodies derived
to break the contract must get a 4xx problem; an accepted body must satisfy the rules
JSON Schema cannot express (no future dates, purchase after manufacture, no blank text).
Hypothesis draws the examples; the requests then run on each backend.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.intake.openapi_strategies import FromOpenApi, dumps, invalid_variants
from tests.intake.support import PUBLISHED, order_body, platform_report, signed
from tests.support.app import auth

pytestmark = pytest.mark.integration
EXAMPLES = 20
JSON = {"Content-Type": "application/json"}


def draw(strategy: st.SearchStrategy[Any], n: int = EXAMPLES) -> list[Any]:
    """n examples from hypothesis (drawn up front: the requests are async, hypothesis is not)."""
    found: list[Any] = []

    @settings(max_examples=n, database=None, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
    @given(strategy)
    def collect(value: Any) -> None:
        found.append(value)

    collect()
    return found


def _texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [t for v in node.values() for t in _texts(v)]
    return [node] if isinstance(node, str) else []


def _dates_ok(product: dict[str, Any], today: date) -> bool:
    made, bought = product.get("factory_date"), product.get("purchase_date")
    days = [date.fromisoformat(d) for d in (made, bought) if d]
    return all(d <= today for d in days) and not (made and bought and bought < made)


def order_acceptable(body: dict[str, Any], today: date) -> bool:
    texts = [t for k, t in body.items() if k != "working_conditions" and isinstance(t, str)]
    texts += _texts({k: v for k, v in body.items() if isinstance(v, dict)})
    texts = [t for t in texts if not t[:1].isdigit() or len(t) != 10]  # dates are checked below
    return all(t.strip() for t in texts) and _dates_ok(body["product"], today)


async def test_partner_orders_never_5xx_and_accept_only_valid_bodies(api: Any) -> None:
    spec = FromOpenApi((await api.client.get("/openapi.json")).json())
    schema = spec.body("/orders")
    today = (api.clock() + timedelta(hours=8)).date()
    accepted = 0
    for body in draw(spec.values(schema)):
        response = await api.client.post("/orders", content=dumps(body), headers={**auth("partner"), **JSON})
        assert response.status_code < 500, (body, response.text)
        if response.status_code == 201:
            accepted += 1
            assert order_acceptable(body, today), body
        else:
            assert response.status_code == 422 and response.json()["detail"], response.text
    assert accepted, "the generator produced no valid order at all"
    before = await api.runtime.store.head_position()
    for what, body in invalid_variants(order_body(), schema, spec):
        response = await api.client.post("/orders", content=dumps(body), headers={**auth("partner"), **JSON})
        assert 400 <= response.status_code < 500, (what, response.status_code, response.text)
    assert await api.runtime.store.head_position() == before


async def test_escalations_and_listing_never_5xx(api: Any) -> None:
    spec = FromOpenApi((await api.client.get("/openapi.json")).json())
    order_id = (await api.client.post("/orders", json=PUBLISHED, headers=auth("partner"))).json()["order_id"]
    url = f"/orders/{order_id}/escalations"
    schema = spec.body("/orders/{order_id}/escalations")
    for body in draw(spec.values(schema), 15):
        response = await api.client.post(url, content=dumps(body), headers={**auth("partner"), **JSON})
        assert response.status_code in (201, 409, 422), (body, response.text)
    for what, body in invalid_variants({"reason": "x"}, schema, spec):
        response = await api.client.post(url, content=dumps(body), headers={**auth("partner"), **JSON})
        assert 400 <= response.status_code < 500, (what, response.text)
    await api.sync()
    head = await api.runtime.store.head_position()
    api.runtime.settings.read_your_writes_wait = 0.05  # a min_position past the head waits, then 503
    params = {p["name"]: spec.values(p["schema"]) for p in spec.document["paths"]["/orders"]["get"]["parameters"]}
    for query in draw(st.fixed_dictionaries({}, optional=params)):
        query = {k: v for k, v in query.items() if v is not None}
        response = await api.client.get("/orders", params=query, headers=auth("partner"))
        ahead = isinstance(query.get("min_position"), int) and query["min_position"] > head
        assert response.status_code in ((200, 422, 503) if ahead else (200, 422)), (query, response.text)


async def test_platform_reports_never_5xx_and_accept_only_valid_bodies(api: Any) -> None:
    spec = FromOpenApi((await api.client.get("/openapi.json")).json())
    schema = spec.body("/platform/reports")
    now = api.clock()
    for body in draw(spec.values(schema), 15):
        raw, headers = signed(body, int(now.timestamp()))
        response = await api.client.post("/platform/reports", content=raw, headers=headers)
        assert response.status_code < 500, (body, response.text)
        if response.status_code in (200, 201):
            assert datetime.fromisoformat(body["reported_at"]) <= now + timedelta(minutes=5), body
            assert _dates_ok(body["product"], (now + timedelta(hours=8)).date()), body
    for what, body in invalid_variants(platform_report(), schema, spec):
        raw, headers = signed(body, int(now.timestamp()))
        response = await api.client.post("/platform/reports", content=raw, headers=headers)
        assert 400 <= response.status_code < 500, (what, response.text)
