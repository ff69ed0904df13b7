"""Builders for the personal-data tests: a vault on a test engine, sealed order reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events import catalog
from libs.events.clock import ManualClock
from libs.events.envelope import NewEvent
from libs.events.personal.crypto import Envelope
from libs.events.personal.keys import KeyCache, KeyTable
from libs.events.personal.vault import Vault
from libs.events.store import SqlEventStore, store_for

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
SECRET = b"test-subject-secret"
PHONE = "13800138000"
CUSTOMER: dict[str, str | None] = {"name": "张伟", "phone": PHONE, "address": "湖北省武汉市洪山区珞喻路1号",
            "contact": None}


def vault(engine: AsyncEngine, clock: ManualClock | None = None, *, master: bytes | None = None,
          cache: KeyCache | None = None) -> Vault:
    return Vault(KeyTable(engine, clock or ManualClock(T0), master_key=master, cache=cache), SECRET)


def sealed_store(engine: AsyncEngine) -> SqlEventStore:
    """The store without catalog validation: order.reported v1 wants a clear Customer, and
    the v2 that carries an envelope is the wiring step's change to the catalog."""
    store = store_for(engine, ManualClock(T0))
    store.validate = False
    return store


def report_data(customer: Envelope | dict[str, Any], n: int = 0) -> dict[str, Any]:
    """order.reported data as intake writes it, with `customer` given (sealed or clear)."""
    payload = catalog.OrderReported(
        channel="partner", external_ref=f"JD-{n:04d}", partner_id="jd-retail", maker="gree",
        customer=catalog.Customer(**CUSTOMER),
        product=catalog.Product(category="air_conditioner", brand="gree", model="KFR-35",
                                serial=f"SN-{n}"),
        location=catalog.Location(province="湖北", city="武汉", county="洪山区",
                                  provincial_capital=True),
        fault="不制冷",
        warranty=catalog.Warranty(in_warranty=True, coverage="replacement", rule="三包",
                                  policy="default"),
    )
    return {**payload.model_dump(mode="json"), "customer": customer}


def reported(customer: Envelope | dict[str, Any], n: int = 0, version: int = 1) -> NewEvent:
    return NewEvent(type="order.reported", schema_version=version, source="intake",
                    actor="partner:jd-retail", occurred_at=T0 + timedelta(seconds=n),
                    data=report_data(customer, n))
