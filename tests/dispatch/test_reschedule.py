"""The customer's reschedule and the technician's "on the way" as dispatch rules (pure
decide/evolve): a move within the policy, the SLA pause of a later window, an arrival
estimate that is neither past nor a day away."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from libs.events import catalog
from services.dispatch.domain import Dispatch, Invalid, OnTheWay, PauseSla, Refused, Reschedule, SlaPolicy, State, decide
from services.dispatch.domain.windows import Slot, Window, WindowError, movable, offered
from tests.dispatch.factory import XIANNING
from tests.dispatch.test_domain import TO, new_order, run

T0 = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)  # Monday 09:00 in Beijing (the order is reported then)
H = timedelta(hours=1)
DAYTIME = [(T0 - H, T0 + 11 * H)]  # 08:00-20:00 Beijing
SLOTS = tuple(offered(DAYTIME, technicians=1, booked={}, now=T0))


def window(hours: float) -> Window:
    return Window(T0 + hours * H, T0 + (hours + 2) * H)


def booked(hours: float = 3) -> State:
    """Dispatched outside a capital (due 12 h after the report) with the window `hours` after T0."""
    chosen = window(hours)
    return run(new_order(location=XIANNING), Dispatch(TO, T0, window=(chosen.start, chosen.end)))


def test_a_later_window_pauses_the_sla_with_the_customers_reason_and_moves_the_deadline() -> None:
    state = booked(3)  # 13:00-15:00 Beijing (the grid runs from 08:00: 09:00 is no start)
    assert state.window == (window(3).start, window(3).end)
    [moved] = decide(state, Reschedule(window(7), SLOTS, T0))
    assert isinstance(moved, catalog.OrderRescheduled)
    assert (moved.previous_start, moved.window_start) == (window(3).start, window(7).start)
    assert moved.pause_reason == "customer_rescheduled"
    assert (moved.sla_paused_from, moved.sla_paused_until) == (window(3).start, window(7).start)
    assert moved.sla_due_at == T0 + 12 * H + 4 * H  # the four hours the customer asked for are not the provider's
    after = run(state, Reschedule(window(7), SLOTS, T0))
    assert after.window == (window(7).start, window(7).end) and after.reschedules == 1
    assert after.on_site_clock(SlaPolicy()).due_at(None) == moved.sla_due_at


def test_an_earlier_window_pauses_nothing() -> None:
    [moved] = decide(booked(7), Reschedule(window(3), SLOTS, T0))
    assert isinstance(moved, catalog.OrderRescheduled)
    assert moved.pause_reason is None and moved.sla_paused_from is None
    assert moved.sla_due_at == T0 + 12 * H


def test_no_second_pause_while_the_sla_already_stands_paused() -> None:
    state = run(booked(3), PauseSla("parts_on_order", T0, T0))
    [moved] = decide(state, Reschedule(window(7), SLOTS, T0))
    assert isinstance(moved, catalog.OrderRescheduled) and moved.pause_reason is None


def test_the_policy_limits_how_often_and_how_late_a_window_moves() -> None:
    state = run(run(booked(3), Reschedule(window(7), SLOTS, T0)), Reschedule(window(5), SLOTS, T0))
    assert state.reschedules == 2
    with pytest.raises(WindowError, match="at most 2 times"):
        decide(state, Reschedule(window(9), SLOTS, T0))
    with pytest.raises(WindowError, match="until 2:00:00 before"):
        decide(booked(3), Reschedule(window(7), SLOTS, T0 + 1.5 * H))
    assert not movable(state.window, state.reschedules, T0)
    assert movable(None, 0, T0) and movable(booked(3).window, 0, T0 + H)


def test_the_new_window_must_be_offered_with_room_and_differ() -> None:
    full = tuple(Slot(s.window, s.capacity, s.capacity) for s in SLOTS)
    with pytest.raises(WindowError, match="fully booked"):
        decide(booked(3), Reschedule(window(7), full, T0))
    with pytest.raises(WindowError, match="not a window"):
        decide(booked(3), Reschedule(Window(T0 + 6 * H, T0 + 8 * H), SLOTS, T0))  # off the two-hour grid
    with pytest.raises(WindowError, match="already booked"):
        decide(booked(3), Reschedule(window(3), SLOTS, T0))


def test_a_customer_books_the_first_window_when_the_dispatcher_booked_none() -> None:
    state = run(new_order(), Dispatch(TO, T0))
    [first] = decide(state, Reschedule(window(5), SLOTS, T0))
    assert isinstance(first, catalog.OrderRescheduled)
    assert first.previous_start is None and first.pause_reason is None
    assert run(state, Reschedule(window(5), SLOTS, T0)).reschedules == 0  # a booking is no move


def test_only_a_dispatched_order_not_yet_visited_is_rescheduled() -> None:
    with pytest.raises(Refused, match="only a dispatched order"):
        decide(new_order(), Reschedule(window(5), SLOTS, T0))


def test_on_the_way_records_the_estimate_and_a_new_one_replaces_it() -> None:
    state = booked(3)
    [change] = decide(state, OnTheWay(T0 + 3 * H, T0 + 2 * H))
    assert isinstance(change, catalog.OrderOnTheWay)
    assert (change.technician_id, change.eta) == (TO.technician_id, T0 + 3 * H)
    state = run(run(state, OnTheWay(T0 + 3 * H, T0 + 2 * H)), OnTheWay(T0 + 4 * H, T0 + 2.5 * H))
    assert state.eta == T0 + 4 * H


def test_an_estimate_in_the_past_or_a_day_away_is_refused_naming_eta() -> None:
    for eta in (T0 - H, T0 + 25 * H):
        with pytest.raises(Invalid) as err:
            decide(booked(3), OnTheWay(eta, T0))
        assert err.value.field == "eta"
    with pytest.raises(Refused):
        decide(new_order(), OnTheWay(T0 + H, T0))
