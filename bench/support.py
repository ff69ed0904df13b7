"""Helpers shared by the benchmark sections: fresh databases, event factories, timing.

The machine is shared and noisy, so every figure is the best of a few short rounds and
each subject is measured in the same rounds as its baseline (interleaved), never
against a number from another run.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events.db import create_engine, migrate
from libs.events.envelope import NewEvent
from tests.support.servers import create_database, drop_database

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
TIERS = ("dealer", "regional", "hq")


@asynccontextmanager
async def fresh_postgres() -> AsyncIterator[tuple[str, AsyncEngine]]:
    """A new, migrated PostgreSQL database on the shared server, dropped afterwards."""
    url = await create_database()
    engine = create_engine(url)
    try:
        await migrate(engine)
        yield url, engine
    finally:
        await engine.dispose()
        await drop_database(url)


def escalation(n: int, stream_seed: int = 0) -> NewEvent:
    """A realistic small event (order.escalated v2, ~150 bytes of data)."""
    step = (n + stream_seed) % 2
    return NewEvent(
        id=uuid4(),
        type="order.escalated",
        schema_version=2,
        occurred_at=T0 + timedelta(seconds=n),
        source="dispatch",
        actor="system:sla-watch",
        data={
            "from_tier": TIERS[step],
            "to_tier": TIERS[step + 1],
            "reason": f"on-site SLA breached at step {n}",
            "trigger": "sla_breach",
            "breach": "on_site",
        },
    )


Step = Callable[[], Awaitable[int]]  # does one unit of work, returns how many events it wrote


async def rate(step: Step, seconds: float, prepare: Callable[[], None] | None = None) -> float:
    """Events per second of `step`, run repeatedly for about `seconds` of measured time."""
    spent, done = 0.0, 0
    while spent < seconds:
        if prepare is not None:
            prepare()
        started = time.perf_counter()
        done += await step()
        spent += time.perf_counter() - started
    return done / spent


async def best_of(rounds: int, subjects: dict[str, Callable[[], Awaitable[float]]]) -> dict[str, float]:
    """Run every subject once per round, interleaved; keep each one's best figure."""
    best: dict[str, float] = {}
    for _ in range(rounds):
        for name, measure in subjects.items():
            best[name] = max(best.get(name, 0.0), await measure())
    return best
