"""The long-running dispatcher on the real clock: it wakes on enqueue (not by polling) and on
its timer for the next due retry; and the whole path from events to a real SMS and e-mail."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.servers import free_port
from libs.events.clock import system_clock
from libs.events.settings import Settings
from services.notify.channels.configured import ChannelSettingsError, channel_names, channels_from
from services.notify.channels.email import SmtpEmailChannel
from services.notify.channels.log import LogChannel
from services.notify.channels.sms import HttpSmsChannel
from services.notify.domain.model import OrderContext, Step, Trigger
from services.notify.domain.policy import MakerPolicy
from services.notify.domain.steps import actions_for
from services.notify.jobs import Dispatcher, StaticDirectory
from services.notify.outbox import Outbox
from services.notify.queries import counts_by_state, list_notifications
from tests.notify.fake_sms import FakeSmsProvider, serving
from tests.notify.support import ScriptedChannel
from tests.notify.test_email import Inbox

CTX = OrderContext(maker="gree", external_ref="JD-9")
NO_QUIET = {
    "gree": MakerPolicy(quiet_start=MakerPolicy().quiet_end, quiet_end=MakerPolicy().quiet_end)
}


@contextlib.asynccontextmanager
async def running(dispatcher: Dispatcher) -> AsyncIterator[asyncio.Event]:
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)


def on_real_time(
    engine: AsyncEngine, sms: ScriptedChannel, error_pause: float = 5.0
) -> tuple[Outbox, Dispatcher]:
    """A dispatcher on the system clock that sleeps up to an hour unless woken."""
    outbox = Outbox(engine, system_clock)
    directory = StaticDirectory({("o1", "sms"): "13800138000"})
    return outbox, Dispatcher(
        outbox, {"sms": sms}, directory, NO_QUIET, max_sleep=3600, error_pause=error_pause
    )


async def test_an_enqueue_wakes_the_sleeping_dispatcher(sqlite_engine: AsyncEngine) -> None:
    sms = ScriptedChannel("sms")
    outbox, dispatcher = on_real_time(sqlite_engine, sms)  # only a wake-up can make it send in time
    async with running(dispatcher):
        await asyncio.sleep(0.1)  # it ran its first pass over an empty outbox and sleeps
        started = asyncio.get_running_loop().time()
        await outbox.enqueue(
            "o1", "cust-1", CTX, [Trigger(Step.REPORTED, {"ref": "JD-9"})], ["sms"]
        )

        await sms.wait_sent(1)
        assert asyncio.get_running_loop().time() - started < 2.0
    assert await counts_by_state(sqlite_engine) == {"delivered": 1}


async def test_the_timer_wakes_it_when_the_next_row_falls_due(sqlite_engine: AsyncEngine) -> None:
    """A row due in 0.4 s (a retry or a deferred message alike: both are a later next_attempt_at)
    is sent by the timer, with no enqueue to wake the loop and max_sleep an hour."""
    sms = ScriptedChannel("sms")
    outbox, dispatcher = on_real_time(sqlite_engine, sms)
    due = system_clock() + timedelta(seconds=0.4)
    await outbox.enqueue(
        "o1", "cust-1", CTX, [Trigger(Step.REPORTED, {"ref": "JD-9"}, not_before=due)], ["sms"]
    )
    async with running(dispatcher):
        await asyncio.sleep(0.2)
        assert sms.sent == []  # not due yet, and the loop is asleep

        await sms.wait_sent(1, 3.0)
    assert system_clock() >= due and not outbox.wake.is_set()


async def test_a_failing_pass_does_not_end_the_loop(sqlite_engine: AsyncEngine) -> None:
    sms = ScriptedChannel("sms")
    outbox, dispatcher = on_real_time(sqlite_engine, sms, error_pause=0.1)  # not an hour
    calls = 0
    original = outbox.claim

    async def flaky(now: Any, batch: int = 50) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database restarting")
        return await original(now, batch)

    outbox.claim = flaky  # type: ignore[method-assign]
    await outbox.enqueue("o1", "cust-1", CTX, [Trigger(Step.REPORTED, {"ref": "JD-9"})], ["sms"])
    outbox.wake.clear()  # so only the error pause can bring the loop back
    async with running(dispatcher):
        await sms.wait_sent(1)
    assert calls >= 2


def test_settings_choose_the_channels_and_demand_their_secrets() -> None:
    assert [type(c) for c in channels_from(Settings()).values()] == [LogChannel]
    with pytest.raises(ChannelSettingsError, match="NOTIFY_SMS_URL"):
        channels_from(Settings(notify_channels="sms"))
    with pytest.raises(ChannelSettingsError, match="NOTIFY_SMTP_HOST"):
        channels_from(Settings(notify_channels="log,email", notify_smtp_host="mail.test"))
    with pytest.raises(ChannelSettingsError, match="fax"):
        channel_names(Settings(notify_channels="sms, fax"))
    built = channels_from(
        Settings(
            notify_channels="sms,email",
            notify_sms_url="http://sms.test/",
            notify_sms_token="t",
            notify_smtp_host="mail.test",
            notify_smtp_sender="s@x.cn",
            notify_smtp_port=2525,
        )
    )
    assert isinstance(built["sms"], HttpSmsChannel) and isinstance(built["email"], SmtpEmailChannel)
    assert built["email"].port == 2525


async def test_from_events_to_a_real_sms_and_email(engine: AsyncEngine) -> None:
    """order.reported and order.dispatched -> rows -> the fake provider (socket) and aiosmtpd."""
    token, inbox, smtp_port = "tok", Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    provider = FakeSmsProvider(token)
    try:
        async with serving(provider) as base:
            settings = Settings(
                notify_channels="sms,email",
                notify_sms_url=f"{base}/send",
                notify_sms_token=token,
                notify_smtp_host="127.0.0.1",
                notify_smtp_port=smtp_port,
                notify_smtp_sender="svc@x.cn",
                notify_smtp_starttls=False,
            )
            channels = channels_from(settings)
            outbox = Outbox(engine, system_clock)
            directory = StaticDirectory({("o9", "sms"): "13800138000", ("o9", "email"): "z@x.cn"})
            dispatcher = Dispatcher(outbox, channels, directory, NO_QUIET)
            now = system_clock()
            for kind, data in (
                ("order.reported", {}),
                ("order.dispatched", {"sla_due_at": (now + timedelta(hours=4)).isoformat()}),
            ):
                await outbox.enqueue(
                    "o9", "cust-9", CTX, actions_for(kind, data, now, CTX), channel_names(settings)
                )
                await outbox.enqueue(
                    "o9", "cust-9", CTX, actions_for(kind, data, now, CTX), channel_names(settings)
                )  # the event delivered twice
            assert await dispatcher.run_once(system_clock()) == {"delivered": 4}
            await dispatcher.aclose()
    finally:
        controller.stop()
    reported, dispatched = sorted(r.body["text"] for r in provider.received)
    assert reported == "【格力服务】您的报修（单号JD-9）已受理，我们将尽快安排服务网点。"
    assert (
        dispatched.startswith("【格力服务】格力空调报修（单号JD-9）已派工，师傅将于")
        and "前上门" in dispatched
    )
    assert {r.body["to"] for r in provider.received} == {"13800138000"}
    assert len(inbox.mail) == 2
    listed = await list_notifications(engine, order_id="o9")
    assert {(n["step"], n["channel"], n["state"]) for n in listed} == {
        (s, c, "delivered") for s in ("reported", "dispatched") for c in ("sms", "email")
    }
