"""Settlement's use cases (approve, correct, reverse): load the order, check the caller's
maker, find the fee standard in force on the repair day, decide, append
(libs.events.command.execute; a race with another writer is decided again). No FastAPI."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from uuid import UUID

from libs.events import catalog
from libs.events.chinatime import local_day
from libs.events.command import Committed, execute
from libs.events.errors import Missing
from libs.web.consistency import ReadModelBehind
from libs.web.runtime import Runtime
from services.settlement.domain import DECIDER, ApproveSettlement, Command, CorrectSettlement, State
from services.settlement.domain import returns as part_returns
from services.settlement.domain.pricing import RepairFacts
from services.settlement.domain.standards import FeeStandard
from services.settlement.reference import standard_in_force
from services.settlement.returns_projection import PROJECTION as RETURNS
from services.settlement.returns_projection import received_parts

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
        command = make(standard)
        if facts is not None and isinstance(command, ApproveSettlement | CorrectSettlement):
            command = replace(command, returns=await parts_returns(runtime, order_id, facts))
        return command

    return await execute(runtime.store, order_id, DECIDER, build, actor, source=SOURCE, now=runtime.clock,
                         correlation_id=correlation_id, caused_by_last=True)


async def _history(runtime: Runtime, stream: str) -> list[catalog.Payload]:
    return [catalog.parse(e) for e in await runtime.store.read_stream(stream)]


async def parts_returns(runtime: Runtime, order_id: str, facts: RepairFacts) -> part_returns.PartsReturns:
    """The order's returnable parts (from the parts service's catalogue streams `part-{maker}:{part_no}`,
    read, never written here), the parts whose faulty unit was received back (settlement's returns read
    model) and the maker's return policy (Settings.settlement_return_policies)."""
    policies = part_returns.policies_from(runtime.settings.settlement_return_policies)
    returnable: set[str] = set()
    for no in sorted({p.part_no for p in facts.parts}):
        if part_returns.returnable_in(await _history(runtime, f"part-{facts.maker}:{no}")):
            returnable.add(no)
    received = await received_parts(runtime.engine, order_id) if returnable else frozenset()
    if returnable - received:  # before waiting or withholding: the read model has seen every receipt committed
        head = await runtime.store.head_position()
        reached = await runtime.watermarks.wait_for(RETURNS.name, head, runtime.settings.read_your_writes_wait)
        if reached < head:
            raise ReadModelBehind(f"the read model {RETURNS.name} is at position {reached}, not yet at {head}; "
                                  "retry shortly", min_position=head, position=reached)
        received = await received_parts(runtime.engine, order_id)
    return part_returns.PartsReturns(part_returns.policy_of(facts.maker, policies), frozenset(returnable), received)
