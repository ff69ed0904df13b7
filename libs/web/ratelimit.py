"""Per-key rate limits: a partner or platform that floods the API gets 429 with Retry-After.

Limits are per API key (its hash), in this process (a moving window in memory from the
`limits` library): a deployment with N replicas of a service admits up to N times the rate,
which is the price of needing no shared store on the hot path. A principal's own
`rate_limit` ("20/second;600/minute") wins over Settings.rate_limit; "none" switches the
limit off for that key (the demo keys, which `make demo` drives thousands of calls through).
"""

from __future__ import annotations

import math
import time
from collections.abc import MutableMapping
from typing import Any

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from libs.web.auth import Principal
from libs.web.problems import Problem

RETRY_AFTER = "aftersales.retry_after"  # scope key the security middleware turns into a header


class TooManyRequests(Problem):
    status, title = 429, "Too many requests"


class KeyLimiter:
    """One limiter per process; the parsed limit strings are cached."""

    def __init__(self, default: str) -> None:
        self.default = default
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self._parsed: dict[str, list[RateLimitItem]] = {}

    def items(self, spec: str | None) -> list[RateLimitItem]:
        spec = (spec or self.default).strip()
        if spec.lower() in ("", "none"):
            return []
        found = self._parsed.get(spec)
        if found is None:
            found = self._parsed[spec] = parse_many(spec)
        return found

    def check(self, principal: Principal, scope: MutableMapping[str, Any]) -> None:
        """Count one request of this key; raise 429 (and note Retry-After) once over a limit."""
        for item in self.items(principal.rate_limit):
            if not self.limiter.hit(item, principal.key_hash or principal.id):
                reset = self.limiter.get_window_stats(item, principal.key_hash or principal.id).reset_time
                wait = max(1, math.ceil(reset - time.time()))
                scope[RETRY_AFTER] = str(wait)
                raise TooManyRequests(f"more than {item} for this API key; retry in {wait} s", retry_after=wait)


def validate(spec: str) -> str:
    """A limit string as Settings and the admin API accept it (raises ValueError otherwise)."""
    if spec.strip().lower() not in ("", "none"):
        parse_many(spec)
    return spec
