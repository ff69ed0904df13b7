"""The application layer between the API/watcher and the pure domain: load an order's
stream, resolve its SLA policy, decide, and append with the version read."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from libs.events import catalog
from libs.events.db import reader
from libs.events.envelope import StoredEvent
from libs.events.store import AppendResult, SqlEventStore
from libs.web.runtime import Runtime
from services.dispatch.domain import Change, SlaPolicy, State, load
from services.dispatch.registry import policy_at

SOURCE = "dispatch"


async def load_order(store: SqlEventStore, order_id: str) -> State:
    """The order's dispatch state from its own events (status "new" when there are none)."""
    return load(order_id, await store.read_stream(order_id))


async def policy_for(runtime: Runtime, state: State) -> SlaPolicy:
    """The maker's SLA policy in force when the order was recorded."""
    if state.reported_recorded_at is None:
        return SlaPolicy()
    async with reader(runtime.engine).connect() as conn:
        return await policy_at(conn, state.maker, state.reported_recorded_at)


async def append(
    runtime: Runtime, state: State, changes: Sequence[Change], *, actor: str, correlation_id: UUID | None = None,
) -> tuple[StoredEvent, ...]:
    """Append the decided events at the version the state was built from (a race is a ConcurrencyConflict)."""
    if not changes:
        return ()
    events = [
        catalog.new_event(c.data, type_=c.type, source=SOURCE, actor=actor, occurred_at=c.occurred_at,
                          correlation_id=correlation_id)
        for c in changes
    ]
    result: AppendResult = await runtime.store.append(state.order_id, events, state.version)
    return result.events
