"""Routing suggestion, pure: which outlet and technician should take an order.

Seed 000/001: one outlet per county is the norm in tier-3/4 markets, so the outlet
covering the order's county comes first, then one covering the whole city, then any
outlet elsewhere in the city. Only outlets with a technician skilled in the product
category qualify (and, under a `certified_only` policy, certified for it on the day: `certified`
holds the (outlet, technician) pairs that are); among equals the least loaded (open orders per
daily capacity) wins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

Match = Literal["county", "city", "nearby"]
_RANK: dict[Match, int] = {"county": 0, "city": 1, "nearby": 2}


@dataclass(frozen=True)
class Technician:
    id: str
    name: str
    skills: frozenset[str]
    phone: str = ""


@dataclass(frozen=True)
class Area:
    city: str
    county: str = ""  # "" = the whole city


@dataclass(frozen=True)
class Outlet:
    """服务网点档案: one service outlet, the provider running it, where it serves and who works there."""

    id: str
    name: str
    provider_id: str
    areas: tuple[Area, ...]
    technicians: tuple[Technician, ...]
    capacity_per_day: int
    contact: str = ""
    active: bool = True

    def technician(self, technician_id: str) -> Technician | None:
        return next((t for t in self.technicians if t.id == technician_id), None)

    def match(self, city: str, county: str) -> Match | None:
        if any(a.city == city and a.county == county for a in self.areas):
            return "county"
        if any(a.city == city and not a.county for a in self.areas):
            return "city"
        if any(a.city == city for a in self.areas):
            return "nearby"
        return None


@dataclass(frozen=True)
class Suggestion:
    outlet_id: str
    provider_id: str
    technician_id: str
    match: Match
    outlet_load: int
    capacity_per_day: int
    technician_load: int


def suggest(
    outlets: Sequence[Outlet], *, city: str, county: str, category: str,
    outlet_load: Mapping[str, int], technician_load: Mapping[tuple[str, str], int],
    certified: frozenset[tuple[str, str]] | None = None,
) -> list[Suggestion]:
    """Qualified outlets, best first, each with its least busy skilled technician."""
    ranked: list[tuple[tuple[int, float, int, str], Suggestion]] = []
    for outlet in outlets:
        match = outlet.match(city, county)
        skilled = [t for t in outlet.technicians
                   if category in t.skills and (certified is None or (outlet.id, t.id) in certified)]
        if not outlet.active or match is None or not skilled:
            continue
        tech = min(skilled, key=lambda t: (technician_load.get((outlet.id, t.id), 0), t.id))
        load = outlet_load.get(outlet.id, 0)
        suggestion = Suggestion(outlet.id, outlet.provider_id, tech.id, match, load, outlet.capacity_per_day,
                                technician_load.get((outlet.id, tech.id), 0))
        ranked.append(((_RANK[match], load / max(outlet.capacity_per_day, 1), load, outlet.id), suggestion))
    return [s for _, s in sorted(ranked, key=lambda pair: pair[0])]
