"""The order aggregate's rules, one test per rule, without I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from libs.events import catalog
from libs.events.decider import Fact
from services.intake.domain import (
    AlreadyReported,
    Escalate,
    InvalidField,
    OrderClosed,
    OrderState,
    PolicyBook,
    ReceiveComplaint,
    ReportOrder,
    TopOfChain,
    UnknownOrder,
    decide,
    evolve,
)

TODAY = date(2026, 5, 4)
NOW = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)


def report(**product: object) -> ReportOrder:
    fields = {"category": "air_conditioner", "brand": "格力", "model": "KFR-35GW", "serial": "GL1",
              "factory_date": date(2025, 3, 1), "purchase_date": date(2025, 6, 18), **product}
    return ReportOrder(
        channel="partner", external_ref="JD-1", partner_id="jd-retail",
        customer=catalog.Customer(name="张伟", phone="13800138000", address="珞喻路1号"),
        product=catalog.Product.model_validate(fields),
        location=catalog.Location(province="湖北", city="武汉", county="洪山区", provincial_capital=True),
        fault="不制冷", today=TODAY, policies=PolicyBook(),
    )


def step(state: OrderState, data: catalog.Payload) -> OrderState:
    return evolve(state, data, Fact("ord-1", state.version + 1, NOW, NOW))


def apply(state: OrderState, events: list[catalog.Payload]) -> OrderState:
    for data in events:
        state = step(state, data)
    return state


def types(events: list[catalog.Payload]) -> list[str]:
    return [catalog.type_of(type(p)) for p in events]


def reported() -> OrderState:
    return apply(OrderState(), decide(OrderState(), report()))


def complaint(**extra: object) -> ReceiveComplaint:
    return ReceiveComplaint(text="无人上门", received_at=NOW, external_ref="HB-1", platform_id="gov", **extra)  # type: ignore[arg-type]


def test_report_records_maker_warranty_and_starts_at_dealer() -> None:
    [data] = decide(OrderState(), report())
    assert types([data]) == ["order.reported"] and isinstance(data, catalog.OrderReported)
    assert data.maker == "gree" and data.tier == "dealer" and data.partner_id == "jd-retail"
    assert data.warranty.in_warranty and data.warranty.coverage == "replacement"
    state = step(OrderState(), data)
    assert state.exists and state.status == "reported" and state.version == 1


def test_an_order_is_reported_once() -> None:
    with pytest.raises(AlreadyReported):
        decide(reported(), report())


@pytest.mark.parametrize("field", ["purchase_date", "factory_date"])
def test_dates_in_the_future_are_refused_naming_the_field(field: str) -> None:
    with pytest.raises(InvalidField) as refused:
        decide(OrderState(), report(**{field: date(2026, 5, 5)}))
    assert refused.value.field == f"product.{field}"


def test_purchase_before_factory_date_is_refused() -> None:
    with pytest.raises(InvalidField) as refused:
        decide(OrderState(), report(factory_date=date(2025, 3, 1), purchase_date=date(2025, 2, 1)))
    assert refused.value.field == "product.purchase_date"


def test_escalation_moves_up_one_tier_at_a_time() -> None:
    state = reported()
    [first] = decide(state, Escalate(reason="dealer cannot fix"))
    assert isinstance(first, catalog.OrderEscalated)
    assert (first.from_tier, first.to_tier, first.trigger) == ("dealer", "regional", "manual")
    state = step(state, first)
    [second] = decide(state, Escalate(reason="still broken", to_tier="hq"))
    assert isinstance(second, catalog.OrderEscalated) and second.to_tier == "hq"


@pytest.mark.parametrize(("tier", "to"), [("dealer", "hq"), ("regional", "dealer"), ("regional", "regional")])
def test_escalation_may_not_skip_a_tier_or_go_down(tier: catalog.Tier, to: catalog.Tier) -> None:
    with pytest.raises(InvalidField) as refused:
        decide(replace(reported(), tier=tier), Escalate(reason="x", to_tier=to))
    assert refused.value.field == "to_tier"


def test_hq_is_the_top_of_the_chain() -> None:
    with pytest.raises(TopOfChain):
        decide(replace(reported(), tier="hq"), Escalate(reason="x"))


def test_a_settled_order_is_closed_to_escalation_and_reopened_by_a_reversal() -> None:
    settled = step(reported(), catalog.OrderSettled(
        settlement_id=uuid4(), provider_id="p", maker="gree", payer="maker", standard_id="s", lines=[], total_fen=0))
    assert settled.closed
    with pytest.raises(OrderClosed):
        decide(settled, Escalate(reason="x"))
    reversed_ = step(settled,
                     catalog.OrderSettlementReversed(settlement_id=uuid4(), reason="wrong"))
    assert not reversed_.closed and decide(reversed_, Escalate(reason="x"))


def test_an_unknown_order_cannot_be_escalated() -> None:
    with pytest.raises(UnknownOrder):
        decide(OrderState(), Escalate(reason="x"))


def test_other_services_events_move_the_status() -> None:
    state = step(reported(), catalog.OrderDispatched(
        outlet_id="o1", provider_id="p1", technician_id="t1", sla_due_at=NOW, sla_hours=4))
    assert (state.status, state.provider_id, state.outlet_id) == ("dispatched", "p1", "o1")
    state = step(state, catalog.OrderArrived(arrived_at=NOW, staff_count=1))
    assert state.status == "on_site"


def test_a_complaint_about_an_order_is_recorded_against_its_provider_and_escalates_it() -> None:
    state = replace(reported(), provider_id="p1", outlet_id="o1")
    events = decide(state, complaint())
    assert types(events) == ["complaint.received", "order.escalated"]
    received, moved = events[0], events[1]
    assert isinstance(received, catalog.ComplaintReceived) and received.provider_id == "p1"
    assert received.channel == "platform" and received.external_ref == "HB-1"
    assert isinstance(moved, catalog.OrderEscalated) and moved.trigger == "complaint" and moved.to_tier == "regional"


def test_a_complaint_at_hq_or_after_settlement_is_recorded_without_escalation() -> None:
    for state in (replace(reported(), tier="hq"), replace(reported(), status="settled")):
        assert types(decide(state, complaint())) == ["complaint.received"]


def test_an_unmatched_complaint_opens_the_order_it_is_about_already_escalated_once() -> None:
    events = decide(OrderState(), complaint(report=replace(report(), channel="platform")))
    assert types(events) == ["order.reported", "complaint.received"]  # escalated by nature once, on entry
    assert isinstance(events[0], catalog.OrderReported) and events[0].tier == "regional"
    with pytest.raises(UnknownOrder):
        decide(OrderState(), complaint())


def test_a_platforms_report_enters_at_the_regional_office_every_other_at_the_dealer() -> None:
    for channel, tier in (("platform", "regional"), ("partner", "dealer"), ("hotline", "dealer")):
        [data] = decide(OrderState(), replace(report(), channel=channel))
        assert isinstance(data, catalog.OrderReported) and data.tier == tier, channel


def test_a_complaint_from_any_channel_moves_its_order_up_one_tier_never_past_hq() -> None:
    for channel in ("hotline", "web_form", "call_back", "internal_monitor", "platform"):
        events = decide(reported(), replace(complaint(), channel=channel))
        assert types(events) == ["complaint.received", "order.escalated"], channel
    state = reported()
    for expected in ("regional", "hq"):
        events = decide(state, complaint())
        assert isinstance(events[-1], catalog.OrderEscalated) and events[-1].to_tier == expected
        state = apply(state, events)
    assert types(decide(state, complaint())) == ["complaint.received"]  # hq: recorded, nowhere higher
