"""The weekly call-back draw (seed 004: 抽查、核实) and the China-time week it is drawn for (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from libs.events.chinatime import week_end, week_of, week_start
from services.quality.domain.sampling import call_back_list, draw, sample, sample_size

KEY = b"k" * 32
FORMS = [f"order-{i}" for i in range(40)]


@pytest.mark.parametrize(("count", "percent", "size"), [(0, 10, 0), (1, 10, 1), (10, 10, 1), (11, 10, 2),
                                                        (7, 0, 0), (7, 100, 7), (3, 50, 2)])
def test_the_share_is_rounded_up(count: int, percent: int, size: int) -> None:
    assert sample_size(count, percent) == size


def test_a_share_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError):
        sample_size(3, 101)


def test_the_draw_is_reproducible_and_ignores_the_order_forms_come_in() -> None:
    drawn = sample(KEY, "2026-W19", FORMS, 25)
    assert len(drawn) == 10 and set(drawn) <= set(FORMS)
    assert sample(KEY, "2026-W19", list(reversed(FORMS)), 25) == drawn
    assert sample(KEY, "2026-W19", FORMS[:5], 100) == sorted(FORMS[:5], key=lambda f: draw(KEY, f, "2026-W19"))


def test_another_week_or_another_key_draws_other_forms() -> None:
    drawn = set(sample(KEY, "2026-W19", FORMS, 25))
    assert set(sample(KEY, "2026-W20", FORMS, 25)) != drawn
    assert set(sample(b"another key", "2026-W19", FORMS, 25)) != drawn


def test_every_provider_gets_its_own_share() -> None:
    lists = call_back_list(KEY, "2026-W19", {"p2": ["x"], "p1": FORMS[:10]}, 20)
    assert list(lists) == ["p1", "p2"] and [len(v) for v in lists.values()] == [2, 1]


def test_weeks_are_iso_weeks_in_china_time() -> None:
    assert week_of(datetime(2026, 5, 10, 15, 59, tzinfo=UTC)) == "2026-W19"  # Sunday 23:59 in Beijing
    assert week_of(datetime(2026, 5, 10, 16, 0, tzinfo=UTC)) == "2026-W20"  # Monday 00:00
    assert week_start("2026-W20") == datetime(2026, 5, 10, 16, 0, tzinfo=UTC)
    assert week_end("2026-W19") == week_start("2026-W20")
    assert week_of(datetime(2027, 1, 1, 4, 0, tzinfo=UTC)) == "2026-W53"
    with pytest.raises(ValueError):
        week_start("2025-W53")
