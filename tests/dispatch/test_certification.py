"""The certification rule at its edges: the last valid day is inclusive in China time."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from libs.events.catalog import CertificationRevoked, TechnicianCertified
from libs.events.decider import Fact
from services.dispatch.domain import Invalid
from services.dispatch.domain.certification import (
    DECIDER,
    Certifications,
    Certify,
    Revoke,
    check_certified,
    check_valid_until,
    holds_on,
)
from services.dispatch.domain.routing import Area, Outlet, Technician, suggest

UNTIL = date(2026, 6, 30)
LAST_MOMENT = datetime(2026, 6, 30, 15, 59, 59, tzinfo=UTC)  # 23:59:59 on 30 June in Beijing
FIRST_EXPIRED = datetime(2026, 6, 30, 16, 0, tzinfo=UTC)  # 00:00 on 1 July in Beijing


def cert(category: str = "air_conditioner", until: date = UNTIL) -> TechnicianCertified:
    return TechnicianCertified(maker="gree", outlet_id="o1", provider_id="p1", technician_id="t1",
                               category=category, valid_until=until)


def fold(*payloads: object) -> Certifications:
    state = DECIDER.initial("s")
    for i, p in enumerate(payloads, 1):
        state = DECIDER.evolve(state, p, Fact("s", i, LAST_MOMENT, LAST_MOMENT))  # type: ignore[arg-type]
    return state


def test_the_valid_until_day_holds_to_its_last_china_second_and_not_after() -> None:
    assert holds_on(UNTIL, LAST_MOMENT)
    assert not holds_on(UNTIL, FIRST_EXPIRED)
    # 30 June 01:00 UTC is 09:00 in Beijing, still the 30th; 29 June 20:00 UTC is already the 30th there
    assert holds_on(UNTIL, datetime(2026, 6, 29, 20, 0, tzinfo=UTC))
    assert not holds_on(None, LAST_MOMENT)


def test_dispatch_check_names_the_technician_for_missing_and_expired() -> None:
    check_certified({"air_conditioner": UNTIL}, "t1", "air_conditioner", LAST_MOMENT)
    with pytest.raises(Invalid) as missing:
        check_certified({"air_conditioner": UNTIL}, "t1", "washing_machine", LAST_MOMENT)
    assert missing.value.field == "technician_id" and "not certified" in str(missing.value)
    with pytest.raises(Invalid) as expired:
        check_certified({"air_conditioner": UNTIL}, "t1", "air_conditioner", FIRST_EXPIRED)
    assert expired.value.field == "technician_id" and "expired after 2026-06-30" in str(expired.value)


def test_a_certification_must_hold_at_least_today() -> None:
    check_valid_until(UNTIL, LAST_MOMENT)
    with pytest.raises(Invalid) as past:
        check_valid_until(UNTIL, FIRST_EXPIRED)
    assert past.value.field == "valid_until"


def test_renewal_replaces_the_day_revocation_removes_the_category_and_a_retry_adds_nothing() -> None:
    state = fold(cert(), cert("washing_machine"))
    assert dict(state.valid) == {"air_conditioner": UNTIL, "washing_machine": UNTIL}
    assert DECIDER.decide(state, Certify(cert(), LAST_MOMENT)) == []
    renewal = cert(until=date(2027, 6, 30))
    assert DECIDER.decide(state, Certify(renewal, FIRST_EXPIRED)) == [renewal]
    revoked = CertificationRevoked(maker="gree", outlet_id="o1", technician_id="t1", category="washing_machine",
                                   reason="training not repeated")
    state = fold(cert(), cert("washing_machine"), revoked)
    assert dict(state.valid) == {"air_conditioner": UNTIL}
    with pytest.raises(Invalid) as again:
        DECIDER.decide(state, Revoke(revoked))
    assert again.value.field == "category"


def test_routing_under_certified_only_suggests_only_certified_technicians() -> None:
    outlet = Outlet("o1", "网点", "p1", (Area("武汉市"),),
                    (Technician("t1", "李", frozenset({"air_conditioner"})),
                     Technician("t2", "张", frozenset({"air_conditioner"}))), 10)
    other = Outlet("o2", "网点二", "p2", (Area("武汉市"),), (Technician("t3", "王", frozenset({"air_conditioner"})),), 10)
    common = {"city": "武汉市", "county": "", "category": "air_conditioner", "outlet_load": {},
              "technician_load": {("o1", "t1"): 0, ("o1", "t2"): 5}}
    assert [(s.outlet_id, s.technician_id) for s in suggest([outlet, other], **common)] == [("o1", "t1"), ("o2", "t3")]
    only = suggest([outlet, other], **common, certified=frozenset({("o1", "t2")}))
    assert [(s.outlet_id, s.technician_id) for s in only] == [("o1", "t2")]  # the busier one, but certified
    assert suggest([outlet, other], **common, certified=frozenset()) == []
