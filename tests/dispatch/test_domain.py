"""The order's dispatch rules (pure decide/evolve), one test per rule, no I/O."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from libs.events import catalog
from libs.events.catalog import Payload
from libs.events.decider import Fact
from libs.events.envelope import NewEvent
from services.dispatch.domain import (
    ON_SITE,
    Arrive,
    Assignment,
    BusinessCalendar,
    Dispatch,
    EscalateBreaches,
    Invalid,
    PauseSla,
    Reassign,
    Refused,
    Repair,
    RespondComplaint,
    ResumeSla,
    SlaPolicy,
    State,
    decide,
    evolve,
    occurred_at,
)
from tests.dispatch.factory import XIANNING, complaint, reported

T0 = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)  # Monday 09:00 in Beijing
TO = Assignment("wh-jiangxia", "prov-wuhan", "tech-wh-01")


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def fold(state: State, *items: NewEvent | Payload, at: datetime | None = None) -> State:
    """Payloads (happening `at`) or other services' events, folded without envelopes or hashes."""
    for item in items:
        if isinstance(item, NewEvent):
            payload, when = catalog.spec(item.type, item.schema_version).model.model_validate(item.data), item.occurred_at
        else:
            assert at is not None
            payload, when = item, at
        state = evolve(state, payload, Fact(state.order_id, state.version + 1, when, when))
    return state


def run(state: State, command: object) -> State:
    return fold(state, *decide(state, command), at=occurred_at(command))  # type: ignore[arg-type]


def new_order(**kwargs: object) -> State:
    return fold(State("ord-1"), reported(T0, **kwargs))  # type: ignore[arg-type]


def dispatched(**kwargs: object) -> State:
    return run(new_order(**kwargs), Dispatch(TO, at(0.5)))


def test_an_unreported_order_cannot_be_dispatched() -> None:
    with pytest.raises(Refused, match="not been reported"):
        decide(State("ord-x"), Dispatch(TO, T0))


def test_dispatch_records_the_four_hour_deadline_in_a_capital() -> None:
    [change] = decide(new_order(), Dispatch(TO, at(0.5)))
    assert isinstance(change, catalog.OrderDispatched)
    assert change.sla_due_at == at(4) and change.sla_hours == 4 and change.calendar == "24x7"
    assert (change.outlet_id, change.provider_id, change.technician_id) == ("wh-jiangxia", "prov-wuhan",
                                                                                          "tech-wh-01")


def test_dispatch_records_twelve_hours_elsewhere() -> None:
    [change] = decide(new_order(location=XIANNING), Dispatch(TO, at(0.5)))
    assert isinstance(change, catalog.OrderDispatched)
    assert change.sla_due_at == at(12) and change.sla_hours == 12


def test_dispatch_under_a_business_calendar_counts_working_time() -> None:
    policy = SlaPolicy(calendar=BusinessCalendar(), version=2, maker="gree")
    [change] = decide(new_order(location=XIANNING), Dispatch(TO, at(0.5), policy))
    assert isinstance(change, catalog.OrderDispatched)
    assert change.sla_due_at == datetime(2026, 5, 5, 4, 0, tzinfo=UTC)  # Tuesday 12:00 Beijing
    assert change.calendar == "gree@2"


def test_a_dispatched_order_is_not_dispatched_again() -> None:
    with pytest.raises(Refused, match="use reassign"):
        decide(dispatched(), Dispatch(TO, at(1)))


def test_reassign_keeps_the_sla_deadline() -> None:
    state = dispatched()
    [change] = decide(state, Reassign(Assignment("wh-2", "prov-2", "tech-9"), "technician ill", at(1)))
    assert isinstance(change, catalog.OrderReassigned)
    assert change.sla_due_at == at(4) and change.from_outlet_id == "wh-jiangxia"
    assert run(state, Reassign(Assignment("wh-2", "prov-2", "tech-9"), "ill", at(1))).provider_id == "prov-2"


def test_reassign_needs_a_dispatched_order() -> None:
    with pytest.raises(Refused):
        decide(new_order(), Reassign(TO, "why", at(1)))


def test_reassign_to_the_same_technician_is_invalid() -> None:
    with pytest.raises(Invalid) as err:
        decide(dispatched(), Reassign(TO, "why", at(1)))
    assert err.value.field == "technician_id"


def test_pause_and_resume_move_the_deadline() -> None:
    state = run(dispatched(), PauseSla("customer_rescheduled", at(1), at(1)))
    assert state.paused_since == at(1)
    with pytest.raises(Refused, match="already paused"):
        decide(state, PauseSla("parts_on_order", at(2), at(2)))
    state = run(state, ResumeSla(at(3), at(3)))
    assert state.on_site_clock(SlaPolicy()).due_at(None) == at(6)


def test_resume_needs_a_pause() -> None:
    with pytest.raises(Refused, match="not paused"):
        decide(dispatched(), ResumeSla(at(1), at(1)))


def test_no_pause_after_arrival() -> None:
    state = run(dispatched(), Arrive(at(2), at(2)))
    with pytest.raises(Refused, match="before arrival"):
        decide(state, PauseSla("parts_on_order", at(3), at(3)))


def test_arrival_while_paused_ends_the_pause_first() -> None:
    state = run(dispatched(), PauseSla("customer_unreachable", at(1), at(1)))
    changes = decide(state, Arrive(at(2), at(2), staff_count=2))
    assert [catalog.type_of(type(c)) for c in changes] == ["order.sla_resumed", "order.arrived"]
    assert run(state, Arrive(at(2), at(2))).on_site_clock(SlaPolicy()).paused_seconds == 3600


def test_a_technician_cannot_arrive_before_dispatch() -> None:
    with pytest.raises(Refused, match="dispatched order"):
        decide(new_order(), Arrive(at(1), at(1)))


def test_an_arrival_cannot_come_from_the_future() -> None:
    with pytest.raises(Invalid) as err:
        decide(dispatched(), Arrive(at(3), at(2)))
    assert err.value.field == "arrived_at"


def test_an_offline_update_cannot_predate_the_orders_last_step() -> None:
    with pytest.raises(Invalid, match="before the order's last step"):
        decide(dispatched(), Arrive(at(0.25), at(2)))


def test_an_offline_arrival_counts_when_it_happened_not_when_recorded() -> None:
    state = run(dispatched(), Arrive(at(3.5), now=at(6)))  # on site at 3.5 h, synced at 6 h
    assert decide(state, EscalateBreaches(at(6))) == []
    assert state.on_site_clock(SlaPolicy()).left(at(6), None) == 1800


def repair(departed: float, now: float) -> Repair:
    part = catalog.PartUsed(part_no="GR-300", quantity=1, unit_cost_fen=4500, original=True)
    return Repair("缺氟", "补氟", at(departed), at(now), Decimal("1.5"), (part,), sales_opportunity="支架")


def test_repair_needs_an_arrival() -> None:
    with pytest.raises(Refused, match="after arrival"):
        decide(dispatched(), repair(2, 2))


def test_repair_records_parts_hours_and_departure() -> None:
    state = run(dispatched(), Arrive(at(2), at(2)))
    [change] = decide(state, repair(3, 3))
    assert isinstance(change, catalog.OrderRepaired)
    assert occurred_at(repair(3, 3)) == at(3) and change.parts[0].unit_cost_fen == 4500
    assert run(state, repair(3, 3)).status == "repaired"


def test_departure_cannot_precede_arrival() -> None:
    state = run(dispatched(), Arrive(at(2), at(2)))
    with pytest.raises(Invalid) as err:
        decide(state, repair(1.5, 3))
    assert err.value.field == "departed_at"


def test_no_escalation_before_the_deadline() -> None:
    assert decide(dispatched(), EscalateBreaches(at(4))) == []


def test_a_breach_escalates_once_one_tier_up() -> None:
    state = dispatched()
    [change] = decide(state, EscalateBreaches(at(4.1)))
    assert isinstance(change, catalog.OrderEscalated)
    assert (change.trigger, change.breach, change.from_tier, change.to_tier) == (
        "sla_breach", ON_SITE, "dealer", "regional")
    assert decide(fold(state, change, at=at(4.1)), EscalateBreaches(at(9))) == []


def test_an_undispatched_order_breaches_too() -> None:
    assert len(decide(new_order(), EscalateBreaches(at(5)))) == 1


def test_a_paused_order_does_not_breach() -> None:
    state = run(dispatched(), PauseSla("parts_on_order", at(1), at(1)))
    assert decide(state, EscalateBreaches(at(30))) == []


def test_a_late_arrival_is_still_a_breach_to_escalate() -> None:
    state = run(dispatched(), Arrive(at(5), at(5)))
    assert [c.breach for c in decide(state, EscalateBreaches(at(5)))] == [ON_SITE]  # type: ignore[attr-defined]


def test_an_hq_order_stays_at_hq_without_an_hq_to_hq_escalation() -> None:
    """One chain for intake and dispatch: HQ is the top, so a breach there escalates nowhere
    (the old code appended order.escalated hq → hq)."""
    assert decide(new_order(tier="hq"), EscalateBreaches(at(5))) == []
    regional = new_order(tier="regional")
    state = fold(regional, complaint(at(0.1)))
    assert [(c.from_tier, c.to_tier) for c in decide(state, EscalateBreaches(at(5)))] == [  # type: ignore[attr-defined]
        ("regional", "hq")]


def test_a_complaint_unanswered_for_an_hour_escalates() -> None:
    state = fold(dispatched(), complaint(at(1)))
    assert decide(state, EscalateBreaches(at(1.9))) == []
    [change] = decide(state, EscalateBreaches(at(2.1)))
    assert change.breach == f"complaint:{state.complaints[0].id}"  # type: ignore[attr-defined]


def test_an_answered_complaint_does_not_escalate() -> None:
    state = fold(dispatched(), complaint(at(1)))
    state = run(state, RespondComplaint(state.complaints[0].id, "师傅 14:00 到", at(1.5)))
    assert decide(state, EscalateBreaches(at(3))) == []


def test_a_complaint_is_answered_once() -> None:
    state = fold(dispatched(), complaint(at(1)))
    state = run(state, RespondComplaint(state.complaints[0].id, "ok", at(1.5)))
    with pytest.raises(Refused, match="answered"):
        decide(state, RespondComplaint(state.complaints[0].id, "again", at(1.6)))
    with pytest.raises(Refused, match="no complaint"):
        decide(state, RespondComplaint(uuid4(), "who?", at(1.6)))


def test_events_of_other_services_only_move_the_version() -> None:
    state = dispatched()
    other = catalog.new_event(catalog.OrderReviewed(channel="call_back", timeliness="A", quality="A", attitude="A",
                                                    overall=5, provider_id="p", outlet_id="o"),
                              type_="order.reviewed", source="quality", actor="t", occurred_at=at(9))
    after = fold(state, other)
    assert after == replace(state, version=state.version + 1)


OPS = st.sampled_from(["dispatch", "pause", "resume", "arrive", "watch", "watch"])


@settings(max_examples=120, deadline=None)
@given(steps=st.lists(st.tuples(OPS, st.floats(min_value=0, max_value=3)), max_size=12),
       capital=st.booleans())
def test_whatever_happens_a_breach_is_escalated_once_and_only_if_it_happened(
    steps: list[tuple[str, float]], capital: bool,
) -> None:
    state = new_order(location=None if capital else XIANNING)
    now = T0
    for op, hours in steps:
        now += timedelta(hours=hours)
        command: object = {
            "dispatch": Dispatch(TO, now), "pause": PauseSla("parts_on_order", now, now),
            "resume": ResumeSla(now, now), "arrive": Arrive(now, now), "watch": EscalateBreaches(now),
        }[op]
        with contextlib.suppress(Refused, Invalid):  # commands the state refuses simply do not happen
            state = run(state, command)
    state = run(state, EscalateBreaches(now))
    assert (ON_SITE in state.escalated) == state.on_site_clock(SlaPolicy()).breached(now, None)
    assert decide(state, EscalateBreaches(now)) == []


def test_a_dispatch_entered_late_keeps_its_own_time_inside_the_window() -> None:
    """Issue 15 item 7: a phoned or paper dispatch slip carries `occurred_at` (Dispatch.now is the clock)."""
    from libs.events.backdating import OutsideWindow

    state = run(new_order(), Dispatch(TO, at(0.5), now=at(30)))
    assert state.status == "dispatched" and state.last_step_at == at(0.5)
    with pytest.raises(Invalid) as before:
        decide(new_order(), Dispatch(TO, at(-1), now=at(2)))
    assert before.value.field == "occurred_at"
    with pytest.raises(OutsideWindow) as stale:
        decide(new_order(), Dispatch(TO, at(1), now=at(1) + timedelta(days=30, seconds=1)))
    assert stale.value.field == "occurred_at" and stale.value.status == 422
    with pytest.raises(Invalid):  # a slip from the future
        decide(new_order(), Dispatch(TO, at(2), now=at(1)))


def test_a_platform_complaint_on_an_order_that_entered_regional_escalates_once_when_late() -> None:
    """Issue 15 item 2: a supervision-channel (platform) order enters regional; its complaint left
    unanswered past the response deadline moves it to HQ once, and never again."""
    data = catalog.ComplaintReceived(channel="platform", text="平台投诉", received_at=at(1), platform_id="gov",
                                     external_ref="HB-1")
    state = fold(new_order(tier="regional"), data, at=at(1))
    assert decide(state, EscalateBreaches(at(1.9))) == []
    [change] = decide(state, EscalateBreaches(at(2.1)))
    assert isinstance(change, catalog.OrderEscalated) and (change.from_tier, change.to_tier) == ("regional", "hq")
    state = fold(state, change, at=at(2.1))
    assert decide(state, EscalateBreaches(at(9))) == [] and state.tier == "hq"
