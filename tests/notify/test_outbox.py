"""The outbox and the dispatcher on SQLite and PostgreSQL: dedup, retries with back-off,
permanent failures, opt-out, quiet hours, cancel, leases, what ops read."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events.clock import ManualClock
from services.notify.channels import DeliveryResult, Message
from services.notify.domain.model import Cancel, OrderContext, Step, Trigger
from services.notify.domain.policy import MAX_ATTEMPTS, MakerPolicy
from services.notify.jobs import Dispatcher, StaticDirectory
from services.notify.outbox import LEASE, Outbox
from services.notify.queries import counts_by_state, list_notifications
from services.notify.tables import metadata, notifications
from tests.notify.support import START, ScriptedChannel

CTX = OrderContext(maker="gree", external_ref="JD-1")
PHONE = "13800138000"
REF = "cust-1"


def setup(
    engine: AsyncEngine, *channels: ScriptedChannel, policies: dict[str, MakerPolicy] | None = None
) -> tuple[Outbox, Dispatcher, ManualClock]:
    clock = ManualClock(START)
    outbox = Outbox(engine, clock)
    directory = StaticDirectory(
        {("o1", "sms"): PHONE, ("o1", "email"): "z@example.cn", ("o2", "sms"): "13900139000"}
    )
    dispatcher = Dispatcher(
        outbox, {c.name: c for c in channels}, directory, policies, random=random.Random(7).random
    )
    return outbox, dispatcher, clock


async def rows(engine: AsyncEngine) -> list[dict[str, object]]:
    async with engine.connect() as conn:
        found = (
            await conn.execute(
                select(notifications).order_by(
                    notifications.c.order_id, notifications.c.step, notifications.c.channel
                )
            )
        ).mappings()
        return [dict(r) for r in found.all()]


async def test_the_migration_builds_the_tables_the_service_declares(engine: AsyncEngine) -> None:
    def shape(sync_conn: object) -> dict[str, tuple[set[str], list[list[str]]]]:
        found = inspect(sync_conn)
        return {
            name: (
                {c["name"] for c in found.get_columns(name)},
                sorted(u["column_names"] for u in found.get_unique_constraints(name)),
            )
            for name in metadata.tables
        }

    async with engine.connect() as conn:
        migrated = await conn.run_sync(shape)
    for name, table in metadata.tables.items():
        assert migrated[name][0] == {c.name for c in table.columns}, name
    assert migrated["notifications"][1] == [["order_id", "step", "channel"]]


async def test_enqueue_is_deduplicated_per_order_step_channel(engine: AsyncEngine) -> None:
    outbox, _, _ = setup(engine)
    triggers = [Trigger(Step.REPORTED, {"ref": "JD-1"}), Trigger(Step.REPORTED, {"ref": "JD-1"})]
    assert await outbox.enqueue("o1", REF, CTX, triggers, ["sms", "email"]) == 2
    assert outbox.wake.is_set()
    outbox.wake.clear()
    assert (
        await outbox.enqueue("o1", REF, CTX, triggers, ["sms", "email"]) == 0
    )  # a redelivered event
    assert not outbox.wake.is_set()
    assert await outbox.enqueue("o2", REF, CTX, triggers, ["sms"]) == 1
    stored = await rows(engine)
    assert [(r["order_id"], r["channel"]) for r in stored] == [
        ("o1", "email"),
        ("o1", "sms"),
        ("o2", "sms"),
    ]
    first = stored[0]
    assert first["template"] == "default/reported" and first["state"] == "pending"
    assert PHONE not in str(first["payload"]) and first["recipient_ref"] == REF


async def test_a_due_message_is_delivered_once(engine: AsyncEngine) -> None:
    sms = ScriptedChannel("sms")
    outbox, dispatcher, clock = setup(engine, sms)
    await outbox.enqueue("o1", REF, CTX, [Trigger(Step.REPORTED, {"ref": "JD-1"})], ["sms"])
    assert await dispatcher.run_once(clock()) == {"delivered": 1}
    assert await dispatcher.run_once(clock.advance(hours=2)) == {}
    [row] = await rows(engine)
    assert (row["state"], row["attempts"], row["provider_ref"], row["delivered_at"]) == (
        "delivered",
        1,
        "sms-1",
        START,
    )
    [sent] = sms.sent
    assert sent.address == PHONE and sent.id == row["id"] and sent.text.startswith("【格力服务】")


async def test_retries_back_off_with_jitter_then_deliver(engine: AsyncEngine) -> None:
    sms = ScriptedChannel("sms", DeliveryResult.retry("HTTP 503"), RuntimeError("adapter bug"))
    outbox, dispatcher, clock = setup(engine, sms)
    await outbox.enqueue("o1", REF, CTX, [Trigger(Step.REPORTED, {"ref": "JD-1"})], ["sms"])
    assert await dispatcher.run_once(clock()) == {"pending": 1}
    [row] = await rows(engine)
    wait = row["next_attempt_at"] - START  # type: ignore[operator]
    assert timedelta(seconds=15) <= wait < timedelta(seconds=30) and row["last_error"] == "HTTP 503"
    assert await dispatcher.run_once(clock.advance(seconds=14)) == {}  # not due yet
    clock.set(row["next_attempt_at"])  # type: ignore[arg-type]
    assert await dispatcher.run_once(clock()) == {"pending": 1}  # the adapter raised: retried too
    [row] = await rows(engine)
    second = row["next_attempt_at"] - clock()  # type: ignore[operator]
    assert timedelta(seconds=30) <= second < timedelta(seconds=60) and "adapter bug" in str(
        row["last_error"]
    )
    clock.set(row["next_attempt_at"])  # type: ignore[arg-type]
    assert await dispatcher.run_once(clock()) == {"delivered": 1}
    [row] = await rows(engine)
    assert (row["state"], row["attempts"], row["last_error"]) == ("delivered", 3, None)
    assert len({m.id for m in sms.sent}) == 1 and len(sms.sent) == 3  # one id: providers can dedup


async def test_a_permanent_failure_fails_at_once(engine: AsyncEngine) -> None:
    sms = ScriptedChannel("sms", DeliveryResult.permanent(f"HTTP 400: bad number {PHONE}"))
    outbox, dispatcher, clock = setup(engine, sms)
    await outbox.enqueue("o1", REF, CTX, [Trigger(Step.REPORTED, {"ref": "JD-1"})], ["sms"])
    assert await dispatcher.run_once(clock()) == {"failed": 1}
    assert await dispatcher.run_once(clock.advance(hours=2)) == {}
    [row] = await rows(engine)
    # the provider echoed the number: it is stored masked
    assert (row["state"], row["attempts"], row["last_error"]) == (
        "failed",
        1,
        "HTTP 400: bad number 138****8000",
    )


async def test_retries_end_after_max_attempts(engine: AsyncEngine) -> None:
    sms = ScriptedChannel("sms", *[DeliveryResult.retry("timeout")] * MAX_ATTEMPTS)
    no_quiet = {"gree": MakerPolicy(quiet_start=time(0), quiet_end=time(0))}
    outbox, dispatcher, clock = setup(engine, sms, policies=no_quiet)
    await outbox.enqueue("o1", REF, CTX, [Trigger(Step.REPORTED, {"ref": "JD-1"})], ["sms"])
    for _ in range(MAX_ATTEMPTS):
        await dispatcher.run_once(clock.advance(hours=1))
    [row] = await rows(engine)
    assert (row["state"], row["attempts"], row["last_error"]) == ("failed", MAX_ATTEMPTS, "timeout")
    assert len(sms.sent) == MAX_ATTEMPTS


async def test_no_address_or_no_channel_fails_without_sending(engine: AsyncEngine) -> None:
    email = ScriptedChannel("email")
    outbox, dispatcher, clock = setup(engine, email)
    await outbox.enqueue(
        "o2", REF, CTX, [Trigger(Step.REPORTED, {"ref": "JD-2"})], ["email", "wechat"]
    )
    assert await dispatcher.run_once(clock()) == {"failed": 2}  # o2 has no e-mail address
    errors = sorted(str(r["last_error"]) for r in await rows(engine))
    assert errors == ["channel not configured", "no address for this channel"] and email.sent == []


async def test_an_opt_out_suppresses_that_channel_only(engine: AsyncEngine) -> None:
    sms, email = ScriptedChannel("sms"), ScriptedChannel("email")
    outbox, dispatcher, clock = setup(engine, sms, email)
    await outbox.opt_out(REF, "sms")
    await outbox.opt_out(REF, "sms")  # idempotent
    await outbox.enqueue(
        "o1", REF, CTX, [Trigger(Step.REPORTED, {"ref": "JD-1"})], ["sms", "email"]
    )
    assert await dispatcher.run_once(clock()) == {"suppressed": 1, "delivered": 1}
    assert sms.sent == [] and len(email.sent) == 1
    await outbox.opt_in(REF, "sms")
    await outbox.enqueue("o1", REF, CTX, [Trigger(Step.REPAIRED, {"ref": "JD-1"})], ["sms"])
    assert await dispatcher.run_once(clock()) == {"delivered": 1}


async def test_opting_out_of_everything(engine: AsyncEngine) -> None:
    sms = ScriptedChannel("sms")
    outbox, dispatcher, clock = setup(engine, sms)
    await outbox.opt_out(REF, "*")
    await outbox.enqueue("o1", REF, CTX, [Trigger(Step.REPORTED, {"ref": "JD-1"})], ["sms"])
    assert await dispatcher.run_once(clock()) == {"suppressed": 1} and sms.sent == []


async def test_quiet_hours_defer_without_spending_an_attempt(engine: AsyncEngine) -> None:
    sms = ScriptedChannel("sms")
    outbox, dispatcher, clock = setup(engine, sms)
    clock.set(datetime(2026, 5, 4, 15, 0, tzinfo=UTC))  # 23:00 in China
    await outbox.enqueue(
        "o1",
        REF,
        CTX,
        [Trigger(Step.REPAIRED, {"ref": "JD-1"}),
         Trigger(Step.ON_THE_WAY, {"ref": "JD-1", "eta": "05月05日 00:30"})],
        ["sms"],
    )
    assert await dispatcher.run_once(clock()) == {"deferred": 1, "delivered": 1}
    morning = datetime(2026, 5, 5, 0, 0, tzinfo=UTC)  # 08:00 in China
    deferred = next(r for r in await rows(engine) if r["step"] == "repaired")
    assert (deferred["next_attempt_at"], deferred["attempts"]) == (morning, 0)
    assert await dispatcher.run_once(clock.advance(hours=9, seconds=-1)) == {}
    assert await dispatcher.run_once(clock.advance(seconds=1)) == {"delivered": 1}
    assert [m.text.startswith("【格力服务】工程师已出发") for m in sms.sent] == [True, False]


async def test_the_feedback_request_waits_and_a_review_cancels_it(engine: AsyncEngine) -> None:
    sms = ScriptedChannel("sms")
    outbox, dispatcher, clock = setup(engine, sms)
    later = START + timedelta(hours=2)
    await outbox.enqueue(
        "o1", REF, CTX, [Trigger(Step.FEEDBACK_REQUEST, {"ref": "JD-1"}, not_before=later)], ["sms"]
    )
    assert await dispatcher.run_once(clock()) == {}
    await outbox.enqueue("o1", REF, CTX, [Cancel(Step.FEEDBACK_REQUEST)], ["sms"])
    assert await dispatcher.run_once(clock.advance(hours=3)) == {}
    [row] = await rows(engine)
    assert row["state"] == "cancelled" and sms.sent == []


async def test_a_delivered_message_is_not_cancelled(engine: AsyncEngine) -> None:
    outbox, dispatcher, clock = setup(engine, ScriptedChannel("sms"))
    await outbox.enqueue("o1", REF, CTX, [Trigger(Step.FEEDBACK_REQUEST, {"ref": "JD-1"})], ["sms"])
    await dispatcher.run_once(clock())
    await outbox.enqueue("o1", REF, CTX, [Cancel(Step.FEEDBACK_REQUEST)], ["sms"])
    assert [r["state"] for r in await rows(engine)] == ["delivered"]


async def test_a_claimed_row_is_leased_until_the_lease_runs_out(engine: AsyncEngine) -> None:
    outbox, _, clock = setup(engine)
    await outbox.enqueue("o1", REF, CTX, [Trigger(Step.REPORTED, {"ref": "JD-1"})], ["sms"])
    [claimed] = await outbox.claim(clock())
    assert await outbox.claim(clock()) == []  # a second pass (or process) does not get it
    assert await outbox.claim(clock.advance(seconds=LEASE.total_seconds() - 1)) == []
    [again] = await outbox.claim(clock.advance(seconds=1))  # the sender died: sent again
    assert again.id == claimed.id and again.attempts == 0


async def test_ops_read_notifications_by_state(engine: AsyncEngine) -> None:
    sms = ScriptedChannel("sms", DeliveryResult.permanent("HTTP 400"))
    outbox, dispatcher, clock = setup(engine, sms)
    await outbox.enqueue("o1", REF, CTX, [Trigger(Step.REPORTED, {"ref": "JD-1"})], ["sms"])
    await dispatcher.run_once(clock())
    clock.advance(minutes=1)
    await outbox.enqueue("o1", REF, CTX, [Trigger(Step.REPAIRED, {"ref": "JD-1"})], ["sms"])
    clock.advance(minutes=1)
    await outbox.enqueue("o2", REF, CTX, [Trigger(Step.REPORTED, {"ref": "JD-2"})], ["sms"])
    assert await counts_by_state(engine) == {"failed": 1, "pending": 2}
    [failed] = await list_notifications(engine, state="failed")
    assert (failed["order_id"], failed["step"], failed["last_error"]) == (
        "o1",
        "reported",
        "HTTP 400",
    )
    assert "payload" not in failed
    pending = await list_notifications(engine, state="pending")
    assert [p["order_id"] for p in pending] == ["o2", "o1"]  # newest first
    assert [p["step"] for p in await list_notifications(engine, order_id="o1")] == [
        "repaired",
        "reported",
    ]
    assert len(await list_notifications(engine, limit=1)) == 1
    assert await outbox.next_due() == START + timedelta(minutes=1)


async def test_next_due_is_none_when_nothing_waits(engine: AsyncEngine) -> None:
    outbox, dispatcher, clock = setup(engine, ScriptedChannel("sms"))
    assert await outbox.next_due() is None
    await outbox.enqueue("o1", REF, CTX, [Trigger(Step.REPORTED, {"ref": "JD-1"})], ["sms"])
    await dispatcher.run_once(clock())
    assert await outbox.next_due() is None


async def test_the_status_link_goes_into_every_message(engine: AsyncEngine) -> None:
    outbox, _, _ = setup(engine)
    linked = OrderContext(maker="gree", external_ref="JD-1", status_link="https://s.test/t/abc")
    await outbox.enqueue("o1", REF, linked, [Trigger(Step.REPORTED, {"ref": "JD-1"})], ["sms"])
    [row] = await rows(engine)
    assert str(row["payload"]["text"]).endswith("查看进度：https://s.test/t/abc")  # type: ignore[index]


class SlowChannel(ScriptedChannel):
    """Counts how many sends are in flight at once."""

    def __init__(self) -> None:
        super().__init__("sms")
        self.in_flight = self.most = 0

    async def send(self, message: Message) -> DeliveryResult:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        await asyncio.sleep(0.02)
        self.in_flight -= 1
        return await super().send(message)


async def test_sends_are_bounded_in_concurrency(sqlite_engine: AsyncEngine) -> None:
    slow = SlowChannel()
    outbox = Outbox(sqlite_engine, ManualClock(START))
    directory = StaticDirectory({(f"o{i}", "sms"): "13800138000" for i in range(6)})
    dispatcher = Dispatcher(outbox, {"sms": slow}, directory, concurrency=2)
    for i in range(6):
        await outbox.enqueue(f"o{i}", REF, CTX, [Trigger(Step.REPORTED, {"ref": "R"})], ["sms"])
    assert await dispatcher.run_once(START) == {"delivered": 6}
    assert slow.most == 2
