"""A maker onboards people it never had through the admin API alone, and they can do their jobs
(issue 13: "an order dispatched to any provider but the demo one can never progress"): a new
provider's outlet, its technician and staff, a hotline agent and a read-only viewer."""

from __future__ import annotations

from typing import Any

from tests.intake.support import order_body

ADMIN = {"Authorization": "Bearer demo-admin-key"}
DISPATCHER = {"Authorization": "Bearer demo-dispatcher-key"}  # gree's desk
OUTLET = {"id": "xg-01", "name": "孝感服务网点", "provider_id": "prov-xiaogan", "capacity_per_day": 10,
          "areas": [{"city": "武汉", "county": "洪山区"}],
          "technicians": [{"id": "tech-xg-01", "name": "周师傅", "skills": ["air_conditioner"]}]}


async def _key(api: Any, **body: Any) -> dict[str, str]:
    made = await api.client.post("/admin/principals", json=body, headers=ADMIN)
    assert made.status_code == 201, made.text
    return {"Authorization": f"Bearer {made.json()['key']}"}


async def test_people_made_over_the_admin_api_take_an_order_from_report_to_repair(sqlite_api: Any) -> None:
    api = sqlite_api
    assert (await api.client.post("/dispatch/outlets", json=OUTLET, headers=ADMIN)).status_code == 201
    technician = await _key(api, id="tech-xg-01", role="technician", name="周师傅", party="prov-xiaogan",
                            outlet_id="xg-01")
    staff = await _key(api, id="xg-staff", role="provider", name="孝感服务商", party="prov-xiaogan")
    hotline = await _key(api, id="hotline-9", role="hotline", name="热线 9", party="gree")
    viewer = await _key(api, id="viewer-9", role="viewer", name="格力只读", party="gree")

    filed = await api.client.post("/orders", json=order_body(), headers=hotline)
    assert filed.status_code == 201, filed.text
    order_id = filed.json()["order_id"]
    await api.sync()
    sent = await api.client.post(f"/dispatch/orders/{order_id}/dispatch",
                                 json={"outlet_id": "xg-01", "technician_id": "tech-xg-01"}, headers=DISPATCHER)
    assert sent.status_code == 200, sent.text
    await api.sync()
    queue = await api.client.get("/dispatch/queues/xg-01", headers=staff)
    assert [o["order_id"] for o in queue.json()["orders"]] == [order_id], queue.text
    assert (await api.client.post(f"/dispatch/orders/{order_id}/arrive", json={}, headers=technician)).status_code == 200
    repaired = await api.client.post(f"/dispatch/orders/{order_id}/repair", headers=technician, json={
        "diagnosis": "电容老化", "solution": "更换电容", "labour_hours": "1"})
    assert repaired.status_code == 200, repaired.text
    await api.sync()

    seen = await api.client.get(f"/orders/{order_id}", headers=viewer)
    assert seen.status_code == 200 and seen.json()["status"] == "repaired", seen.text
    refused = await api.client.post(f"/orders/{order_id}/escalations", json={"reason": "x"}, headers=viewer)
    assert refused.status_code == 403, refused.text  # read only
    other = await _key(api, id="tech-xg-02", role="technician", name="吴师傅", party="prov-other")
    assert (await api.client.get(f"/dispatch/orders/{order_id}", headers=other)).status_code == 404
