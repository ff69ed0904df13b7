"""Delivery policy as pure functions: quiet hours, opt-out, dedup, retry back-off.

Quiet hours are a maker's policy, read in China time (Asia/Shanghai). A message due inside
them waits for their end, except
- steps the policy calls urgent (default: `on_the_way` — the technician is already coming and
  the customer has to be there to open the door; 7x24 visits at night happen only when the
  customer asked for them), and
- a message whose `useful_until` falls before the quiet period ends (a dispatched message for
  a 07:00 visit deferred to 08:00 would arrive after the visit): it goes out now.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, TypeAdapter

from services.notify.domain.model import Step

CHINA = ZoneInfo("Asia/Shanghai")
ALL_CHANNELS = "*"  # an opt-out of every channel
MAX_ATTEMPTS = 8
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=1)


class MakerPolicy(BaseModel):
    """A maker's notification policy; quiet_start == quiet_end means no quiet hours."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    urgent: frozenset[Step] = frozenset({Step.ON_THE_WAY})


DEFAULT_POLICY = MakerPolicy()
_POLICIES = TypeAdapter(dict[str, MakerPolicy])


def parse_policies(text: str) -> dict[str, MakerPolicy]:
    """Per-maker policies from settings JSON (`{"gree": {"quiet_start": "22:00", ...}}`).

    Empty text means every maker gets DEFAULT_POLICY; bad JSON fails at start-up.
    """
    return _POLICIES.validate_json(text) if text.strip() else {}


def policy_for(maker: str, policies: Mapping[str, MakerPolicy]) -> MakerPolicy:
    return policies.get(maker, DEFAULT_POLICY)


def quiet_until(moment: datetime, policy: MakerPolicy) -> datetime | None:
    """The end of the quiet period `moment` falls in (UTC), or None outside quiet hours."""
    start, end = policy.quiet_start, policy.quiet_end
    if start == end:
        return None
    local = moment.astimezone(CHINA)
    now = local.timetz().replace(tzinfo=None)
    day = local.date()
    if start < end:  # within one day, e.g. 12:00-14:00
        if not start <= now < end:
            return None
    elif now >= start:  # across midnight, e.g. 21:00-08:00, in the evening part
        day += timedelta(days=1)
    elif now >= end:  # across midnight, daytime
        return None
    return datetime.combine(day, end, CHINA).astimezone(UTC)


def release_time(due: datetime, step: Step, policy: MakerPolicy,
                 useful_until: datetime | None = None) -> datetime:
    """When a message due at `due` may go out under the maker's quiet hours."""
    if step in policy.urgent:
        return due
    ends = quiet_until(due, policy)
    if ends is None or (useful_until is not None and useful_until < ends):
        return due
    return ends


def opted_out(channel: str, opt_outs: Collection[str]) -> bool:
    """Whether a customer's opt-outs (channel names, or ALL_CHANNELS) cover this channel."""
    return channel in opt_outs or ALL_CHANNELS in opt_outs


DedupKey = tuple[str, Step, str]


def dedup_key(order_id: str, step: Step, channel: str) -> DedupKey:
    """One message per order, step and channel, however often the event is delivered."""
    return (order_id, step, channel)


def fresh(wanted: Iterable[DedupKey], existing: Collection[DedupKey]) -> list[DedupKey]:
    """The keys not yet queued, each once, in the order given."""
    seen = set(existing)
    out = []
    for key in wanted:
        if key not in seen:
            seen.add(key)
            out.append(key)
    return out


def retry_delay(attempts: int, random: Callable[[], float],
                hint: timedelta | None = None) -> timedelta:
    """Exponential back-off with equal jitter: 30 s, 60 s, 120 s ... capped at an hour, each
    drawn from [half, all] of the step so retries after an outage spread out. A provider's
    Retry-After hint is honoured when longer. `random` returns a float in [0, 1)."""
    step: timedelta = min(BASE_DELAY * 2 ** max(attempts - 1, 0), MAX_DELAY)
    delay: timedelta = step / 2 + step / 2 * random()
    return max(delay, hint) if hint is not None else delay


def give_up(attempts: int) -> bool:
    return attempts >= MAX_ATTEMPTS
