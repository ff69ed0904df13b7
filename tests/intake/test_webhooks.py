"""Signed partner webhooks: delivered in the background, retried with back-off, never blocking."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from services.intake import webhooks
from services.intake.cli import create_partner
from services.intake.reference import deliveries
from tests.intake.support import order_body
from tests.support.app import auth

pytestmark = pytest.mark.integration


class Receiver:
    """A partner's endpoint: refuses the first `fail` calls, then records what it gets."""

    def __init__(self, fail: int = 0) -> None:
        self.fail, self.calls, self.received = fail, 0, []  # type: ignore[var-annotated]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.calls <= self.fail:
            return httpx.Response(503)
        self.received.append(request)
        return httpx.Response(204)


def _drive(api: Any, receiver: Receiver) -> None:
    """Send through the receiver, and let the test run the passes (the background job stands aside)."""
    api.runtime.state[webhooks.MANUAL] = True
    api.runtime.state[webhooks.CLIENT] = httpx.AsyncClient(transport=httpx.MockTransport(receiver))


async def test_every_step_is_posted_signed_and_retried_with_back_off(api: Any) -> None:
    key, secret = await create_partner(api.runtime.engine, "gome", "国美", webhook="https://gome.example/hooks")
    partner = {"Authorization": f"Bearer {key}"}
    receiver = Receiver(fail=3)
    _drive(api, receiver)
    created = await api.client.post("/orders", json=order_body(), headers=partner)
    assert created.status_code == 201  # the receiver being down does not matter to the order
    order_id = created.json()["order_id"]
    await api.client.post(f"/orders/{order_id}/escalations", json={"reason": "x"}, headers=partner)
    await api.client.post("/orders", json=order_body(), headers=auth("partner"))  # demo partner: no webhook
    await api.sync()
    assert await webhooks.run_once(api.runtime) == 0  # first attempt of both fails
    assert await webhooks.run_once(api.runtime) == 0  # not due yet: nothing sent
    assert receiver.calls == 2
    api.clock.advance(seconds=10)
    assert await webhooks.run_once(api.runtime) == 1  # one more failure, then the other is delivered
    api.clock.advance(seconds=20)
    assert await webhooks.run_once(api.runtime) == 1
    bodies = [json.loads(r.content) for r in receiver.received]
    assert sorted(b["type"] for b in bodies) == ["order.escalated", "order.reported"]
    assert {b["subject"] for b in bodies} == {order_id}
    for request in receiver.received:
        mac = hmac.new(secret.encode(), f"{request.headers['x-timestamp']}.".encode() + request.content, hashlib.sha256)
        assert request.headers["x-signature"] == f"sha256={mac.hexdigest()}"
    async with api.runtime.engine.connect() as conn:
        rows = (await conn.execute(select(deliveries.c.state, deliveries.c.attempts))).all()
    assert sorted(rows) == [("delivered", 2), ("delivered", 3)]


async def test_a_dead_receiver_is_given_up_after_the_last_attempt(sqlite_api: Any) -> None:
    api = sqlite_api
    key, _ = await create_partner(api.runtime.engine, "gome", "国美", webhook="https://gome.example/hooks")
    receiver = Receiver(fail=10**6)
    _drive(api, receiver)
    await api.client.post("/orders", json=order_body(), headers={"Authorization": f"Bearer {key}"})
    await api.sync()
    for _ in range(webhooks.MAX_ATTEMPTS + 2):
        await webhooks.run_once(api.runtime)
        api.clock.advance(hours=1)
    assert receiver.calls == webhooks.MAX_ATTEMPTS
    async with api.runtime.engine.connect() as conn:
        assert (await conn.execute(select(deliveries.c.state))).scalar_one() == "failed"


def test_back_off_doubles_up_to_an_hour() -> None:
    assert [webhooks.backoff(n).total_seconds() for n in (1, 2, 3)] == [10, 20, 40]
    assert webhooks.backoff(20).total_seconds() == 3600


async def test_the_service_job_delivers_on_its_own(sqlite_api: Any) -> None:
    api = sqlite_api
    key, _ = await create_partner(api.runtime.engine, "gome", "国美", webhook="https://gome.example/hooks")
    stop = asyncio.Event()
    receiver = Receiver()
    api.runtime.state[webhooks.CLIENT] = httpx.AsyncClient(transport=httpx.MockTransport(
        lambda request: (stop.set(), receiver(request))[1]))
    await api.client.post("/orders", json=order_body(), headers={"Authorization": f"Bearer {key}"})
    await api.sync()
    await asyncio.wait_for(webhooks.job(api.runtime, stop), timeout=10)
    assert [json.loads(r.content)["type"] for r in receiver.received] == ["order.reported"]
