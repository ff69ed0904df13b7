"""Stock per outlet and per technician van, kept as events; one stream per outlet,
`stock-{outlet_id}`, owned by the provider whose staff first recorded stock there.

Fittings come from dispatch's `order.repaired` (another stream), so a level is computed
from every move in global position order, never stored: the same moves give the same
levels whatever order the streams were projected in. A fitting draws from the fitting
technician's van when the van holds enough of the part, else from the outlet's shelf.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from libs.events.catalog import Payload, StockAdjusted, StockReceived, StockReturned
from libs.events.decider import Fact, Rules
from services.parts.domain.errors import BadLine, NotFound

MoveKind = Literal["received", "fitted", "adjusted", "returned"]
SHELF = ""  # the location key of the outlet's own shelf (a van's key is its technician id)


def stock_stream(outlet_id: str) -> str:
    return f"stock-{outlet_id}"


@dataclass(frozen=True)
class Move:
    position: int
    kind: MoveKind
    maker: str
    part_no: str
    quantity: int  # signed: + into stock, − out of it
    technician_id: str | None = None


Key = tuple[str, str, str]  # (location: SHELF or technician id, maker, part_no)


def levels(moves: Iterable[Move]) -> dict[Key, int]:
    """On-hand quantity per location and part after every move, in position order."""
    out: dict[Key, int] = {}
    for move in sorted(moves, key=lambda m: m.position):
        where = move.technician_id or SHELF
        if move.kind == "fitted" and move.technician_id:
            van = (move.technician_id, move.maker, move.part_no)
            where = move.technician_id if out.get(van, 0) >= -move.quantity else SHELF
        key = (where, move.maker, move.part_no)
        out[key] = out.get(key, 0) + move.quantity
    return out


def shortages(on_hand: Mapping[tuple[str, str], int], used: Mapping[tuple[str, str], int],
              on_order: Mapping[tuple[str, str], int]) -> list[dict[str, object]]:
    """Seed 000's regular question, what does the outlet need: per (maker, part), the usage of
    the period against what is on hand and on order; short = usage − on hand − on order, where
    a negative level (fitted more than received: see the anomaly flags) counts as nothing on hand."""
    out = []
    for key in sorted(set(on_hand) | set(used) | set(on_order)):
        have, need, coming = on_hand.get(key, 0), used.get(key, 0), on_order.get(key, 0)
        out.append({"maker": key[0], "part_no": key[1], "on_hand": have, "used": need, "on_order": coming,
                    "short": max(0, need - max(have, 0) - coming)})
    return out


@dataclass(frozen=True)
class Stock:
    version: int = 0
    provider_id: str | None = None


@dataclass(frozen=True)
class Receive:
    received: StockReceived


@dataclass(frozen=True)
class Count:
    """A stock count: `booked` is the level the read model shows for that place and part."""

    outlet_id: str
    provider_id: str
    maker: str
    technician_id: str | None
    part_no: str
    counted: int
    booked: int
    reason: str


@dataclass(frozen=True)
class SendBack:
    returned: StockReturned
    booked: Mapping[str, int]  # part_no → on hand where it is sent from


StockCommand = Receive | Count | SendBack


def count_delta(counted: int, booked: int) -> int:
    """What a count changes: nothing when it finds what the books say."""
    return counted - booked


def send_back_check(lines: Sequence[tuple[str, int]], booked: Mapping[str, int]) -> None:
    for i, (part_no, quantity) in enumerate(lines):
        if quantity > booked.get(part_no, 0):
            raise BadLine(f"part {part_no}: {quantity} to send back, {booked.get(part_no, 0)} on hand",
                          f"lines[{i}].quantity")


def _owner(state: Stock, provider_id: str, outlet_id: str) -> None:
    if state.provider_id is not None and state.provider_id != provider_id:
        raise NotFound(f"no outlet {outlet_id} of provider {provider_id}")


def evolve(state: Stock, data: Payload, fact: Fact) -> Stock:
    state = replace(state, version=fact.version)
    if isinstance(data, StockReceived | StockAdjusted | StockReturned) and state.provider_id is None:
        state = replace(state, provider_id=data.provider_id)
    return state


def decide(state: Stock, command: StockCommand) -> Sequence[Payload]:
    match command:
        case Receive(received=received):
            _owner(state, received.provider_id, received.outlet_id)
            return [received]
        case Count():
            _owner(state, command.provider_id, command.outlet_id)
            delta = count_delta(command.counted, command.booked)
            return [StockAdjusted(outlet_id=command.outlet_id, provider_id=command.provider_id, maker=command.maker,
                                  technician_id=command.technician_id, part_no=command.part_no,
                                  counted=command.counted, delta=delta, reason=command.reason)]
        case SendBack(returned=returned, booked=booked):
            _owner(state, returned.provider_id, returned.outlet_id)
            send_back_check([(x.part_no, x.quantity) for x in returned.lines], booked)
            return [returned]


DECIDER: Rules[Stock, StockCommand] = Rules(lambda _s: Stock(), evolve, decide)
