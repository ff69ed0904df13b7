"""Routing suggestion (pure): county first, then city, skill filter, load as the tie-break."""

from __future__ import annotations

from services.dispatch.domain.routing import Area, Outlet, Technician, suggest

AC = "air_conditioner"


def outlet(id_: str, *areas: Area, skills: tuple[str, ...] = (AC,), capacity: int = 10, active: bool = True,
           techs: int = 1) -> Outlet:
    technicians = tuple(Technician(f"{id_}-t{i}", "师傅", frozenset(skills)) for i in range(techs))
    return Outlet(id_, id_, f"prov-{id_}", areas, technicians, capacity, active=active)


def best(outlets: list[Outlet], county: str = "江夏区", category: str = AC, load: dict[str, int] | None = None,
         tech_load: dict[tuple[str, str], int] | None = None) -> str | None:
    ranked = suggest(outlets, city="武汉市", county=county, category=category,
                     outlet_load=load or {}, technician_load=tech_load or {})
    return ranked[0].outlet_id if ranked else None


def test_the_county_outlet_comes_first() -> None:
    outlets = [outlet("city", Area("武汉市")), outlet("county", Area("武汉市", "江夏区"))]
    assert best(outlets) == "county"


def test_the_city_outlet_when_no_outlet_covers_the_county() -> None:
    outlets = [outlet("other-county", Area("武汉市", "洪山区")), outlet("city", Area("武汉市"))]
    assert best(outlets) == "city"


def test_an_outlet_elsewhere_in_the_city_as_a_last_resort() -> None:
    assert best([outlet("hs", Area("武汉市", "洪山区")), outlet("far", Area("咸宁市"))]) == "hs"


def test_no_suggestion_outside_the_city() -> None:
    assert best([outlet("far", Area("咸宁市", "嘉鱼县"))]) is None


def test_outlets_without_the_skill_are_left_out() -> None:
    outlets = [outlet("county", Area("武汉市", "江夏区"), skills=("washing_machine",)), outlet("city", Area("武汉市"))]
    assert best(outlets) == "city"


def test_inactive_outlets_are_left_out() -> None:
    assert best([outlet("closed", Area("武汉市", "江夏区"), active=False)]) is None


def test_load_relative_to_capacity_breaks_ties() -> None:
    outlets = [outlet("big", Area("武汉市", "江夏区"), capacity=30), outlet("small", Area("武汉市", "江夏区"), capacity=5)]
    assert best(outlets, load={"big": 6, "small": 2}) == "big"  # 0.2 of capacity against 0.4
    assert best(outlets, load={"big": 15, "small": 2}) == "small"


def test_load_never_beats_a_closer_match() -> None:
    outlets = [outlet("county", Area("武汉市", "江夏区")), outlet("city", Area("武汉市"))]
    assert best(outlets, load={"county": 50}) == "county"


def test_the_least_busy_skilled_technician_is_suggested() -> None:
    o = outlet("county", Area("武汉市", "江夏区"), techs=3)
    [s] = suggest([o], city="武汉市", county="江夏区", category=AC, outlet_load={"county": 5},
                  technician_load={("county", "county-t0"): 3, ("county", "county-t1"): 1, ("county", "county-t2"): 1})
    assert s.technician_id == "county-t1" and s.match == "county" and s.technician_load == 1
