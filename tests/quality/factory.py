"""Upstream events for quality tests, appended straight to the store with the right source.

The other services are being built alongside; these tests depend only on the catalog.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid5

from libs.events import catalog
from libs.events.envelope import NewEvent
from libs.events.store.port import EventStore

NS = UUID("6f1c1f2e-7a55-4c55-9a43-6a1c0d7b9e01")


def event(payload: catalog.Payload, type_: str, source: str, at: datetime, key: str | None = None) -> NewEvent:
    """A NewEvent; with `key` its id is derived from it (same key → same event)."""
    event_id = uuid5(NS, key) if key else None
    return catalog.new_event(payload, type_=type_, source=source, actor=f"test:{source}", occurred_at=at,
                             event_id=event_id)


def reported(at: datetime, maker: str = "gree", customer: str = "张三", model: str = "KFR-35GW") -> NewEvent:
    payload = catalog.OrderReported.model_validate({
        "channel": "partner", "external_ref": "ext-1", "maker": maker,
        "customer": {"name": customer, "phone": "13800000000", "address": "武汉市洪山区"},
        "product": {"category": "空调", "brand": maker, "model": model, "serial": "SN1", "quantity": 1},
        "location": {"province": "湖北", "city": "武汉", "county": "洪山", "provincial_capital": True},
        "fault": "不制冷",
        "warranty": {"in_warranty": True, "coverage": "replacement", "rule": "三包", "policy": "default"},
    })
    return event(payload, "order.reported", "intake", at)


def dispatched(at: datetime, provider: str = "prov-wuhan", outlet: str = "outlet-wh-1") -> NewEvent:
    payload = catalog.OrderDispatched(
        outlet_id=outlet, provider_id=provider, technician_id="tech-1", sla_due_at=at + timedelta(hours=4), sla_hours=4,
    )
    return event(payload, "order.dispatched", "dispatch", at)


def repaired(at: datetime) -> NewEvent:
    payload = catalog.OrderRepaired(
        diagnosis="压缩机电容损坏", solution="更换电容", labour_hours=Decimal("1.5"), departed_at=at,
        test_result="制冷正常", cause_analysis="电压波动",
    )
    return event(payload, "order.repaired", "dispatch", at)


def settled(at: datetime, total_fen: int, provider: str = "prov-wuhan", maker: str = "gree") -> NewEvent:
    payload = catalog.OrderSettled.model_validate({
        "settlement_id": str(uuid5(NS, f"settle-{at.isoformat()}-{total_fen}")), "provider_id": provider,
        "maker": maker, "payer": "maker", "standard_id": "std-1",
        "lines": [{"kind": "labour", "description": "人工", "quantity": "1", "unit_fen": total_fen,
                   "amount_fen": total_fen}],
        "total_fen": total_fen,
    })
    return event(payload, "order.settled", "settlement", at)


def platform_complaint(at: datetime, provider: str | None = None, key: str | None = None) -> NewEvent:
    data: dict[str, Any] = {"channel": "platform", "text": "上门太慢", "received_at": at, "provider_id": provider}
    if key:
        data["complaint_id"] = str(uuid5(NS, key))
    return event(catalog.ComplaintReceived.model_validate(data), "complaint.received", "intake", at, key)


def review(at: datetime, grades: str, channel: str = "feedback_form", provider: str = "prov-wuhan",
           outlet: str = "outlet-wh-1", key: str | None = None) -> NewEvent:
    """A review as quality would emit it; `grades` is three letters, e.g. 'AAB'."""
    payload = catalog.OrderReviewed.model_validate({
        "channel": channel, "timeliness": grades[0], "quality": grades[1], "attitude": grades[2], "overall": 4,
        "provider_id": provider, "outlet_id": outlet,
    })
    return event(payload, "order.reviewed", "quality", at, key)


async def repaired_order(
    store: EventStore, order_id: str, at: datetime, provider: str = "prov-wuhan", outlet: str = "outlet-wh-1",
    maker: str = "gree", cost_fen: int | None = None,
) -> None:
    """An order reported, dispatched to `provider` and repaired at `at` (settled if cost given)."""
    events = [reported(at - timedelta(hours=6), maker), dispatched(at - timedelta(hours=5), provider, outlet),
              repaired(at)]
    if cost_fen is not None:
        events.append(settled(at + timedelta(hours=1), cost_fen, provider, maker))
    await store.append(order_id, events, 0)
