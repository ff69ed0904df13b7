"""The one escalation chain every service uses (libs/events/escalation.py)."""

from __future__ import annotations

from libs.events.escalation import complaint_escalation, entry_tier, escalation


def test_one_tier_at_a_time_and_nothing_past_hq() -> None:
    up = escalation("dealer", "x", "manual")
    assert up is not None and (up.from_tier, up.to_tier, up.trigger) == ("dealer", "regional", "manual")
    up = escalation("regional", "late", "sla_breach", "on_site")
    assert up is not None and (up.to_tier, up.breach) == ("hq", "on_site")
    assert escalation("hq", "x", "manual") is None


def test_a_complaint_moves_an_open_order_up_and_a_settled_one_not_at_all() -> None:
    up = complaint_escalation("dealer", False, "太慢" * 200)
    assert up is not None and up.trigger == "complaint" and up.to_tier == "regional" and len(up.reason) <= 211
    assert complaint_escalation("dealer", True, "x") is None
    assert complaint_escalation("hq", False, "x") is None


def test_only_a_platforms_report_enters_one_tier_up() -> None:
    assert [entry_tier(c) for c in ("platform", "partner", "hotline")] == ["regional", "dealer", "dealer"]
