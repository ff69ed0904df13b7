"""Warranty (三包) determination per maker policy, without I/O."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.intake.domain import NATIONAL, PolicyBook, add_months, determine

GREE = PolicyBook().policies["gree"]


def test_within_the_first_year_an_air_conditioner_is_replaced() -> None:
    w = determine(GREE, "air_conditioner", date(2025, 6, 18), None, date(2026, 6, 17))
    assert (w.in_warranty, w.coverage, w.policy) == (True, "replacement", "gree-2026")
    assert "purchase_date 2025-06-18" in w.rule and "12 months" in w.rule


def test_after_a_year_the_whole_unit_is_covered_for_six_years() -> None:
    assert determine(GREE, "air_conditioner", date(2025, 6, 18), None, date(2026, 6, 18)).coverage == "whole_unit"
    assert determine(GREE, "air_conditioner", date(2020, 6, 18), None, date(2026, 6, 17)).coverage == "whole_unit"
    out = determine(GREE, "air_conditioner", date(2020, 6, 18), None, date(2026, 6, 18))
    assert not out.in_warranty and out.coverage == "none" and "ended 2026-06-18" in out.rule


def test_other_categories_fall_back_to_the_makers_default_terms() -> None:
    w = determine(GREE, "washing_machine", date(2025, 6, 18), None, date(2026, 5, 4))
    assert w.coverage == "whole_unit" and "gree-2026/*" in w.rule
    assert not determine(GREE, "washing_machine", date(2025, 5, 4), None, date(2026, 5, 4)).in_warranty


def test_without_a_purchase_date_cover_starts_three_months_after_the_factory_date() -> None:
    w = determine(GREE, "washing_machine", None, date(2025, 3, 1), date(2026, 5, 31))
    assert w.in_warranty and "factory_date 2025-03-01 + 3 months" in w.rule
    assert not determine(GREE, "washing_machine", None, date(2025, 3, 1), date(2026, 6, 1)).in_warranty


def test_without_any_date_the_product_is_out_of_warranty() -> None:
    w = determine(GREE, "air_conditioner", None, None, date(2026, 5, 4))
    assert not w.in_warranty and "no purchase or factory date" in w.rule


def test_brands_find_their_maker_and_unknown_brands_get_the_national_default() -> None:
    book = PolicyBook()
    assert book.maker_for(" 格力 ")[0] == "gree" and book.maker_for("Midea")[0] == "midea"
    assert book.maker_for("奥克斯") == ("奥克斯", NATIONAL)


def test_policies_are_configurable_per_maker() -> None:
    book = PolicyBook.from_json(json.dumps({"gree": {"name": "gree-2027", "brands": ["格力"],
                                                     "terms": {"air_conditioner": {"whole_unit_months": 120}}}}))
    maker, policy = book.maker_for("格力")
    w = determine(policy, "air_conditioner", date(2017, 6, 1), None, date(2026, 5, 4))
    assert maker == "gree" and w.in_warranty and w.policy == "gree-2027"
    assert book.maker_for("美的")[0] == "midea"  # the other defaults stay


@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2024, 2, 29), 12, date(2025, 2, 28)), (date(2025, 1, 31), 1, date(2025, 2, 28)),
    (date(2025, 11, 15), 3, date(2026, 2, 15)),
])
def test_add_months_clamps_to_the_end_of_the_month(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


@given(st.dates(date(2000, 1, 1), date(2030, 1, 1)), st.dates(date(2000, 1, 1), date(2035, 1, 1)))
def test_cover_is_monotonic_in_time(purchased: date, today: date) -> None:
    """Replacement, then whole unit, then none: cover never comes back later."""
    order = {"replacement": 0, "whole_unit": 1, "none": 2}
    now = order[determine(GREE, "air_conditioner", purchased, None, today).coverage]
    later = order[determine(GREE, "air_conditioner", purchased, None, add_months(today, 1)).coverage]
    assert later >= now
