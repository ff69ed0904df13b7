"""The parts rules as pure functions, at their edges."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from libs.events.catalog import (
    PartCatalogued,
    PartCostSet,
    PartReturnShipped,
    PartsOrderRequested,
    PartUsed,
    ShippedLine,
    StockLine,
    StockReceived,
)
from libs.events.decider import Fact
from services.parts.domain import catalogue, orders, returns, stock
from services.parts.domain.anomalies import Facts, Fit, flags
from services.parts.domain.catalogue import CostVersion, cost_in_force
from services.parts.domain.errors import BadLine, NotFound, PartsRefused, PriceAboveCost, UnknownPart
from services.parts.domain.stock import SHELF, Move, levels, shortages

T0 = datetime(2026, 5, 4, 2, 0, tzinfo=UTC)


def _fact(version: int) -> Fact:
    return Fact("s", version, T0, T0, version)


# catalogue and cost versions

def test_cost_in_force_by_effective_day_and_the_later_version_of_one_day() -> None:
    costs = [CostVersion(4000, date(2026, 5, 1), 1), CostVersion(4200, date(2026, 6, 1), 2),
             CostVersion(4100, date(2026, 6, 1), 3)]
    assert cost_in_force(costs, date(2026, 4, 30)) is None
    assert cost_in_force(costs, date(2026, 5, 1)) == 4000
    assert cost_in_force(costs, date(2026, 5, 31)) == 4000
    assert cost_in_force(costs, date(2026, 6, 1)) == 4100
    assert cost_in_force([], date(2026, 6, 1)) is None


ENTRY = PartCatalogued(maker="gree", part_no="GR-C1", name="压缩机电容", fits_models=["KFR-35"], returnable=True)


def _part(*commands: catalogue.PartCommand) -> catalogue.Part:
    state = catalogue.Part()
    for command in commands:
        for payload in catalogue.decide(state, command):
            state = catalogue.evolve(state, payload, _fact(state.version + 1))
    return state


def test_cataloguing_again_with_the_same_entry_and_cost_appends_nothing() -> None:
    first = catalogue.Catalogue(ENTRY, 4000, date(2026, 5, 1))
    state = _part(first)
    assert state.version == 2 and state.returnable and state.costs[0].cost_fen == 4000
    assert catalogue.decide(state, first) == []
    amended = catalogue.Catalogue(ENTRY.model_copy(update={"returnable": False}))
    assert [type(p) for p in catalogue.decide(state, amended)] == [PartCatalogued]


def test_a_cost_needs_a_catalogued_part_and_a_new_cost_on_the_same_day_is_a_new_version() -> None:
    cost = PartCostSet(maker="gree", part_no="GR-C1", cost_fen=3900, effective_from=date(2026, 5, 1))
    with pytest.raises(NotFound) as refused:
        catalogue.decide(catalogue.Part(), catalogue.SetCost(cost))
    assert refused.value.field == "part_no"
    state = _part(catalogue.Catalogue(ENTRY, 4000, date(2026, 5, 1)), catalogue.SetCost(cost))
    assert cost_in_force(state.costs, date(2026, 5, 1)) == 3900


# parts orders: the at-cost rule

def test_price_check_allows_at_cost_and_below_and_names_the_line_above_cost() -> None:
    costs = {"A": 1000, "B": 500}
    orders.price_check([ShippedLine(part_no="A", quantity=2, unit_cost_fen=1000),
                        ShippedLine(part_no="B", quantity=1, unit_cost_fen=400)], costs)
    with pytest.raises(PriceAboveCost) as above:
        orders.price_check([ShippedLine(part_no="A", quantity=1, unit_cost_fen=1000),
                            ShippedLine(part_no="B", quantity=1, unit_cost_fen=501)], costs)
    assert above.value.field == "lines[1].unit_cost_fen" and above.value.status == 422
    with pytest.raises(UnknownPart) as unknown:
        orders.price_check([ShippedLine(part_no="Z", quantity=1, unit_cost_fen=0)], {"Z": None})
    assert unknown.value.field == "lines[0].part_no"


REQUEST = PartsOrderRequested(parts_order_id="po-1", maker="gree", outlet_id="o1", provider_id="p1",
                              supplier="dealer-wh", lines=[StockLine(part_no="A", quantity=3)])


def _order(*commands: orders.OrderCommand) -> orders.PartsOrder:
    state = orders.PartsOrder()
    for command in commands:
        for payload in orders.decide(state, command):
            state = orders.evolve(state, payload, _fact(state.version + 1))
    return state


def test_parts_order_runs_requested_shipped_received_in_that_order_only() -> None:
    ship = orders.Ship((ShippedLine(part_no="A", quantity=3, unit_cost_fen=900),), {"A": 900})
    with pytest.raises(PartsRefused):
        orders.decide(orders.PartsOrder(), ship)
    requested = _order(orders.Request(REQUEST))
    assert orders.decide(requested, orders.Request(REQUEST)) == []  # a retry
    with pytest.raises(PartsRefused):
        orders.decide(requested, orders.Receive())
    shipped = _order(orders.Request(REQUEST), ship)
    [received] = orders.decide(shipped, orders.Receive())
    assert received.lines == [StockLine(part_no="A", quantity=3)]  # type: ignore[attr-defined]
    with pytest.raises(PartsRefused):
        orders.decide(shipped, ship)


def test_a_receipt_names_only_shipped_parts_up_to_the_shipped_quantity() -> None:
    shipped = [ShippedLine(part_no="A", quantity=3, unit_cost_fen=1)]
    orders.receipt_check(shipped, [StockLine(part_no="A", quantity=3)])
    with pytest.raises(BadLine) as too_many:
        orders.receipt_check(shipped, [StockLine(part_no="A", quantity=2), StockLine(part_no="A", quantity=4)])
    assert too_many.value.field == "lines[1].quantity"
    with pytest.raises(BadLine):
        orders.receipt_check(shipped, [StockLine(part_no="B", quantity=1)])


# stock

def test_a_fitting_draws_from_the_van_when_it_holds_enough_else_from_the_shelf() -> None:
    moves = [Move(1, "received", "gree", "A", 5), Move(2, "received", "gree", "A", 2, "t1"),
             Move(4, "fitted", "gree", "A", -3, "t1"), Move(3, "fitted", "gree", "A", -2, "t1"),
             Move(5, "fitted", "gree", "A", -1, None)]
    got = levels(moves)  # position order: the van's 2 go to the first fitting, the 3 come from the shelf
    assert got == {(SHELF, "gree", "A"): 1, ("t1", "gree", "A"): 0}


def test_shortage_is_usage_less_on_hand_and_on_order_never_negative() -> None:
    rows = shortages({("gree", "A"): 2, ("gree", "B"): 9}, {("gree", "A"): 7, ("gree", "B"): 3},
                     {("gree", "A"): 1})
    assert [(r["part_no"], r["short"]) for r in rows] == [("A", 4), ("B", 0)]
    assert shortages({}, {}, {}) == []
    [negative] = shortages({("gree", "X"): -1}, {("gree", "X"): 1}, {})
    assert negative["short"] == 1 and negative["on_hand"] == -1


def test_a_count_records_the_difference_and_another_providers_outlet_is_not_found() -> None:
    received = StockReceived(outlet_id="o1", provider_id="p1", maker="gree", lines=[StockLine(part_no="A", quantity=1)])
    state = stock.evolve(stock.Stock(), received, _fact(1))
    count = stock.Count("o1", "p1", "gree", None, "A", counted=0, booked=1, reason="lost")
    [adjusted] = stock.decide(state, count)
    assert adjusted.delta == -1 and adjusted.counted == 0  # type: ignore[attr-defined]
    assert stock.count_delta(4, 4) == 0
    with pytest.raises(NotFound):
        stock.decide(state, stock.Count("o1", "p2", "gree", None, "A", 0, 0, "x"))
    with pytest.raises(NotFound):
        stock.decide(state, stock.Receive(received.model_copy(update={"provider_id": "p2"})))


def test_only_what_is_on_hand_can_be_sent_back() -> None:
    stock.send_back_check([("A", 2)], {"A": 2})
    with pytest.raises(BadLine) as refused:
        stock.send_back_check([("A", 1), ("B", 1)], {"A": 2})
    assert refused.value.field == "lines[1].quantity"


# returns (旧件返还)

FITTED = [PartUsed(part_no="A", quantity=1, unit_cost_fen=100, original=True, serial="N1", faulty_serial="F1")]


def test_a_return_needs_the_fitted_returnable_part_and_the_recorded_faulty_serial() -> None:
    returns.return_check(FITTED, "A", "F1", returnable=True)
    with pytest.raises(BadLine) as not_fitted:
        returns.return_check(FITTED, "B", "F1", returnable=True)
    assert not_fitted.value.field == "part_no"
    with pytest.raises(BadLine):
        returns.return_check(FITTED, "A", "F1", returnable=False)
    with pytest.raises(BadLine) as other_serial:
        returns.return_check(FITTED, "A", "F9", returnable=True)
    assert other_serial.value.field == "faulty_serial"
    unrecorded = [FITTED[0].model_copy(update={"faulty_serial": None})]
    returns.return_check(unrecorded, "A", "F9", returnable=True)  # the repair named none: the return names it


def test_overdue_strictly_after_the_limit_and_never_once_received() -> None:
    limit = T0 + timedelta(days=10)
    assert not returns.overdue(T0, 10, False, limit)
    assert returns.overdue(T0, 10, False, limit + timedelta(seconds=1))
    assert not returns.overdue(T0, 10, True, limit + timedelta(days=99))
    assert not returns.overdue(T0, None, False, T0 + timedelta(days=returns.DEFAULT_RETURN_DAYS))
    assert returns.overdue(T0, None, False, T0 + timedelta(days=returns.DEFAULT_RETURN_DAYS, seconds=1))


def test_a_return_is_shipped_once_and_received_once() -> None:
    shipped = PartReturnShipped(return_id="o:F1", order_id="o", maker="gree", provider_id="p1", outlet_id="o1",
                                part_no="A", faulty_serial="F1")
    with pytest.raises(PartsRefused):
        returns.decide(returns.Return(), returns.ReceiveReturn())
    state = returns.evolve(returns.Return(), shipped, _fact(1))
    assert returns.decide(state, returns.ShipReturn(shipped)) == []
    with pytest.raises(PartsRefused):
        returns.decide(state, returns.ShipReturn(shipped.model_copy(update={"waybill": "other"})))
    received = returns.evolve(state, returns.decide(state, returns.ReceiveReturn())[0], _fact(2))
    assert received.received and returns.decide(received, returns.ReceiveReturn()) == []


# anomaly flags

def _fit(**over: object) -> Fit:
    base: dict[str, object] = {"order_id": "o", "maker": "gree", "provider_id": "p1", "outlet_id": "o1",
                               "part_no": "A", "quantity": 1, "unit_cost_fen": 1000, "original": True,
                               "repaired_at": T0}
    return Fit(**(base | over))  # type: ignore[arg-type]


def _facts(**over: object) -> Facts:
    base: dict[str, object] = {"received": {("o1", "gree", "A")}, "catalogued": {("gree", "A")},
                               "costs": {("gree", "A"): [CostVersion(1000, date(2026, 1, 1), 1)]},
                               "returnable": {}, "returned": set(), "makers": {"gree"}}
    return Facts(**(base | over))  # type: ignore[arg-type]


def test_a_clean_fit_has_no_flag() -> None:
    assert flags([_fit()], _facts(), T0) == []


def test_an_original_part_the_outlet_never_received_is_flagged_a_non_original_one_is_not() -> None:
    [flag] = flags([_fit(outlet_id="o2")], _facts(), T0)
    assert flag.kind == "never_received" and "o2" in flag.reason
    assert flags([_fit(outlet_id="o2", original=False)], _facts(), T0) == []


def test_above_cost_by_one_fen_is_flagged_at_cost_is_not() -> None:
    [flag] = flags([_fit(unit_cost_fen=1001)], _facts(), T0)
    assert flag.kind == "above_cost" and "1000 fen" in flag.reason


def test_not_catalogued_only_for_makers_that_keep_a_catalogue() -> None:
    received = {("o1", "gree", "Z"), ("o1", "midea", "Z")}
    assert [f.kind for f in flags([_fit(part_no="Z")], _facts(received=received), T0)] == ["not_catalogued"]
    assert flags([_fit(part_no="Z", maker="midea")], _facts(received=received), T0) == []


def test_a_returnable_part_not_received_back_in_time_is_flagged_until_received() -> None:
    facts = _facts(returnable={("gree", "A"): 7})
    late = T0 + timedelta(days=7, seconds=1)
    assert flags([_fit()], facts, T0 + timedelta(days=7)) == []
    assert [f.kind for f in flags([_fit()], facts, late)] == ["return_overdue"]
    assert flags([_fit()], _facts(returnable={("gree", "A"): 7}, returned={("o", "A")}), late) == []
