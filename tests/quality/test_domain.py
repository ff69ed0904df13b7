"""What supervision may record, decided from an order's history (pure, no I/O)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from libs.events import catalog
from libs.events.chinatime import month_end, month_of, month_start, next_month, previous_month
from services.quality import domain
from services.quality.domain import counting
from services.quality.domain.policy import default_policy

NOW = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)
SUPERVISOR = domain.Actor("supervisor", "gree")
REPAIRED = domain.OrderState(True, "gree", "prov-wuhan", "outlet-wh-1", NOW)


def review(actor: domain.Actor = SUPERVISOR, channel: str = "feedback_form") -> domain.SubmitReview:
    return domain.SubmitReview(actor, channel, "A", "B", "C", 4, "ok")


def complaint(**extra: object) -> domain.FileComplaint:
    fields: dict[str, object] = {"channel": "hotline", "text": "态度差", "received_at": NOW, "now": NOW, **extra}
    return domain.FileComplaint(SUPERVISOR, **fields)  # type: ignore[arg-type]


def test_a_review_names_the_provider_that_did_the_work() -> None:
    [event] = domain.decide_review(REPAIRED, review())
    assert isinstance(event, catalog.OrderReviewed)
    assert (event.provider_id, event.outlet_id, event.timeliness) == ("prov-wuhan", "outlet-wh-1", "A")


def test_no_review_before_the_repair() -> None:
    with pytest.raises(domain.NotRepaired):
        domain.decide_review(domain.OrderState(True, "gree", "prov-wuhan", "outlet-wh-1"), review())


def test_no_review_of_an_unknown_order() -> None:
    with pytest.raises(domain.OrderUnknown):
        domain.decide_review(domain.OrderState(), review())


def test_one_form_per_order_per_channel() -> None:
    state = REPAIRED
    for event in domain.decide_review(state, review()):
        state = domain.evolve(state, event)
    with pytest.raises(domain.AlreadyReviewed):
        domain.decide_review(state, review())
    assert domain.decide_review(state, review(channel="call_back"))


@pytest.mark.parametrize("party", ["prov-wuhan", "outlet-wh-1"])
def test_the_party_that_did_the_work_cannot_review_it(party: str) -> None:
    with pytest.raises(domain.OwnWork):
        domain.decide_review(REPAIRED, review(domain.Actor("operator", party)))


def test_a_makers_supervision_reviews_only_its_own_orders() -> None:
    """Another maker's order is unknown to it (404), never 'belongs to maker …'."""
    with pytest.raises(domain.OrderUnknown, match=r"^no such order$"):
        domain.decide_review(REPAIRED, review(domain.Actor("supervisor", "midea")))
    with pytest.raises(domain.OrderUnknown, match=r"^no such order$"):  # naming its own maker changes nothing
        fields: dict[str, object] = {"channel": "hotline", "text": "态度差", "received_at": NOW, "now": NOW}
        other = domain.FileComplaint(domain.Actor("supervisor", "midea"), maker="midea", **fields)  # type: ignore[arg-type]
        domain.decide_complaint(REPAIRED, other)


def test_an_order_complaint_is_attributed_to_the_dispatched_provider() -> None:
    [event, _] = domain.decide_complaint(REPAIRED, complaint())
    assert isinstance(event, catalog.ComplaintReceived)
    assert (event.provider_id, event.outlet_id, event.maker) == ("prov-wuhan", "outlet-wh-1", None)


def test_a_complaint_from_any_quality_channel_escalates_its_order_one_tier_never_past_hq() -> None:
    """Issue 15 item 2: complaints are escalations by nature, not only a platform's."""
    for channel in ("hotline", "web_form", "call_back", "internal_monitor", "feedback_form", "suggestion_form"):
        [_, moved] = domain.decide_complaint(REPAIRED, complaint(channel=channel))
        assert isinstance(moved, catalog.OrderEscalated) and (moved.from_tier, moved.to_tier) == ("dealer", "regional")
        assert moved.trigger == "complaint"
    state = domain.evolve(REPAIRED, catalog.OrderEscalated(from_tier="regional", to_tier="hq", reason="x", trigger="manual"))
    assert [type(e) for e in domain.decide_complaint(state, complaint())] == [catalog.ComplaintReceived]
    settled = domain.evolve(REPAIRED, catalog.OrderSettled(
        settlement_id=uuid4(), provider_id="prov-wuhan", maker="gree", payer="maker", standard_id="s", lines=[],
        total_fen=0))
    assert len(domain.decide_complaint(settled, complaint())) == 1  # closed: recorded, not escalated
    assert len(domain.decide_complaint(None, complaint(maker="gree", provider_id="prov-x"))) == 1  # no order


def test_a_complaint_entered_late_is_bounded_by_the_window_too() -> None:
    from datetime import timedelta

    from libs.events.backdating import OutsideWindow

    assert domain.decide_complaint(REPAIRED, complaint(received_at=NOW - timedelta(days=30)))
    with pytest.raises(OutsideWindow) as stale:
        domain.decide_complaint(REPAIRED, complaint(received_at=NOW - timedelta(days=30, seconds=1)))
    assert stale.value.field == "received_at"


def test_a_paper_form_entered_late_keeps_its_own_time_inside_the_window() -> None:
    """Issue 15 item 7: `reviewed_at` at most 30 days back, not before the repair."""
    from datetime import timedelta

    from libs.events.backdating import OutsideWindow

    late = NOW + timedelta(days=10)
    form = replace(review(), reviewed_at=NOW + timedelta(hours=1), now=late)
    assert len(domain.decide_review(REPAIRED, form)) == 1
    with pytest.raises(domain.InvalidReview) as early:
        domain.decide_review(REPAIRED, replace(form, reviewed_at=NOW - timedelta(minutes=1)))
    assert early.value.field == "reviewed_at"
    with pytest.raises(OutsideWindow):
        domain.decide_review(REPAIRED, replace(form, now=NOW + timedelta(days=31)))
    with pytest.raises(OutsideWindow):
        domain.decide_review(REPAIRED, replace(form, reviewed_at=late + timedelta(minutes=6)))


def test_a_complaint_without_an_order_names_provider_and_maker() -> None:
    with pytest.raises(domain.InvalidComplaint) as missing:
        domain.decide_complaint(None, complaint(maker="gree"))
    assert missing.value.field == "provider_id"
    [event] = domain.decide_complaint(None, complaint(maker="gree", provider_id="prov-x", complaint_id=uuid4()))
    assert isinstance(event, catalog.ComplaintReceived) and event.maker == "gree"


def test_a_complaint_from_the_future_is_refused() -> None:
    with pytest.raises(domain.InvalidComplaint):
        domain.decide_complaint(REPAIRED, complaint(received_at=month_end("2026-05")))


def test_platform_is_not_a_quality_channel() -> None:
    with pytest.raises(domain.InvalidComplaint):
        domain.decide_complaint(REPAIRED, complaint(channel="platform"))


def close(month: str, now: datetime) -> domain.CloseMonth:
    return domain.CloseMonth(SUPERVISOR, "gree", month, now, [], 10, default_policy())


def test_a_month_closes_only_after_it_ended_in_china_time_and_only_once() -> None:
    just_after = datetime(2026, 4, 30, 16, 0, tzinfo=UTC)  # 1 May 00:00 in Beijing
    assert month_end("2026-04") == just_after
    with pytest.raises(domain.MonthNotOver):
        domain.decide_close(domain.MonthState(), close("2026-04", just_after - timedelta(microseconds=1)))
    [event] = domain.decide_close(domain.MonthState(), close("2026-04", just_after))
    assert isinstance(event, catalog.MonthClosed) and event.through_position == 10
    with pytest.raises(domain.MonthAlreadyClosed):
        domain.decide_close(domain.evolve_month(domain.MonthState(), event), close("2026-04", just_after))


def test_a_month_waits_for_the_previous_one_to_close() -> None:
    command = domain.CloseMonth(SUPERVISOR, "gree", "2026-05", NOW + timedelta(days=30), [], 10, default_policy(), True)
    with pytest.raises(domain.PreviousMonthOpen):
        domain.decide_close(domain.MonthState(), command)


def test_months_are_china_months() -> None:
    assert month_of(datetime(2026, 5, 31, 15, 59, tzinfo=UTC)) == "2026-05"
    assert month_of(datetime(2026, 5, 31, 16, 0, tzinfo=UTC)) == "2026-06"
    assert month_start("2026-06") == datetime(2026, 5, 31, 16, 0, tzinfo=UTC)
    assert (next_month("2026-12"), previous_month("2026-01")) == ("2027-01", "2025-12")


def test_a_closed_month_sends_late_items_to_the_next_open_one() -> None:
    assert domain.counting.counting_month("2026-04", set()) == "2026-04"
    assert domain.counting.counting_month("2026-04", {"2026-04", "2026-05"}) == "2026-06"


def test_a_complaint_naming_no_provider_is_charged_to_the_orders() -> None:
    charged_to = domain.counting.charged_to
    assert charged_to(None, None, "prov-wuhan", "outlet-wh-1") == ("prov-wuhan", "outlet-wh-1")
    assert charged_to("prov-x", None, "prov-wuhan", "outlet-wh-1") == ("prov-x", None)  # not the order's outlet
    assert charged_to(None, None, None, None) == (None, None)  # not dispatched yet: wait


def test_a_row_applied_after_its_months_figures_were_taken_counts_in_the_next_month_still_taking_them() -> None:
    closures = {"2026-04": 100, "2026-05": 200}
    assert counting.counted_in("2026-04", 90, closures) == "2026-04"
    assert counting.counted_in("2026-04", 150, closures) == "2026-05"  # May's figures were taken after it
    assert counting.counted_in("2026-04", 250, closures) == "2026-06"  # after May's too: the open month
    assert counting.counted_in("2026-06", 250, closures) == "2026-06"
