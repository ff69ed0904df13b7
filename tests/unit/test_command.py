"""libs.events.command.execute: load → decide → append, re-deciding after a race only when
the caller sent no expected version."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events import catalog
from libs.events.catalog import OrderSlaPaused, OrderSlaResumed, Payload
from libs.events.command import execute
from libs.events.decider import Fact, Rules
from libs.events.errors import ConcurrencyConflict, InvalidInput, Refused
from libs.events.store import EventStore, store_for

NOW = datetime(2026, 3, 1, 8, tzinfo=UTC)


class Notes:
    """A toy decider: the state is the notes seen so far; a command appends one note."""

    def initial(self, stream_id: str) -> tuple[str, ...]:
        return ()

    def evolve(self, state: tuple[str, ...], payload: Payload, fact: Fact) -> tuple[str, ...]:
        assert isinstance(payload, OrderSlaPaused | OrderSlaResumed)
        return (*state, payload.note)

    def decide(self, state: tuple[str, ...], command: str) -> Sequence[Payload]:
        return [] if command in state else [OrderSlaResumed(note=f"{command} after {len(state)}")]


async def _write(store: EventStore, stream: str, note: str) -> None:
    event = catalog.new_event(OrderSlaPaused(reason="parts_on_order", note=note), type_="order.sla_paused",
                              source="dispatch", actor="other", occurred_at=NOW)
    await store.append(stream, [event], None)


def _racing(store: EventStore, stream: str, times: int) -> object:
    """A command builder that lets another writer in between the read and the append."""
    calls = {"n": 0}

    async def build(state: tuple[str, ...]) -> str:
        calls["n"] += 1
        if calls["n"] <= times:
            await _write(store, stream, f"watcher {calls['n']}")
        return "mine"

    return build


async def test_a_race_without_expected_version_is_decided_again(sqlite_engine: AsyncEngine) -> None:
    store = store_for(sqlite_engine)
    await _write(store, "o-1", "first")
    done = await execute(store, "o-1", Notes(), _racing(store, "o-1", 2), "me",  # type: ignore[arg-type]
                         source="dispatch", now=lambda: NOW)
    stored = await store.read_stream("o-1")
    assert [e.type for e in stored] == ["order.sla_paused"] * 3 + ["order.sla_resumed"]
    assert done.payloads == (OrderSlaResumed(note="mine after 3"),)  # decided on the history it appended to
    assert done.state == ("first", "watcher 1", "watcher 2", "mine after 3")
    assert (done.version, done.position) == (4, stored[-1].position) == (4, await store.head_position())


async def test_an_explicit_expected_version_still_conflicts(sqlite_engine: AsyncEngine) -> None:
    store = store_for(sqlite_engine)
    await _write(store, "o-1", "first")
    with pytest.raises(ConcurrencyConflict):
        await execute(store, "o-1", Notes(), _racing(store, "o-1", 1), "me", 1,  # type: ignore[arg-type]
                      source="dispatch", now=lambda: NOW)
    with pytest.raises(ConcurrencyConflict):  # stale before deciding: refused without a write
        await execute(store, "o-1", Notes(), "mine", "me", 1, source="dispatch", now=lambda: NOW)
    assert [e.actor for e in await store.read_stream("o-1")] == ["other", "other"]


async def test_retries_are_bounded(sqlite_engine: AsyncEngine) -> None:
    store = store_for(sqlite_engine)
    with pytest.raises(ConcurrencyConflict):
        await execute(store, "o-1", Notes(), _racing(store, "o-1", 99), "me",  # type: ignore[arg-type]
                      source="dispatch", now=lambda: NOW, attempts=3)
    assert len(await store.read_stream("o-1")) == 3  # only the other writer's events


async def test_nothing_decided_appends_nothing_and_reports_the_last_read_position(
    sqlite_engine: AsyncEngine,
) -> None:
    store = store_for(sqlite_engine)
    await _write(store, "o-1", "mine")
    done = await execute(store, "o-1", Notes(), "mine", "me", source="dispatch", now=lambda: NOW)
    assert (done.payloads, done.version, done.position, done.result) == ((), 1, 1, None)


async def test_the_event_type_comes_from_the_catalog(sqlite_engine: AsyncEngine) -> None:
    store = store_for(sqlite_engine)
    done = await execute(store, "o-2", Notes(), "x", "me", 0, source="dispatch", now=lambda: NOW)
    assert [e.type for e in done.events] == ["order.sla_resumed"]
    assert catalog.type_of(catalog.OrderEscalated) == "order.escalated"


def test_rules_add_their_context_to_409_refusals_only() -> None:
    def rules(state: int, command: str) -> Sequence[Payload]:
        raise (Refused("no") if command == "refuse" else InvalidInput("bad", "field"))

    decider: Rules[int, str] = Rules(lambda _: 0, lambda s, p, f: s, rules, lambda state: {"status_now": state})
    with pytest.raises(Refused) as refused:
        decider.decide(7, "refuse")
    assert refused.value.extra == {"status_now": 7}
    with pytest.raises(InvalidInput) as invalid:
        decider.decide(7, "bad")
    assert invalid.value.extra == {} and invalid.value.field == "field"
