"""The late-entry window: its edges, both ways, and the field it names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from libs.events.backdating import LateEntryPolicy, OutsideWindow, importing, within_window

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def test_the_window_holds_its_edges() -> None:
    for at in (NOW - timedelta(days=30), NOW, NOW + timedelta(minutes=5)):
        assert within_window("reported_at", at, NOW) == at


def test_a_second_beyond_either_edge_is_refused_naming_the_field() -> None:
    for at, words in ((NOW - timedelta(days=30, seconds=1), "30 days in the past"),
                      (NOW + timedelta(minutes=5, seconds=1), "5 minutes in the future")):
        with pytest.raises(OutsideWindow) as caught:
            within_window("occurred_at", at, NOW)
        assert caught.value.field == "occurred_at" and caught.value.status == 422 and words in caught.value.detail


def test_the_window_is_a_policy() -> None:
    tight = LateEntryPolicy(back=timedelta(days=2), ahead=timedelta(0))
    assert within_window("x", NOW - timedelta(days=2), NOW, tight)
    with pytest.raises(OutsideWindow):
        within_window("x", NOW - timedelta(days=3), NOW, tight)
    with pytest.raises(OutsideWindow):
        within_window("x", NOW + timedelta(seconds=1), NOW, tight)


def test_an_import_run_widens_the_window_to_400_days_inside_its_block_only() -> None:
    old = NOW - timedelta(days=400)
    with importing():
        assert within_window("reported_at", old, NOW) == old
        with pytest.raises(OutsideWindow, match="400 days in the past"):
            within_window("reported_at", old - timedelta(seconds=1), NOW)
        with pytest.raises(OutsideWindow, match="5 minutes in the future"):  # the future stays closed
            within_window("reported_at", NOW + timedelta(minutes=6), NOW)
    with pytest.raises(OutsideWindow, match="30 days in the past"):
        within_window("reported_at", old, NOW)
