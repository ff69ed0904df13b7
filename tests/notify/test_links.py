"""Status-link tokens, pure: genuine, expired, revoked, tampered, forged, malformed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from libs.events.status_links import LinkError, sign, verify

KEY = b"k" * 32
ISSUED = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)
TTL = timedelta(days=60)


def reason(token: str, now: datetime, key: bytes = KEY, revoked: datetime | None = None) -> str:
    with pytest.raises(LinkError) as caught:
        verify(key, token, now, revoked)
    return caught.value.reason


def test_a_genuine_link_names_its_order_until_it_expires() -> None:
    token = sign(KEY, "order-42", ISSUED, TTL)
    claims = verify(KEY, token, ISSUED + TTL - timedelta(seconds=1))
    assert (claims.order_id, claims.issued_at, claims.expires_at) == ("order-42", ISSUED, ISSUED + TTL)
    assert reason(token, ISSUED + TTL) == "expired"


def test_the_link_is_a_function_of_order_and_report_time() -> None:
    assert sign(KEY, "order-42", ISSUED, TTL) == sign(KEY, "order-42", ISSUED, TTL)
    assert sign(KEY, "order-42", ISSUED, TTL) != sign(KEY, "order-43", ISSUED, TTL)
    assert sign(KEY, "order-42", ISSUED, TTL) != sign(b"other", "order-42", ISSUED, TTL)


def test_a_revocation_refuses_links_issued_up_to_it_and_not_later_ones() -> None:
    old = sign(KEY, "order-42", ISSUED, TTL)
    revoked = ISSUED + timedelta(days=2, microseconds=500)
    assert reason(old, ISSUED + timedelta(days=3), revoked=revoked) == "revoked"
    new = sign(KEY, "order-42", revoked.replace(microsecond=0) + timedelta(seconds=1), TTL)
    assert verify(KEY, new, ISSUED + timedelta(days=3), revoked).order_id == "order-42"


def test_any_change_to_a_token_is_refused() -> None:
    token = sign(KEY, "order-42", ISSUED, TTL)
    version, order, issued, expires, mac = token.split(".")
    longer = str(int(expires) + 86_400 * 365)
    other_order = sign(KEY, "order-43", ISSUED, TTL).split(".")[1]
    for forged in (f"{version}.{order}.{issued}.{longer}.{mac}",  # a longer life
                   f"{version}.{other_order}.{issued}.{expires}.{mac}",  # another customer's order
                   f"{version}.{order}.{issued}.{expires}.{mac[:-1]}A",
                   f"{version}.{order}.{issued}.{expires}.{mac[:-2]}"):
        assert reason(forged, ISSUED) == "bad_signature"
    assert reason(token, ISSUED, key=b"not the key") == "bad_signature"


@pytest.mark.parametrize("token", ["", "v1", "v2.a.b.c.d", "v1.a.b.c", "v1.a.b.c.d.e", "garbage" * 9])
def test_malformed_tokens_are_refused(token: str) -> None:
    assert reason(token, ISSUED) in ("malformed", "bad_signature")


def test_links_need_a_secret_outside_the_demo_and_a_published_one_refuses_the_start() -> None:
    from pydantic import SecretStr

    from libs.events.settings import Settings
    from libs.events.status_urls import status_url

    assert status_url(Settings(demo=False), "order-42", ISSUED) is None
    assert status_url(Settings(demo=True), "order-42", ISSUED) is not None
    real = Settings(demo=False, notify_link_secret=SecretStr("x" * 40))
    assert status_url(real, "order-42", ISSUED) != status_url(Settings(demo=True), "order-42", ISSUED)
    with pytest.raises(SystemExit, match="NOTIFY_LINK_SECRET"):
        Settings(demo=False, platform_secret=SecretStr("p" * 40),
                 notify_link_secret=SecretStr("change-me")).check_secrets()
