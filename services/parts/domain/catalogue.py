"""The parts catalogue of one maker: one stream per part, `part-{maker}:{part_no}`.

A part's cost price is versioned like the fee standards: each `part.cost_set` is in force
from its effective day (China time) until a later one; for one day the later version
wins. Nothing is edited: a change is a new event.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from libs.events.catalog import PartCatalogued, PartCostSet, Payload
from libs.events.decider import Fact, Rules
from services.parts.domain.errors import NotFound


def part_stream(maker: str, part_no: str) -> str:
    return f"part-{maker}:{part_no}"


@dataclass(frozen=True)
class CostVersion:
    cost_fen: int
    effective_from: date
    seq: int  # stream version: the later of two versions for one day wins


def cost_in_force(costs: Iterable[CostVersion], day: date) -> int | None:
    """The cost price in force on `day`, or None before the first version."""
    candidates = [c for c in costs if c.effective_from <= day]
    if not candidates:
        return None
    return max(candidates, key=lambda c: (c.effective_from, c.seq)).cost_fen


@dataclass(frozen=True)
class Part:
    version: int = 0
    entry: PartCatalogued | None = None
    costs: tuple[CostVersion, ...] = ()

    @property
    def returnable(self) -> bool:
        return self.entry is not None and self.entry.returnable


@dataclass(frozen=True)
class Catalogue:
    """Enter or amend a part; with a cost, also a cost version."""

    entry: PartCatalogued
    cost_fen: int | None = None
    effective_from: date | None = None


@dataclass(frozen=True)
class SetCost:
    cost: PartCostSet


PartCommand = Catalogue | SetCost


def evolve(state: Part, data: Payload, fact: Fact) -> Part:
    state = replace(state, version=fact.version)
    match data:
        case PartCatalogued():
            return replace(state, entry=data)
        case PartCostSet():
            version = CostVersion(data.cost_fen, data.effective_from, fact.version)
            return replace(state, costs=(*state.costs, version))
    return state


def _new_cost(state: Part, cost: PartCostSet) -> list[Payload]:
    """A cost version, unless the same cost is already recorded for the same day (a retry)."""
    same_day = [c for c in state.costs if c.effective_from == cost.effective_from]
    if same_day and max(same_day, key=lambda c: c.seq).cost_fen == cost.cost_fen:
        return []
    return [cost]


def decide(state: Part, command: PartCommand) -> Sequence[Payload]:
    match command:
        case Catalogue(entry=entry):
            out: list[Payload] = [] if state.entry == entry else [entry]
            if command.cost_fen is not None and command.effective_from is not None:
                out += _new_cost(state, PartCostSet(maker=entry.maker, part_no=entry.part_no,
                                                    cost_fen=command.cost_fen,
                                                    effective_from=command.effective_from))
            return out
        case SetCost(cost=cost):
            if state.entry is None:
                raise NotFound(f"part {cost.part_no} of {cost.maker} is not catalogued", "part_no")
            return _new_cost(state, cost)


DECIDER: Rules[Part, PartCommand] = Rules(lambda _stream: Part(), evolve, decide)
