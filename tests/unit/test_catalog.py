from __future__ import annotations

from datetime import UTC, datetime

import pytest

from libs.events import catalog
from libs.events.envelope import GENESIS_HASH, StoredEvent, chain_hash, verify_chain
from libs.events.errors import EmitterNotAllowed, InvalidEventData, UnknownEventType
from tests.factories import T0, escalated


def _stored(event_type: str, version: int, data: dict[str, object]) -> StoredEvent:
    base = escalated(1).model_copy(update={"type": event_type, "schema_version": version, "data": data})
    digest = chain_hash(base, stream_id="o", version=1, recorded_at=T0, prev_hash=GENESIS_HASH)
    return StoredEvent(
        **base.model_dump(), stream_id="o", version=1, position=1, recorded_at=T0, prev_hash=GENESIS_HASH, hash=digest
    )


def test_escalated_v1_is_upcast_to_v2_with_a_trigger() -> None:
    old = _stored("order.escalated", 1, {"from_tier": "dealer", "to_tier": "regional", "reason": "SLA missed"})
    data = catalog.parse(old)
    assert isinstance(data, catalog.OrderEscalated)
    assert data.trigger == "sla_breach" and data.reason == "SLA missed"
    manual = _stored("order.escalated", 1, {"from_tier": "dealer", "to_tier": "regional", "reason": "needs HQ"})
    assert catalog.parse(manual).trigger == "manual"  # type: ignore[attr-defined]


def test_a_v1_quality_policy_is_upcast_to_v2_with_count_only_weights_and_n_over_repairs() -> None:
    v1 = {"maker": "gree", "improvement_reward_fen": 1, "decline_penalty_fen": 2, "all_max_reward_fen": 3,
          "all_min_penalty_fen": 4, "complaint_bands": [{"max_complaints": None, "amount_fen": -5}],
          "admin_action_threshold": 30}
    data = catalog.parse(_stored("quality.policy_set", 1, v1))
    assert isinstance(data, catalog.QualityPolicySet) and data.maker == "gree"
    assert (data.complaint_weights.low, data.complaint_weights.normal, data.complaint_weights.high) == (1, 1, 1)
    assert (data.n_basis, data.call_back_percent, data.complaint_bands[0].amount_fen) == ("repairs", 10, -5)


def test_upcast_keeps_the_stored_hash_valid() -> None:
    old = _stored("order.escalated", 1, {"from_tier": "dealer", "to_tier": "regional", "reason": "x"})
    assert verify_chain([old]) == []
    assert catalog.upcast(old).schema_version == 2


def test_newer_version_than_reader_is_unknown() -> None:
    with pytest.raises(UnknownEventType):
        catalog.upcast(_stored("order.escalated", 9, {}))


def test_unknown_type_is_unknown() -> None:
    with pytest.raises(UnknownEventType):
        catalog.validate(escalated(1).model_copy(update={"type": "order.teleported"}))


def test_emitters_are_enforced() -> None:
    catalog.validate(escalated(1, source="dispatch"))
    with pytest.raises(EmitterNotAllowed):
        catalog.validate(escalated(1, source="settlement"))


def test_every_type_has_an_emitter_and_a_latest_model() -> None:
    for event_type in catalog.known_types():
        spec = catalog.spec(event_type, catalog.latest_version(event_type))
        assert spec.emitters, event_type


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError):
        escalated(1).model_validate({**escalated(1).model_dump(), "occurred_at": datetime(2026, 1, 1)})
    assert escalated(1).occurred_at.tzinfo == UTC


def test_chain_detects_reordering() -> None:
    a = _stored("order.escalated", 2, escalated(1).data)
    assert verify_chain([a, a]) != []


def test_catalog_built_events_skip_the_second_parse_but_nothing_else() -> None:
    payload = catalog.OrderEscalated(from_tier="dealer", to_tier="regional", reason="x", trigger="manual")
    built = catalog.new_event(payload, type_="order.escalated", source="intake", actor="t", occurred_at=T0)
    assert isinstance(built, catalog.CatalogEvent)
    catalog.validate(built)
    with pytest.raises(EmitterNotAllowed):  # the emitter is still checked at append
        catalog.validate(catalog.new_event(payload, type_="order.escalated", source="settlement", actor="t",
                                           occurred_at=T0))
    with pytest.raises(InvalidEventData):  # a payload model of another type is refused when built
        catalog.new_event(payload, type_="order.arrived", source="dispatch", actor="t", occurred_at=T0)
    with pytest.raises(TypeError):  # and its payload cannot be swapped afterwards
        built.model_copy(update={"data": {"from_tier": 1}})
    with pytest.raises(InvalidEventData):  # a plain NewEvent is parsed at append as before
        catalog.validate(escalated(1).model_copy(update={"data": {"from_tier": 1}}))
