"""Defective-part returns (旧件返还): a returnable part's faulty unit goes back to the maker,
named by its serial; one stream per return, `part-return-{return_id}`.

The return id is derived from the order and the faulty serial, so the same faulty part
cannot be returned twice and a retried shipment is recognised.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from libs.events.catalog import PartReturnReceived, PartReturnShipped, PartUsed, Payload
from libs.events.decider import Fact, Rules
from services.parts.domain.errors import BadLine, PartsRefused

DEFAULT_RETURN_DAYS = 30  # a part without its own limit in the catalogue


def return_id(order_id: str, faulty_serial: str) -> str:
    return f"{order_id}:{faulty_serial}"


def return_stream(rid: str) -> str:
    return f"part-return-{rid}"


def return_check(fitted: Sequence[PartUsed], part_no: str, faulty_serial: str, returnable: bool) -> None:
    """The order fitted this part, the part is returnable, and the serial is the one the repair
    recorded as removed (when it recorded one)."""
    matching = [p for p in fitted if p.part_no == part_no]
    if not matching:
        raise BadLine(f"the repair fitted no part {part_no}", "part_no")
    if not returnable:
        raise BadLine(f"part {part_no} is not returnable under the maker's catalogue", "part_no")
    recorded = {p.faulty_serial for p in matching if p.faulty_serial}
    if recorded and faulty_serial not in recorded:
        raise BadLine(f"the repair recorded faulty serial(s) {sorted(recorded)} for {part_no}, not {faulty_serial}",
                      "faulty_serial")


def overdue(repaired_at: datetime, within_days: int | None, received: bool, now: datetime) -> bool:
    """A return is overdue when not received within the part's limit after the repair."""
    days = within_days or DEFAULT_RETURN_DAYS
    return not received and now - repaired_at > timedelta(days=days)


@dataclass(frozen=True)
class Return:
    version: int = 0
    shipped: PartReturnShipped | None = None
    received: bool = False


@dataclass(frozen=True)
class ShipReturn:
    shipped: PartReturnShipped


@dataclass(frozen=True)
class ReceiveReturn:
    note: str = ""


ReturnCommand = ShipReturn | ReceiveReturn


def evolve(state: Return, data: Payload, fact: Fact) -> Return:
    state = replace(state, version=fact.version)
    match data:
        case PartReturnShipped():
            return replace(state, shipped=data)
        case PartReturnReceived():
            return replace(state, received=True)
    return state


def decide(state: Return, command: ReturnCommand) -> Sequence[Payload]:
    match command:
        case ShipReturn(shipped=shipped):
            if state.shipped == shipped:
                return []
            if state.shipped is not None:
                raise PartsRefused(f"faulty part {shipped.faulty_serial} of order {shipped.order_id} is already returned")
            return [shipped]
        case ReceiveReturn(note=note):
            if state.received:
                return []
            if state.shipped is None:
                raise PartsRefused("nothing was shipped on this return")
            return [PartReturnReceived(note=note)]


DECIDER: Rules[Return, ReturnCommand] = Rules(lambda _s: Return(), evolve, decide)
