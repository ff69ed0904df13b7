"""Seed 004's scoring rules, one test per rule and per band edge (pure, no I/O)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.quality.domain.policy import ComplaintBand, Policy, default_policy, policy_from_json
from services.quality.domain.scoring import (
    Form,
    complaint_band,
    contradicts,
    decimal4,
    improvement_amount,
    month_score,
    scored_forms,
    special_case,
    verification,
)

POLICY = default_policy()


def form(order: str, grades: str, channel: str = "feedback_form") -> Form:
    return Form(order, channel, grades[0], grades[1], grades[2])


def band(edge: int | None, amount: int) -> ComplaintBand:
    return ComplaintBand(max_complaints=edge, amount_fen=amount)


def policy_of(reward: int, penalty: int, bands: list[ComplaintBand], admin_action_threshold: int = 30,
              **more: object) -> Policy:
    return Policy.model_validate({
        "improvement_reward_fen": reward, "decline_penalty_fen": penalty, "all_max_reward_fen": 0,
        "all_min_penalty_fen": 0, "complaint_bands": bands, "admin_action_threshold": admin_action_threshold, **more})


@pytest.mark.parametrize(
    ("count", "label", "yuan"),
    [(0, "0", 5000), (1, "1-5", 0), (5, "1-5", 0), (6, "6-10", -3000), (10, "6-10", -3000),
     (11, "11-15", -5000), (15, "11-15", -5000), (16, "16+", -10000), (29, "16+", -10000)],
)
def test_complaint_band_edges(count: int, label: str, yuan: int) -> None:
    band = complaint_band(count, POLICY)
    assert (band.label, band.amount_fen) == (label, yuan * 100)
    assert band.admin_action is False


@pytest.mark.parametrize("count", [30, 31, 100])
def test_very_many_complaints_flag_administrative_action(count: int) -> None:
    band = complaint_band(count, POLICY)
    assert band.admin_action and band.amount_fen == -10000 * 100


def test_a_negative_complaint_count_is_refused() -> None:
    with pytest.raises(ValueError):
        complaint_band(-1, POLICY)


def test_the_seeds_worked_example() -> None:
    """May: 10 repairs, total 40 → avg 4; April 3.5 → +0.5 → reward 1000 yuan."""
    forms = [form(f"o{i}", "AAC") for i in range(5)] + [form(f"p{i}", "ABB") for i in range(5)]
    score = month_score(forms, complaints=["normal"] * 3, previous_avg=Fraction(7, 2), policy=POLICY)
    assert (score.n, score.total) == (10, 40)
    assert Decimal(decimal4(score.avg) or "") == Decimal("4.0")
    assert Decimal(decimal4(score.delta) or "") == Decimal("0.5")
    assert score.improvement_fen == 1000 * 100
    assert score.special is None and score.band.amount_fen == 0
    assert score.amount_fen == 1000 * 100


def test_a_lower_average_is_penalised_and_an_equal_one_is_neither() -> None:
    assert improvement_amount(Fraction(3), Fraction(7, 2), POLICY) == -POLICY.decline_penalty_fen
    assert improvement_amount(Fraction(7, 2), Fraction(7, 2), POLICY) == 0


def test_no_comparison_without_reviews_in_either_month() -> None:
    assert improvement_amount(None, Fraction(1), POLICY) == 0
    assert improvement_amount(Fraction(1), None, POLICY) == 0


def test_the_average_is_exact() -> None:
    score = month_score([form("a", "AAA"), form("b", "AAB"), form("c", "ACC")], [], Fraction(5), POLICY)
    assert score.avg == Fraction(13, 3) and decimal4(score.avg) == "4.3333"
    assert score.delta == Fraction(-2, 3) and score.improvement_fen == -POLICY.decline_penalty_fen


def test_all_items_at_maximum_earn_the_extra_reward_on_top() -> None:
    score = month_score([form("a", "AAA"), form("b", "AAA")], ["low", "high"], Fraction(5), POLICY)
    assert score.special == "all_max"
    assert score.improvement_fen == POLICY.improvement_reward_fen  # avg 6 > 5
    assert score.special_fen == POLICY.all_max_reward_fen
    assert score.satisfaction_fen == POLICY.improvement_reward_fen + POLICY.all_max_reward_fen


def test_all_items_at_minimum_earn_the_extra_penalty() -> None:
    score = month_score([form("a", "EEE"), form("b", "EEE")], [], None, POLICY)
    assert score.special == "all_min" and score.special_fen == -POLICY.all_min_penalty_fen
    assert score.amount_fen == -POLICY.all_min_penalty_fen + 5000 * 100


def test_one_item_off_the_maximum_is_no_special_case() -> None:
    assert special_case([form("a", "AAA"), form("b", "AAB")]) is None
    assert special_case([form("a", "EEE"), form("b", "EDE")]) is None
    assert special_case([]) is None


def test_a_call_back_supersedes_the_customers_form_of_the_same_order() -> None:
    chosen = scored_forms([form("a", "AAA"), form("a", "CCC", "call_back"), form("b", "BBB")])
    assert [(f.order_id, f.channel) for f in chosen] == [("a", "call_back"), ("b", "feedback_form")]
    assert month_score([form("a", "AAA"), form("a", "CCC", "call_back")], [], None, POLICY).n == 1


def test_a_makers_policy_replaces_the_seed_numbers() -> None:
    policy = policy_of(50_000, 20_000, [band(2, 0), band(None, -100)], admin_action_threshold=3)
    assert complaint_band(0, policy).amount_fen == 0 and complaint_band(3, policy).admin_action
    assert improvement_amount(Fraction(2), Fraction(1), policy) == 50_000
    assert policy_from_json(policy.model_dump(mode="json")) == policy


@pytest.mark.parametrize(
    "bands",
    [[band(5, 0)], [band(5, 0), band(5, 1), band(None, 2)], [band(None, 0), band(None, 1)], []],
)
def test_malformed_band_tables_are_refused(bands: list[ComplaintBand]) -> None:
    with pytest.raises(ValueError):
        policy_of(0, 0, bands)


forms_strategy = st.lists(
    st.builds(
        form,
        st.sampled_from([f"o{i}" for i in range(6)]),
        st.text(alphabet="ABCDE", min_size=3, max_size=3),
        st.sampled_from(["feedback_form", "call_back"]),
    ),
    max_size=14,
    unique_by=lambda f: (f.order_id, f.channel),
)


@settings(max_examples=100, deadline=None)
@given(forms=forms_strategy, complaints=st.lists(st.sampled_from(["low", "normal", "high"]), max_size=40),
       previous=st.none() | st.fractions(-6, 6), data=st.data())
def test_the_score_does_not_depend_on_the_order_forms_arrive_in(
    forms: list[Form], complaints: list[str], previous: Fraction | None, data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(forms))
    assert month_score(shuffled, complaints, previous, POLICY) == month_score(forms, complaints, previous, POLICY)


def test_complaints_count_one_each_by_default_so_the_seeds_table_holds() -> None:
    score = month_score([], ["low", "normal", "high"] * 2, None, POLICY)
    assert (score.complaints, score.complaint_points, score.band.label) == (6, 6, "6-10")


def test_the_policy_weighs_complaints_by_severity() -> None:
    weighted = policy_of(0, 0, list(POLICY.complaint_bands), complaint_weights={"low": 0, "normal": 1, "high": 5})
    score = month_score([], ["high", "high", "normal", "low", "low"], None, weighted)
    assert (score.complaints, score.complaint_points) == (5, 11)
    assert (score.band.label, score.band.amount_fen) == ("11-15", -5000 * 100)
    assert month_score([], ["low"] * 40, None, weighted).band.label == "0"  # low-severity ones weigh nothing


def test_n_is_the_months_repairs_and_a_repair_without_a_form_scores_zero() -> None:
    forms = [form("a", "AAA"), form("b", "CCC")]
    score = month_score(forms, [], None, POLICY, repairs={"a", "b", "c", "d"})
    assert (score.n, score.total, score.avg, score.forms, score.repairs) == (4, 6, Fraction(3, 2), 2, 4)
    assert score.coverage == Fraction(1, 2) and score.to_json()["form_coverage"] == "0.5000"
    # withholding the neutral form of b would have doubled a forms-based avg; over repairs it changes nothing
    assert month_score([form("a", "AAA")], [], None, POLICY, repairs={"a", "b", "c", "d"}).avg == score.avg
    by_forms = month_score(forms, [], None, policy_of(0, 0, list(POLICY.complaint_bands), n_basis="forms"),
                           repairs={"a", "b", "c", "d"})
    assert (by_forms.n, by_forms.avg, by_forms.coverage) == (2, Fraction(3), Fraction(1, 2))


def test_a_late_form_counted_in_a_later_month_is_one_of_its_repairs() -> None:
    score = month_score([form("april-order", "BBB")], [], None, POLICY, repairs={"may-1"})
    assert (score.n, score.total, score.repairs) == (2, 3, 2)


def test_call_backs_verify_forms_and_a_contradicting_one_is_what_counts() -> None:
    forms = [form("a", "AAA"), form("a", "AAA", "call_back"), form("b", "AAA"), form("b", "DDD", "call_back"),
             form("c", "BBB"), form("d", "CCC", "call_back")]  # d: a call-back with no customer form
    checked = verification(forms)
    assert (checked.forms, checked.verified, checked.contradicted) == (3, 2, 1)
    assert (checked.verified_share, checked.contradicted_share) == (Fraction(2, 3), Fraction(1, 2))
    assert contradicts(form("x", "AAB"), form("x", "ABA", "call_back"))  # same points, other grades
    score = month_score(forms, [], None, POLICY, repairs={"a", "b", "c", "d"})
    assert score.total == 6 - 3 + 3 + 0 and score.to_json()["verified_share"] == "0.6667"
    assert score.to_json()["contradicted_share"] == "0.5000"
