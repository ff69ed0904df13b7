"""The one escalation chain (seed 002, 图7-3: dealer → regional office → HQ), as pure functions
every service that moves an order up uses: intake (manual moves, platform complaints), quality
(complaints from its channels) and dispatch (the SLA watcher, a matched complaint).

Complaints and reports forwarded by a complaint platform are escalations by nature
(domain.md, step 2): a complaint against an order moves it one tier up, a platform's report
enters one tier up. One tier per cause, never past HQ, never after the order is settled.
"""

from __future__ import annotations

from typing import Literal

from libs.events.catalog import Channel, OrderEscalated, Tier, next_tier

Trigger = Literal["manual", "sla_breach", "complaint"]


def entry_tier(channel: Channel) -> Tier:
    """The tier a new order enters at: a platform's forwarded report (the supervision channel)
    enters already escalated, at the regional office; every other report at the dealer."""
    return "regional" if channel == "platform" else "dealer"


def escalation(tier: Tier, reason: str, trigger: Trigger, breach: str | None = None) -> OrderEscalated | None:
    """The one step up from `tier` (None at HQ: nothing escalates past the top)."""
    target = next_tier(tier)
    if target is None:
        return None
    return OrderEscalated(from_tier=tier, to_tier=target, reason=reason, trigger=trigger, breach=breach)


def complaint_escalation(tier: Tier, closed: bool, text: str, key: str | None = None) -> OrderEscalated | None:
    """What a complaint against an order does to it, whatever its channel: one tier up, unless
    the order is settled (closed) or already at HQ. `key` (in `breach`) names the complaint when
    the step is taken apart from its receipt (a complaint matched to the order later)."""
    if closed:
        return None
    return escalation(tier, f"complaint: {text[:200]}", "complaint", key)
