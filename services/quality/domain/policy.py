"""A maker's policy for the monthly score (seed 004); money in integer fen.

One model: `Policy` is the catalog's `QualityPolicy` (the event's data, the API's body and
answer); this module adds the seed's numbers as the default. Each maker sets its own
through `PUT /quality/policies/{maker}`, so no amount, band edge, weight or share is a
constant in a code path.
"""

from __future__ import annotations

from typing import Any

from libs.events.catalog import ComplaintBandSpec as ComplaintBand
from libs.events.catalog import NBasis, SeverityWeights
from libs.events.catalog import QualityPolicy as Policy

__all__ = ["YUAN", "ComplaintBand", "NBasis", "Policy", "SeverityWeights", "default_policy", "policy_from_json"]

YUAN = 100  # fen per yuan


def policy_from_json(data: dict[str, Any]) -> Policy:
    """A stored policy (an event's, a frozen month's); fields it predates take their defaults."""
    return Policy.model_validate({k: v for k, v in data.items() if k != "maker"})


def default_policy() -> Policy:
    """The seed's numbers. The seed leaves the decline penalty and the two special-case
    amounts as "XXXX"; we mirror its only example (1000 yuan) for the decline penalty and
    use 2000 yuan for each special case. Complaints count one each (the seed's table), n is
    the month's repairs, and a tenth of each provider's weekly forms is phoned back."""
    return Policy(
        improvement_reward_fen=1000 * YUAN,
        decline_penalty_fen=1000 * YUAN,
        all_max_reward_fen=2000 * YUAN,
        all_min_penalty_fen=2000 * YUAN,
        complaint_bands=[
            ComplaintBand(max_complaints=0, amount_fen=5000 * YUAN),
            ComplaintBand(max_complaints=5, amount_fen=0),
            ComplaintBand(max_complaints=10, amount_fen=-3000 * YUAN),
            ComplaintBand(max_complaints=15, amount_fen=-5000 * YUAN),
            ComplaintBand(max_complaints=None, amount_fen=-10000 * YUAN),
        ],
        admin_action_threshold=30,
    )
