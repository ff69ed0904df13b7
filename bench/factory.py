"""An order.reported as intake would append it: the benches' workload (tests reuse it)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from libs.events import catalog
from libs.events.envelope import NewEvent

MAKER = "gree"  # the demo dispatcher and supervisor act for this maker
WUHAN = {"province": "湖北省", "city": "武汉市", "county": "江夏区", "provincial_capital": True}


def reported(occurred_at: datetime, *, maker: str = MAKER, location: dict[str, Any] | None = None,
             category: str = "air_conditioner", tier: catalog.Tier = "dealer") -> NewEvent:
    data = catalog.OrderReported(
        channel="partner", external_ref=f"ext-{uuid.uuid4().hex[:8]}", partner_id="jd-retail", maker=maker,
        customer=catalog.Customer(name="王女士", phone="13800000000", address="江夏区文化大道 1 号"),
        product=catalog.Product(category=category, brand="格力", model="KFR-35GW", serial="SN123"),
        location=catalog.Location(**(location or WUHAN)),
        fault="不制冷",
        warranty=catalog.Warranty(in_warranty=True, coverage="replacement", rule="三包", policy="default"),
        tier=tier,
    )
    return catalog.new_event(data, type_="order.reported", source="intake", actor="partner:jd-retail",
                             occurred_at=occurred_at)
