"""SLA arithmetic (pure): the seed's default promise, business calendars, pauses, SLA state."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.dispatch.domain import DEFAULT_POLICY, BusinessCalendar, CalendarError, SlaClock, add_working, sla_state
from services.dispatch.domain import working_seconds as worked

BJ = ZoneInfo("Asia/Shanghai")
CAL = BusinessCalendar()  # 08:30–17:30 Beijing time, Monday to Friday
H = 3600.0


def bj(day: int, hour: int, minute: int = 0) -> datetime:
    """A Beijing wall time in May 2026 (the 4th is a Monday), as UTC."""
    return datetime(2026, 5, day, hour, minute, tzinfo=BJ).astimezone(UTC)


def test_default_policy_is_the_seed_standard() -> None:
    assert DEFAULT_POLICY.complaint_seconds == 1 * H
    assert DEFAULT_POLICY.on_site_seconds(provincial_capital=True) == 4 * H
    assert DEFAULT_POLICY.on_site_seconds(provincial_capital=False) == 12 * H
    assert DEFAULT_POLICY.calendar is None and DEFAULT_POLICY.calendar_name == "24x7"


def test_seven_by_twenty_four_counts_wall_time_through_nights_and_weekends() -> None:
    friday_night = bj(8, 22)
    assert add_working(friday_night, 12 * H, None) == friday_night + timedelta(hours=12)
    assert worked(friday_night, bj(9, 2), None) == 4 * H


def test_calendar_due_within_the_same_working_day() -> None:
    assert add_working(bj(4, 9), 4 * H, CAL) == bj(4, 13)


def test_calendar_carries_over_the_night() -> None:
    assert add_working(bj(4, 16, 30), 4 * H, CAL) == bj(5, 11, 30)


def test_calendar_skips_the_weekend() -> None:
    assert add_working(bj(8, 16, 30), 4 * H, CAL) == bj(11, 11, 30)


def test_calendar_starts_counting_at_opening_time() -> None:
    assert add_working(bj(4, 7), 1 * H, CAL) == bj(4, 9, 30)
    assert add_working(bj(4, 19), 1 * H, CAL) == bj(5, 9, 30)


def test_calendar_skips_holidays() -> None:
    cal = BusinessCalendar(holidays=frozenset({date(2026, 5, 5)}))
    assert add_working(bj(4, 16, 30), 4 * H, cal) == bj(6, 11, 30)


def test_swapped_working_day_counts() -> None:
    cal = BusinessCalendar(workdays=frozenset({date(2026, 5, 9)}))  # a Saturday worked (调休)
    assert add_working(bj(8, 16, 30), 4 * H, cal) == bj(9, 11, 30)


def test_twelve_hours_elsewhere_span_two_working_days() -> None:
    assert add_working(bj(4, 9), 12 * H, CAL) == bj(5, 12)


def test_working_seconds_over_a_weekend_counts_only_opening_hours() -> None:
    assert worked(bj(8, 17), bj(11, 9), CAL) == 1 * H
    assert worked(bj(9, 10), bj(10, 12), CAL) == 0


def test_working_seconds_is_zero_for_an_empty_or_reversed_span() -> None:
    assert worked(bj(4, 12), bj(4, 12), CAL) == 0
    assert worked(bj(4, 12), bj(4, 10), None) == 0


@pytest.mark.parametrize("kwargs", [
    {"opens": time(18), "closes": time(9)},
    {"weekdays": frozenset()},
    {"tz": "Mars/Olympus_Mons"},
])
def test_impossible_calendars_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(CalendarError):
        BusinessCalendar(**kwargs)  # type: ignore[arg-type]


def test_a_calendar_that_is_all_holidays_fails_loudly_instead_of_looping() -> None:
    cal = BusinessCalendar(weekdays=frozenset({0}), holidays=frozenset(
        date(2026, 5, 4) + timedelta(weeks=w) for w in range(600)))
    with pytest.raises(CalendarError):
        add_working(bj(4, 9), H, cal)


def test_a_pause_moves_the_deadline_by_the_time_paused() -> None:
    clock = SlaClock(bj(4, 9), 4 * H).pause(bj(4, 10)).resume(bj(4, 11, 30), None)
    assert clock.paused_seconds == 1.5 * H
    assert clock.due_at(None) == bj(4, 14, 30)


def test_while_paused_time_left_is_frozen_and_the_pause_is_shown() -> None:
    clock = SlaClock(bj(4, 9), 4 * H).pause(bj(4, 10))
    assert clock.left(bj(4, 12), None) == clock.left(bj(4, 20), None) == 3 * H
    assert clock.paused_total(bj(4, 12), None) == 2 * H
    assert not clock.breached(bj(5, 9), None)


def test_a_pause_under_a_calendar_counts_only_working_time() -> None:
    clock = SlaClock(bj(4, 16), 4 * H).pause(bj(4, 17)).resume(bj(5, 9, 30), CAL)
    assert clock.paused_seconds == 1.5 * H  # 17:00–17:30 and 08:30–09:30
    assert clock.due_at(CAL) == bj(5, 12, 30)  # 1.5 h on Monday + 4 h from 08:30 on Tuesday


def test_a_stopped_clock_is_judged_at_its_stop() -> None:
    on_time = SlaClock(bj(4, 9), 4 * H).stop(bj(4, 12))
    late = SlaClock(bj(4, 9), 4 * H).stop(bj(4, 14))
    assert not on_time.breached(bj(5, 9), None) and on_time.left(bj(5, 9), None) == 1 * H
    assert late.breached(bj(5, 9), None)


@pytest.mark.parametrize(("left", "paused", "met", "expected"), [
    (3 * H, False, False, "on_time"),
    (0.9 * H, False, False, "at_risk"),
    (-1, False, False, "breached"),
    (2 * H, True, False, "paused"),
    (-1, True, False, "breached"),
    (0, False, True, "met"),
    (-1, False, True, "breached"),
])
def test_sla_state(left: float, paused: bool, met: bool, expected: str) -> None:
    assert sla_state(left, 4 * H, paused=paused, met=met, at_risk_fraction=0.25) == expected


moments = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC))
calendars = st.sampled_from([None, CAL, BusinessCalendar(weekdays=frozenset({5, 6}), opens=time(0), closes=time(23, 59),
                                                         holidays=frozenset({date(2026, 5, 9)}))])


@settings(max_examples=80, deadline=None)
@given(start=moments, hours=st.floats(min_value=0, max_value=200), cal=calendars)
def test_adding_then_measuring_working_time_gives_it_back(start: datetime, hours: float, cal: BusinessCalendar | None) -> None:
    due = add_working(start, hours * H, cal)
    assert due >= start
    assert worked(start, due, cal) == pytest.approx(hours * H, abs=1e-3)


@settings(max_examples=80, deadline=None)
@given(points=st.lists(moments, min_size=3, max_size=3), cal=calendars)
def test_working_time_is_additive(points: list[datetime], cal: BusinessCalendar | None) -> None:
    a, b, c = sorted(points)
    assert worked(a, b, cal) + worked(b, c, cal) == pytest.approx(worked(a, c, cal), abs=1e-3)
