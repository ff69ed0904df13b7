"""The one command path every service uses: load a stream, fold it, decide, append.

A service supplies a `Decider` (its pure rules) and calls `execute`. The event type of a
decided payload comes from the catalog (one model per type), so domain code returns
payloads only. When the caller sent no expected version, a version conflict means only
that someone else wrote first (an SLA watcher, a projection-driven job): `execute` reads
again and decides again, a few times, so the caller never sees that race. A caller that
sent a version asked for exactly that version and gets the `ConcurrencyConflict`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar
from uuid import UUID

from libs.events import catalog
from libs.events.catalog import Payload
from libs.events.decider import Decider, Fact
from libs.events.envelope import NewEvent, StoredEvent
from libs.events.errors import ConcurrencyConflict, UnknownEventType
from libs.events.store.port import NO_STREAM, AppendResult, EventStore

S = TypeVar("S")
C = TypeVar("C")
ATTEMPTS = 5


@dataclass(frozen=True, eq=False)
class Committed(Generic[S]):
    """What a command did: the state after it, the payloads appended and where they landed.

    `position` is the global position of the last event appended (or, when the command
    decided nothing, of the last event read): a reader that has caught up to it sees the
    command's effect.
    """

    stream_id: str
    state: S
    payloads: tuple[Payload, ...]
    version: int
    position: int
    history: tuple[StoredEvent, ...]
    result: AppendResult | None = None

    @property
    def events(self) -> tuple[StoredEvent, ...]:
        return self.result.events if self.result is not None else ()

    @property
    def replayed(self) -> bool:
        return self.result is not None and self.result.replayed


def type_of(payload: Payload) -> str:
    """The catalog type whose latest model this payload is."""
    return catalog.type_of(type(payload))


def to_events(
    payloads: Sequence[Payload], *, source: str, actor: str, occurred_at: datetime,
    correlation_id: UUID | None = None, causation_id: UUID | None = None, event_ids: Sequence[UUID] | None = None,
) -> list[NewEvent]:
    """Envelopes for decided payloads, each typed by the catalog."""
    return [
        catalog.new_event(p, type_=type_of(p), source=source, actor=actor, occurred_at=occurred_at,
                          correlation_id=correlation_id, causation_id=causation_id,
                          event_id=event_ids[i] if event_ids else None)
        for i, p in enumerate(payloads)
    ]


def fold(decider: Decider[S, C], stream_id: str, history: Sequence[StoredEvent]) -> S:
    """The state a stream's history folds to; types this reader does not know are skipped."""
    state = decider.initial(stream_id)
    for event in history:
        try:
            payload = catalog.parse(event)
        except UnknownEventType:
            continue
        fact = Fact(event.stream_id, event.version, event.occurred_at, event.recorded_at, event.position)
        state = decider.evolve(state, payload, fact)
    return state


def evolve_all(decider: Decider[S, C], state: S, payloads: Sequence[Payload], fact: Fact) -> S:
    for payload in payloads:
        state = decider.evolve(state, payload, fact)
    return state


async def execute(
    store: EventStore,
    stream_id: str,
    decider: Decider[S, C],
    command: C | Callable[[S], Awaitable[C]],
    actor: str,
    expected_version: int | None = None,
    *,
    source: str,
    now: Callable[[], datetime],
    occurred_at: datetime | None = None,
    correlation_id: UUID | None = None,
    caused_by_last: bool = False,
    event_ids: Sequence[UUID] | None = None,
    attempts: int = ATTEMPTS,
) -> Committed[S]:
    """Load → decide → append, re-deciding on a conflict when no version was asked for.

    `command` is the command, or an async function that builds it from the loaded state
    (to check who acts on it or fetch reference data the rules need); it runs again on
    every attempt. `expected_version=0` means "a new stream": nothing is read. Domain
    errors raised by `decide` or the builder pass through untouched.
    """
    for attempt in range(1, attempts + 1):
        history: list[StoredEvent] = []
        if expected_version != NO_STREAM:
            history = await store.read_stream(stream_id)
        version = history[-1].version if history else 0
        if expected_version is not None and version != expected_version:
            raise ConcurrencyConflict(stream_id, expected_version, version)
        state = fold(decider, stream_id, history)
        built = await command(state) if callable(command) else command
        payloads = tuple(decider.decide(state, built))
        position = history[-1].position if history else 0
        if not payloads:
            return Committed(stream_id, state, (), version, position, tuple(history))
        at = occurred_at or now()
        cause = history[-1].id if caused_by_last and history else None
        events = to_events(payloads, source=source, actor=actor, occurred_at=at, correlation_id=correlation_id,
                           causation_id=cause, event_ids=event_ids)
        try:
            result = await store.append(stream_id, events, version)
        except ConcurrencyConflict:
            if expected_version is not None or attempt == attempts:
                raise
            continue
        if result.replayed:  # a retry of a batch already stored: the stored events are the truth
            after = fold(decider, stream_id, [*history, *result.events])
        else:
            after = evolve_all(decider, state, payloads, Fact(stream_id, result.version, at, at, result.position))
        return Committed(stream_id, after, payloads, result.version, result.position, tuple(history), result)
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises
