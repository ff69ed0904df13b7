"""A maker's reward/penalty policy for the monthly score (seed 004); money in integer fen.

The seed's numbers are only the default (`default_policy`); each maker sets its own
through `PUT /quality/policies/{maker}`, so no amount or band edge is a constant in a
code path.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Any


@dataclass(frozen=True)
class ComplaintBand:
    """Complaint counts up to `max_complaints` (inclusive; None = no upper edge) pay `amount_fen`."""

    max_complaints: int | None
    amount_fen: int


@dataclass(frozen=True)
class Policy:
    """A maker's reward/penalty policy. `default_policy()` holds the seed's numbers."""

    improvement_reward_fen: int
    decline_penalty_fen: int
    all_max_reward_fen: int
    all_min_penalty_fen: int
    complaint_bands: tuple[ComplaintBand, ...]
    admin_action_threshold: int

    def __post_init__(self) -> None:
        edges = [b.max_complaints for b in self.complaint_bands]
        if not edges or edges[-1] is not None:
            raise ValueError("the last complaint band must have no upper edge")
        bounded = [e for e in edges[:-1] if e is not None]
        if len(bounded) != len(edges) - 1 or any(e < 0 for e in bounded):
            raise ValueError("only the last complaint band may lack an upper edge; edges are >= 0")
        if any(later <= earlier for earlier, later in pairwise(bounded)):
            raise ValueError("complaint band edges must be strictly increasing")
        if self.admin_action_threshold < 1:
            raise ValueError("admin_action_threshold must be at least 1")

    def to_json(self) -> dict[str, Any]:
        return {
            "improvement_reward_fen": self.improvement_reward_fen,
            "decline_penalty_fen": self.decline_penalty_fen,
            "all_max_reward_fen": self.all_max_reward_fen,
            "all_min_penalty_fen": self.all_min_penalty_fen,
            "complaint_bands": [
                {"max_complaints": b.max_complaints, "amount_fen": b.amount_fen} for b in self.complaint_bands
            ],
            "admin_action_threshold": self.admin_action_threshold,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Policy:
        return cls(
            improvement_reward_fen=int(data["improvement_reward_fen"]),
            decline_penalty_fen=int(data["decline_penalty_fen"]),
            all_max_reward_fen=int(data["all_max_reward_fen"]),
            all_min_penalty_fen=int(data["all_min_penalty_fen"]),
            complaint_bands=tuple(
                ComplaintBand(b["max_complaints"], int(b["amount_fen"])) for b in data["complaint_bands"]
            ),
            admin_action_threshold=int(data["admin_action_threshold"]),
        )


YUAN = 100  # fen per yuan


def default_policy() -> Policy:
    """The seed's numbers. The seed leaves the decline penalty and the two special-case
    amounts as "XXXX"; we mirror its only example (1000 yuan) for the decline penalty and
    use 2000 yuan for each special case. A maker sets its own through the policy API."""
    return Policy(
        improvement_reward_fen=1000 * YUAN,
        decline_penalty_fen=1000 * YUAN,
        all_max_reward_fen=2000 * YUAN,
        all_min_penalty_fen=2000 * YUAN,
        complaint_bands=(
            ComplaintBand(0, 5000 * YUAN),
            ComplaintBand(5, 0),
            ComplaintBand(10, -3000 * YUAN),
            ComplaintBand(15, -5000 * YUAN),
            ComplaintBand(None, -10000 * YUAN),
        ),
        admin_action_threshold=30,
    )
