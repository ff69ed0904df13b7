"""Parts over HTTP: catalogue, a parts order at cost, stock, a repair taking parts, returns,
reports; bad input answered with problems naming the field; another tenant's object is 404."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from libs.web.auth import create_principal
from tests.parts.factory import OUTLET, as_, repaired_order, used
from tests.support.app import START

pytestmark = pytest.mark.integration

CAPACITOR = {"maker": "gree", "part_no": "GR-C1", "name": "压缩机电容", "fits_models": ["KFR-35"],
             "returnable": True, "return_within_days": 7, "cost_fen": 4000, "effective_from": "2026-05-01"}
FAN = {"maker": "gree", "part_no": "GR-F2", "name": "风扇电机", "cost_fen": 1500, "effective_from": "2026-05-01"}


async def _post(api: Any, path: str, body: dict[str, Any], who: str, status: int = 201) -> dict[str, Any]:
    response = await api.client.post(path, json=body, headers=as_(who))
    assert response.status_code == status, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _get(api: Any, path: str, who: str, status: int = 200) -> dict[str, Any]:
    await api.sync()
    response = await api.client.get(path, headers=as_(who))
    assert response.status_code == status, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _stocked_outlet(api: Any) -> str:
    """The catalogue, and a parts order for order o-1 requested, shipped at cost and received."""
    await _post(api, "/parts/catalogue", CAPACITOR, "dispatcher")
    await _post(api, "/parts/catalogue", FAN, "finance")
    order = await _post(api, "/parts/orders", {
        "maker": "gree", "outlet_id": OUTLET, "supplier": "dealer-wuhan", "for_order_id": "o-1",
        "lines": [{"part_no": "GR-C1", "quantity": 2}, {"part_no": "GR-F2", "quantity": 1}]}, "provider")
    pid: str = order["id"]
    waiting = await _get(api, "/parts/service-orders/o-1/waiting", "dispatcher")
    assert waiting["waiting"] and waiting["items"][0]["parts_order_id"] == pid
    lines = [{"part_no": "GR-C1", "quantity": 2, "unit_cost_fen": 4000},
             {"part_no": "GR-F2", "quantity": 1, "unit_cost_fen": 1500}]
    await _post(api, f"/parts/orders/{pid}/shipment", {"lines": lines}, "dispatcher")
    await _post(api, f"/parts/orders/{pid}/receipt", {}, "technician")
    return pid


async def test_parts_flow_from_order_at_cost_to_repair_return_and_reports(api: Any) -> None:
    pid = await _stocked_outlet(api)
    assert (await _get(api, f"/parts/orders/{pid}", "provider"))["total_fen"] == 9500
    assert not (await _get(api, "/parts/service-orders/o-1/waiting", "provider"))["waiting"]
    stock = await _get(api, f"/parts/stock/{OUTLET}", "provider")
    assert [(i["part_no"], i["on_hand"]) for i in stock["items"]] == [("GR-C1", 2), ("GR-F2", 1)]

    at = START + timedelta(hours=1)
    await repaired_order(api.runtime.store, "o-1", [used("GR-C1", 4000, serial="N1", faulty="F1"),
                                                    used("GR-X9", 900)], at)
    stock = await _get(api, f"/parts/stock/{OUTLET}", "provider")
    assert [(i["part_no"], i["on_hand"]) for i in stock["items"]] == [("GR-C1", 1), ("GR-F2", 1), ("GR-X9", -1)]
    flags = await _get(api, "/parts/anomalies", "supervisor")
    assert sorted((f["kind"], f["part_no"]) for f in flags["items"]) == [
        ("never_received", "GR-X9"), ("not_catalogued", "GR-X9")]
    needs = await _get(api, f"/parts/needs/{OUTLET}", "provider")
    assert [(i["part_no"], i["short"]) for i in needs["short"]] == [("GR-X9", 1)]
    costs = await _get(api, "/parts/costs?order_id=o-1", "finance")
    assert costs["orders"][0]["parts_fen"] == 4900 and costs["providers"] == [
        {"provider_id": "prov-wuhan", "parts_fen": 4900}]

    [due] = (await _get(api, "/parts/returns", "provider"))["items"]
    assert due["status"] == "due" and due["faulty_serial"] == "F1" and not due["overdue"]
    api.clock.advance(days=8)
    assert (await _get(api, "/parts/returns?overdue=true", "dispatcher"))["count"] == 1
    assert "return_overdue" in {f["kind"] for f in (await _get(api, "/parts/anomalies", "finance"))["items"]}
    where = await _get(api, "/parts/serials/F1", "supervisor")
    assert where["removed"][0]["order_id"] == "o-1" and where["faulty_part_is"].startswith("at outlet")

    wrong = await _post(api, "/parts/returns", {"order_id": "o-1", "part_no": "GR-C1", "faulty_serial": "F2"},
                        "provider", 422)
    assert wrong["errors"][0]["field"] == "faulty_serial"
    shipped = await _post(api, "/parts/returns", {"order_id": "o-1", "part_no": "GR-C1", "faulty_serial": "F1",
                                                  "waybill": "SF123"}, "provider")
    assert (await _get(api, "/parts/serials/F1", "provider"))["faulty_part_is"] == "in transit to the maker"
    await _post(api, f"/parts/returns/{shipped['id']}/receipt", {"note": "ok"}, "dispatcher")
    assert (await _get(api, "/parts/serials/F1", "finance"))["faulty_part_is"] == "with the maker"
    assert (await _get(api, "/parts/returns", "supervisor"))["count"] == 0
    assert "return_overdue" not in {f["kind"] for f in (await _get(api, "/parts/anomalies", "finance"))["items"]}
    fitted = await _get(api, "/parts/serials/N1", "dispatcher")
    assert fitted["fitted"][0]["order_id"] == "o-1"


async def test_a_shipment_above_cost_is_refused_naming_the_line_and_writes_nothing(sqlite_api: Any) -> None:
    api = sqlite_api
    await _post(api, "/parts/catalogue", CAPACITOR, "dispatcher")
    order = await _post(api, "/parts/orders", {"maker": "gree", "outlet_id": OUTLET, "supplier": "dealer-wuhan",
                                               "lines": [{"part_no": "GR-C1", "quantity": 1}]}, "provider")
    head = await api.runtime.store.read_stream(f"parts-order-{order['id']}")
    above = await _post(api, f"/parts/orders/{order['id']}/shipment",
                        {"lines": [{"part_no": "GR-C1", "quantity": 1, "unit_cost_fen": 4001}]}, "dispatcher", 422)
    assert above["errors"][0]["field"] == "lines[0].unit_cost_fen" and "at cost" in above["detail"]
    unknown = await _post(api, f"/parts/orders/{order['id']}/shipment",
                          {"lines": [{"part_no": "NOPE", "quantity": 1, "unit_cost_fen": 1}]}, "dispatcher", 422)
    assert unknown["errors"][0]["field"] == "lines[0].part_no"
    assert await api.runtime.store.read_stream(f"parts-order-{order['id']}") == head
    # a new cost version from a later day is the one in force then
    await _post(api, "/parts/catalogue/gree/GR-C1/costs", {"cost_fen": 4500, "effective_from": "2026-05-10"},
                "finance")
    api.clock.advance(days=7)
    await _post(api, f"/parts/orders/{order['id']}/shipment",
                {"lines": [{"part_no": "GR-C1", "quantity": 1, "unit_cost_fen": 4500}]}, "dispatcher")
    again = await _post(api, f"/parts/orders/{order['id']}/shipment",
                        {"lines": [{"part_no": "GR-C1", "quantity": 1, "unit_cost_fen": 4500}]}, "dispatcher", 409)
    assert again["parts_order_status"] == "shipped"
    [entry] = (await _get(api, "/parts/catalogue?maker=gree", "provider"))["items"]
    assert [c["cost_fen"] for c in entry["costs"]] == [4000, 4500]


async def test_bad_input_is_a_problem_naming_the_field(sqlite_api: Any) -> None:
    api = sqlite_api
    cases: list[tuple[str, dict[str, Any], str, str]] = [
        ("/parts/catalogue", {**CAPACITOR, "effective_from": None}, "dispatcher", ""),
        ("/parts/catalogue", {**CAPACITOR, "part_no": "bad no/1"}, "dispatcher", "part_no"),
        ("/parts/orders", {"maker": "gree", "outlet_id": OUTLET, "supplier": "d", "lines": []}, "provider", "lines"),
        ("/parts/orders", {"maker": "gree", "outlet_id": OUTLET, "supplier": "d",
                           "lines": [{"part_no": "A", "quantity": 0}]}, "provider", "lines.0.quantity"),
        (f"/parts/stock/{OUTLET}/counts", {"maker": "gree", "part_no": "A", "counted": -1, "reason": "x"},
         "provider", "counted"),
        (f"/parts/stock/{OUTLET}/counts", {"maker": "gree", "part_no": "A", "counted": 1}, "provider", "reason"),
        ("/parts/returns", {"order_id": "o-1", "part_no": "A"}, "provider", "faulty_serial"),
        ("/parts/returns", {"order_id": "o-1", "part_no": "A", "faulty_serial": "F/1"}, "provider", "faulty_serial"),
    ]
    for path, body, who, field in cases:
        problem = await _post(api, path, body, who, 422)
        assert problem["status"] == 422 and problem["errors"], (path, problem)
        if field:
            assert field in {e["field"] for e in problem["errors"]}, (path, problem)
    await _post(api, f"/parts/stock/{OUTLET}/receipts", {"maker": "gree", "lines": [{"part_no": "A", "quantity": 1}]},
                "provider")
    too_many = await _post(api, f"/parts/stock/{OUTLET}/returns", {
        "maker": "gree", "reason": "surplus", "lines": [{"part_no": "A", "quantity": 2}]}, "provider", 422)
    assert too_many["errors"][0]["field"] == "lines[0].quantity"
    [one] = (await _get(api, f"/parts/stock/{OUTLET}", "provider"))["items"]
    assert one["on_hand"] == 1  # nothing half-written


async def test_a_count_books_the_difference_with_its_reason_and_vans_are_kept_apart(sqlite_api: Any) -> None:
    api = sqlite_api
    receipt = {"maker": "gree", "lines": [{"part_no": "A", "quantity": 3}]}
    await _post(api, f"/parts/stock/{OUTLET}/receipts", receipt, "provider")
    await _post(api, f"/parts/stock/{OUTLET}/receipts", {**receipt, "technician_id": "tech-wh-01"}, "technician")
    await api.sync()
    await _post(api, f"/parts/stock/{OUTLET}/counts", {"maker": "gree", "part_no": "A", "counted": 1,
                                                       "reason": "two found broken"}, "provider")
    items = (await _get(api, f"/parts/stock/{OUTLET}", "dispatcher"))["items"]
    assert [(i["location"], i["on_hand"]) for i in items] == [("shelf", 1), ("van", 3)]
    [adjusted] = [e for e in await api.runtime.store.read_stream(f"stock-{OUTLET}") if e.type == "stock.adjusted"]
    assert adjusted.data["delta"] == -2 and adjusted.data["reason"] == "two found broken"


async def test_another_tenants_objects_are_not_found(sqlite_api: Any) -> None:
    api = sqlite_api
    engine, clock = api.runtime.engine, api.clock
    await create_principal(engine, clock, id="prov-other-staff", role="provider", name="x", party="prov-other",
                           key="other-provider-key", rate_limit="none")
    await create_principal(engine, clock, id="midea-desk", role="dispatcher", name="y", party="midea",
                           key="midea-dispatcher-key", rate_limit="none")
    await create_principal(engine, clock, id="midea-sup", role="supervisor", name="z", party="midea",
                           key="midea-supervisor-key", rate_limit="none")
    pid = await _stocked_outlet(api)
    await repaired_order(api.runtime.store, "o-1", [used("GR-C1", 4000, faulty="F1"), used("GR-X9", 1)],
                         START + timedelta(hours=1))
    other, midea = "other-provider-key", "midea-dispatcher-key"
    await _get(api, f"/parts/stock/{OUTLET}", other, 404)
    await _get(api, f"/parts/needs/{OUTLET}", other, 404)
    await _get(api, f"/parts/orders/{pid}", other, 404)
    await _get(api, f"/parts/orders/{pid}", midea, 404)
    await _get(api, "/parts/serials/F1", other, 404)
    assert (await _get(api, "/parts/returns", other))["count"] == 0
    assert (await _get(api, "/parts/anomalies", "midea-supervisor-key"))["count"] == 0
    assert (await _get(api, "/parts/costs", other))["orders"] == []
    await _post(api, f"/parts/orders/{pid}/receipt", {}, other, 404)
    await _post(api, f"/parts/orders/{pid}/shipment",
                {"lines": [{"part_no": "GR-C1", "quantity": 1, "unit_cost_fen": 1}]}, midea, 404)
    await _post(api, f"/parts/stock/{OUTLET}/receipts", {"maker": "gree", "lines": [{"part_no": "A", "quantity": 1}]},
                other, 404)
    await _post(api, "/parts/orders", {"maker": "gree", "outlet_id": OUTLET, "supplier": "d",
                                       "lines": [{"part_no": "A", "quantity": 1}]}, other, 404)
    await _post(api, "/parts/returns", {"order_id": "o-1", "part_no": "GR-C1", "faulty_serial": "F1"}, other, 404)
    shipped = await _post(api, "/parts/returns", {"order_id": "o-1", "part_no": "GR-C1", "faulty_serial": "F1"},
                          "provider")
    await _post(api, f"/parts/returns/{shipped['id']}/receipt", {}, midea, 404)
    await _post(api, "/parts/catalogue/gree/GR-C1/costs", {"cost_fen": 1, "effective_from": "2026-06-01"},
                "midea-supervisor-key", 403)  # a supervisor never sets costs
    forbidden = await _post(api, "/parts/catalogue", {**CAPACITOR, "maker": "midea"}, "dispatcher", 403)
    assert forbidden["field"] == "maker"
