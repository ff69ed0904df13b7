"""A parts_on_order pause tied to its parts order, and its automatic end (pure rules, no I/O)."""

from __future__ import annotations

from typing import Any

import pytest

from libs.events import catalog
from libs.events.decider import Fact
from services.dispatch.domain import (
    Arrive,
    Invalid,
    PartsOrderSeen,
    PauseSla,
    ResumeForParts,
    ResumeSla,
    SlaPolicy,
    decide,
)
from services.dispatch.domain.parts_wait import READER, resume_at
from tests.dispatch.test_domain import at, dispatched, run
from tests.unit.test_catalog import _stored

PO = PartsOrderSeen("po-1", maker="gree")


def waiting(seen: PartsOrderSeen = PO) -> Any:
    return run(dispatched(), PauseSla("parts_on_order", at(1), at(1), parts_order=seen))


def test_a_parts_on_order_pause_records_the_parts_order_it_waits_for() -> None:
    [paused] = decide(dispatched(), PauseSla("parts_on_order", at(1), at(1), parts_order=PO))
    assert isinstance(paused, catalog.OrderSlaPaused) and paused.parts_order_id == "po-1"
    assert waiting().waiting_for == "po-1"


def test_a_pause_without_a_parts_order_waits_for_none() -> None:
    [paused] = decide(dispatched(), PauseSla("parts_on_order", at(1), at(1)))
    assert isinstance(paused, catalog.OrderSlaPaused) and paused.parts_order_id is None


@pytest.mark.parametrize(("reason", "seen", "message"), [
    ("customer_unreachable", PO, "only a parts_on_order pause"),
    ("parts_on_order", PartsOrderSeen("po-9"), "no parts order po-9"),  # no such parts order
    ("parts_on_order", PartsOrderSeen("po-1", maker="midea"), "no parts order po-1"),  # another maker's: unknown too
    ("parts_on_order", PartsOrderSeen("po-1", maker="gree", for_order_id="ord-2"), "is for order ord-2"),
])
def test_a_pause_names_only_an_own_makers_parts_order_for_this_order(reason: Any, seen: PartsOrderSeen,
                                                                      message: str) -> None:
    with pytest.raises(Invalid, match=message) as err:
        decide(dispatched(), PauseSla(reason, at(1), at(1), parts_order=seen))
    assert err.value.field == "parts_order_id"


def test_a_parts_order_for_this_very_order_is_accepted() -> None:
    seen = PartsOrderSeen("po-1", maker="gree", for_order_id="ord-1")
    assert waiting(seen).waiting_for == "po-1"


def test_a_parts_order_already_received_is_nothing_to_wait_for() -> None:
    with pytest.raises(Invalid, match="nothing to wait for"):
        decide(dispatched(), PauseSla("parts_on_order", at(1), at(1), parts_order=PartsOrderSeen(
            "po-1", maker="gree", received_at=at(0.8))))


def test_the_receipt_resumes_the_pause_with_its_cause_and_moves_the_deadline() -> None:
    [resumed] = decide(waiting(), ResumeForParts("po-1", at(3)))
    assert isinstance(resumed, catalog.OrderSlaResumed)
    assert (resumed.cause, resumed.parts_order_id) == ("parts_received", "po-1")
    state = run(waiting(), ResumeForParts("po-1", at(3)))
    assert state.paused_since is None and state.waiting_for is None
    assert state.on_site_clock(SlaPolicy()).due_at(None) == at(6)  # four hours plus two waiting for parts


def test_a_receipt_of_another_parts_order_or_after_the_pause_ended_does_nothing() -> None:
    assert decide(waiting(), ResumeForParts("po-2", at(3))) == []
    resumed = run(waiting(), ResumeSla(at(2), at(2)))
    assert decide(resumed, ResumeForParts("po-1", at(3))) == []  # already resumed by hand
    arrived = run(waiting(), Arrive(at(2), at(2)))
    assert decide(arrived, ResumeForParts("po-1", at(3))) == []  # the visit ended the wait
    unlinked = run(dispatched(), PauseSla("parts_on_order", at(1), at(1)))
    assert decide(unlinked, ResumeForParts("po-1", at(3))) == []  # a pause naming no parts order


def test_a_second_receipt_pass_decides_nothing() -> None:
    once = run(waiting(), ResumeForParts("po-1", at(3)))
    assert decide(once, ResumeForParts("po-1", at(3))) == []


def test_a_wait_ends_at_the_receipt_but_never_before_the_pause() -> None:
    assert resume_at(at(1), at(3)) == at(3)
    assert resume_at(at(1), at(0.5)) == at(1)  # the receipt raced the pause


def test_the_arrival_resume_says_so() -> None:
    [resumed, _] = decide(waiting(), Arrive(at(2), at(2)))
    assert isinstance(resumed, catalog.OrderSlaResumed) and resumed.cause == "arrived"


def fact(version: int) -> Fact:
    return Fact("parts-order-po-1", version, at(version), at(version))


def test_dispatch_reads_a_parts_order_from_its_stream() -> None:
    request = catalog.PartsOrderRequested(parts_order_id="po-1", maker="gree", outlet_id="o", provider_id="p",
                                          supplier="d", lines=[], for_order_id="ord-1")
    seen = READER.initial("parts-order-po-1")
    assert seen == PartsOrderSeen("po-1")
    seen = READER.evolve(seen, request, fact(1))
    seen = READER.evolve(seen, catalog.PartsOrderShipped(lines=[], total_fen=0), fact(2))
    assert (seen.maker, seen.for_order_id, seen.received_at) == ("gree", "ord-1", None)
    assert READER.evolve(seen, catalog.PartsOrderReceived(lines=[]), fact(3)).received_at == at(3)


@pytest.mark.parametrize(("note", "cause"), [("technician arrived", "arrived"), ("ok", "manual")])
def test_v1_resumes_read_as_v2_with_their_cause(note: str, cause: str) -> None:
    data = catalog.parse(_stored("order.sla_resumed", 1, {"note": note}))
    assert data == catalog.OrderSlaResumed(note=note, cause=cause, parts_order_id=None)  # type: ignore[arg-type]


def test_v1_pauses_read_as_v2_waiting_for_no_parts_order() -> None:
    data = catalog.parse(_stored("order.sla_paused", 1, {"reason": "parts_on_order", "note": ""}))
    assert data == catalog.OrderSlaPaused(reason="parts_on_order", parts_order_id=None)
