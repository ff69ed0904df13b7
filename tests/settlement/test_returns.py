"""Settlement of a returnable part against the faulty part's return (旧件返还), pure: wait or reduce."""

from __future__ import annotations

from dataclasses import replace

import pytest

from libs.events import catalog
from libs.events.errors import InvalidInput
from services.settlement.domain.pricing import propose
from services.settlement.domain.returns import (
    DEFAULT_RETURN_POLICY,
    PartsReturns,
    ReturnPending,
    parts_with_returns,
    policies_from,
    policy_of,
    returnable_in,
)
from tests.settlement.factory import part, standard
from tests.settlement.test_domain import FACTS

TWO = replace(FACTS, parts=(part("P-100", 4000), part("P-200", 10000)))  # travel 4000 + labour 9000 + parts 14000


def _parts(returns: PartsReturns | None) -> list[tuple[int, str | None]]:
    return [(x.amount_fen, x.rule) for x in propose(TWO, standard(), returns=returns).lines if x.kind == "part"]


def test_without_return_facts_or_returnable_parts_the_parts_are_priced_as_before() -> None:
    assert [a for a, _ in _parts(None)] == [a for a, _ in _parts(PartsReturns("wait"))] == [4000, 10000]


def test_wait_refuses_while_a_returnable_parts_faulty_unit_is_out() -> None:
    with pytest.raises(ReturnPending, match=r"return of the faulty part\(s\) P-200 \(旧件返还\)"):
        propose(TWO, standard(), returns=PartsReturns("wait", frozenset({"P-200"})))


def test_once_received_the_part_is_paid_in_full_under_either_policy() -> None:
    for policy in ("wait", "reduce"):
        back = PartsReturns(policy, frozenset({"P-200"}), frozenset({"P-200"}))  # type: ignore[arg-type]
        assert [a for a, _ in _parts(back)] == [4000, 10000]


def test_reduce_withholds_only_the_unreturned_parts_cost_and_says_why() -> None:
    returns = PartsReturns("reduce", frozenset({"P-100", "P-200"}), frozenset({"P-100"}))
    assert _parts(returns) == [(4000, None), (0, "faulty_part_not_returned")]
    proposal = propose(TWO, standard(), returns=returns)
    withheld = proposal.lines[-1]
    assert (withheld.decision, withheld.decided_by, withheld.claimed_fen) == ("rejected", "rule", 10000)
    assert withheld.reason is not None and "faulty part not returned" in withheld.reason
    assert proposal.total_fen == 4000 + 9000 + 4000 == sum(x.amount_fen for x in proposal.lines)


def test_a_part_another_rule_rejected_waits_for_nothing() -> None:
    fake = replace(TWO, parts=(part("P-100", 4000), part("P-200", 10000, original=False)))
    lines = propose(fake, standard(), returns=PartsReturns("wait", frozenset({"P-200"}))).lines
    assert lines[-1].rule == "non_original_part" and lines[-1].amount_fen == 0


def test_a_reduced_line_stays_a_valid_settlement_line() -> None:
    line = catalog.SettlementLine(kind="part", description="x", quantity=1, unit_fen=500, amount_fen=1000)  # type: ignore[arg-type]
    [reduced] = parts_with_returns((part("P-1"),), [line], PartsReturns("reduce", frozenset({"P-1"})))
    assert (reduced.amount_fen, reduced.claimed_fen, reduced.quantity, reduced.kind) == (0, 1000, 1, "part")
    assert catalog.SettlementLine.model_validate(reduced.model_dump()) == reduced


def test_policies_per_maker_default_to_wait() -> None:
    assert DEFAULT_RETURN_POLICY == "wait"
    assert policies_from("") == {} and policy_of("gree", {}) == "wait"
    found = policies_from('{"gree": "reduce", "midea": "wait"}')
    assert (policy_of("gree", found), policy_of("midea", found), policy_of("haier", found)) == ("reduce", "wait", "wait")


@pytest.mark.parametrize("text", ["{", '["gree"]', '{"gree": "halve"}'])
def test_a_malformed_policy_setting_is_refused_naming_it(text: str) -> None:
    with pytest.raises(InvalidInput) as err:
        policies_from(text)
    assert err.value.field == "settlement_return_policies"


def _entry(returnable: bool) -> catalog.PartCatalogued:
    return catalog.PartCatalogued(maker="gree", part_no="P-1", name="n", returnable=returnable)


def test_a_part_is_returnable_as_its_latest_catalogue_entry_says() -> None:
    assert not returnable_in([])  # not catalogued
    assert returnable_in([_entry(False), _entry(True)])
    assert not returnable_in([_entry(True), catalog.PartCostSet(maker="gree", part_no="P-1", cost_fen=1,
                                                                effective_from="2026-01-01"), _entry(False)])  # type: ignore[arg-type]
