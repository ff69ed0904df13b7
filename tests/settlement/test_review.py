"""Line by line review (pure): the original-parts rule, finance's decisions, the v1 upcast, what-if replay."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from libs.events import catalog
from libs.events.decider import Fact
from libs.events.envelope import GENESIS_HASH, NewEvent, StoredEvent, chain_hash, verify_chain
from services.settlement.domain import ApproveSettlement, CorrectSettlement, State, decide, evolve
from services.settlement.domain.pricing import RepairFacts, propose
from services.settlement.domain.review import (
    NON_ORIGINAL,
    RULE,
    LineReview,
    ReviewError,
    original_parts_only,
    replay,
    review,
)
from tests.settlement.factory import T0, arrived, dispatched, lump_sum, part, repaired, reported, standard

FACTS = RepairFacts(maker="gree", provider_id="prov-wuhan", category="air_conditioner", serial="SN-1",
                    in_warranty=True, county="洪山区", repaired_at=T0, labour_hours=Decimal("1.5"),
                    parts=(part("P-100", 4000), part("P-200", 9000, original=False)))
FINANCE = "finance:finance-01"


def _fold(events: list[NewEvent]) -> State:
    state = State()
    for i, e in enumerate(events, start=1):
        state = evolve(state, catalog.parse(_stored(e, i)), Fact("order-1", i, T0, T0, i))
    return state


def _stored(event: NewEvent, version: int = 1) -> StoredEvent:
    digest = chain_hash(event, stream_id="order-1", version=version, recorded_at=T0, prev_hash=GENESIS_HASH)
    return StoredEvent(**event.model_dump(), stream_id="order-1", version=version, position=version, recorded_at=T0,
                       prev_hash=GENESIS_HASH, hash=digest)


# --- the rule: 原厂配件 ---------------------------------------------------------------------

def test_a_non_original_part_is_rejected_by_rule_and_not_paid_but_its_claim_is_kept() -> None:
    proposal = propose(FACTS, standard())
    *_, original, copy = proposal.lines
    assert [line.decision for line in proposal.lines] == ["approved", "approved", "approved", "rejected"]
    assert (copy.claimed_fen, copy.amount_fen, copy.decided_by, copy.rule) == (9000, 0, RULE, NON_ORIGINAL)
    assert copy.reason is not None and "P-200" in copy.reason and "原厂配件" in copy.reason
    assert (original.claimed_fen, original.amount_fen) == (4000, 4000)
    assert proposal.total_fen == 4000 + 9000 + 4000 and proposal.claimed_fen == proposal.total_fen + 9000


def test_the_rule_concerns_what_the_maker_reimburses_not_what_the_customer_pays() -> None:
    copy = part("P-200", 9000, original=False)
    assert original_parts_only(copy, "customer") is None
    assert original_parts_only(copy, "maker") and original_parts_only(copy, "lump_sum")
    assert original_parts_only(part(), "maker") is None
    customer = propose(replace(FACTS, in_warranty=False), standard())
    assert customer.lines[3].amount_fen == 9000 and customer.lines[3].decision == "approved"
    contract = propose(FACTS, standard(**lump_sum()))
    assert contract.payer == "lump_sum" and contract.lines[3].amount_fen == 0


# --- finance's decisions --------------------------------------------------------------------

def test_finance_overrides_reduces_and_rejects_lines_each_with_a_reason_and_its_name() -> None:
    lines = propose(FACTS, standard()).lines
    out = review(lines, [LineReview(3, "approved", "原厂缺货, 经厂家同意"), LineReview(1, "reduced", "工时偏高", 6000),
                         LineReview(0, "rejected", "上门费已在上一单结算")], FINANCE)
    assert [(x.decision, x.claimed_fen, x.amount_fen) for x in out] == [
        ("rejected", 4000, 0), ("reduced", 9000, 6000), ("approved", 4000, 4000), ("approved", 9000, 9000)]
    assert [x.decided_by for x in out] == [FINANCE] * 4
    assert out[3].rule == NON_ORIGINAL and out[3].reason == "原厂缺货, 经厂家同意"  # the override keeps the rule's name
    assert out[2].reason is None  # approved as proposed


def test_lines_finance_does_not_name_keep_the_rules_decision() -> None:
    out = review(propose(FACTS, standard()).lines, [], FINANCE)
    assert [x.decided_by for x in out] == [FINANCE, FINANCE, FINANCE, RULE] and out[3].amount_fen == 0


@pytest.mark.parametrize(("decisions", "field"), [
    ([LineReview(4, "rejected", "x")], "lines.0.line"),
    ([LineReview(-1, "rejected", "x")], "lines.0.line"),
    ([LineReview(1, "rejected", "x"), LineReview(1, "approved", "y")], "lines.1.line"),
    ([LineReview(1, "reduced", "x")], "lines.0.amount_fen"),
    ([LineReview(1, "reduced", "x", 9000)], "lines.0.amount_fen"),
    ([LineReview(1, "reduced", "x", -1)], "lines.0.amount_fen"),
    ([LineReview(1, "rejected", "x", 0)], "lines.0.amount_fen"),
    ([LineReview(1, "approved", "  ")], "lines.0.reason"),
])
def test_decisions_that_cannot_apply_are_refused_naming_the_field(decisions: list[LineReview], field: str) -> None:
    with pytest.raises(ReviewError) as caught:
        review(propose(FACTS, standard()).lines, decisions, FINANCE)
    assert caught.value.field == field


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.sampled_from(["approved", "reduced", "rejected"]), st.integers(0, 100)),
                max_size=4, unique_by=lambda t: t[0]))
def test_an_approved_amount_is_never_above_the_claim_and_the_total_is_their_sum(
        picks: list[tuple[int, catalog.LineDecision, int]]) -> None:
    lines = propose(FACTS, standard()).lines
    decisions = [LineReview(i, d, "why", (lines[i].claimed_fen or 0) * pct // 101 if d == "reduced" else None)
                 for i, d, pct in picks]
    out = review(lines, decisions, FINANCE)
    assert all(0 <= x.amount_fen <= (x.claimed_fen or 0) for x in out)
    assert [x.claimed_fen for x in out] == [x.claimed_fen for x in lines]
    named = {i for i, _, _ in picks}
    assert all(x.reason for i, x in enumerate(out) if i in named)


def test_the_settled_event_records_claimed_approved_decision_reason_and_who() -> None:
    parts = [part("P-100", 4000), part("P-200", 9000, original=False)]
    state = _fold([reported(), dispatched(), arrived(), repaired(parts=parts)])
    [settled] = decide(state, ApproveSettlement(uuid4(), standard(), lines=(LineReview(1, "reduced", "1 h is the norm", 6000),),
                                                decided_by=FINANCE))
    assert isinstance(settled, catalog.OrderSettled)
    assert settled.total_fen == 4000 + 6000 + 4000 == sum(x.amount_fen for x in settled.lines)
    assert [(x.claimed_fen, x.amount_fen, x.decision, x.decided_by) for x in settled.lines] == [
        (4000, 4000, "approved", FINANCE), (9000, 6000, "reduced", FINANCE), (4000, 4000, "approved", FINANCE),
        (9000, 0, "rejected", RULE)]
    state = evolve(state, settled, Fact("order-1", 5, T0, T0, 5))
    _, second = decide(state, CorrectSettlement(uuid4(), "厂家同意非原厂件", standard(),
                                                lines=(LineReview(3, "approved", "厂家同意"),), decided_by=FINANCE))
    assert isinstance(second, catalog.OrderSettled) and second.total_fen == 4000 + 9000 + 4000 + 9000


# --- old events -----------------------------------------------------------------------------

def test_a_v1_settlement_is_upcast_with_everything_approved_as_claimed() -> None:
    line = {"kind": "labour", "description": "labour", "quantity": "1.5", "unit_fen": 6000, "amount_fen": 9000}
    data = {"settlement_id": str(uuid4()), "provider_id": "p", "maker": "gree", "payer": "maker",
            "standard_id": "gree:p:v1", "lines": [line], "total_fen": 9000}
    old = _stored(NewEvent(type="order.settled", schema_version=1, source="settlement", actor="finance:old",
                                   occurred_at=T0, data=data))
    assert verify_chain([old]) == []
    parsed = catalog.parse(old)
    assert isinstance(parsed, catalog.OrderSettled) and catalog.upcast(old).schema_version == 2
    [upcast] = parsed.lines
    assert (upcast.claimed_fen, upcast.amount_fen, upcast.decision, upcast.reason, upcast.decided_by) == (
        9000, 9000, "approved", None, None)
    assert catalog.latest_version("order.settled") == 2


# --- what-if ----------------------------------------------------------------------------------

def test_finance_decisions_carry_onto_a_draft_proposal_of_the_same_facts() -> None:
    settled = review(propose(FACTS, standard()).lines, [
        LineReview(0, "rejected", "dup"), LineReview(1, "reduced", "norm", 4500), LineReview(3, "approved", "ok")], FINANCE)
    draft = propose(FACTS, standard(travel={"flat_fen": 1000}, labour_fen_per_hour={"air_conditioner": 8000})).lines
    out, carried = replay(draft, settled)
    assert carried == 3
    assert [(x.claimed_fen, x.amount_fen, x.decision) for x in out] == [
        (1000, 0, "rejected"), (12000, 6000, "reduced"), (4000, 4000, "approved"), (9000, 9000, "approved")]
    untouched, none = replay(draft, review(propose(FACTS, standard()).lines, [], FINANCE))
    assert none == 0 and untouched == tuple(draft)
