"""The settlement side of one order: pure decide/evolve, no I/O, no clock reads.

State is folded from the order's own stream (intake's report, dispatch's assignment and
repair, our settlements). A correction never edits a settlement: it appends a reversal
and a new settlement that names the one it replaces.
"""

from __future__ import annotations

from uuid import UUID

from libs.events.catalog import (
    OrderSettled,
    OrderSettlementReversed,
    Payload,
)
from libs.events.decider import Rules
from services.settlement.domain.commands import ApproveSettlement, Command, CorrectSettlement, ReverseSettlement
from services.settlement.domain.errors import AlreadySettled, NoStandard, NotRepaired, NotSettled
from services.settlement.domain.model import State, evolve
from services.settlement.domain.pricing import propose
from services.settlement.domain.review import review


def _settle(state: State, command: ApproveSettlement | CorrectSettlement, replaces: UUID | None = None) -> OrderSettled:
    standard = command.standard
    facts = state.facts()
    if facts is None:
        raise NotRepaired(f"order {state.order_id} is not repaired (or not reported/dispatched)")
    if standard is None:
        raise NoStandard(f"no fee standard of {facts.maker} in force for provider {facts.provider_id} "
                         f"on {facts.repaired_at.date()}")
    proposal = propose(facts, standard, command.distance_km, command.returns)
    lines = review(proposal.lines, command.lines, command.decided_by or "finance")
    return OrderSettled(
        settlement_id=command.settlement_id, provider_id=facts.provider_id, maker=facts.maker, payer=proposal.payer,
        standard_id=proposal.standard_id, lines=list(lines), total_fen=sum(line.amount_fen for line in lines),
        replaces=replaces,
    )


def decide(state: State, command: Command) -> list[Payload]:
    """The events a command produces, or a SettlementRefused."""
    match command:
        case ApproveSettlement():
            if state.settlement is not None:
                raise AlreadySettled(f"order {state.order_id} is already settled "
                                     f"({state.settlement.settlement_id}); post a correction instead")
            return [_settle(state, command)]
        case CorrectSettlement():
            current = _current(state)
            new = _settle(state, command, current.settlement_id)
            return [OrderSettlementReversed(settlement_id=current.settlement_id, reason=command.reason), new]
        case ReverseSettlement():
            current = _current(state)
            return [OrderSettlementReversed(settlement_id=current.settlement_id, reason=command.reason)]


def _current(state: State) -> OrderSettled:
    if state.settlement is None:
        raise NotSettled(f"order {state.order_id} has no settlement in force")
    return state.settlement


DECIDER: Rules[State, Command] = Rules(lambda stream_id: State(order_id=stream_id), evolve, decide,
                                      lambda state: {"order_id": state.order_id})
