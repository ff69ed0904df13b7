"""Upstream events and callers for parts tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from libs.events import catalog
from libs.events.store.port import EventStore
from tests.settlement.factory import arrived, dispatched, reported

KEYS = {
    "dispatcher": "demo-dispatcher-key", "technician": "demo-technician-key", "finance": "demo-finance-key",
    "supervisor": "demo-supervisor-key", "provider": "demo-provider-key", "operator": "demo-operator-key",
    "viewer": "demo-viewer-key",
}
OUTLET = "prov-wuhan-o1"  # where tests.settlement.factory.dispatched sends prov-wuhan's orders


def as_(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS.get(who, who)}"}


def used(no: str, cost: int, qty: int = 1, original: bool = True, serial: str | None = None,
         faulty: str | None = None) -> catalog.PartUsed:
    return catalog.PartUsed(part_no=no, name=no, quantity=qty, unit_cost_fen=cost, original=original, serial=serial,
                            faulty_serial=faulty)


async def repaired_order(store: EventStore, order_id: str, parts: list[catalog.PartUsed], at: datetime,
                         provider: str = "prov-wuhan", maker: str = "gree") -> None:
    """An order reported, dispatched to the provider's outlet o1, on site and repaired with these parts."""
    payload = catalog.OrderRepaired(diagnosis="电容损坏", solution="更换电容", parts=parts,
                                    labour_hours=Decimal("1"), departed_at=at)
    repair = catalog.new_event(payload, type_="order.repaired", source="dispatch", actor="technician:t",
                               occurred_at=at)
    await store.append(order_id, [reported(at=at - timedelta(hours=3), maker=maker)], 0)
    await store.append(order_id, [dispatched(provider, at - timedelta(hours=2))], 1)
    await store.append(order_id, [arrived(at - timedelta(hours=1)), repair], 2)
