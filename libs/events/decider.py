"""The shape of a service's pure rules, and what a fold may know of an event.

Kept apart from `libs.events.command` so domain modules can name it without importing
the store (and, through it, the database driver).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from libs.events.catalog import Payload
from libs.events.errors import DomainError

S = TypeVar("S")
C = TypeVar("C")
C_contra = TypeVar("C_contra", contravariant=True)


@dataclass(frozen=True)
class Fact:
    """What a fold may know of a stored event besides its payload (no envelope, no hash)."""

    stream_id: str
    version: int
    occurred_at: datetime
    recorded_at: datetime
    position: int = 0


class Decider(Protocol[S, C_contra]):
    """A service's pure rules for one kind of stream."""

    def initial(self, stream_id: str) -> S: ...

    def evolve(self, state: S, payload: Payload, fact: Fact) -> S: ...

    def decide(self, state: S, command: C_contra) -> Sequence[Payload]: ...


@dataclass(frozen=True)
class Rules(Generic[S, C]):
    """A Decider from plain functions, as every service writes its rules.

    `context` names what a 409 refusal adds to its problem document (the state the caller
    ran into, e.g. the order's status), so decide functions need not repeat it.
    """

    start: Callable[[str], S]
    fold: Callable[[S, Payload, Fact], S]
    rules: Callable[[S, C], Sequence[Payload]]
    context: Callable[[S], dict[str, Any]] | None = None

    def initial(self, stream_id: str) -> S:
        return self.start(stream_id)

    def evolve(self, state: S, payload: Payload, fact: Fact) -> S:
        return self.fold(state, payload, fact)

    def decide(self, state: S, command: C) -> Sequence[Payload]:
        try:
            return self.rules(state, command)
        except DomainError as exc:
            if self.context is not None and exc.status == 409:
                for key, value in self.context(state).items():
                    exc.extra.setdefault(key, value)
            raise
