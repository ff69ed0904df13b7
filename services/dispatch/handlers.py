"""Dispatch's use cases, one per command: load the order, check who acts, resolve the
maker's SLA policy, decide, append (libs.events.command.execute). No FastAPI here."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events.command import Committed, execute, fold
from libs.events.db import reader
from libs.events.envelope import StoredEvent
from libs.events.errors import ConcurrencyConflict, Missing
from libs.events.store import EventStore
from libs.web.runtime import Runtime
from services.dispatch import reference
from services.dispatch.domain import (
    DECIDER,
    Command,
    EscalateBreaches,
    Refused,
    Reschedule,
    ResumeForParts,
    SlaPolicy,
    State,
    parts_wait,
    windows,
)
from services.dispatch.domain.access import assignment, check_actor
from services.dispatch.domain.loose import (
    LOOSE,
    ORDER_TIER,
    Answer,
    EscalateMatched,
    LooseCommand,
    LooseComplaint,
    Match,
    OrderFacts,
    OrderTier,
    loose_stream,
)
from services.dispatch.domain.order import Assignment
from services.dispatch.projection import booked_windows

SOURCE = "dispatch"
WATCHER = "system:sla-watcher"
PARTS_WATCHER = "system:parts-watcher"
log = logging.getLogger(__name__)


async def load_order(store: EventStore, order_id: str) -> State:
    """The order's dispatch state from its own events (status "new" when there are none)."""
    return fold(DECIDER, order_id, await store.read_stream(order_id))


async def policy_for(engine: AsyncEngine, state: State) -> SlaPolicy:
    """The maker's SLA policy in force when the order was recorded."""
    if state.reported_recorded_at is None:
        return SlaPolicy()
    async with reader(engine).connect() as conn:
        return await reference.policy_at(conn, state.maker, state.reported_recorded_at)


async def assign_to(engine: AsyncEngine, outlet_id: str, technician_id: str, state: State) -> Assignment:
    found = await reference.get_outlet(engine, outlet_id)
    return assignment(outlet_id, found[0] if found else None, technician_id, state)


async def offered_slots(engine: AsyncEngine, outlet_id: str, now: datetime, policy: SlaPolicy) -> list[windows.Slot]:
    """The outlet's windows from its capacity (technicians × working hours of the maker's
    calendar) with what is booked in each, as of `now`."""
    found = await reference.get_outlet(engine, outlet_id)
    technicians = len(found[0].technicians) if found else 0
    booked = windows.booked_per_window(await booked_windows(engine, outlet_id, now))
    return windows.offered(windows.working_intervals(policy.calendar, now), technicians, booked, now)


def window_starting(start: datetime) -> windows.Window:
    return windows.Window(start, start + windows.WindowPolicy().length)


async def window_at(engine: AsyncEngine, outlet_id: str, start: datetime, now: datetime,
                    policy: SlaPolicy) -> tuple[datetime, datetime]:
    """Book the window starting at `start` from the outlet's capacity, or WindowError (422
    naming window_start)."""
    chosen = windows.book(window_starting(start), await offered_slots(engine, outlet_id, now, policy))
    return chosen.start, chosen.end


async def customer_windows(runtime: Runtime, order_id: str) -> tuple[State, list[windows.Slot]]:
    """What the status page offers: the order's state and its outlet's windows with room
    (none once the order is visited, or when the policy allows no more moves)."""
    state = await load_order(runtime.store, order_id)
    if state.status != "dispatched" or not state.outlet_id or not windows.movable(state.window, state.reschedules,
                                                                                     runtime.clock()):
        return state, []
    slots = await offered_slots(runtime.engine, state.outlet_id, runtime.clock(), await policy_for(runtime.engine, state))
    current = windows.Window(*state.window) if state.window else None
    return state, [s for s in slots if s.free > 0 and s.window != current]


async def reschedule(runtime: Runtime, order_id: str, start: datetime, actor: str,
                     correlation_id: UUID | None = None) -> Committed[State]:
    """The customer's move from the status page (the signed link is the credential, so no
    role check): the window starting at `start`, within the policy (domain/windows.py)."""
    now = runtime.clock()

    async def command(state: State) -> Command:
        if state.status == "new":
            raise Missing(f"order {order_id} not found")
        policy = await policy_for(runtime.engine, state)
        slots = await offered_slots(runtime.engine, state.outlet_id or "", now, policy) if state.outlet_id else []
        return Reschedule(window_starting(start), tuple(slots), now, policy)

    return await execute(runtime.store, order_id, DECIDER, command, actor, source=SOURCE, now=runtime.clock,
                         occurred_at=now, correlation_id=correlation_id)


Build = Callable[[State, SlaPolicy], Awaitable[Command]]


async def run(
    runtime: Runtime, order_id: str, role: str, party: str | None, actor: str, at: datetime, build: Build,
    correlation_id: UUID | None = None,
) -> Committed[State]:
    """One command on an order by a caller; a race with the SLA watcher is decided again."""

    async def command(state: State) -> Command:
        if state.status == "new":
            raise Missing(f"order {order_id} not found")
        check_actor(role, party, state)
        return await build(state, await policy_for(runtime.engine, state))

    return await execute(runtime.store, order_id, DECIDER, command, actor, source=SOURCE, now=runtime.clock,
                         occurred_at=at, correlation_id=correlation_id)


async def escalate_order(runtime: Runtime, order_id: str) -> tuple[StoredEvent, ...]:
    """Escalate the order's unescalated breaches; returns the events this call appended."""
    now = runtime.clock()

    async def command(state: State) -> Command:
        return EscalateBreaches(now, await policy_for(runtime.engine, state))

    try:
        done = await execute(runtime.store, order_id, DECIDER, command, WATCHER, source=SOURCE,
                             now=runtime.clock, occurred_at=now)
    except Refused:  # not reported (yet): nothing to escalate
        return ()
    except ConcurrencyConflict:
        log.warning("order %s kept changing; its breach will be escalated on the next pass", order_id)
        return ()
    return done.events


def _loose_visible(state: LooseComplaint, makers: tuple[str, ...] | None) -> None:
    """Another maker's complaint (or none at all) is answered as unknown (404)."""
    if state.complaint_id is None or (makers is not None and state.maker not in makers):
        raise Missing(f"complaint {state.stream_id.removeprefix('complaint:')} not found")


async def answer_loose(
    runtime: Runtime, complaint_id: UUID, makers: tuple[str, ...] | None, actor: str, response: str, at: datetime,
    correlation_id: UUID | None = None,
) -> Committed[LooseComplaint]:
    """Answer a complaint filed without an order, on its own stream."""
    now = runtime.clock()

    async def command(state: LooseComplaint) -> LooseCommand:
        _loose_visible(state, makers)
        return Answer(complaint_id, response, at, now)

    return await execute(runtime.store, loose_stream(complaint_id), LOOSE, command, actor, source=SOURCE,
                         now=runtime.clock, occurred_at=at, correlation_id=correlation_id)


async def match_loose(
    runtime: Runtime, complaint_id: UUID, makers: tuple[str, ...] | None, actor: str, order_id: str,
    correlation_id: UUID | None = None,
) -> tuple[Committed[LooseComplaint], Committed[OrderTier]]:
    """Match a complaint filed without an order to the order it is about (read from the store)."""

    async def command(state: LooseComplaint) -> LooseCommand:
        _loose_visible(state, makers)
        order = await load_order(runtime.store, order_id)
        facts = OrderFacts(order.status != "new", order.maker, order.provider_id, order.outlet_id)
        return Match(complaint_id, order_id, facts)

    done = await execute(runtime.store, loose_stream(complaint_id), LOOSE, command, actor, source=SOURCE,
                         now=runtime.clock, correlation_id=correlation_id)
    # then the order moves up a tier as for any complaint against it: a second append (another
    # stream); should it fail, the same match again completes it, once (decide_tier)
    moved = await execute(runtime.store, order_id, ORDER_TIER, EscalateMatched(complaint_id, done.state.text), actor,
                          source=SOURCE, now=runtime.clock, correlation_id=correlation_id)
    return done, moved


async def parts_order_seen(store: EventStore, parts_order_id: str) -> parts_wait.PartsOrderSeen:
    """The parts order from its own stream (the parts service's; read, never written here)."""
    stream = parts_wait.parts_order_stream(parts_order_id)
    return fold(parts_wait.READER, stream, await store.read_stream(stream))


async def resume_for_parts(runtime: Runtime, order_id: str, parts_order_id: str,
                           received_at: datetime) -> tuple[StoredEvent, ...]:
    """End the order's parts_on_order pause when the parts order it waits for was received;
    nothing when the order no longer waits for it. Returns the events this call appended."""
    state = await load_order(runtime.store, order_id)
    if state.paused_since is None or state.waiting_for != parts_order_id:
        return ()
    at = parts_wait.resume_at(state.paused_since, received_at)
    try:
        done = await execute(runtime.store, order_id, DECIDER, ResumeForParts(parts_order_id, at), PARTS_WATCHER,
                             source=SOURCE, now=runtime.clock, occurred_at=at)
    except ConcurrencyConflict:
        log.warning("order %s kept changing; its parts wait ends on the next pass", order_id)
        return ()
    return done.events
