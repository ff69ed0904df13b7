"""Parts orders, outlet → dealer or the maker's regional warehouse: requested, shipped,
received; one stream per parts order, `parts-order-{id}`.

The at-cost rule (seed 000: "不要在零配件的价格上赚取这些服务网点的利润"): every shipped
line is priced at most at the catalogue cost in force on the shipping day; a line above
it is refused, naming the line, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from libs.events.catalog import (
    PartsOrderReceived,
    PartsOrderRequested,
    PartsOrderShipped,
    Payload,
    ShippedLine,
    StockLine,
)
from libs.events.decider import Fact, Rules
from services.parts.domain.errors import BadLine, PartsRefused, PriceAboveCost, UnknownPart

Status = Literal["new", "requested", "shipped", "received"]


def order_stream(parts_order_id: str) -> str:
    return f"parts-order-{parts_order_id}"


@dataclass(frozen=True)
class PartsOrder:
    version: int = 0
    status: Status = "new"
    request: PartsOrderRequested | None = None
    shipped: tuple[ShippedLine, ...] = ()


@dataclass(frozen=True)
class Request:
    request: PartsOrderRequested


@dataclass(frozen=True)
class Ship:
    lines: tuple[ShippedLine, ...]
    costs: Mapping[str, int | None]  # part_no → catalogue cost in force on the shipping day


@dataclass(frozen=True)
class Receive:
    lines: tuple[StockLine, ...] | None = None  # None: everything shipped


OrderCommand = Request | Ship | Receive


def price_check(lines: Sequence[ShippedLine], costs: Mapping[str, int | None]) -> None:
    """Refuse the first line priced above its catalogue cost (or of a part with no cost)."""
    for i, line in enumerate(lines):
        cost = costs.get(line.part_no)
        if cost is None:
            raise UnknownPart(f"part {line.part_no} has no catalogue cost in force", f"lines[{i}].part_no")
        if line.unit_cost_fen > cost:
            raise PriceAboveCost(
                f"part {line.part_no} priced {line.unit_cost_fen} fen, above its catalogue cost of {cost} fen: "
                "parts are supplied at cost, without a margin (seed 000)", f"lines[{i}].unit_cost_fen")


def receipt_check(shipped: Sequence[ShippedLine], received: Sequence[StockLine]) -> None:
    """A receipt names only shipped parts, each at most in the quantity shipped."""
    sent: dict[str, int] = {}
    for line in shipped:
        sent[line.part_no] = sent.get(line.part_no, 0) + line.quantity
    for i, got in enumerate(received):
        if got.quantity > sent.get(got.part_no, 0):
            raise BadLine(f"part {got.part_no}: {got.quantity} received, {sent.get(got.part_no, 0)} shipped",
                          f"lines[{i}].quantity")


def evolve(state: PartsOrder, data: Payload, fact: Fact) -> PartsOrder:
    state = replace(state, version=fact.version)
    match data:
        case PartsOrderRequested():
            return replace(state, status="requested", request=data)
        case PartsOrderShipped():
            return replace(state, status="shipped", shipped=tuple(data.lines))
        case PartsOrderReceived():
            return replace(state, status="received")
    return state


def decide(state: PartsOrder, command: OrderCommand) -> Sequence[Payload]:
    match command:
        case Request(request=request):
            if state.request == request:
                return []  # a retry of the same request
            if state.status != "new":
                raise PartsRefused(f"parts order {request.parts_order_id} exists")
            return [request]
        case Ship(lines=lines, costs=costs):
            if state.status != "requested":
                raise PartsRefused(f"a {state.status} parts order cannot be shipped")
            price_check(lines, costs)
            return [PartsOrderShipped(lines=list(lines), total_fen=sum(x.quantity * x.unit_cost_fen for x in lines))]
        case Receive(lines=lines):
            if state.status != "shipped":
                raise PartsRefused(f"a {state.status} parts order cannot be received")
            got = list(lines) if lines is not None else [StockLine(part_no=x.part_no, quantity=x.quantity)
                                                         for x in state.shipped]
            receipt_check(state.shipped, got)
            return [PartsOrderReceived(lines=got)]


DECIDER: Rules[PartsOrder, OrderCommand] = Rules(lambda _s: PartsOrder(), evolve, decide,
                                                  lambda s: {"parts_order_status": s.status})
