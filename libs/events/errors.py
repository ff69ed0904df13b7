"""Errors of the event foundation.

    EventStoreError
    ├── ConcurrencyConflict      expected version did not match the stream (retry after re-reading)
    ├── DuplicateEventId         an event id already stored in a different stream or batch
    ├── EmitterNotAllowed        a service appended a type it may not emit
    ├── UnknownEventType         type/version not in the catalog
    ├── InvalidEventData         data does not match the catalog model
    └── StoreUnavailable         the database cannot be reached (retriable)

    DomainError                  a command the rules refuse; the web edge answers `status`
    ├── InvalidInput      422    a value that cannot be right; `field` names it
    ├── Missing           404    the thing acted on does not exist (for this caller)
    ├── Refused           409    the stream's state does not allow the command
    └── NotAllowed        403    this caller may not do this to this stream
"""

from __future__ import annotations

from typing import Any


class EventStoreError(Exception):
    """Base of every error raised by libs.events."""

    retriable = False


class ConcurrencyConflict(EventStoreError):
    """The stream is not at the expected version; nothing was written."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(f"stream {stream_id}: expected version {expected}, found {actual}")
        self.stream_id, self.expected, self.actual = stream_id, expected, actual


class DuplicateEventId(EventStoreError):
    """An event id is already stored but not as part of this same append."""


class EmitterNotAllowed(EventStoreError):
    """The source service is not an allowed emitter of the event type."""


class UnknownEventType(EventStoreError):
    """The catalog has no model for this type and schema version."""


class InvalidEventData(EventStoreError):
    """The event's data does not validate against its catalog model."""


class StoreUnavailable(EventStoreError):
    """The database could not be reached or dropped the connection."""

    retriable = True


class DomainError(Exception):
    """Base of every refusal by a service's rules: pure code raises it, the web edge
    (libs.web.problems) turns it into an RFC 9457 problem, in one place."""

    status = 409

    def __init__(self, detail: str, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail, self.field, self.extra = detail, field, extra


class InvalidInput(DomainError):
    status = 422


class Missing(DomainError):
    status = 404


class Refused(DomainError):
    status = 409


class NotAllowed(DomainError):
    status = 403
