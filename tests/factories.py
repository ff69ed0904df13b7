"""Event builders for tests (one place, so every test speaks the catalog)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from libs.events.envelope import NewEvent

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


def escalated(n: int = 0, source: str = "intake", **extra: Any) -> NewEvent:
    """A small valid event (order.escalated v2)."""
    data = {"from_tier": "dealer", "to_tier": "regional", "reason": f"step {n}", "trigger": "manual", "breach": None}
    return NewEvent(
        type="order.escalated", schema_version=2, occurred_at=T0, source=source, actor="test", data=data, **extra
    )
