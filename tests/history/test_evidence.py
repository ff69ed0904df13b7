"""Provenance: every figure of a month's statement recomputes from exactly its evidence events."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from libs.events import catalog
from tests.history.support import live_standard
from tests.settlement.factory import T0, part, repaired_order
from tests.support.app import auth

pytestmark = pytest.mark.integration


async def _recompute(api: Any, evidence: list[dict[str, Any]]) -> tuple[int, int, set[str]]:
    """(amount, entries, payers) from the evidence events alone, read back from the store;
    fails if any event is not what the item says or is not needed (exactly the evidence)."""
    events: dict[str, tuple[dict[str, Any], Any]] = {}
    for item in evidence:
        [event] = [
            e
            for e in await api.runtime.store.read_stream(item["stream_id"])
            if str(e.id) == item["event_id"]
        ]
        assert (event.position, event.type) == (item["position"], item["type"])
        events[item["event_id"]] = (item, catalog.parse(event))
    settled = {
        str(d.settlement_id): d for _, d in events.values() if isinstance(d, catalog.OrderSettled)
    }
    amount, count, payers, used = 0, 0, set(), set()
    for item, data in events.values():
        if item["role"] != "books":
            continue
        count += 1
        if isinstance(data, catalog.OrderSettled):
            amount, payer = amount + data.total_fen, data.payer
        else:
            assert isinstance(data, catalog.OrderSettlementReversed)
            priced = settled[str(data.settlement_id)]
            amount, payer = amount - priced.total_fen, priced.payer
            used.add(str(data.settlement_id))
        payers.add(payer)
    for item, data in events.values():
        if item["role"] == "prices":
            assert isinstance(data, catalog.OrderSettled) and str(data.settlement_id) in used, item
    return amount, count, payers


async def test_each_statement_figure_recomputes_from_exactly_its_evidence(sqlite_api: Any) -> None:
    api = sqlite_api
    await live_standard(api)
    store = api.runtime.store
    await repaired_order(store, "o-1", parts=[part("P-100", 5000)])
    await repaired_order(store, "o-2", in_warranty=False, serial="SN-2", ref="JD-0002")
    for order in ("o-1", "o-2"):
        assert (
            await api.client.post(f"/settlements/{order}", json={}, headers=auth("finance"))
        ).status_code == 201
    fixed = await api.client.post(
        "/settlements/o-1/corrections",
        json={"reason": "5 km", "distance_km": 5},
        headers=auth("finance"),
    )
    assert fixed.status_code == 201, fixed.text
    api.clock.advance(days=30)  # June: a new order, and May's customer-paid o-2 reversed
    await repaired_order(store, "o-3", serial="SN-3", ref="JD-0003", at=T0 + timedelta(days=30))
    assert (
        await api.client.post("/settlements/o-3", json={}, headers=auth("finance"))
    ).status_code == 201
    undone = await api.client.post(
        "/settlements/o-2/reversal", json={"reason": "duplicate"}, headers=auth("finance")
    )
    assert undone.status_code == 201, undone.text
    await api.sync()
    head = await store.head_position()
    checked = 0
    for month in ("2026-05", "2026-06"):
        url = "/history/settlement/statements/prov-wuhan"
        body = (
            await api.client.get(
                url,
                params={"month": month, "as_of": head, "evidence": "true"},
                headers=auth("finance"),
            )
        ).json()
        plain = (
            await api.client.get(
                url, params={"month": month, "as_of": head}, headers=auth("finance")
            )
        ).json()
        assert {k: v for k, v in body.items() if not k.endswith("_evidence")} | {
            "entries": [{k: v for k, v in e.items() if k != "evidence"} for e in body["entries"]],
            "totals": plain["totals"],
        } == plain  # evidence only adds fields
        for entry in body["entries"]:
            assert await _recompute(api, entry["evidence"]) == (
                entry["amount_fen"],
                1,
                {entry["payer"]},
            )
            checked += 1
        for payer, cell in body["totals"]["by_payer"].items():
            assert await _recompute(api, cell["evidence"]) == (
                cell["amount_fen"],
                cell["entries"],
                {payer},
            )
            checked += 1
        amount, count, _ = await _recompute(api, body["totals"]["evidence"])
        assert (amount, count) == (body["totals"]["amount_fen"], body["totals"]["entries"])
        for side in ("opening", "closing"):
            amount, _, payers = await _recompute(api, body[f"{side}_balance_evidence"])
            assert amount == body[f"{side}_balance_fen"] and payers <= {"maker"}
            checked += 3
    june = body
    assert [e["kind"] for e in june["entries"]] == ["settlement", "reversal"]
    booked, priced = june["entries"][1][
        "evidence"
    ]  # June's reversal is priced by May's o-2 settlement
    assert (booked["role"], priced["role"], priced["stream_id"]) == ("books", "prices", "o-2")
    assert priced["position"] < booked["position"]
    assert june["opening_balance_fen"] != 0 and checked >= 14
