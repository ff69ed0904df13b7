"""Dispatch's use cases through libs.events.command: a technician racing the SLA watcher
is decided again instead of answering 409 (the watcher appends between the read and the
append of the technician's command)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest

from libs.events.envelope import NewEvent
from libs.events.store import AppendResult
from services.dispatch.jobs import escalate_order
from tests.dispatch.factory import complaint
from tests.dispatch.test_api import TECH, TO, new_order, post, with_outlet

pytestmark = pytest.mark.integration


def watcher_writes_first(api: Any, monkeypatch: pytest.MonkeyPatch, before: str) -> list[str]:
    """Let the SLA watcher append just before the first `before` event reaches the store."""
    store, raced = api.runtime.store, []
    real = store.append

    async def append(stream: str, events: Sequence[NewEvent], expected: int | None) -> AppendResult:
        if not raced and events[0].type == before:
            raced.append(stream)
            assert await escalate_order(api.runtime, stream) == 1
        return await real(stream, events, expected)

    monkeypatch.setattr(store, "append", append)
    return raced


async def test_an_arrival_racing_the_sla_watcher_is_accepted(sqlite_api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    api = sqlite_api
    await with_outlet(api)
    order = await new_order(api)
    assert (await post(api, f"{order}/dispatch", TO)).status_code == 200
    api.clock.advance(hours=5)  # the 4-hour on-site SLA is breached
    raced = watcher_writes_first(api, monkeypatch, "order.arrived")
    arrived = await post(api, f"{order}/arrive", {}, TECH)
    assert raced == [order]
    assert arrived.status_code == 200, arrived.text
    assert arrived.json()["events"] == ["order.arrived"] and arrived.json()["version"] == 4
    types = [e.type for e in await api.runtime.store.read_stream(order)]
    assert types == ["order.reported", "order.dispatched", "order.escalated", "order.arrived"]


async def test_a_repair_racing_the_sla_watcher_is_accepted(sqlite_api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    api = sqlite_api
    await with_outlet(api)
    order = await new_order(api)
    assert (await post(api, f"{order}/dispatch", TO)).status_code == 200
    api.clock.advance(hours=1)
    assert (await post(api, f"{order}/arrive", {}, TECH)).status_code == 200
    api.clock.advance(hours=4)
    unanswered = complaint(api.clock() - timedelta(hours=2))  # its 1-hour response SLA is breached
    await api.runtime.store.append(order, [unanswered], None)
    raced = watcher_writes_first(api, monkeypatch, "order.repaired")
    body = {"diagnosis": "缺氟", "solution": "补氟", "labour_hours": "1.0"}
    repaired = await post(api, f"{order}/repair", body, TECH)
    assert raced == [order] and repaired.status_code == 200, repaired.text
