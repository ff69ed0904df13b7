"""The channel port: `Channel.send(message) -> DeliveryResult`, one adapter per medium.

    DeliveryResult.status
    ├── delivered   the provider took the message; the outbox marks the row delivered
    ├── retry       worth trying again (timeouts, 5xx, 429, SMTP 4xx): back-off, then again
    └── permanent   never worth repeating (bad number, refused recipient, 4xx): row failed

An adapter never raises for a delivery problem; it answers with a result. The dispatcher still
treats an unexpected exception from an adapter as `retry`, so a bug cannot lose a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, Protocol
from uuid import UUID

Status = Literal["delivered", "retry", "permanent"]


@dataclass(frozen=True)
class Message:
    """What a channel sends. `id` is stable across retries: providers that accept an
    idempotency key get it, so an at-least-once resend is not a second SMS."""

    id: UUID
    channel: str
    address: str  # phone number or e-mail address, resolved at send time, never stored in the row
    subject: str
    text: str


@dataclass(frozen=True)
class DeliveryResult:
    status: Status
    detail: str = ""
    provider_ref: str | None = None
    retry_after: timedelta | None = None

    @classmethod
    def delivered(cls, provider_ref: str | None = None) -> DeliveryResult:
        return cls("delivered", provider_ref=provider_ref)

    @classmethod
    def retry(cls, detail: str, retry_after: timedelta | None = None) -> DeliveryResult:
        return cls("retry", detail, retry_after=retry_after)

    @classmethod
    def permanent(cls, detail: str) -> DeliveryResult:
        return cls("permanent", detail)


class Channel(Protocol):
    name: str

    async def send(self, message: Message) -> DeliveryResult: ...

    async def aclose(self) -> None: ...
