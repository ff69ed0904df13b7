"""Idempotency-Key: the same key and body get the first answer; another body is refused.

The order and event ids are derived from (partner, key), so a retry — even one racing
the first request, or following a crash — appends nothing new: the store recognises the
event id and hands back the stored event (a replayed append). That event is the first
answer, durably: its order id, version, position, maker, tier and warranty are the 201
body, and the facts it took from the request body tell whether the retry sent the same
body. No answer is stored besides it, so a keyed report costs one database checkout,
like any other (a separate answer table cost a second checkout and three round trips).
"""

from __future__ import annotations

from libs.events import catalog

# What OrderReported takes from the request (and the caller); the rest — maker, tier,
# warranty — is decided from it and may differ on a later day or under other policies.
FROM_REQUEST = ("channel", "partner_id", "external_ref", "customer", "product", "location", "working_conditions",
                "fault")


def same_request(first: catalog.OrderReported, retry: catalog.OrderReported) -> bool:
    """Whether a retry reports what the first request under its key reported."""
    return all(getattr(first, name) == getattr(retry, name) for name in FROM_REQUEST)
