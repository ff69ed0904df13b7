"""The shape of a service's pure rules, and what a fold may know of an event.

Kept apart from `libs.events.command` so domain modules can name it without importing
the store (and, through it, the database driver).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from libs.events.catalog import Payload

S = TypeVar("S")
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
