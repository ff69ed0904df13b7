"""Appointment windows, pure: the windows an outlet can offer, booking, rescheduling, lateness.

An outlet's capacity in a window is its technicians (one visit each per window) over its
working hours, cut into windows of `WindowPolicy.length`. A booking takes one place in a
window with room, starting at least `lead` after now. The customer may move a booking up to
`min_notice` before it starts, at most `max_reschedules` times; a customer-requested later
window pauses the SLA (reason customer_rescheduled) from the old start to the new one. A visit
outside its window (early or late) counts as late in the SLA figures.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.dispatch.domain.order import Invalid
from services.dispatch.domain.sla import Calendar

CHINA = ZoneInfo("Asia/Shanghai")
DAYTIME = (time(8), time(20))  # visits under a 7×24 policy still happen in the daytime


class WindowError(Invalid):
    """A booking or a move the policy refuses (422 naming `window_start`)."""

    def __init__(self, message: str, field: str = "window_start") -> None:
        super().__init__(field, message)


@dataclass(frozen=True)
class WindowPolicy:
    length: timedelta = timedelta(hours=2)
    lead: timedelta = timedelta(hours=1)  # the earliest window starts this long after now
    min_notice: timedelta = timedelta(hours=2)  # a customer moves a booking until then
    max_reschedules: int = 2


@dataclass(frozen=True, order=True)
class Window:
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end <= self.start:
            raise WindowError("a window needs an aware start before its end")


@dataclass(frozen=True)
class Slot:
    window: Window
    capacity: int
    booked: int

    @property
    def free(self) -> int:
        return max(self.capacity - self.booked, 0)


def working_intervals(calendar: Calendar, now: datetime, days: int = 7) -> list[tuple[datetime, datetime]]:
    """The outlet's working hours over the next `days` (UTC): the maker's business calendar,
    or 08:00–20:00 China time every day under a 7×24 policy. Whole days, so the windows cut
    from them stay on one grid whatever `now` is (`offered` drops those too soon)."""
    horizon = now + timedelta(days=days)
    if calendar is not None:
        return list(itertools.takewhile(lambda w: w[0] < horizon, calendar.windows_from(now)))
    today = now.astimezone(CHINA).date()
    intervals = []
    for offset in range(days + 1):
        day = today + timedelta(days=offset)
        opens = datetime.combine(day, DAYTIME[0], CHINA).astimezone(now.tzinfo)
        closes = datetime.combine(day, DAYTIME[1], CHINA).astimezone(now.tzinfo)
        if closes > now and opens < horizon:
            intervals.append((opens, closes))
    return intervals


def offered(working: Iterable[tuple[datetime, datetime]], technicians: int,
            booked: Mapping[datetime, int], now: datetime,
            policy: WindowPolicy = WindowPolicy()) -> list[Slot]:
    """The windows of the working intervals (UTC) that start after now + lead, each with its
    capacity (the outlet's technicians) and how many are booked (by window start)."""
    slots = []
    for opens, closes in working:
        start = opens
        while start + policy.length <= closes:
            if start >= now + policy.lead:
                slots.append(Slot(Window(start, start + policy.length), technicians,
                                  booked.get(start, 0)))
            start += policy.length
    return sorted(slots, key=lambda s: s.window)


def book(window: Window, slots: Iterable[Slot]) -> Window:
    """The window if it is one offered with room; WindowError otherwise."""
    slot = next((s for s in slots if s.window == window), None)
    if slot is None:
        raise WindowError("not a window this outlet offers (working hours, length, lead time)")
    if slot.free <= 0:
        raise WindowError("this window is fully booked; choose another")
    return window


def movable(current: tuple[datetime, datetime] | None, moves_so_far: int, now: datetime,
            policy: WindowPolicy = WindowPolicy()) -> bool:
    """Whether the customer may still book (no window yet) or move the booking at `now`."""
    if current is None:
        return True
    return now <= current[0] - policy.min_notice and moves_so_far < policy.max_reschedules


def reschedule(current: Window, new: Window, slots: Iterable[Slot], now: datetime,
               moves_so_far: int, policy: WindowPolicy = WindowPolicy()) -> Window:
    """The customer's move of a booking, within the policy."""
    if now > current.start - policy.min_notice:
        raise WindowError(f"a booking can be moved until {policy.min_notice} before it starts")
    if moves_so_far >= policy.max_reschedules:
        raise WindowError(f"a booking can be moved at most {policy.max_reschedules} times")
    return book(new, slots)


def sla_pause(current: Window, new: Window) -> tuple[datetime, datetime] | None:
    """A customer-requested later window pauses the SLA from the old start to the new one
    (reason customer_rescheduled); an earlier window pauses nothing."""
    return (current.start, new.start) if new.start > current.start else None


def visit_late(arrived_at: datetime, window: Window | None, due_at: datetime) -> bool:
    """Late in the SLA figures: outside the booked window, or after the due time without one."""
    if window is None:
        return arrived_at > due_at
    return not window.start <= arrived_at <= window.end


def booked_per_window(starts: Iterable[datetime]) -> dict[datetime, int]:
    counts: dict[datetime, int] = {}
    for start in starts:
        counts[start] = counts.get(start, 0) + 1
    return counts
