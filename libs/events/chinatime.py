"""Days and months as the makers, platforms and standards mean them: in China time
(Asia/Shanghai, UTC+8 all year, no DST). The one place this vocabulary lives.

A review belongs to the month of the repair it judges; a complaint to the month it was
received; a fee standard takes effect on a local date. So a repair finished at
2026-05-31T17:00Z (01:00 on 1 June in Beijing) counts for June.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def local_day(moment: datetime) -> date:
    """The calendar day in China of an aware instant."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(CHINA).date()


def midnight(day: date) -> datetime:
    """The first instant of a China calendar day, as UTC."""
    return datetime.combine(day, time(0), tzinfo=CHINA).astimezone(UTC)


def local_minute(moment: datetime | None) -> str:
    """'YYYY-MM-DD HH:MM' in China time ('' for no time), for statements and exports."""
    return "" if moment is None else moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def month_of(moment: datetime) -> str:
    """'YYYY-MM' of an aware instant, in China time."""
    day = local_day(moment)
    return f"{day.year:04d}-{day.month:02d}"


def is_month(text: str) -> bool:
    return _MONTH.match(text) is not None


def _parts(month: str) -> tuple[int, int]:
    found = _MONTH.match(month)
    if found is None:
        raise ValueError(f"{month!r} is not a month (YYYY-MM)")
    return int(found.group(1)), int(found.group(2))


def next_month(month: str) -> str:
    year, mon = _parts(month)
    return f"{year + mon // 12:04d}-{mon % 12 + 1:02d}"


def previous_month(month: str) -> str:
    year, mon = _parts(month)
    return f"{year - (mon == 1):04d}-{(mon - 2) % 12 + 1:02d}"


def month_start(month: str) -> datetime:
    """The first instant of the month in China time, as UTC."""
    year, mon = _parts(month)
    return midnight(date(year, mon, 1))


def month_end(month: str) -> datetime:
    """The first instant after the month (China time), as UTC."""
    return month_start(next_month(month))


_WEEK = re.compile(r"^(\d{4})-W(0[1-9]|[1-4]\d|5[0-3])$")


def week_of(moment: datetime) -> str:
    """'YYYY-Www', the ISO week (Monday first) of an aware instant in China time."""
    year, week, _ = local_day(moment).isocalendar()
    return f"{year:04d}-W{week:02d}"


def week_start(week: str) -> datetime:
    """The first instant (Monday 00:00 China time) of an ISO week, as UTC; ValueError for a
    week the year does not have (W53 of a 52-week year)."""
    found = _WEEK.match(week)
    if found is None:
        raise ValueError(f"{week!r} is not an ISO week (YYYY-Www)")
    year, number = int(found.group(1)), int(found.group(2))
    day = date.fromisocalendar(year, number, 1)
    return midnight(day)


def week_end(week: str) -> datetime:
    """The first instant after the ISO week (China time), as UTC."""
    return midnight(local_day(week_start(week)) + timedelta(days=7))
