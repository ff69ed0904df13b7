"""The EventStore port: what every adapter promises (the contract tests check it)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from libs.events.envelope import NewEvent, StoredEvent

ANY_VERSION: int | None = None
NO_STREAM = 0


@dataclass(frozen=True, eq=False)
class AppendResult:
    """Where the batch landed. `replayed` is true when the batch was already stored.

    `stored` is the stored events or a function that builds them: many callers need
    only the version and position, so the events are built on first use of `events`.
    """

    stream_id: str
    version: int
    position: int
    stored: tuple[StoredEvent, ...] | Callable[[], tuple[StoredEvent, ...]] = field(repr=False)
    replayed: bool = False

    @cached_property
    def events(self) -> tuple[StoredEvent, ...]:
        return self.stored() if callable(self.stored) else self.stored


class EventStore(ABC):
    """System of record for service-order events.

    - `append` is atomic for the batch; a wrong `expected_version` raises
      ConcurrencyConflict and writes nothing (`None` skips the check, `0` = new stream);
    - appending events whose ids are already stored returns the stored result;
    - `read_all` returns events in commit order: a reader that has seen position P
      will never later find a committed event below P.
    """

    @abstractmethod
    async def append(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: int | None
    ) -> AppendResult: ...

    @abstractmethod
    async def read_stream(
        self, stream_id: str, from_version: int = 1, *, until_position: int | None = None,
        as_of: datetime | None = None,
    ) -> list[StoredEvent]:
        """The stream in version order; as it stood when the log's head was `until_position`
        (events at positions up to it) and/or at the moment `as_of` (recorded up to then)."""

    @abstractmethod
    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]: ...

    @abstractmethod
    async def head_position(self) -> int: ...

    @abstractmethod
    async def stream_version(self, stream_id: str) -> int: ...

    async def verify(self, stream_id: str) -> list[str]:
        """Problems in the stream's hash chain; an empty list means the history is intact."""
        from libs.events.envelope import verify_chain

        return verify_chain(await self.read_stream(stream_id))
