"""The pure settlement rules: standards, pricing, decide/evolve, anomaly flags. No I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from libs.events import catalog
from libs.events.chinatime import local_day
from libs.events.decider import Fact
from libs.events.envelope import NewEvent
from services.settlement.domain import (
    AlreadySettled,
    ApproveSettlement,
    CorrectSettlement,
    NoStandard,
    NotRepaired,
    NotSettled,
    ReverseSettlement,
    State,
    decide,
    evolve,
)
from services.settlement.domain.anomalies import Repair, flags
from services.settlement.domain.pricing import PricingError, RepairFacts, propose
from services.settlement.domain.standards import FeeStandardCreate, in_force
from tests.settlement.factory import (
    T0,
    arrived,
    dispatched,
    lump_sum,
    part,
    repaired,
    reported,
    standard,
    standard_body,
)

FACTS = RepairFacts(maker="gree", provider_id="prov-wuhan", category="air_conditioner", serial="SN-1",
                    in_warranty=True, county="洪山区", repaired_at=T0, labour_hours=Decimal("1.5"), parts=(part(),))


def _amounts(facts: RepairFacts = FACTS, **over: Any) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for line in propose(facts, standard(**over)).lines:
        out.setdefault(line.kind, []).append(line.amount_fen)
    return out


# --- pricing ----------------------------------------------------------------------------

def test_travel_by_distance_band_from_the_outlets_county_table() -> None:
    assert _amounts()["travel"] == [4000]  # 洪山区 is 12 km: the ≤30 km band


def test_travel_explicit_distance_overrides_and_unknown_distance_takes_the_nearest_band() -> None:
    assert propose(FACTS, standard(), distance_km=45).lines[0].amount_fen == 6000
    far = replace(FACTS, county="江夏区")
    line = propose(far, standard()).lines[0]
    assert line.amount_fen == 2000 and "distance unknown" in line.description


def test_travel_flat_fee() -> None:
    assert _amounts(travel={"flat_fen": 3500})["travel"] == [3500]


def test_labour_is_hours_times_the_category_rate_rounded_half_up() -> None:
    assert _amounts()["labour"] == [9000]
    quarter = replace(FACTS, labour_hours=Decimal("0.25"))
    assert _amounts(quarter, labour_fen_per_hour={"air_conditioner": 4002})["labour"] == [1001]  # 1000.5 → 1001


def test_parts_at_cost_never_above_the_price_list() -> None:
    facts = replace(FACTS, parts=(part("P-100", 4000), part("P-100", 5000, qty=2), part("P-999", 777)))
    lines = [line for line in propose(facts, standard()).lines if line.kind == "part"]
    assert [(line.unit_fen, line.amount_fen) for line in lines] == [(4000, 4000), (4500, 9000), (777, 777)]
    assert "capped at price list" in lines[1].description and "not on price list" in lines[2].description


def test_payer_maker_in_warranty_customer_out_of_warranty_contract_under_lump_sum() -> None:
    per_order, contract = standard(), standard(**lump_sum())
    assert propose(FACTS, per_order).payer == "maker"
    assert propose(replace(FACTS, in_warranty=False), per_order).payer == "customer"
    assert propose(FACTS, contract).payer == "lump_sum"
    assert propose(replace(FACTS, in_warranty=False), contract).payer == "customer"


def test_unknown_category_without_default_rate_cannot_be_priced() -> None:
    with pytest.raises(PricingError) as caught:
        propose(replace(FACTS, category="fridge"), standard())
    assert caught.value.field == "labour_fen_per_hour"
    assert propose(replace(FACTS, category="fridge"), standard(labour_fen_per_hour={"*": 5000})).lines[1].amount_fen == 7500


money = st.integers(min_value=0, max_value=10_000_000)


@settings(deadline=None, max_examples=150)  # no deadline: a loaded CI box must not make it flaky
@given(
    hours=st.decimals(min_value=0, max_value=200, places=2),
    rate=money,
    parts=st.lists(st.tuples(st.sampled_from(["P-100", "P-200", "P-300"]), money, st.integers(1, 50)), max_size=8),
    distance=st.none() | st.integers(0, 500),
    in_warranty=st.booleans(),
    lump=st.booleans(),
)
def test_every_total_is_the_sum_of_its_lines_in_whole_fen(
    hours: Decimal, rate: int, parts: list[tuple[str, int, int]], distance: int | None, in_warranty: bool, lump: bool,
) -> None:
    facts = replace(FACTS, labour_hours=hours, in_warranty=in_warranty,
                    parts=tuple(part(no, cost, qty) for no, cost, qty in parts))
    fee = standard(**(lump_sum() if lump else {}), labour_fen_per_hour={"air_conditioner": rate})
    proposal = propose(facts, fee, distance)
    assert proposal.total_fen == sum(line.amount_fen for line in proposal.lines)
    assert all(isinstance(line.amount_fen, int) and line.amount_fen >= 0 for line in proposal.lines)
    for line in proposal.lines[2:]:
        listed = fee.parts_price_list.get(line.description.split()[1])
        assert listed is None or line.unit_fen <= listed
    settled = catalog.OrderSettled(settlement_id=uuid4(), provider_id="p", maker="m", payer=proposal.payer,
                                   standard_id=proposal.standard_id, lines=list(proposal.lines), total_fen=proposal.total_fen)
    assert settled.total_fen == sum(line.amount_fen for line in settled.lines)


# --- standards --------------------------------------------------------------------------

def test_the_standard_in_force_on_the_repair_day_applies() -> None:
    v1, v2 = standard(1), standard(2, effective_from="2026-06-01")
    assert in_force([v1, v2], "gree", "prov-wuhan", date(2026, 5, 31)) == v1
    assert in_force([v1, v2], "gree", "prov-wuhan", date(2026, 6, 1)) == v2
    assert in_force([v2], "gree", "prov-wuhan", date(2026, 5, 31)) is None


def test_repair_day_is_the_china_calendar_day() -> None:
    assert local_day(T0.replace(hour=16)) == date(2026, 5, 5)  # 00:00 next day in Beijing


def test_a_later_version_for_the_same_date_wins_and_a_providers_own_standard_beats_the_makers() -> None:
    v1, v2 = standard(1), standard(2, travel={"flat_fen": 1})
    wide = standard(1, provider_id="*", effective_from="2026-03-01")
    assert in_force([v1, v2, wide], "gree", "prov-wuhan", date(2026, 5, 4)) == v2
    assert in_force([v1, v2, wide], "gree", "prov-other", date(2026, 5, 4)) == wide
    assert in_force([v1], "midea", "prov-wuhan", date(2026, 5, 4)) is None


@pytest.mark.parametrize("bad", [
    {"travel": {"flat_fen": 100, "bands": [{"up_to_km": 5, "fee_fen": 1}]}},
    {"travel": {}},
    {"travel": {"bands": [{"up_to_km": None, "fee_fen": 1}, {"up_to_km": 5, "fee_fen": 1}]}},
    {"kind": "lump_sum"},
    {"annual_sales_fen": 5},
    {"parts_price_list": {"P-1": -1}},
    {"labour_norm_hours": {"washer": "0"}},
])
def test_malformed_standards_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        FeeStandardCreate.model_validate(standard_body(**bad))


def test_lump_sum_budget_is_the_percentage_of_annual_sales() -> None:
    assert standard(**lump_sum()).budget_fen == 2_500_000
    assert standard().budget_fen is None


# --- decide / evolve --------------------------------------------------------------------

def test_an_order_that_is_not_repaired_cannot_be_settled() -> None:
    state = fold([reported(), dispatched(), arrived()])
    with pytest.raises(NotRepaired):
        decide(state, ApproveSettlement(uuid4(), standard()))


def test_approval_settles_the_proposal_and_a_second_approval_is_refused() -> None:
    state = fold([reported(), dispatched(), arrived(), repaired()])
    [settled] = decide(state, ApproveSettlement(uuid4(), standard()))
    assert isinstance(settled, catalog.OrderSettled)
    assert (settled.payer, settled.total_fen, settled.provider_id) == ("maker", 4000 + 9000 + 4500, "prov-wuhan")
    again = evolve(state, settled, Fact("order-1", 5, T0, T0, 5))
    with pytest.raises(AlreadySettled):
        decide(again, ApproveSettlement(uuid4(), standard()))


def test_the_provider_paid_is_the_one_the_order_was_last_assigned_to() -> None:
    moved = catalog.new_event(
        catalog.OrderReassigned(from_outlet_id="prov-wuhan-o1", outlet_id="o9", provider_id="prov-hankou",
                                technician_id="t9", reason="overloaded", sla_due_at=T0),
        type_="order.reassigned", source="dispatch", actor="dispatcher:d", occurred_at=T0)
    state = fold([reported(), dispatched(), moved, arrived(), repaired()])
    [settled] = decide(state, ApproveSettlement(uuid4(), standard(provider_id="prov-hankou")))
    assert isinstance(settled, catalog.OrderSettled) and settled.provider_id == "prov-hankou"


def test_no_standard_in_force_is_refused() -> None:
    with pytest.raises(NoStandard):
        decide(fold([reported(), dispatched(), arrived(), repaired()]), ApproveSettlement(uuid4(), None))


def test_a_correction_is_a_reversal_plus_a_new_settlement_naming_the_old_one() -> None:
    state = fold([reported(), dispatched(), arrived(), repaired()])
    [first] = decide(state, ApproveSettlement(uuid4(), standard()))
    assert isinstance(first, catalog.OrderSettled)
    state = evolve(state, first, Fact("order-1", 5, T0, T0, 5))
    reversal, second = decide(state, CorrectSettlement(uuid4(), "wrong distance", standard(), distance_km=3))
    assert isinstance(reversal, catalog.OrderSettlementReversed) and isinstance(second, catalog.OrderSettled)
    assert reversal.settlement_id == first.settlement_id and second.replaces == first.settlement_id
    assert second.total_fen == first.total_fen - 2000


def test_correcting_or_reversing_an_unsettled_order_is_refused() -> None:
    state = fold([reported(), dispatched(), arrived(), repaired()])
    with pytest.raises(NotSettled):
        decide(state, ReverseSettlement("x"))
    with pytest.raises(NotSettled):
        decide(state, CorrectSettlement(uuid4(), "x", standard()))


def test_a_reversal_reopens_the_order() -> None:
    state = fold([reported(), dispatched(), arrived(), repaired()])
    [settled] = decide(state, ApproveSettlement(uuid4(), standard()))
    state = evolve(state, settled, Fact("order-1", 5, T0, T0, 5))
    [reversal] = decide(state, ReverseSettlement("settled by mistake"))
    state = evolve(state, reversal, Fact("order-1", 6, T0, T0, 6))
    assert state.settlement is None and len(decide(state, ApproveSettlement(uuid4(), standard()))) == 1


def fold(events: list[NewEvent]) -> State:
    """Other services' events folded by payload, no envelopes or hashes stored."""
    state = State(order_id="order-1")
    for version, event in enumerate(events, start=1):
        payload = catalog.spec(event.type, event.schema_version).model.model_validate(event.data)
        state = evolve(state, payload, Fact("order-1", version, event.occurred_at, event.occurred_at, version))
    return state


# --- anomaly flags ----------------------------------------------------------------------

def _repair(order: str = "o1", days: float = 0, hours: str = "1", parts: tuple[catalog.PartUsed, ...] = (),
            serial: str = "SN-1") -> Repair:
    return Repair(order_id=order, maker="gree", provider_id="prov-wuhan", category="air_conditioner", serial=serial,
                  repaired_at=T0 + timedelta(days=days), labour_hours=Decimal(hours), parts=parts)


def _kinds(repairs: list[Repair]) -> list[tuple[str, str]]:
    return sorted((f.kind, f.order_id) for f in flags(repairs, [standard()]))


def test_non_original_part_is_flagged_with_the_part() -> None:
    [flag] = flags([_repair(parts=(part("P-200", 100, original=False),))], [standard()])
    assert flag.kind == "non_original_part" and "P-200" in flag.reason


def test_part_above_the_price_list_is_flagged_with_both_prices() -> None:
    [flag] = flags([_repair(parts=(part("P-100", 5000),))], [standard()])
    assert flag.kind == "part_above_price_list" and "5000" in flag.reason and "4500" in flag.reason
    assert _kinds([_repair(parts=(part("P-100", 4500),))]) == []


def test_repeat_repair_of_a_serial_within_30_days_flags_the_later_one() -> None:
    assert _kinds([_repair("o1"), _repair("o2", days=29.5)]) == [("repeat_repair", "o2")]
    assert _kinds([_repair("o1"), _repair("o2", days=31)]) == []
    assert _kinds([_repair("o1"), _repair("o2", days=3, serial="SN-2")]) == []
    [flag] = flags([_repair("o2", days=10), _repair("o1")], [])
    assert "o1" in flag.reason and "10.0 days" in flag.reason


def test_labour_far_above_the_category_norm_is_flagged() -> None:
    [flag] = flags([_repair(hours="4.5")], [standard()])
    assert flag.kind == "labour_above_norm" and "2.2x" in flag.reason and "4.5 h" in flag.reason
    assert _kinds([_repair(hours="4")]) == []
    assert flags([_repair(hours="40")], []) == []  # no standard, no norm: nothing to compare with
