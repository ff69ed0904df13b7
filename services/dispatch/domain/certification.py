"""Certified technicians (seeds 001, 002: 资格认证): a maker certifies an engineer for a product
category until a day; dispatch may send only certified engineers when the maker's policy says so.

One stream per maker and technician, `certification-{maker}:{outlet_id}:{technician_id}`, holding
every category of that engineer (seed 001: one engineer may be certified for several categories).
A certification holds up to and including its `valid_until` day in China time (Asia/Shanghai):
certified to 2026-06-30 means valid until 2026-06-30 23:59:59 +08:00 = 15:59:59Z, expired from
16:00Z. A revocation ends it at once; a later certification of the category renews it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from types import MappingProxyType

from libs.events.catalog import CertificationRevoked, Payload, TechnicianCertified
from libs.events.chinatime import local_day
from libs.events.decider import Fact, Rules
from services.dispatch.domain.order import Invalid


def certification_stream(maker: str, outlet_id: str, technician_id: str) -> str:
    return f"certification-{maker}:{outlet_id}:{technician_id}"


def holds_on(valid_until: date | None, at: datetime) -> bool:
    """Whether a certification valid through `valid_until` (inclusive, China day) holds at `at`."""
    return valid_until is not None and local_day(at) <= valid_until


def check_certified(valid: Mapping[str, date], technician_id: str, category: str, at: datetime) -> None:
    """The rule dispatch applies under `certified_only`: the technician holds a certification for
    the order's category on the dispatch day; otherwise 422 naming `technician_id`."""
    until = valid.get(category)
    if until is None:
        raise Invalid("technician_id", f"technician {technician_id} is not certified for {category!r}")
    if not holds_on(until, at):
        raise Invalid("technician_id",
                      f"technician {technician_id}'s certification for {category!r} expired after {until.isoformat()}")


def check_valid_until(valid_until: date, now: datetime) -> None:
    """A certification must hold at least on the day it is recorded (China time)."""
    if valid_until < local_day(now):
        raise Invalid("valid_until", "valid_until is before today (China time): the certification would never hold")


@dataclass(frozen=True)
class Certifications:
    version: int = 0
    # category -> last valid day; revoked ones are absent
    valid: Mapping[str, date] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Certify:
    certification: TechnicianCertified
    now: datetime


@dataclass(frozen=True)
class Revoke:
    revocation: CertificationRevoked


CertificationCommand = Certify | Revoke


def evolve(state: Certifications, data: Payload, fact: Fact) -> Certifications:
    state = replace(state, version=fact.version)
    match data:
        case TechnicianCertified():
            return replace(state, valid=MappingProxyType({**state.valid, data.category: data.valid_until}))
        case CertificationRevoked():
            return replace(state, valid=MappingProxyType({k: v for k, v in state.valid.items() if k != data.category}))
    return state


def decide(state: Certifications, command: CertificationCommand) -> Sequence[Payload]:
    match command:
        case Certify(certification=cert, now=now):
            check_valid_until(cert.valid_until, now)
            return [] if state.valid.get(cert.category) == cert.valid_until else [cert]  # a retry adds nothing
        case Revoke(revocation=revocation):
            if revocation.category not in state.valid:
                raise Invalid("category", f"technician {revocation.technician_id} holds no certification "
                                          f"for {revocation.category!r}")
            return [revocation]


DECIDER: Rules[Certifications, CertificationCommand] = Rules(lambda _stream: Certifications(), evolve, decide)
