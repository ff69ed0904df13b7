"""The SMS adapter: the provider's answers mapped to delivered / retry / permanent, through
httpx.MockTransport with the fake provider as the app, and once over a real socket."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import httpx
import pytest

from services.notify.channels import Message
from services.notify.channels.sms import HttpSmsChannel
from tests.notify.fake_sms import Answer, FakeSmsProvider, serving

TOKEN = "sms-test-token"


def message() -> Message:
    return Message(uuid4(), "sms", "13800138000", "subject", "【售后服务】您的报修已受理")


def channel_on(provider: FakeSmsProvider) -> HttpSmsChannel:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=provider))
    return HttpSmsChannel("http://sms.test/v1/messages", TOKEN, client=client)


async def test_an_accepted_message_is_delivered_with_the_provider_id() -> None:
    provider = FakeSmsProvider(TOKEN)
    channel = channel_on(provider)
    sent = message()
    result = await channel.send(sent)
    await channel.aclose()
    assert (result.status, result.provider_ref) == ("delivered", "sms-1")
    [seen] = provider.received
    assert seen.path == "/v1/messages"
    assert seen.body == {"to": "13800138000", "text": sent.text, "reference": str(sent.id)}
    assert seen.headers["idempotency-key"] == str(sent.id)


@pytest.mark.parametrize(
    ("answer", "status", "after"),
    [
        (Answer(200, {"status": "rejected", "reason": "invalid number"}), "permanent", None),
        (Answer(202, {"status": "queued"}), "delivered", None),
        (
            Answer(429, {"error": "slow down"}, {"Retry-After": "120"}),
            "retry",
            timedelta(seconds=120),
        ),
        (Answer(503, {"error": "maintenance"}), "retry", None),
        (Answer(500, {}), "retry", None),
        (Answer(408, {}), "retry", None),
        (Answer(400, {"error": "bad number"}), "permanent", None),
        (Answer(422, {"error": "text too long"}), "permanent", None),
    ],
)
async def test_answers_map_to_outcomes(
    answer: Answer, status: str, after: timedelta | None
) -> None:
    channel = channel_on(FakeSmsProvider(TOKEN, [answer]))
    result = await channel.send(message())
    await channel.aclose()
    assert (result.status, result.retry_after) == (status, after)
    if status != "delivered":
        assert result.detail


async def test_a_wrong_token_is_a_permanent_failure() -> None:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=FakeSmsProvider(TOKEN)))
    channel = HttpSmsChannel("http://sms.test/v1/messages", "wrong", client=client)
    result = await channel.send(message())
    await channel.aclose()
    assert result.status == "permanent" and "401" in result.detail


async def test_a_non_json_success_is_still_delivered() -> None:
    def handler(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="OK")

    channel = HttpSmsChannel(
        "http://sms.test/", TOKEN, client=httpx.AsyncClient(transport=httpx.MockTransport(handler))
    )
    result = await channel.send(message())
    await channel.aclose()
    assert (result.status, result.provider_ref) == ("delivered", None)


async def test_transport_errors_are_retried() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    channel = HttpSmsChannel(
        "http://sms.test/", TOKEN, client=httpx.AsyncClient(transport=httpx.MockTransport(handler))
    )
    result = await channel.send(message())
    await channel.aclose()
    assert result.status == "retry" and "ConnectTimeout" in result.detail


async def test_over_a_real_socket() -> None:
    provider = FakeSmsProvider(TOKEN, [Answer(503, {"error": "busy"})])
    async with serving(provider) as base:
        channel = HttpSmsChannel(f"{base}/v1/messages", TOKEN)
        first, second = await channel.send(message()), await channel.send(message())
        await channel.aclose()
    assert (first.status, second.status) == ("retry", "delivered")
    assert [r.headers["authorization"] for r in provider.received] == [f"Bearer {TOKEN}"] * 2


async def test_a_provider_that_is_down_means_retry() -> None:
    provider = FakeSmsProvider(TOKEN)
    async with serving(provider) as base:
        pass  # the server is gone: its port refuses connections now
    channel = HttpSmsChannel(f"{base}/v1/messages", TOKEN, timeout=2.0)
    result = await channel.send(message())
    await channel.aclose()
    assert result.status == "retry" and "ConnectError" in result.detail
