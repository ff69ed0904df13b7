"""SLA arithmetic, pure: policies, business calendars, due times, pauses and SLA state.

Seed 002 sets the default promise: 7×24 service, a complaint answered within 1 hour,
on site within 4 hours in a provincial capital and 12 hours elsewhere. A maker may set
its own hours and a business calendar (working hours in its time zone, holidays and
swapped working days, 调休); the clock then counts working time only. Every function
here takes the moments it needs as arguments: no clock is read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SlaState = Literal["on_time", "at_risk", "breached", "paused", "met"]
MAX_CALENDAR_DAYS = 3660  # a calendar without a working day in ten years is a broken calendar


class CalendarError(ValueError):
    """The calendar cannot express the requested span (e.g. it has no working time at all)."""


@dataclass(frozen=True)
class BusinessCalendar:
    """Working hours on working days, in the maker's local time zone."""

    tz: str = "Asia/Shanghai"
    opens: time = time(8, 30)
    closes: time = time(17, 30)
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()  # weekend days that are worked (调休)

    def __post_init__(self) -> None:
        if self.closes <= self.opens:
            raise CalendarError("closing time must be after opening time")
        if not self.weekdays and not self.workdays:
            raise CalendarError("a calendar needs at least one working day")
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise CalendarError(f"unknown time zone {self.tz!r}") from None

    def is_working_day(self, day: date) -> bool:
        if day in self.holidays:
            return False
        return day in self.workdays or day.weekday() in self.weekdays

    def window(self, day: date) -> tuple[datetime, datetime]:
        """That day's working hours as a UTC interval."""
        zone = ZoneInfo(self.tz)
        opens = datetime.combine(day, self.opens, zone).astimezone(UTC)
        return opens, datetime.combine(day, self.closes, zone).astimezone(UTC)

    def windows_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals that end after `moment`, in order (starting the day before, for zone offsets)."""
        day = moment.astimezone(ZoneInfo(self.tz)).date() - timedelta(days=1)
        for offset in range(MAX_CALENDAR_DAYS):
            current = day + timedelta(days=offset)
            if self.is_working_day(current):
                opens, closes = self.window(current)
                if closes > moment:
                    yield opens, closes
        raise CalendarError(f"no working time within {MAX_CALENDAR_DAYS} days after {moment.isoformat()}")


Calendar = BusinessCalendar | None  # None = 7×24


@dataclass(frozen=True)
class SlaPolicy:
    """A maker's service promise. The defaults are seed 002's standard."""

    complaint_response_hours: float = 1
    on_site_capital_hours: float = 4
    on_site_other_hours: float = 12
    calendar: BusinessCalendar | None = None
    at_risk_fraction: float = 0.25  # less than this share of the budget left = at risk
    version: int = 0  # 0 = the built-in default; stored policies count from 1
    maker: str = ""
    effective_from: datetime | None = None  # None = the default, always in force
    # dispatch only to technicians the maker certified for the category (domain/certification.py);
    # off in the built-in default and unless a maker's policy turns it on (README: certified technicians)
    certified_only: bool = False

    def on_site_seconds(self, provincial_capital: bool) -> float:
        hours = self.on_site_capital_hours if provincial_capital else self.on_site_other_hours
        return hours * 3600

    @property
    def complaint_seconds(self) -> float:
        return self.complaint_response_hours * 3600

    @property
    def calendar_name(self) -> str:
        """What dispatch events record: "24x7" or the policy version whose calendar applies."""
        return "24x7" if self.calendar is None else f"{self.maker}@{self.version}"


DEFAULT_POLICY = SlaPolicy()


def working_seconds(start: datetime, end: datetime, calendar: Calendar) -> float:
    """SLA time between two moments: wall time on 7×24, working time under a calendar; 0 if end <= start."""
    if end <= start:
        return 0.0
    if calendar is None:
        return (end - start).total_seconds()
    total = 0.0
    for opens, closes in calendar.windows_from(start):
        if opens >= end:
            break
        total += (min(closes, end) - max(opens, start)).total_seconds()
    return total


def add_working(start: datetime, seconds: float, calendar: Calendar) -> datetime:
    """The moment when `seconds` of SLA time have passed after `start`."""
    if calendar is None or seconds <= 0:
        return start + timedelta(seconds=max(seconds, 0))
    left = seconds
    for opens, closes in calendar.windows_from(start):
        begin = max(opens, start)
        span = (closes - begin).total_seconds()
        if left <= span:
            return begin + timedelta(seconds=left)
        left -= span
    raise CalendarError("unreachable")  # windows_from raises first


@dataclass(frozen=True)
class SlaClock:
    """One running SLA: when it started, its budget, and the time spent paused (closed pauses)."""

    started_at: datetime
    budget_seconds: float
    paused_seconds: float = 0.0  # SLA time inside closed pauses
    paused_since: datetime | None = None
    stopped_at: datetime | None = None  # when the promise was kept (arrival, response)
    pauses: tuple[tuple[datetime, datetime], ...] = field(default=())

    def due_at(self, calendar: Calendar) -> datetime:
        """The deadline as things stand (while paused: as it stood when the pause began)."""
        return add_working(self.started_at, self.budget_seconds + self.paused_seconds, calendar)

    def pause(self, at: datetime) -> SlaClock:
        return SlaClock(self.started_at, self.budget_seconds, self.paused_seconds, at, self.stopped_at, self.pauses)

    def resume(self, at: datetime, calendar: Calendar) -> SlaClock:
        if self.paused_since is None:
            return self
        spent = working_seconds(self.paused_since, at, calendar)
        return SlaClock(self.started_at, self.budget_seconds, self.paused_seconds + spent, None, self.stopped_at,
                        (*self.pauses, (self.paused_since, at)))

    def stop(self, at: datetime) -> SlaClock:
        return SlaClock(self.started_at, self.budget_seconds, self.paused_seconds, self.paused_since, at, self.pauses)

    def used(self, now: datetime, calendar: Calendar) -> float:
        """SLA time consumed up to `now` (pauses and time after the stop excluded)."""
        until = min(x for x in (now, self.paused_since, self.stopped_at) if x is not None)
        return working_seconds(self.started_at, until, calendar) - self.paused_seconds

    def left(self, now: datetime, calendar: Calendar) -> float:
        """SLA time left (negative once breached)."""
        return self.budget_seconds - self.used(now, calendar)

    def paused_total(self, now: datetime, calendar: Calendar) -> float:
        """SLA time paused so far, the running pause included (what the queue shows)."""
        running = working_seconds(self.paused_since, now, calendar) if self.paused_since else 0.0
        return self.paused_seconds + running

    def breached(self, now: datetime, calendar: Calendar) -> bool:
        """Out of time by `now` (a stopped clock is judged at its stop)."""
        return self.left(now, calendar) < 0


def sla_state(left_seconds: float, budget_seconds: float, *, paused: bool, met: bool, at_risk_fraction: float) -> SlaState:
    """Classify an SLA: breached wins over paused; at risk below a share of the budget."""
    if met:
        return "met" if left_seconds >= 0 else "breached"
    if left_seconds < 0:
        return "breached"
    if paused:
        return "paused"
    return "at_risk" if left_seconds < budget_seconds * at_risk_fraction else "on_time"
