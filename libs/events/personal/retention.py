"""Retention: a maker's customers are erased N years after their last order closed.

Which orders closed when is a read-model question; the caller passes (subject, maker,
closed_at) for every order of the subjects it considers, closed_at None for an open one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from libs.events.clock import ensure_utc
from libs.events.personal.errors import PersonalConfigError
from libs.events.personal.keys import Erasure
from libs.events.personal.vault import Vault

RETENTION_ACTOR = "system:retention"


@dataclass(frozen=True)
class Closing:
    subject: str
    maker: str
    closed_at: datetime | None  # None: the order is still open


def parse_policy(text: str) -> dict[str, int]:
    """`{"gree": 3, "midea": 5}` -> years per maker; "" -> no automatic erasure."""
    if not text.strip():
        return {}
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PersonalConfigError(f"PERSONAL_RETENTION_YEARS is not JSON: {exc}") from None
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and v >= 1
        for k, v in raw.items()
    ):
        raise PersonalConfigError("PERSONAL_RETENTION_YEARS maps makers to whole years >= 1")
    return dict(raw)


def years_before(moment: datetime, years: int) -> datetime:
    """The same calendar moment `years` earlier (29 February -> 28 February)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


def due_for_erasure(closings: Iterable[Closing], policy: Mapping[str, int],
                    now: datetime) -> list[str]:
    """Subjects every order of which closed more than their maker's N years before `now`.
    A subject with any open order, or of a maker without a policy, is kept."""
    now = ensure_utc(now)
    keep: set[str] = set()
    due: set[str] = set()
    for c in closings:
        years = policy.get(c.maker)
        if years is None or c.closed_at is None or ensure_utc(c.closed_at) > years_before(now, years):
            keep.add(c.subject)
        else:
            due.add(c.subject)
    return sorted(due - keep)


async def apply_retention(vault: Vault, closings: Iterable[Closing], policy: Mapping[str, int],
                          now: datetime, actor: str = RETENTION_ACTOR) -> list[Erasure]:
    """Erase the subjects that are due and not erased already (so reruns record nothing)."""
    done = []
    for subject in due_for_erasure(closings, policy, now):
        if await vault.keys.is_erased(subject):
            continue
        reason = "retention: every order closed longer ago than the maker's retention period"
        done.append(await vault.erase(subject, actor, reason))
    return done
