"""Lists, totals and flags show a maker's staff only its own makers' orders (issue 13: "every list,
filter, CSV, statement, ranking and history is scoped"). Two makers' orders, repaired and settled
side by side; each maker's finance clerk and supervisor reads every list and finds only its own."""

from __future__ import annotations

from typing import Any

from libs.web.auth import create_principal
from tests.settlement.factory import T0, part, repaired_order, standard_body
from tests.support.app import auth

MONTH = T0.strftime("%Y-%m")
KEYS = {("gree", "finance"): auth("finance"), ("gree", "supervisor"): auth("supervisor"),
        ("midea", "finance"): {"Authorization": "Bearer midea-finance"},
        ("midea", "supervisor"): {"Authorization": "Bearer midea-supervisor"}}
OWN = {"gree": {"g-open", "g-settled"}, "midea": {"m-open", "m-settled"}}
PATHS = ("/settlements/open", f"/settlement/totals?month={MONTH}", "/settlement/anomalies", "/settlement/standards",
         f"/dispatch/compliance?month={MONTH}", "/parts/anomalies")


async def _two_makers(api: Any) -> None:
    for maker in ("midea",):
        for role in ("finance", "supervisor"):
            await create_principal(api.runtime.engine, api.clock, id=f"{maker}-{role}", role=role, name=role,
                                   party=maker, key=f"{maker}-{role}", rate_limit="none")
    for maker, prefix in (("gree", "g"), ("midea", "m")):
        body = standard_body(maker=maker, provider_id="*")
        assert (await api.client.post("/settlement/standards", json=body, headers=KEYS[(maker, "finance")])).status_code == 201
        for suffix in ("open", "settled"):  # a non-original part: an anomaly flag on each maker's repairs
            await repaired_order(api.runtime.store, f"{prefix}-{suffix}", maker=maker, ref=f"{prefix}-{suffix}",
                                 parts=[part(original=False)])
    await api.sync()
    for maker, prefix in (("gree", "g"), ("midea", "m")):
        settled = await api.client.post(f"/settlements/{prefix}-settled", json={}, headers=KEYS[(maker, "finance")])
        assert settled.status_code == 201, settled.text
    await api.sync()


async def test_every_list_shows_only_the_callers_makers(sqlite_api: Any) -> None:
    api = sqlite_api
    await _two_makers(api)
    read = set()
    for (maker, role), key in KEYS.items():
        other = "midea" if maker == "gree" else "gree"
        for path in PATHS:
            answer = await api.client.get(path, headers=key)
            if answer.status_code == 403:  # this role does not read this list at all
                continue
            assert answer.status_code == 200, (maker, role, path, answer.text)
            read.add(path)
            text = answer.text
            assert other not in text and not any(o in text for o in OWN[other]), (maker, role, path, text[:300])
        if role == "finance":  # and its own are there: the lists are not simply empty
            opened = (await api.client.get("/settlements/open", headers=key)).json()
            assert {i["order_id"] for i in opened["items"]} == OWN[maker] - {f"{maker[0]}-settled"}
            totals = (await api.client.get(f"/settlement/totals?month={MONTH}", headers=key)).json()
            assert totals["amount_fen"] > 0, totals
    assert read == set(PATHS)  # every list was read by someone
