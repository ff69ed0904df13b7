"""Late-entered records: a time the caller gives for when something happened (a customer's own
report time, a phoned-in order, a paper dispatch slip or feedback form) instead of the server's.

The event keeps both: the given time is the envelope's `occurred_at`, the server's its
`recorded_at` (as technicians' offline updates already are), so an audit sees every
back-dated record and by how much. The window is a policy: at most `back` into the past
(a month's figures must not be rewritten long after) and at most `ahead` into the future
(the clock skew a remote system is allowed).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta

from libs.events.errors import InvalidInput


@dataclass(frozen=True)
class LateEntryPolicy:
    back: timedelta = timedelta(days=30)
    ahead: timedelta = timedelta(minutes=5)


DEFAULT_LATE_ENTRY = LateEntryPolicy()
IMPORT_WINDOW = LateEntryPolicy(back=timedelta(days=400))
"""A history import run (app/importer) reaches back 400 days: last year's same month and the months since."""

_widened: ContextVar[LateEntryPolicy | None] = ContextVar("late_entry_widened", default=None)


@contextmanager
def importing(policy: LateEntryPolicy = IMPORT_WINDOW) -> Iterator[None]:
    """Inside this block (an import run, in-process only: no HTTP request can enter it) the
    late-entry window is `policy` instead of the default."""
    token = _widened.set(policy)
    try:
        yield
    finally:
        _widened.reset(token)


def active_policy(policy: LateEntryPolicy = DEFAULT_LATE_ENTRY) -> LateEntryPolicy:
    """The policy in force: an import run's wider window, else `policy`."""
    return _widened.get() or policy


class OutsideWindow(InvalidInput):
    """A given time outside the late-entry window (422 naming the field)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", field)


def within_window(field: str, at: datetime, now: datetime, policy: LateEntryPolicy = DEFAULT_LATE_ENTRY) -> datetime:
    """`at` if it lies in [now - back, now + ahead], else OutsideWindow naming `field` (an import
    run's window instead, see `importing`)."""
    policy = active_policy(policy)
    if at > now + policy.ahead:
        raise OutsideWindow(field, f"{at.isoformat()} is more than {_span(policy.ahead)} in the future")
    if at < now - policy.back:
        raise OutsideWindow(field, f"{at.isoformat()} is more than {_span(policy.back)} in the past "
                                   "(the late-entry window)")
    return at


def _span(delta: timedelta) -> str:
    if delta.days and not delta.seconds:
        return f"{delta.days} days"
    return f"{int(delta.total_seconds() // 60)} minutes"
