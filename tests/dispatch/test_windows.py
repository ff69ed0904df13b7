"""Appointment windows, pure: capacity from technicians × working hours, booking, rescheduling
within the policy, the SLA pause of a later window, and a visit outside its window as late."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.dispatch.domain.sla import BusinessCalendar
from services.dispatch.domain.windows import (
    Window,
    WindowError,
    WindowPolicy,
    book,
    booked_per_window,
    offered,
    reschedule,
    sla_pause,
    visit_late,
    working_intervals,
)

DAY = datetime(2026, 5, 4, 0, 0, tzinfo=UTC)  # 08:00 in Beijing
WORKING = [(DAY, DAY + timedelta(hours=10)), (DAY + timedelta(days=1), DAY + timedelta(days=1, hours=9))]
H = timedelta(hours=1)


def window(hours: float, length: float = 2) -> Window:
    return Window(DAY + timedelta(hours=hours), DAY + timedelta(hours=hours + length))


def test_windows_cut_the_working_hours_and_hold_one_visit_per_technician() -> None:
    slots = offered(WORKING, technicians=3, booked={DAY + 2 * H: 2}, now=DAY)
    starts = [s.window.start - DAY for s in slots]
    # today: 08:00 is inside the 1 h lead, 10:00..16:00 remain; tomorrow's 9 h give four whole windows
    assert starts == [2 * H, 4 * H, 6 * H, 8 * H] + [timedelta(days=1) + k * 2 * H for k in range(4)]
    assert [(s.capacity, s.booked, s.free) for s in slots[:2]] == [(3, 2, 1), (3, 0, 3)]


def test_a_booking_needs_an_offered_window_with_room() -> None:
    slots = offered(WORKING, technicians=1, booked=booked_per_window([DAY + 4 * H]), now=DAY)
    assert book(window(2), slots) == window(2)
    with pytest.raises(WindowError, match="fully booked"):
        book(window(4), slots)
    with pytest.raises(WindowError, match="not a window"):
        book(window(3), slots)  # not on the grid
    with pytest.raises(WindowError, match="not a window"):
        book(window(0), slots)  # inside the lead time


def test_the_customer_reschedules_within_the_policy() -> None:
    slots = offered(WORKING, technicians=2, booked={}, now=DAY)
    policy = WindowPolicy()
    assert reschedule(window(4), window(8), slots, DAY, 0, policy) == window(8)
    with pytest.raises(WindowError, match="until"):
        reschedule(window(4), window(8), slots, DAY + 3 * H, 0, policy)  # less than 2 h notice
    with pytest.raises(WindowError, match="at most 2"):
        reschedule(window(4), window(8), slots, DAY, 2, policy)


def test_a_later_window_pauses_the_sla_an_earlier_one_does_not() -> None:
    assert sla_pause(window(4), window(8)) == (DAY + 4 * H, DAY + 8 * H)
    assert sla_pause(window(8), window(4)) is None


def test_a_visit_outside_its_window_is_late() -> None:
    booked = window(4)
    due = DAY + 24 * H
    assert not visit_late(DAY + 5 * H, booked, due)
    assert visit_late(DAY + 6 * H + timedelta(minutes=1), booked, due)
    assert visit_late(DAY + 3 * H, booked, due)  # early: the customer was not home yet
    assert not visit_late(DAY + 23 * H, None, due) and visit_late(DAY + 25 * H, None, due)


def test_a_window_must_be_aware_and_forward() -> None:
    with pytest.raises(WindowError):
        Window(DAY, DAY)
    with pytest.raises(WindowError):
        Window(datetime(2026, 5, 4), datetime(2026, 5, 4, 2))


def test_a_calendars_windows_keep_one_grid_whatever_the_time_of_asking() -> None:
    calendar = BusinessCalendar()  # 08:30-17:30 Beijing on weekdays
    starts = [[s.window.start for s in offered(working_intervals(calendar, now), 1, {}, now)]
              for now in (DAY + 1.5 * H, DAY + 1.75 * H)]  # 09:30 and 09:45 Beijing
    assert starts[0][:2] == [DAY + 2.5 * H, DAY + 4.5 * H]  # 10:30 and 12:30, an hour's lead at least
    assert starts[1] == starts[0][1:]  # at 09:45 the same grid, less the window now too soon
