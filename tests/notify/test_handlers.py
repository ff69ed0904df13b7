"""The use case the wiring calls: an order's event -> its notifications, in the caller's
transaction; plus the ops re-queue, the recipient key, and the log channel's masking."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events.clock import ManualClock
from libs.events.envelope import StoredEvent
from libs.events.settings import Settings
from services.notify.channels import DeliveryResult, Message
from services.notify.channels.configured import ChannelSettingsError, recipient_key
from services.notify.channels.log import LogChannel
from services.notify.handlers import context_from_reported, on_event
from services.notify.jobs import Dispatcher, StaticDirectory
from services.notify.outbox import Outbox
from services.notify.queries import counts_by_state, list_notifications
from tests.notify.support import START, ScriptedChannel

REPORTED = {"maker": "gree", "external_ref": "JD-2026-7", "customer": {"phone": "13800138000"}}


def stored(kind: str, data: dict[str, Any], version: int = 1) -> StoredEvent:
    return StoredEvent(
        type=kind,
        occurred_at=START,
        source="test",
        actor="test",
        data=data,
        stream_id="o-7",
        version=version,
        position=version,
        recorded_at=START,
        prev_hash="0" * 64,
        hash="0" * 64,
    )


def test_the_context_comes_from_order_reported_without_the_phone() -> None:
    context, ref = context_from_reported(REPORTED, b"key")
    assert (context.maker, context.external_ref) == ("gree", "JD-2026-7")
    assert ref.startswith("cust-") and "13800138000" not in ref


async def test_on_event_writes_in_the_callers_transaction(engine: AsyncEngine) -> None:
    outbox = Outbox(engine, ManualClock(START))
    context, ref = context_from_reported(REPORTED, b"key")
    due = (START + timedelta(hours=4)).isoformat()
    async with engine.begin() as conn:
        events: list[tuple[str, dict[str, Any]]] = [
            ("order.reported", REPORTED),
            ("order.dispatched", {"sla_due_at": due}),
            ("order.arrived", {}),
        ]
        for i, (kind, data) in enumerate(events, start=1):
            await on_event(outbox, conn, stored(kind, data, i), context, ref, ["sms"])
        assert not outbox.wake.is_set()  # the caller wakes the dispatcher after its commit
    listed = await list_notifications(engine, order_id="o-7")
    assert sorted(n["step"] for n in listed) == ["dispatched", "reported"]
    async with engine.begin() as conn:  # the same events again: nothing new
        assert (
            await on_event(outbox, conn, stored("order.reported", REPORTED), context, ref, ["sms"])
            == 0
        )


async def test_an_event_nobody_hears_about_writes_nothing(engine: AsyncEngine) -> None:
    outbox = Outbox(engine, ManualClock(START))
    context, ref = context_from_reported(REPORTED, b"key")
    async with engine.begin() as conn:
        assert (
            await on_event(outbox, conn, stored("order.escalated", {}), context, ref, ["sms"]) == 0
        )
    assert await counts_by_state(engine) == {}


async def test_ops_requeue_failed_rows_only(engine: AsyncEngine) -> None:
    clock = ManualClock(START)
    outbox = Outbox(engine, clock)
    sms = ScriptedChannel("sms", DeliveryResult.permanent("HTTP 401: bad token"))
    directory = StaticDirectory({("o-7", "sms"): "13800138000"})
    dispatcher = Dispatcher(outbox, {"sms": sms}, directory)
    context, ref = context_from_reported(REPORTED, b"key")
    async with engine.begin() as conn:
        await on_event(outbox, conn, stored("order.reported", REPORTED), context, ref, ["sms"])
    await dispatcher.run_once(clock())
    [failed] = await list_notifications(engine, state="failed")
    outbox.wake.clear()
    clock.advance(minutes=10)
    assert await outbox.requeue([failed["id"], uuid4()]) == 1 and outbox.wake.is_set()
    assert await outbox.requeue([failed["id"]]) == 0  # pending now, not failed
    assert await dispatcher.run_once(clock()) == {"delivered": 1}
    [row] = await list_notifications(engine)
    assert (row["state"], row["attempts"]) == ("delivered", 1)


def test_a_real_channel_needs_a_recipient_key() -> None:
    assert recipient_key(Settings()) == recipient_key(Settings(notify_channels="log"))
    assert recipient_key(Settings(notify_channels="sms", notify_recipient_key="k")) == b"k"
    with pytest.raises(ChannelSettingsError, match="NOTIFY_RECIPIENT_KEY"):
        recipient_key(Settings(notify_channels="log,sms"))


async def test_the_log_channel_never_logs_the_full_number(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="services.notify.log_channel")
    result = await LogChannel().send(
        Message(uuid4(), "log", "13800138000", "s", "【售后服务】已受理")
    )
    assert result.status == "delivered"
    assert "138****8000" in caplog.text and "13800138000" not in caplog.text
    assert "【售后服务】已受理" in caplog.text
