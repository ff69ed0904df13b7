"""The customer's status link, pure: a signed, expiring token naming one order.

    v1.<order id, base64url>.<issued, unix s>.<expires, unix s>.<HMAC-SHA256, 128 bits, base64url>

Unguessable without the key (the MAC), expiring (`expires` is signed), revocable (links of an
order issued at or before its revocation time are refused; a new link is issued after it).
The link is a function of the order and its report time, so intake can hand it to the
partner without a table lookup and the notifications carry the same URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

VERSION = "v1"
MAC_BYTES = 16


class LinkError(ValueError):
    """Why a token is refused: malformed, forged (bad signature), expired or revoked."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class LinkClaims:
    order_id: str
    issued_at: datetime
    expires_at: datetime


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, body: str) -> str:
    return _b64(hmac.new(key, body.encode(), hashlib.sha256).digest()[:MAC_BYTES])


def sign(key: bytes, order_id: str, issued_at: datetime, ttl: timedelta) -> str:
    """The token of an order's link issued at `issued_at`, valid for `ttl`."""
    issued = int(issued_at.timestamp())
    expires = int((issued_at + ttl).timestamp())
    body = f"{VERSION}.{_b64(order_id.encode())}.{issued}.{expires}"
    return f"{body}.{_mac(key, body)}"


def verify(key: bytes, token: str, now: datetime,
           revoked_before: datetime | None = None) -> LinkClaims:
    """The claims of a genuine, unexpired, unrevoked token; LinkError otherwise."""
    parts = token.split(".")
    if len(parts) != 5 or parts[0] != VERSION:
        raise LinkError("malformed")
    body, mac = ".".join(parts[:4]), parts[4]
    if not hmac.compare_digest(_mac(key, body), mac):
        raise LinkError("bad_signature")
    try:
        order_id = _unb64(parts[1]).decode()
        issued = datetime.fromtimestamp(int(parts[2]), UTC)
        expires = datetime.fromtimestamp(int(parts[3]), UTC)
    except (ValueError, UnicodeDecodeError):  # signed by us, so only a key shared with a bug
        raise LinkError("malformed") from None
    if now >= expires:
        raise LinkError("expired")
    if revoked_before is not None and issued <= revoked_before:
        raise LinkError("revoked")
    return LinkClaims(order_id, issued, expires)

