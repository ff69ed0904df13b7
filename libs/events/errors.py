"""Errors of the event foundation.

    EventStoreError
    ├── ConcurrencyConflict      expected version did not match the stream (retry after re-reading)
    ├── DuplicateEventId         an event id already stored in a different stream or batch
    ├── EmitterNotAllowed        a service appended a type it may not emit
    ├── UnknownEventType         type/version not in the catalog
    ├── InvalidEventData         data does not match the catalog model
    └── StoreUnavailable         the database cannot be reached (retriable)
"""

from __future__ import annotations


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
