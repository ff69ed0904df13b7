"""The quality read model on its own: the close/late-form race, and complaints arriving before
the dispatch that attributes them, closed month or not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events import catalog
from libs.events.projection import Projector
from libs.events.store import SqlEventStore, store_for
from libs.events.subscription import StoreTail
from services.quality import queries as read
from services.quality.domain.policy import default_policy
from services.quality.projection import PROJECTION
from tests.quality import factory

pytestmark = pytest.mark.integration

APRIL = datetime(2026, 4, 10, 2, 0, tzinfo=UTC)
MAY = datetime(2026, 5, 2, 2, 0, tzinfo=UTC)


async def setup(engine: AsyncEngine) -> tuple[SqlEventStore, Projector]:
    store = store_for(engine)
    projector = Projector(engine, PROJECTION, store)
    await projector.setup()
    return store, projector


def close(month: str, through: int, scores: list[dict[str, object]] | None = None) -> catalog.MonthClosed:
    return catalog.MonthClosed(month=month, maker="gree", scores=scores or [], through_position=through,
                               policy=default_policy().model_dump(mode="json"))


async def test_forms_applied_after_the_figures_were_taken_move_to_the_next_month(sqlite_engine: AsyncEngine) -> None:
    store, projector = await setup(sqlite_engine)
    await factory.repaired_order(store, "a", APRIL)
    await factory.repaired_order(store, "b", APRIL)
    first = await store.append("a", [factory.review(MAY, "AAA")], 3)
    await store.append("b", [factory.review(MAY, "EEE")], 3)  # lands between the figures and the close
    closing = factory.event(close("2026-04", first.position), "quality.month_closed", "quality", MAY)
    await store.append("quality-month:gree:2026-04", [closing], 0)
    await StoreTail(store, projector).catch_up()
    async with sqlite_engine.connect() as conn:
        may = await read.compute(conn, "gree", "2026-05", "provider")
        april = await read.compute(conn, "gree", "2026-04", "provider", through=first.position)
    # n is April's two repairs (seed 004); b's form came too late for April, so b scores 0 there
    assert (april["prov-wuhan"].n, april["prov-wuhan"].total, april["prov-wuhan"].forms) == (2, 6, 1)
    assert (may["prov-wuhan"].n, may["prov-wuhan"].total) == (1, -6)
    assert may["prov-wuhan"].adjustments == {"late_reviews": 1, "late_complaints": 0}


async def test_a_complaint_before_dispatch_counts_once_the_order_is_dispatched(sqlite_engine: AsyncEngine) -> None:
    store, projector = await setup(sqlite_engine)
    await store.append("o", [factory.reported(APRIL), factory.platform_complaint(APRIL + timedelta(hours=1))], 0)
    await store.append("x", [factory.reported(APRIL), factory.platform_complaint(APRIL + timedelta(hours=1))], 0)
    head = await store.head_position()
    closing = factory.event(close("2026-04", head), "quality.month_closed", "quality", MAY)
    await store.append("quality-month:gree:2026-04", [closing], 0)
    await store.append("o", [factory.dispatched(MAY)], 2)  # April is closed by now: a May adjustment
    await StoreTail(store, projector).catch_up()
    async with sqlite_engine.connect() as conn:
        may = await read.compute(conn, "gree", "2026-05", "provider")
    assert may["prov-wuhan"].complaints == 1 and may["prov-wuhan"].adjustments["late_complaints"] == 1
    assert set(may) == {"prov-wuhan"}  # order x was never dispatched: its complaint counts against no one


async def test_a_repair_applied_after_its_month_closed_is_one_of_the_next_months_repairs(sqlite_engine: AsyncEngine) -> None:
    store, projector = await setup(sqlite_engine)
    await factory.repaired_order(store, "a", APRIL)
    head = await store.head_position()
    closing = factory.event(close("2026-04", head), "quality.month_closed", "quality", MAY)
    await store.append("quality-month:gree:2026-04", [closing], 0)
    await factory.repaired_order(store, "late", APRIL + timedelta(days=3))  # an offline technician's April repair
    await StoreTail(store, projector).catch_up()
    async with sqlite_engine.connect() as conn:
        may = await read.compute(conn, "gree", "2026-05", "provider")
        april = await read.compute(conn, "gree", "2026-04", "provider", through=head)
        both = [await read.late_items(conn, "gree", month) for month in ("2026-04", "2026-05")]
    assert both[0] == both[1]  # the month it belongs to and the month it counts in list it alike
    late = [(i["kind"], i["ref"], i["belongs_to"], i["counted_in"]) for i in both[0]]
    assert (april["prov-wuhan"].n, may["prov-wuhan"].n, may["prov-wuhan"].total) == (1, 1, 0)  # no form: 0 points
    assert late == [("repair", "late", "2026-04", "2026-05")]
