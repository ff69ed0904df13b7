"""Which forms supervision phones back (seed 004: the service department hands its feedback
forms to supervision weekly, 监察部派人打电话给客户抽查、核实).

Each week, of each provider's customer forms recorded that week (China time), the policy's
share (rounded up, so a provider with a form is never skipped when the share is above 0)
is drawn: the forms whose keyed hash of (form id, week) is lowest. Random to a provider
that does not hold the key, the same on every query and after every rebuild (no RNG state),
and checkable by anyone who holds it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping


def sample_size(count: int, percent: int) -> int:
    """`percent` % of `count` forms, rounded up."""
    if count < 0 or not 0 <= percent <= 100:
        raise ValueError("count >= 0 and 0 <= percent <= 100")
    return -(-count * percent // 100)


def draw(key: bytes, form_id: str, week: str) -> str:
    """The form's lot for the week: HMAC-SHA256 of (form id, week) under the deployment's key."""
    return hmac.new(key, f"{week}\x1f{form_id}".encode(), hashlib.sha256).hexdigest()


def sample(key: bytes, week: str, forms: Iterable[str], percent: int) -> list[str]:
    """The drawn form ids of one provider's week, lowest lot first."""
    ids = sorted(set(forms))
    ranked = sorted(ids, key=lambda form_id: (draw(key, form_id, week), form_id))
    return ranked[: sample_size(len(ids), percent)]


def call_back_list(key: bytes, week: str, by_provider: Mapping[str, Iterable[str]], percent: int) -> dict[str, list[str]]:
    """Provider → the forms to phone back this week."""
    return {provider: sample(key, week, forms, percent) for provider, forms in sorted(by_provider.items())}
