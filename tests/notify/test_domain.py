"""Pure rules: which step an event produces, the text, quiet hours, opt-out, dedup, back-off."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from services.notify.domain.model import Cancel, OrderContext, Step, Trigger, recipient_ref
from services.notify.domain.policy import (
    ALL_CHANNELS,
    DEFAULT_POLICY,
    MAX_DELAY,
    MakerPolicy,
    dedup_key,
    fresh,
    give_up,
    opted_out,
    parse_policies,
    policy_for,
    quiet_until,
    release_time,
    retry_delay,
)
from services.notify.domain.steps import actions_for, yuan
from services.notify.domain.templates import DEFAULT, mask_address, mask_phone, render, scrub

CTX = OrderContext(maker="gree", external_ref="JD-1")
AT = datetime(2026, 5, 4, 2, 0, tzinfo=UTC)  # 10:00 in China


def china(hour: int, minute: int = 0, day: int = 4) -> datetime:
    """A May 2026 China-time moment, as UTC."""
    return datetime(2026, 5, day, hour, minute, tzinfo=UTC) + timedelta(hours=-8)


def test_reported_dispatched_repaired_settled_reviewed() -> None:
    assert actions_for("order.reported", {}, AT, CTX) == [Trigger(Step.REPORTED, {"ref": "JD-1"})]
    due = "2026-05-04T06:00:00+00:00"
    [dispatched] = actions_for("order.dispatched", {"sla_due_at": due}, AT, CTX)
    assert isinstance(dispatched, Trigger) and dispatched.step is Step.DISPATCHED
    assert dispatched.variables["window"] == "05月04日 14:00前"
    assert dispatched.useful_until == datetime(2026, 5, 4, 6, tzinfo=UTC)
    left = datetime(2026, 5, 4, 3, tzinfo=UTC)
    repaired, feedback = actions_for("order.repaired", {"departed_at": left.isoformat()}, AT, CTX)
    assert isinstance(repaired, Trigger) and repaired.step is Step.REPAIRED
    assert isinstance(feedback, Trigger) and feedback.step is Step.FEEDBACK_REQUEST
    assert feedback.not_before == left + timedelta(hours=2)
    assert actions_for("order.reviewed", {}, AT, CTX) == [Cancel(Step.FEEDBACK_REQUEST)]


def test_a_booked_window_is_rendered_and_bounds_usefulness() -> None:
    data = {
        "sla_due_at": "2026-05-04T12:00:00+00:00",
        "window_start": "2026-05-04T06:00:00+00:00",
        "window_end": "2026-05-04T08:00:00+00:00",
    }
    [trigger] = actions_for("order.dispatched", data, AT, CTX)
    assert isinstance(trigger, Trigger)
    assert trigger.variables["window"] == "05月04日 14:00–16:00"
    assert trigger.useful_until == datetime(2026, 5, 4, 6, tzinfo=UTC)


def test_on_the_way_tells_the_estimate_and_is_useless_after_it() -> None:
    data = {"technician_id": "t", "eta": "2026-05-04T07:30:00+00:00"}
    [trigger] = actions_for("order.on_the_way", data, AT, CTX)
    assert isinstance(trigger, Trigger) and trigger.step is Step.ON_THE_WAY
    assert trigger.variables == {"ref": "JD-1", "eta": "05月04日 15:30"}
    assert trigger.useful_until == datetime(2026, 5, 4, 7, 30, tzinfo=UTC)
    assert "预计05月04日 15:30到达" in render(Step.ON_THE_WAY, "gree", trigger.variables).text


@pytest.mark.parametrize(("payer", "expected"), [("customer", 1), ("maker", 0), ("lump_sum", 0)])
def test_settled_only_when_the_customer_pays(payer: str, expected: int) -> None:
    actions = actions_for("order.settled", {"payer": payer, "total_fen": 12345}, AT, CTX)
    assert len(actions) == expected
    if actions:
        assert isinstance(actions[0], Trigger) and actions[0].variables["amount"] == "123.45元"


@pytest.mark.parametrize(
    "kind",
    ["order.escalated", "order.reassigned", "order.rescheduled", "order.arrived",
     "complaint.received"],
)
def test_events_customers_do_not_hear_about(kind: str) -> None:
    assert actions_for(kind, {}, AT, CTX) == []


def test_naive_times_in_an_event_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        actions_for("order.dispatched", {"sla_due_at": "2026-05-04T06:00:00"}, AT, CTX)


def test_yuan_formats_integer_fen() -> None:
    assert (yuan(0), yuan(5), yuan(100), yuan(123456)) == (
        "0.00元",
        "0.05元",
        "1.00元",
        "1234.56元",
    )


def _variables(step: Step) -> dict[str, Any]:
    return {"ref": "JD-1", "window": "05月04日 14:00前", "amount": "80.00元", "eta": "05月04日 15:30"}


@pytest.mark.parametrize("step", list(Step))
def test_every_default_template_renders_in_chinese(step: Step) -> None:
    rendered = render(step, "midea", _variables(step))
    assert rendered.template_id == f"default/{step.value}"
    assert rendered.text.startswith("【售后服务】") and "JD-1" in rendered.text
    assert "{" not in rendered.text and "}" not in rendered.text


def test_a_maker_template_overrides_one_step_and_keeps_its_signature_on_the_rest() -> None:
    own = render(Step.DISPATCHED, "gree", _variables(Step.DISPATCHED))
    assert own.template_id == "gree/dispatched" and own.text.startswith("【格力服务】格力空调")
    fallback = render(Step.REPAIRED, "gree", _variables(Step.REPAIRED))
    assert fallback.template_id == "default/repaired" and fallback.text.startswith("【格力服务】")
    assert fallback.subject == "格力服务：" + DEFAULT[Step.REPAIRED].subject


def test_a_missing_variable_fails_instead_of_leaving_a_blank() -> None:
    with pytest.raises(KeyError):
        render(Step.DISPATCHED, "gree", {"ref": "JD-1"})


def test_the_status_link_is_appended_when_given() -> None:
    assert render(Step.REPORTED, "x", {"ref": "R", "link": "https://s/t"}).text.endswith(
        "查看进度：https://s/t"
    )


def test_phones_and_mail_addresses_are_masked() -> None:
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone(" 13800138000 ") == "138****8000"
    assert mask_phone("12345") == "*****"
    assert mask_address("email", "zhang.wei@example.cn") == "z***@example.cn"
    assert mask_address("sms", "+8613800138000") == "+86****8000"


def test_free_text_is_scrubbed_of_numbers_and_addresses() -> None:
    said = "HTTP 400: invalid number 13800138000 (+86 138-0013-8000), notify z.wei@example.cn"
    assert (
        scrub(said) == "HTTP 400: invalid number 138****8000 (+86****8000), notify z***@example.cn"
    )
    assert scrub("HTTP 503: retry in 30 s, code 12345") == "HTTP 503: retry in 30 s, code 12345"


def test_recipient_refs_are_stable_keyed_and_hide_the_number() -> None:
    ref = recipient_ref("13800138000", b"k1")
    assert ref == recipient_ref(" 13800138000", b"k1") != recipient_ref("13800138000", b"k2")
    assert "13800138000" not in ref and ref != recipient_ref("13800138001", b"k1")


# quiet hours: default 21:00-08:00 China time


@pytest.mark.parametrize(
    ("hour", "minute", "until"),
    [
        (20, 59, None),
        (21, 0, china(8, day=5)),
        (23, 30, china(8, day=5)),
        (0, 0, china(8)),
        (7, 59, china(8)),
        (8, 0, None),
        (12, 0, None),
    ],
)
def test_quiet_hours_across_midnight(hour: int, minute: int, until: datetime | None) -> None:
    assert quiet_until(china(hour, minute), DEFAULT_POLICY) == until


def test_quiet_hours_within_a_day_and_none() -> None:
    lunch = MakerPolicy(quiet_start=time(12), quiet_end=time(14))
    assert quiet_until(china(11, 59), lunch) is None
    assert quiet_until(china(12), lunch) == china(14)
    assert quiet_until(china(14), lunch) is None
    assert quiet_until(china(23), MakerPolicy(quiet_start=time(0), quiet_end=time(0))) is None


def test_quiet_hours_are_read_in_china_time_not_utc() -> None:
    # 13:30 UTC is 21:30 in Shanghai: quiet, although it is the afternoon in UTC
    moment = datetime(2026, 5, 4, 13, 30, tzinfo=UTC)
    assert quiet_until(moment, DEFAULT_POLICY) == datetime(2026, 5, 5, 0, tzinfo=UTC)


def test_release_defers_to_the_end_except_urgent_or_soon_useless() -> None:
    night = china(23)
    assert release_time(night, Step.REPAIRED, DEFAULT_POLICY) == china(8, day=5)
    assert release_time(night, Step.ON_THE_WAY, DEFAULT_POLICY) == night
    early_visit = china(7, day=5)
    assert release_time(night, Step.DISPATCHED, DEFAULT_POLICY, useful_until=early_visit) == night
    later_visit = china(10, day=5)
    assert release_time(night, Step.DISPATCHED, DEFAULT_POLICY, useful_until=later_visit) == china(
        8, day=5
    )
    assert release_time(china(10), Step.REPAIRED, DEFAULT_POLICY) == china(10)


def test_a_policy_can_make_more_steps_urgent() -> None:
    policy = MakerPolicy(urgent=frozenset({Step.DISPATCHED, Step.ON_THE_WAY}))
    assert release_time(china(23), Step.DISPATCHED, policy) == china(23)


def test_policies_parse_from_settings_json_and_refuse_nonsense() -> None:
    parsed = parse_policies(
        '{"gree": {"quiet_start": "22:00", "quiet_end": "07:30", "urgent": []}}'
    )
    assert policy_for("gree", parsed) == MakerPolicy(
        quiet_start=time(22), quiet_end=time(7, 30), urgent=frozenset()
    )
    assert policy_for("midea", parsed) is DEFAULT_POLICY
    assert parse_policies("  ") == {}
    with pytest.raises(ValidationError):
        parse_policies('{"gree": {"quiet_start": "25:00"}}')
    with pytest.raises(ValidationError):
        parse_policies('{"gree": {"urgent": ["teleport"]}}')


def test_opt_out_is_per_channel_or_all() -> None:
    assert opted_out("sms", {"sms"}) and not opted_out("email", {"sms"})
    assert opted_out("email", {ALL_CHANNELS}) and not opted_out("sms", set())


def test_dedup_keeps_each_order_step_channel_once() -> None:
    a, b = dedup_key("o1", Step.REPORTED, "sms"), dedup_key("o1", Step.REPORTED, "email")
    c = dedup_key("o2", Step.REPORTED, "sms")
    assert fresh([a, b, a, c], existing={b}) == [a, c]
    assert fresh([], existing={a}) == []


def test_retry_delay_doubles_with_jitter_caps_and_honours_hints() -> None:
    assert retry_delay(1, lambda: 0.0) == timedelta(seconds=15)
    assert retry_delay(1, lambda: 0.999999) < timedelta(seconds=30)
    assert retry_delay(3, lambda: 0.5) == timedelta(seconds=90)  # step 120 s, 3/4 of it
    assert retry_delay(30, lambda: 0.0) == MAX_DELAY / 2
    assert retry_delay(30, lambda: 0.999999) <= MAX_DELAY
    assert retry_delay(1, lambda: 0.0, hint=timedelta(minutes=5)) == timedelta(minutes=5)
    assert retry_delay(1, lambda: 0.0, hint=timedelta(seconds=1)) == timedelta(seconds=15)
    assert not give_up(7) and give_up(8)
