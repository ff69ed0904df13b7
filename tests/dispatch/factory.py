"""Orders as intake would report them (appended straight to the store, source="intake")."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from bench.factory import reported
from libs.events import catalog
from libs.events.envelope import NewEvent
from libs.events.store import EventStore

XIANNING = {"province": "湖北省", "city": "咸宁市", "county": "嘉鱼县", "provincial_capital": False}


async def report(store: EventStore, occurred_at: datetime, order_id: str | None = None, **kwargs: Any) -> str:
    """Append an order.reported as a new stream; returns the order id."""
    order_id = order_id or f"ord-{uuid.uuid4().hex[:12]}"
    await store.append(order_id, [reported(occurred_at, **kwargs)], 0)
    return order_id


def complaint(received_at: datetime, *, provider_id: str | None = None) -> NewEvent:
    data = catalog.ComplaintReceived(channel="hotline", text="师傅还没来", provider_id=provider_id, received_at=received_at)
    return catalog.new_event(data, type_="complaint.received", source="intake", actor="hotline", occurred_at=received_at)


OUTLET = {
    "id": "wh-jiangxia", "name": "江夏服务网点", "provider_id": "prov-wuhan",
    "areas": [{"city": "武汉市", "county": "江夏区"}],
    "technicians": [
        {"id": "tech-wh-01", "name": "李师傅", "skills": ["air_conditioner", "washing_machine"]},
        {"id": "tech-wh-02", "name": "张师傅", "skills": ["air_conditioner"]},
    ],
    "capacity_per_day": 20, "contact": "027-8888 0000",
}
