"""The bounded values every service shares: months, days, instants, money, quantities, hours.

Why bounds at all: a value the API accepts becomes an event, and every projection must be
able to apply it. A month 0000-01 has no first instant, a date 0001-01-01 overflows when a
projection shifts it to China time, a part at 10^30 fen overflows a BIGINT ledger column;
each used to be accepted and then either a 500 or a dead letter (a settled order missing
from the provider's ledger). So the catalog payloads and the request schemas use these
types, and the window is the same everywhere:

- months 2000-01 … 2100-12, days 2000-01-01 … 2100-12-31, instants inside those days (UTC);
  "not in the future" is a rule of the domain that knows today (the injected clock), e.g.
  intake's product dates and quality's complaint times;
- money at most 10^12 fen (10 000 000 000 yuan) per line and per total;
- quantities 1 … 10 000 per line, hours 0 … 1 000.

Dates and instants given as text must look like ISO 8601 (YYYY-MM-DD, a date-time with an
offset): pydantic would otherwise read `0` or `0.5` as a Unix timestamp.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, StrictInt, StringConstraints

FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)
FIRST_INSTANT = datetime(1999, 12, 31, 16, 0, tzinfo=UTC)  # 2000-01-01 00:00 in China
LAST_INSTANT = datetime(2101, 1, 1, tzinfo=UTC)
MAX_FEN = 10**12
MAX_QUANTITY = 10_000
MAX_HOURS = 1000

MONTH_PATTERN = r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])$"
_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_INSTANT = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}")


def as_text(kind: type, pattern: re.Pattern[str], expected: str) -> Callable[[Any], Any]:
    """A before-validator: a `kind` passes; text must match `pattern` (pydantic's own parsing
    then reads it); anything else, a number above all, is refused as not `expected`."""

    def check(value: Any) -> Any:
        if isinstance(value, kind):
            return value
        if not isinstance(value, str) or not pattern.match(value):
            raise ValueError(expected)
        return value

    return check


iso_date = as_text(date, _DAY, "a date as YYYY-MM-DD")
iso_datetime = as_text(datetime, _INSTANT, "an ISO 8601 date-time with a zone offset")


def day_in_window(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"a date from {FIRST_DAY} to {LAST_DAY}")
    return value


def instant_in_window(value: datetime) -> datetime:
    if value.tzinfo is not None and not FIRST_INSTANT <= value < LAST_INSTANT:
        raise ValueError(f"a time from {FIRST_DAY} to {LAST_DAY} (China time)")
    return value


Month = Annotated[str, StringConstraints(strict=True, pattern=MONTH_PATTERN)]
"""'YYYY-MM', 2000-01 … 2100-12: use as a query/path parameter or a body field."""

WEEK_PATTERN = r"^(20[0-9]{2})-W(0[1-9]|[1-4][0-9]|5[0-3])$"


def real_week(value: str) -> str:
    year, week = int(value[:4]), int(value[6:])
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError:
        raise ValueError(f"{year} has no ISO week {week}") from None
    return value


Week = Annotated[str, StringConstraints(strict=True, pattern=WEEK_PATTERN), AfterValidator(real_week)]
"""'YYYY-Www', an ISO week (Monday first) of 2000 … 2099 that the year has."""

WindowDay = Annotated[date, BeforeValidator(iso_date), AfterValidator(day_in_window)]
"""A calendar date inside the window, given as YYYY-MM-DD."""

WindowMoment = Annotated[AwareDatetime, BeforeValidator(iso_datetime), AfterValidator(instant_in_window)]
"""An aware instant inside the window, given as ISO 8601 text."""

CatalogDay = Annotated[date, AfterValidator(day_in_window)]
CatalogMoment = Annotated[datetime, AfterValidator(instant_in_window)]
Fen = Annotated[int, Field(ge=0, le=MAX_FEN)]
SignedFen = Annotated[int, Field(ge=-MAX_FEN, le=MAX_FEN)]
Quantity = Annotated[int, Field(ge=1, le=MAX_QUANTITY)]
Hours = Annotated[Decimal, Field(ge=0, le=MAX_HOURS)]
SlaHours = Annotated[int, Field(ge=0, le=24 * 366)]

# the same bounds for request bodies, where `false` or "10" is not a number
StrictFen = Annotated[StrictInt, Field(ge=0, le=MAX_FEN)]
StrictSignedFen = Annotated[StrictInt, Field(ge=-MAX_FEN, le=MAX_FEN)]
StrictQuantity = Annotated[StrictInt, Field(ge=1, le=MAX_QUANTITY)]
