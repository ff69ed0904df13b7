"""Complaints filed without an order (domain/loose.py): answered once, matched once, pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from libs.events import catalog
from libs.events.backdating import OutsideWindow
from libs.events.decider import Fact
from libs.events.errors import Missing
from services.dispatch.domain import Invalid, Refused
from services.dispatch.domain.loose import Answer, LooseComplaint, Match, OrderFacts, decide, evolve

T0 = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)
CID = uuid4()
ORDER = OrderFacts(True, "gree", "prov-wuhan", "wh-jiangxia")


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
