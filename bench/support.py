"""Helpers shared by the benchmark sections: fresh databases, event factories, timing.

The machine is shared and noisy, so every figure is the best of a few short rounds and
each subject is measured in the same rounds as its baseline (interleaved), never
against a number from another run.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bench.servers import create_database, drop_database
from libs.events import catalog
from libs.events.db import create_engine, migrate
from libs.events.envelope import NewEvent

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
    """A realistic small event (order.escalated v2, ~150 bytes of data), built the way the
    services build theirs: a payload model of the catalog (validated here, once) wrapped
    by `catalog.new_event`."""
    step = (n + stream_seed) % 2
    payload = catalog.OrderEscalated(
        from_tier=TIERS[step], to_tier=TIERS[step + 1], reason=f"on-site SLA breached at step {n}",
        trigger="sla_breach", breach="on_site",
    )
    return catalog.new_event(
        payload, type_="order.escalated", source="dispatch", actor="system:sla-watch",
        occurred_at=T0 + timedelta(seconds=n),
    )


Step = Callable[[], Awaitable[int]]  # does one unit of work, returns how many events it wrote


async def rate(step: Step, events: int, prepare: Callable[[], None] | None = None) -> float:
    """Events per second of `step`, run until it has written `events` events: a subject and
    its baseline do equal work, so their tables grow alike."""
    spent, done = 0.0, 0
    while done < events:
        if prepare is not None:
            prepare()
        started = time.perf_counter()
        done += await step()
        spent += time.perf_counter() - started
    return done / spent


async def interleaved(rounds: int, subjects: dict[str, Callable[[], Awaitable[float]]]) -> dict[str, list[float]]:
    """Run every subject once per round, in turn, and keep every figure. This machine's
    speed drifts by tens of percent within seconds; measured round by round, a subject
    and its baseline see the same machine, and the median of their per-round ratios is
    stable where the ratio of two separate bests is not."""
    figures: dict[str, list[float]] = {name: [] for name in subjects}
    for _ in range(rounds):
        for name, measure in subjects.items():
            figures[name].append(await measure())
    return figures


def median_ratio(values: list[float], baseline: list[float]) -> float:
    return statistics.median(v / b for v, b in zip(values, baseline, strict=True))
