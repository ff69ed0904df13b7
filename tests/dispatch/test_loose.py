"""Complaints filed without an order (domain/loose.py): answered once, matched once, pure."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from libs.events import catalog
from libs.events.backdating import OutsideWindow
from libs.events.decider import Fact
from libs.events.errors import Missing
from services.dispatch.domain import Invalid, Refused
from services.dispatch.domain.loose import (
    Answer,
    EscalateMatched,
    LooseComplaint,
    Match,
    OrderFacts,
    OrderTier,
    decide,
    decide_tier,
    evolve,
    evolve_tier,
)

T0 = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)
CID = uuid4()
ORDER = OrderFacts(True, "gree", "prov-wuhan", "wh-jiangxia")
REPORTED = {
    "channel": "hotline", "external_ref": "H-1", "maker": "gree",
    "customer": {"name": "张三", "phone": "13800000000", "address": "武汉"},
    "product": {"category": "air_conditioner", "brand": "格力", "model": "K", "serial": "S"},
    "location": {"province": "湖北", "city": "武汉", "county": "洪山", "provincial_capital": True}, "fault": "不制冷",
    "warranty": {"in_warranty": True, "coverage": "replacement", "rule": "r", "policy": "p"},
}


def filed(provider: str | None = "prov-x") -> LooseComplaint:
    data = catalog.ComplaintReceived(complaint_id=CID, channel="hotline", text="网点乱收费", provider_id=provider,
                                     received_at=T0, maker="gree")
    return evolve(LooseComplaint(f"complaint:{CID}"), data, Fact("s", 1, T0, T0))


def then(state: LooseComplaint, data: catalog.Payload, at: datetime) -> LooseComplaint:
    return evolve(state, data, Fact("s", state.version + 1, at, at))


def test_an_orderless_complaint_is_answered_once_not_before_it_came_in_nor_past_the_window() -> None:
    at = T0 + timedelta(minutes=20)
    [answer] = decide(filed(), Answer(CID, "已联系客户", at, at))
    assert isinstance(answer, catalog.ComplaintResponded)
    answered = then(filed(), answer, at)
    with pytest.raises(Refused, match="answered"):
        decide(answered, Answer(CID, "again", at, at))
    with pytest.raises(Invalid) as early:
        decide(filed(), Answer(CID, "x", T0 - timedelta(minutes=1), at))
    assert early.value.field == "occurred_at"
    with pytest.raises(OutsideWindow):
        decide(filed(), Answer(CID, "x", T0, T0 + timedelta(days=31)))
    with pytest.raises(Invalid):
        decide(filed(), Answer(CID, " ", at, at))
    with pytest.raises(Missing):
        decide(LooseComplaint("complaint:none"), Answer(CID, "x", at, at))


def test_a_match_is_to_an_existing_order_of_the_same_maker_once() -> None:
    [matched] = decide(filed(), Match(CID, "ord-1", ORDER))
    assert isinstance(matched, catalog.ComplaintMatched)
    assert (matched.order_id, matched.provider_id) == ("ord-1", "prov-x")  # it named its provider: kept
    [charged] = decide(filed(provider=None), Match(CID, "ord-1", ORDER))
    assert (charged.provider_id, charged.outlet_id) == ("prov-wuhan", "wh-jiangxia")  # type: ignore[attr-defined]
    for facts in (OrderFacts(False), OrderFacts(True, "midea")):
        with pytest.raises(Invalid) as unknown:
            decide(filed(), Match(CID, "ord-2", facts))
        assert unknown.value.field == "order_id"
    with pytest.raises(Refused, match="already matched"):
        decide(then(filed(), matched, T0), Match(CID, "ord-3", ORDER))
    assert decide(then(filed(), matched, T0), Match(CID, "ord-1", ORDER)) == []  # a retry: nothing new


def test_a_matched_complaint_moves_its_order_up_once_along_the_one_chain() -> None:
    order = evolve_tier(OrderTier("ord-1"), catalog.OrderReported.model_validate(REPORTED), Fact("ord-1", 1, T0, T0))
    [step] = decide_tier(order, EscalateMatched(CID, "网点乱收费"))
    assert isinstance(step, catalog.OrderEscalated)
    assert (step.from_tier, step.to_tier, step.trigger, step.breach) == ("dealer", "regional", "complaint", f"matched:{CID}")
    moved = evolve_tier(order, step, Fact("ord-1", 2, T0, T0))
    assert decide_tier(moved, EscalateMatched(CID, "again")) == []  # once per complaint
    assert len(decide_tier(moved, EscalateMatched(uuid4(), "another"))) == 1  # regional → hq
    assert decide_tier(replace(moved, tier="hq"), EscalateMatched(uuid4(), "x")) == []
    assert decide_tier(replace(order, settled=True), EscalateMatched(uuid4(), "x")) == []
