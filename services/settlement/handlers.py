"""Settlement's use cases (approve, correct, reverse): load the order, check the caller's
maker, find the fee standard in force on the repair day, decide, append
(libs.events.command.execute; a race with another writer is decided again). No FastAPI."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from libs.events.chinatime import local_day
from libs.events.command import Committed, execute
from libs.events.errors import Missing
from libs.web.runtime import Runtime
from services.settlement.domain import DECIDER, Command, State
from services.settlement.domain.standards import FeeStandard
from services.settlement.reference import standard_in_force

SOURCE = "settlement"


async def settle(
    runtime: Runtime, order_id: str, scope: tuple[str, ...] | None, actor: str,
    make: Callable[[FeeStandard | None], Command],
    correlation_id: UUID | None = None,
) -> Committed[State]:
    """Run one settlement command for a caller acting for the makers `scope` (None: any maker);
    another maker's order is answered as unknown, never naming its owner."""

    async def build(state: State) -> Command:
        if state.version == 0:
            raise Missing(f"order {order_id} not found")
        if scope is not None and state.maker is not None and state.maker not in scope:
            raise Missing(f"order {order_id} not found")
        facts, standard = state.facts(), None
        if facts is not None:
            standard = await standard_in_force(runtime.engine, facts.maker, facts.provider_id,
                                               local_day(facts.repaired_at))
        return make(standard)

    return await execute(runtime.store, order_id, DECIDER, build, actor, source=SOURCE, now=runtime.clock,
                         correlation_id=correlation_id, caused_by_last=True)
