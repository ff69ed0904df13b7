"""Quality's use cases through libs.events.command: a review that races another writer on
the order's stream (here dispatch's SLA watcher escalating a complaint) is decided again
on the new history instead of answering 409."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from libs.events import catalog
from libs.events.envelope import NewEvent
from libs.events.store import AppendResult
from tests.quality import factory
from tests.quality.test_api import MAY, post_review

pytestmark = pytest.mark.integration


async def test_a_review_racing_an_escalation_is_accepted(sqlite_api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    api = sqlite_api
    store = api.runtime.store
    order = "o-1"
    await factory.repaired_order(store, order, MAY)
    escalation = catalog.new_event(
        catalog.OrderEscalated(from_tier="dealer", to_tier="regional", reason="SLA breach", trigger="sla_breach",
                               breach="on_site"),
        type_="order.escalated", source="dispatch", actor="system:sla-watcher", occurred_at=api.clock())
    real, raced = store.append, []

    async def append(stream: str, events: Sequence[NewEvent], expected: int | None) -> AppendResult:
        if not raced and events[0].type == "order.reviewed":
            raced.append(stream)
            await real(stream, [escalation], None)  # the watcher writes between the read and this append
        return await real(stream, events, expected)

    monkeypatch.setattr(store, "append", append)
    response = await post_review(api.client, order, "ABA")
    assert raced == [order]
    assert response.status_code == 201, response.text
    history = await store.read_stream(order)
    assert [e.type for e in history][-2:] == ["order.escalated", "order.reviewed"]
    assert response.json()["version"] == history[-1].version
