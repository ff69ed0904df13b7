"""Status links from the settings: the key, the lifetime and the public URL, built once.

In the kernel because intake hands the link to the reporting partner and platform, and notify
serves the page and sends it: neither service may import the other.

Without NOTIFY_LINK_SECRET there are no links (None, and the page answers 404), except in
the embedded demo, which signs with a built-in key; a published secret refuses the start
(`Settings.check_secrets`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from libs.events.settings import Settings
from libs.events.status_links import sign

DEMO_LINK_KEY = b"demo-status-link-key"  # published: only DEMO=true may sign with it
PATH = "/s/"


def link_key(settings: Settings) -> bytes | None:
    if settings.notify_link_secret is not None:
        return settings.notify_link_secret.get_secret_value().encode()
    return DEMO_LINK_KEY if settings.demo else None


def ttl(settings: Settings) -> timedelta:
    return timedelta(days=settings.notify_link_ttl_days)


def status_url(settings: Settings, order_id: str, issued_at: datetime) -> str | None:
    """The customer's status page of an order (None when links are not configured)."""
    key = link_key(settings)
    if key is None:
        return None
    token = sign(key, order_id, issued_at, ttl(settings))
    return f"{settings.notify_public_url.rstrip('/')}{PATH}{token}"


def reissued_at(revoked_before: datetime) -> datetime:
    """When the link that replaces revoked ones is issued: the first whole second after."""
    return revoked_before.replace(microsecond=0) + timedelta(seconds=1)


def current_url(settings: Settings, order_id: str, reported_at: datetime,
                revoked_before: datetime | None) -> str | None:
    """The order's link in force: the report's, or the one issued after its last revocation."""
    issued = reported_at if revoked_before is None else reissued_at(revoked_before)
    return status_url(settings, order_id, issued)
