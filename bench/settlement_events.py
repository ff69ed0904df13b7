"""Upstream events for settlement tests, appended the way intake and dispatch would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from libs.events import catalog
from libs.events.envelope import NewEvent
from libs.events.store.port import EventStore
from services.settlement.domain.standards import FeeStandard, FeeStandardCreate

T0 = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)


def reported(*, maker: str = "gree", category: str = "air_conditioner", serial: str = "SN-1", in_warranty: bool = True,
             county: str = "洪山区", ref: str = "JD-0001", at: datetime = T0) -> NewEvent:
    payload = catalog.OrderReported(
        channel="partner", external_ref=ref, partner_id="jd-retail", maker=maker,
        customer=catalog.Customer(name="王女士", phone="13800000000", address="武汉市洪山区"),
        product=catalog.Product(category=category, brand=maker, model="KFR-35", serial=serial),
        location=catalog.Location(province="湖北", city="武汉", county=county, provincial_capital=True),
        fault="不制冷",
        warranty=catalog.Warranty(in_warranty=in_warranty, coverage="replacement" if in_warranty else "none",
                                  rule="三包", policy="default"),
    )
    return catalog.new_event(payload, type_="order.reported", source="intake", actor="partner:jd-retail", occurred_at=at)


def dispatched(provider: str = "prov-wuhan", at: datetime = T0) -> NewEvent:
    payload = catalog.OrderDispatched(outlet_id=f"{provider}-o1", provider_id=provider, technician_id="tech-wh-01",
                                      sla_due_at=at + timedelta(hours=4), sla_hours=4)
    return catalog.new_event(payload, type_="order.dispatched", source="dispatch", actor="dispatcher:d", occurred_at=at)


def arrived(at: datetime = T0) -> NewEvent:
    payload = catalog.OrderArrived(arrived_at=at, staff_count=1)
    return catalog.new_event(payload, type_="order.arrived", source="dispatch", actor="technician:t", occurred_at=at)


def part(no: str = "P-100", cost: int = 5000, qty: int = 1, original: bool = True) -> catalog.PartUsed:
    return catalog.PartUsed(part_no=no, name="压缩机电容", quantity=qty, unit_cost_fen=cost, original=original)


def repaired(*, hours: str = "1.5", parts: list[catalog.PartUsed] | None = None, at: datetime = T0) -> NewEvent:
    payload = catalog.OrderRepaired(diagnosis="电容损坏", solution="更换电容", parts=parts if parts is not None else [part()],
                                    labour_hours=Decimal(hours), departed_at=at)
    return catalog.new_event(payload, type_="order.repaired", source="dispatch", actor="technician:t", occurred_at=at)


async def repaired_order(store: EventStore, order_id: str, *, provider: str = "prov-wuhan", at: datetime = T0,
                         hours: str = "1.5", parts: list[catalog.PartUsed] | None = None, **report: Any) -> None:
    """An order reported, dispatched, on site and repaired (all at `at`, arrival an hour in)."""
    await store.append(order_id, [reported(at=at - timedelta(hours=3), **report)], 0)
    await store.append(order_id, [dispatched(provider, at - timedelta(hours=2))], 1)
    await store.append(order_id, [arrived(at - timedelta(hours=1))], 2)
    await store.append(order_id, [repaired(hours=hours, parts=parts, at=at)], 3)


def standard_body(**over: Any) -> dict[str, Any]:
    """A per-order standard as the API takes it: bands by distance, two categories, a price list."""
    body: dict[str, Any] = {
        "maker": "gree", "provider_id": "prov-wuhan", "effective_from": "2026-01-01", "kind": "per_order",
        "travel": {"bands": [{"up_to_km": 10, "fee_fen": 2000}, {"up_to_km": 30, "fee_fen": 4000},
                             {"up_to_km": None, "fee_fen": 6000}], "county_km": {"洪山区": 12}},
        "labour_fen_per_hour": {"air_conditioner": 6000, "washer": 4000},
        "labour_norm_hours": {"air_conditioner": "2", "washer": "1.5"},
        "parts_price_list": {"P-100": 4500, "P-200": 12000},
    }
    return body | over


def standard(seq: int = 1, **over: Any) -> FeeStandard:
    body = FeeStandardCreate.model_validate(standard_body(**over))
    return FeeStandard(**body.model_dump(), standard_id=f"{body.maker}:{body.provider_id}:v{seq}", seq=seq,
                       recorded_at=T0, recorded_by="finance:test")


def lump_sum() -> dict[str, Any]:
    """The fields that turn a standard into a lump-sum contract: 2.5 % of 1 000 000 yuan of sales."""
    return {"kind": "lump_sum", "annual_sales_fen": 100_000_000, "percent": "2.5"}



