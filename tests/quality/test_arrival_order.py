"""Property: a month's scores do not depend on the order its events arrive in (through the
real projection on SQLite): streams interleaved at random, complaints before or after the
dispatch that attributes them, the call-back before or after the customer's form."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events.envelope import NewEvent, StoredEvent
from libs.events.projection import Projector
from services.quality import queries as read
from services.quality.domain.scoring import MonthScore
from services.quality.projection import PROJECTION
from tests.quality import factory

pytestmark = pytest.mark.integration

T = datetime(2026, 5, 10, 2, 0, tzinfo=UTC)
_runs = itertools.count()
_position = 0

grades = st.text(alphabet="ABCDE", min_size=3, max_size=3)
order_plan = st.fixed_dictionaries({
    "provider": st.sampled_from(["p1", "p2"]),
    "feedback": st.none() | grades,
    "call_back": st.none() | grades,
    "complaints": st.integers(0, 2),
})


def chains(plan: list[dict[str, object]], maker: str, rng: random.Random | None) -> list[list[NewEvent]]:
    """Each order's events in a valid stream order; with `rng`, complaints and forms placed at random."""
    out: list[list[NewEvent]] = []
    for i, order in enumerate(plan):
        provider = str(order["provider"])
        head = [factory.reported(T + timedelta(minutes=i), maker)]
        body = [factory.dispatched(T + timedelta(hours=1), provider, f"{provider}-o"), factory.repaired(T + timedelta(hours=2))]
        forms = [factory.review(T + timedelta(hours=3), str(order[key]), channel, provider, f"{provider}-o")
                 for key, channel in (("feedback", "feedback_form"), ("call_back", "call_back")) if order[key]]
        complaints = [factory.platform_complaint(T + timedelta(hours=4, minutes=k)) for k in range(int(str(order["complaints"])))]
        if rng is None:
            out.append(head + body + forms + complaints)  # the canonical order
            continue
        rng.shuffle(forms)
        tail = body + forms
        for complaint in complaints:
            tail.insert(rng.randrange(len(tail) + 1), complaint)
        out.append(head + tail)
    return out


def stored(event: NewEvent, stream_id: str, version: int, position: int) -> StoredEvent:
    """As the store would number it (the projection does not look at the hash chain)."""
    return StoredEvent(**event.model_dump(), stream_id=stream_id, version=version, position=position,
                       recorded_at=event.occurred_at, prev_hash="", hash="")


async def project(projector: Projector, plan: list[dict[str, object]], maker: str,
                  rng: random.Random | None) -> dict[str, dict[str, MonthScore]]:
    """Number the events in arrival order and feed them to the projection in batches of 1–12."""
    global _position
    pending = [list(c) for c in chains(plan, maker, rng)]
    versions = [0] * len(pending)
    arrived: list[StoredEvent] = []
    while any(pending):
        index = rng.choice([i for i, c in enumerate(pending) if c]) if rng else next(i for i, c in enumerate(pending) if c)
        versions[index] += 1
        _position += 1
        arrived.append(stored(pending[index].pop(0), f"{maker}-{index}", versions[index], _position))
    while arrived:
        size = rng.randint(1, 12) if rng else len(arrived)
        await projector.handle(arrived[:size])
        arrived = arrived[size:]
    async with projector.engine.connect() as conn:
        return {level: await read.compute(conn, maker, "2026-05", level) for level in read.LEVELS}


@pytest.fixture
async def projector(sqlite_engine: AsyncEngine) -> Projector:
    made = Projector(sqlite_engine, PROJECTION)
    await made.setup()
    return made


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=st.lists(order_plan, min_size=1, max_size=4), seed=st.integers(0, 2**32 - 1))
async def test_scores_are_invariant_to_arrival_order_within_a_month(
    projector: Projector, plan: list[dict[str, object]], seed: int
) -> None:
    run = next(_runs)
    canonical = await project(projector, plan, f"m{run}a", None)
    shuffled = await project(projector, plan, f"m{run}b", random.Random(seed))
    assert shuffled == canonical
    assert sum(s.complaints for s in canonical["provider"].values()) == sum(int(str(o["complaints"])) for o in plan)
