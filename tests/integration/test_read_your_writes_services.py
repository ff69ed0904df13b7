"""Read-your-writes in every service (libs/web/consistency.py): each command answer carries its
committed position (header and body); a read given it waits for a paused read model and then
sees the write; a position past the head is a 503 with Retry-After; the platform following its
status_url right after the 201 gets 200. The projections run only when a test says, so a read
that did not wait would see the old state."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from libs.events.subscription import StoreTail
from tests.dispatch.factory import OUTLET, report
from tests.intake.support import order_body, platform_report, signed
from tests.settlement.factory import part, repaired_order, standard_body
from tests.support.app import Api, auth, running_api

pytestmark = pytest.mark.integration
LATE = 0.3  # the paused projections apply this long after the command
POLICY = {
    "improvement_reward_fen": 2_000_00, "decline_penalty_fen": 500_00, "all_max_reward_fen": 0,
    "all_min_penalty_fen": 0, "admin_action_threshold": 1,
    "complaint_bands": [{"max_complaints": 0, "amount_fen": 100_00}, {"max_complaints": None, "amount_fen": -1}],
}


@pytest.fixture
async def paused(tmp_path: Path) -> AsyncIterator[Api]:
    async with running_api(f"sqlite:///{tmp_path / 'api.db'}", run_projections=False,
                           read_your_writes_wait=1.5) as api:
        yield api


async def _catch_up(api: Api) -> None:
    for projector in api.runtime.projectors.values():
        await StoreTail(api.runtime.store, projector).catch_up()


async def _later(api: Api) -> None:
    await asyncio.sleep(LATE)
    await _catch_up(api)


def _position(answer: Any) -> int:
    """The committed position, the same in the header and the body."""
    assert answer.status_code in (200, 201), answer.text
    position = int(answer.headers["X-Position"])
    assert answer.json()["position"] == position > 0
    return position


async def _read_after(api: Api, url: str, position: int, who: str, **kw: Any) -> Any:
    """GET `url` with min_position while the projections are paused for LATE seconds."""
    applying = asyncio.create_task(_later(api))
    started = time.monotonic()
    answer = await api.client.get(url, params={"min_position": position}, headers=auth(who), **kw)
    took = time.monotonic() - started
    await applying
    assert answer.status_code == 200, answer.text
    assert took >= LATE, took  # it really waited for the read model
    return answer


async def test_dispatch_command_then_queue_sees_it(paused: Api) -> None:
    assert (await paused.client.post("/dispatch/outlets", json=OUTLET, headers=auth("dispatcher"))).status_code == 201
    order_id = await report(paused.runtime.store, paused.clock())
    await _catch_up(paused)
    done = await paused.client.post(f"/dispatch/orders/{order_id}/dispatch", headers=auth("dispatcher"),
                                    json={"outlet_id": "wh-jiangxia", "technician_id": "tech-wh-01"})
    position = _position(done)
    stale = await paused.client.get("/dispatch/queues/wh-jiangxia", headers=auth("dispatcher"))
    assert order_id not in stale.text  # without min_position: what the read model holds
    fresh = await _read_after(paused, "/dispatch/queues/wh-jiangxia", position, "dispatcher")
    assert order_id in [o["order_id"] for o in fresh.json()["orders"]]


async def test_settlement_approval_then_read_sees_it(paused: Api) -> None:
    assert (await paused.client.post("/settlement/standards", json=standard_body(),
                                     headers=auth("finance"))).status_code == 201
    await repaired_order(paused.runtime.store, "o-1", parts=[part("P-100", 5000)])
    await _catch_up(paused)
    approved = await paused.client.post("/settlements/o-1", json={}, headers=auth("finance"))
    position = _position(approved)
    settlement_id = approved.json()["settlement"]["settlement_id"]
    stale = await paused.client.get("/settlement/ledger/prov-wuhan", headers=auth("finance"))
    assert settlement_id not in stale.text
    fresh = await _read_after(paused, "/settlement/ledger/prov-wuhan", position, "finance")
    assert settlement_id in fresh.text


async def test_quality_policy_then_read_sees_it(paused: Api) -> None:
    put = await paused.client.put("/quality/policies/gree", json=POLICY, headers=auth("supervisor"))
    position = _position(put)
    stale = await paused.client.get("/quality/policies/gree", headers=auth("supervisor"))
    assert stale.json()["default"] is True
    fresh = await _read_after(paused, "/quality/policies/gree", position, "supervisor")
    assert fresh.json()["default"] is False
    assert fresh.json()["policy"]["improvement_reward_fen"] == 2_000_00


async def test_the_platform_following_its_status_url_gets_200(paused: Api) -> None:
    raw, headers = signed(platform_report(), int(paused.clock().timestamp()))
    created = await paused.client.post("/platform/reports", content=raw, headers=headers)
    assert created.status_code == 201, created.text
    position = _position(created)
    url = created.json()["status_url"]
    assert url.endswith(f"?min_position={position}")
    _, headers = signed(None, int(paused.clock().timestamp()))
    assert (await paused.client.get(url.split("?")[0], headers=headers)).status_code == 404  # not yet
    applying = asyncio.create_task(_later(paused))
    _, headers = signed(None, int(paused.clock().timestamp()))
    trail = await paused.client.get(url, headers=headers)
    await applying
    assert trail.status_code == 200, trail.text
    assert trail.json()["orders"][0]["order_id"] == created.json()["order_id"]


async def test_intake_order_links_carry_the_position(paused: Api) -> None:
    created = await paused.client.post("/orders", json=order_body(), headers=auth("partner"))
    position = _position(created)
    assert created.headers["Location"] == created.json()["status_url"]
    assert created.json()["status_url"].endswith(f"?min_position={position}")
    order_id = created.json()["order_id"]
    escalated = await paused.client.post(f"/orders/{order_id}/escalations", json={"reason": "no visit"},
                                         headers=auth("partner"))
    later = _position(escalated)
    assert later > position
    fresh = await _read_after(paused, "/orders", later, "partner")
    assert [o["order_id"] for o in fresh.json()["items"]] == [order_id]


@pytest.mark.parametrize(("url", "who"), [
    ("/orders", "partner"), ("/orders/any", "partner"), ("/dispatch/queues/wh-jiangxia", "dispatcher"),
    ("/dispatch/outlets", "dispatcher"), ("/settlement/ledger/prov-wuhan", "finance"),
    ("/settlements/open", "finance"), ("/settlement/standards", "finance"),
    ("/quality/policies/gree", "supervisor"), ("/quality/scores", "supervisor"),
])
async def test_a_committed_position_the_read_model_has_not_reached_is_503_with_retry_after(
        paused: Api, url: str, who: str) -> None:
    await report(paused.runtime.store, paused.clock())  # committed; the paused read models never see it
    head = await paused.runtime.store.head_position()
    answer = await paused.client.get(url, params={"min_position": head}, headers=auth(who))
    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"] == "1" and answer.json()["field"] == "min_position"
    # a position no command ever committed is a bad value, not a read model that is behind
    never = await paused.client.get(url, params={"min_position": head + 1}, headers=auth(who))
    assert never.status_code == 422 and never.json()["errors"][0]["field"] == "min_position", never.text
