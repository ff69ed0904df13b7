"""The lead rules at their edges: classification by the first matching row, a lead's life, conversion."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from libs.events.catalog import LeadContacted, LeadLost, LeadOpened, LeadRule, LeadRulesSet, LeadWon
from libs.events.decider import Fact
from services.dispatch.domain import Invalid, Refused
from services.dispatch.domain.leads import (
    DECIDER,
    Contact,
    Lose,
    Open,
    Routing,
    Win,
    check_table,
    classify,
    conversion,
    default_table,
)

AT = datetime(2026, 5, 4, 3, 0, tzinfo=UTC)


def test_the_default_table_routes_the_seeds_examples() -> None:
    table = default_table("gree")
    # seed 003: a stand sold after cleaning under the washing machine; 购买 also appears, the first row wins
    assert classify("客户有意购买洗衣机支架", table) == Routing("accessory", "accessories-counter", "store")
    assert classify("老空调想以旧换新", table) == Routing("replacement", "store-sales", "store")
    assert classify("需要定期清洗保养", table) == Routing("maintenance", "service-contracts", "department")
    assert classify("客户问起热水器", table) == Routing("other", "customer-management", "department")
    assert classify("Customer wants a BRACKET", table).category == "accessory"  # case-insensitive


def test_a_makers_table_its_order_and_its_default() -> None:
    table = LeadRulesSet(maker="gree", default_route="hq-sales", default_kind="department", rules=[
        LeadRule(category="kitchen", keywords=["油烟机"], route_to="store-7", route_kind="store"),
        LeadRule(category="any_buy", keywords=["买"], route_to="store-1", route_kind="store"),
    ])
    assert classify("想买油烟机", table) == Routing("kitchen", "store-7", "store")
    assert classify("想买", table) == Routing("any_buy", "store-1", "store")
    assert classify("", table) == Routing("other", "hq-sales", "department")
    check_table(table)
    twice = LeadRulesSet(maker="gree", default_route="x", rules=[*table.rules, table.rules[0]])
    with pytest.raises(Invalid) as repeated:
        check_table(twice)
    assert repeated.value.field == "rules[2].category"
    blank = LeadRulesSet(maker="gree", default_route="x", rules=[LeadRule(category="c", keywords=[" "], route_to="s")])
    with pytest.raises(Invalid) as no_keyword:
        check_table(blank)
    assert no_keyword.value.field == "rules[0].keywords"
    other = LeadRulesSet(maker="gree", default_route="x", rules=[LeadRule(category="other", keywords=["a"], route_to="s")])
    with pytest.raises(Invalid):
        check_table(other)


def _opened() -> LeadOpened:
    return LeadOpened(order_id="o1", maker="gree", outlet_id="w", provider_id="p", technician_id="t", category="c",
                      route_to="s", route_kind="store", text="支架", noted_at=AT)


def test_a_lead_is_opened_once_contacted_any_number_of_times_and_closed_for_good() -> None:
    state = DECIDER.initial("lead-o1")
    assert DECIDER.decide(state, Open(_opened())) == [_opened()]
    steps = [_opened(), LeadContacted(note="打过电话"), LeadContacted(note="again")]
    for i, step in enumerate(steps, 1):
        state = DECIDER.evolve(state, step, Fact("lead-o1", i, AT, AT))
    assert state.status == "contacted"
    assert DECIDER.decide(state, Open(_opened())) == []  # a second router adds nothing
    won = DECIDER.evolve(state, LeadWon(amount_fen=12_000), Fact("lead-o1", 4, AT, AT))
    assert won.status == "won"
    for command in (Contact(LeadContacted()), Win(LeadWon()), Lose(LeadLost(reason="x"))):
        with pytest.raises(Refused):
            DECIDER.decide(won, command)
    lost = DECIDER.evolve(DECIDER.evolve(DECIDER.initial("s"), _opened(), Fact("s", 1, AT, AT)),
                          LeadLost(reason="不需要"), Fact("s", 2, AT, AT))
    with pytest.raises(Refused):
        DECIDER.decide(lost, Win(LeadWon()))


def test_conversion_is_won_per_lead_and_undefined_without_leads() -> None:
    assert conversion(0, 0) is None
    assert conversion(20, 1) == 0.05 and conversion(3, 1) == 0.3333 and conversion(4, 4) == 1.0
