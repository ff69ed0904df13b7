"""The vocabulary: steps of an order a customer hears about, and what a trigger carries."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Step(StrEnum):
    """The steps issue 18 names, in the order a customer meets them."""

    REPORTED = "reported"
    DISPATCHED = "dispatched"
    ON_THE_WAY = "on_the_way"
    REPAIRED = "repaired"
    SETTLED = "settled"
    FEEDBACK_REQUEST = "feedback_request"


@dataclass(frozen=True)
class OrderContext:
    """What the wiring knows about the order beyond the event itself (from order.reported)."""

    maker: str
    external_ref: str = ""
    status_link: str = ""  # the order's status page, once issue 18 item 1 hands links out


@dataclass(frozen=True)
class Trigger:
    """One message to queue: its step, the template variables, and timing.

    `not_before` delays it (the feedback request waits a little after the repair);
    `useful_until` is when it stops being worth sending late, so quiet hours never
    defer it past that moment (see `policy.release_time`).
    """

    step: Step
    variables: dict[str, Any] = field(default_factory=dict)
    not_before: datetime | None = None
    useful_until: datetime | None = None


@dataclass(frozen=True)
class Cancel:
    """Withdraw a step not yet sent (a review arrived before the feedback request went out)."""

    step: Step


def recipient_ref(phone: str, key: bytes) -> str:
    """An opaque, stable reference to a customer (a keyed hash of the phone number): one
    customer's orders share it, so an opt-out holds for all of them, and the outbox and the
    opt-out table never hold the number itself."""
    digest = hmac.new(key, phone.strip().encode(), hashlib.sha256).hexdigest()
    return f"cust-{digest[:40]}"
