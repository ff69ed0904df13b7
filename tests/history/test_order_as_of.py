"""As-of for one order: the history route answers what the live route answered back then."""

from __future__ import annotations

from typing import Any

import pytest

from tests.intake.support import order_body
from tests.support.app import auth

pytestmark = pytest.mark.integration


async def _live(api: Any, order_id: str) -> tuple[int, str, dict[str, Any]]:
    """(head position, clock time, live answer) right now."""
    response = await api.client.get(f"/orders/{order_id}", headers=auth("partner"))
    assert response.status_code == 200, response.text
    return await api.runtime.store.head_position(), api.clock().isoformat(), response.json()


async def test_as_of_a_past_position_or_time_equals_the_live_answer_then(api: Any) -> None:
    first = await api.client.post("/orders", json=order_body(), headers=auth("partner"))
    order_id = first.json()["order_id"]
    seen = [await _live(api, order_id)]
    steps: list[dict[str, Any]] = [{"reason": "经销商无法处理"}, {"reason": "区域无法处理"}]
    for n, step in enumerate(steps):
        api.clock.advance(minutes=5)
        other = await api.client.post(
            "/orders", json=order_body(partner_ref=f"JD-OTHER-{n}"), headers=auth("partner")
        )
        assert other.status_code == 201  # another order's events interleave with this one's
        api.clock.advance(minutes=5)
        moved = await api.client.post(
            f"/orders/{order_id}/escalations", json=step, headers=auth("partner")
        )
        assert moved.status_code == 201, moved.text
        seen.append(await _live(api, order_id))
    assert [s[2]["tier"] for s in seen] == [
        "dealer",
        "regional",
        "hq",
    ]  # the scenario did change the order
    for head, moment, answer in seen:
        by_position = await api.client.get(
            f"/history/orders/{order_id}", params={"as_of": head}, headers=auth("partner")
        )
        assert by_position.status_code == 200, by_position.text
        assert by_position.json() == answer
        by_time = await api.client.get(
            f"/history/orders/{order_id}", params={"as_of": moment}, headers=auth("partner")
        )
        assert by_time.json() == answer
    # between two points the answer is the earlier one
    middle = await api.client.get(
        f"/history/orders/{order_id}", params={"as_of": seen[1][0] + 1}, headers=auth("partner")
    )
    assert middle.json() == seen[1][2]


async def test_the_same_access_rules_and_bad_as_of_is_a_problem_naming_the_field(api: Any) -> None:
    first = await api.client.post("/orders", json=order_body(), headers=auth("partner"))
    order_id = first.json()["order_id"]
    url = f"/history/orders/{order_id}"
    assert (
        await api.client.get(url, params={"as_of": 1}, headers=auth("partner"))
    ).status_code == 200
    assert (
        await api.client.get(url, params={"as_of": 1}, headers=auth("operator"))
    ).status_code == 200
    assert (
        await api.client.get(url, params={"as_of": 1}, headers=auth("partner2"))
    ).status_code == 404
    assert (await api.client.get(url, params={"as_of": 1})).status_code == 401
    before = await api.client.get(url, params={"as_of": 0}, headers=auth("partner"))
    assert before.status_code == 404  # the order did not exist yet
    for bad in ("yesterday", "2026-05-04T09:00:00", "-3"):
        problem = await api.client.get(url, params={"as_of": bad}, headers=auth("partner"))
        assert problem.status_code == 422, (bad, problem.text)
        assert problem.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in problem.json()["errors"]] == ["as_of"]
    missing = await api.client.get(url, headers=auth("partner"))
    assert missing.status_code == 422 and "as_of" in missing.text
