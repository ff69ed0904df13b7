"""`make demo` (app/demo): deterministic with a seed, and it walks every step of the chain through the API.

No browser needed; these live beside the browser tests because they share the demo.
The window is fixed (across a month end) so the outcome does not depend on today's date.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from app.demo.__main__ import fill
from app.demo.simulate import Stats
from libs.events.db import create_engine
from libs.events.envelope import StoredEvent
from libs.events.settings import Settings
from libs.events.store import store_for

UNTIL = datetime(2026, 6, 3, 4, 0, tzinfo=UTC)  # 12:00 Beijing, 3 June: the window holds the end of May


async def _run(tmp_path: Path, name: str, seed: int, days: float = 3.5) -> tuple[Stats, list[StoredEvent]]:
    url = f"sqlite:///{tmp_path / name}"
    stats = await fill(Settings(database_url=url, demo=True, sla_watch_interval=3600, log_level="WARNING"),
                       seed, days, UNTIL, 6.0)
    engine = create_engine(url)
    try:
        store, events, position = store_for(engine), [], 0
        while batch := await store.read_all(position, 1000):
            events += batch
            position = batch[-1].position
    finally:
        await engine.dispose()
    return stats, events


def _history(events: list[StoredEvent]) -> list[tuple[str, str, datetime, str]]:
    """Who did what when, in order; a parts order's id is a random uuid the parts service picks,
    so it is named by its first appearance (a repeat must still order the same parts, in turn)."""
    names: dict[str, str] = {}

    def stream(sid: str) -> str:
        return names.setdefault(sid, f"parts-order-#{len(names)}") if sid.startswith("parts-order-") else sid

    return [(stream(e.stream_id), e.type, e.occurred_at, e.actor) for e in events]


async def test_the_demo_walks_every_step_and_a_seed_repeats_it(tmp_path: Path) -> None:
    first, events = await _run(tmp_path, "a.db", seed=7)
    assert not first.refused, first.examples
    assert not first.missing, first.missing
    types = {e.type for e in events}
    assert types >= {
        "order.reported", "order.escalated", "order.dispatched", "order.sla_paused", "order.arrived",
        "order.repaired", "order.settled", "order.reviewed", "complaint.received", "complaint.responded",
        "quality.month_closed", "order.rescheduled", "order.on_the_way",
    }
    assert any(e.data.get("window_start") for e in events if e.type == "order.dispatched")
    moved = [e for e in events if e.type == "order.rescheduled"]
    assert all(e.actor == "customer:status-link" and e.data["previous_start"] for e in moved)
    # Waiting for parts: the pause names its parts order, and the receipt resumes it (issue 17).
    assert {"parts_order.requested", "parts_order.shipped", "parts_order.received"} <= types
    assert any(e.data.get("cause") == "parts_received" for e in events if e.type == "order.sla_resumed")
    channels = {e.data["channel"] for e in events if e.type == "order.reported"}
    assert channels == {"partner", "platform"}
    triggers = {e.data["trigger"] for e in events if e.type == "order.escalated"}
    assert "sla_breach" in triggers and first.escalated_by_watcher > 0
    cities = {(e.data["location"]["city"], e.data["location"]["provincial_capital"]) for e in events
              if e.type == "order.reported"}
    assert {capital for _, capital in cities} == {True, False}
    assert all(e.occurred_at <= UNTIL for e in events)

    _, day = await _run(tmp_path, "b.db", seed=7, days=1)
    _, same_day = await _run(tmp_path, "c.db", seed=7, days=1)
    _, other_seed = await _run(tmp_path, "d.db", seed=8, days=1)
    assert len(day) > 20
    assert _history(same_day) == _history(day)
    assert _history(other_seed) != _history(day)
