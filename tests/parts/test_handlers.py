"""The parts use cases without HTTP: scope checks, retries, races, what the rules read."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import pytest

from libs.events.catalog import PartCatalogued, PartsOrderRequested, ShippedLine, StockLine, StockReceived
from services.parts import handlers
from services.parts.domain.errors import BadLine, NotFound, PartsRefused, UnknownPart
from tests.parts.factory import OUTLET, repaired_order, used
from tests.support.app import START

pytestmark = pytest.mark.integration

ACTOR = "provider:prov-wuhan-staff"


def _request(pid: str = "po-1") -> PartsOrderRequested:
    return PartsOrderRequested(parts_order_id=pid, maker="gree", outlet_id=OUTLET, provider_id="prov-wuhan",
                               supplier="dealer", lines=[StockLine(part_no="GR-C1", quantity=1)])


async def test_a_retried_request_appends_nothing_and_a_shipment_reads_the_cost_of_its_day(sqlite_api: Any) -> None:
    runtime = sqlite_api.runtime
    entry = PartCatalogued(maker="gree", part_no="GR-C1", name="电容", returnable=True)
    await handlers.catalogue_part(runtime, entry, 4000, date(2026, 5, 1), "dispatcher:d")
    await handlers.catalogue_part(runtime, entry, 3000, date(2026, 5, 20), "dispatcher:d")
    first = await handlers.request_parts(runtime, _request(), ACTOR)
    again = await handlers.request_parts(runtime, _request(), ACTOR)
    assert first.version == 1 and again.payloads == () and again.version == 1
    line = (ShippedLine(part_no="GR-C1", quantity=1, unit_cost_fen=4000),)
    with pytest.raises(NotFound):
        await handlers.ship_parts(runtime, "po-nope", line, None, "dispatcher:d")
    with pytest.raises(NotFound):
        await handlers.ship_parts(runtime, "po-1", line, ("midea",), "dispatcher:m")
    sqlite_api.clock.set(START + timedelta(days=20))  # 2026-05-24: the 3000 fen version is in force
    with pytest.raises(Exception, match="above its catalogue cost of 3000"):
        await handlers.ship_parts(runtime, "po-1", line, ("gree",), "dispatcher:d")
    with pytest.raises(UnknownPart):
        await handlers.ship_parts(runtime, "po-1", (ShippedLine(part_no="X", quantity=1, unit_cost_fen=0),),
                                  ("gree",), "dispatcher:d")
    shipped = await handlers.ship_parts(runtime, "po-1", (line[0].model_copy(update={"unit_cost_fen": 3000}),),
                                        ("gree",), "dispatcher:d")
    assert shipped.version == 2
    with pytest.raises(NotFound):
        await handlers.receive_parts(runtime, "po-1", None, "prov-other", "provider:x")
    with pytest.raises(BadLine):
        await handlers.receive_parts(runtime, "po-1", [StockLine(part_no="GR-C1", quantity=2)], "prov-wuhan", ACTOR)
    assert (await handlers.receive_parts(runtime, "po-1", None, "prov-wuhan", ACTOR)).version == 3
    with pytest.raises(PartsRefused):
        await handlers.receive_parts(runtime, "po-1", None, "prov-wuhan", ACTOR)


async def test_concurrent_receipts_at_one_outlet_all_land(sqlite_api: Any) -> None:
    runtime = sqlite_api.runtime

    def receipt(n: int) -> StockReceived:
        return StockReceived(outlet_id=OUTLET, provider_id="prov-wuhan", maker="gree",
                             lines=[StockLine(part_no="GR-C1", quantity=n)])

    done = await asyncio.gather(*(handlers.receive_stock(runtime, receipt(n), ACTOR) for n in range(1, 6)))
    assert sorted(d.version for d in done) == [1, 2, 3, 4, 5]


async def test_a_return_needs_a_repaired_order_of_the_provider_and_a_returnable_fitted_part(sqlite_api: Any) -> None:
    runtime = sqlite_api.runtime
    with pytest.raises(NotFound):
        await handlers.ship_return(runtime, "o-none", "GR-C1", "F1", "", "prov-wuhan", ACTOR)
    await handlers.catalogue_part(runtime, PartCatalogued(maker="gree", part_no="GR-C1", name="电容", returnable=True),
                                  None, None, "dispatcher:d")
    await repaired_order(runtime.store, "o-1", [used("GR-C1", 100), used("GR-F2", 100)], START)
    with pytest.raises(NotFound):
        await handlers.ship_return(runtime, "o-1", "GR-C1", "F1", "", "prov-other", "provider:x")
    with pytest.raises(BadLine, match="not returnable"):
        await handlers.ship_return(runtime, "o-1", "GR-F2", "F1", "", "prov-wuhan", ACTOR)
    shipped = await handlers.ship_return(runtime, "o-1", "GR-C1", "F1", "SF1", "prov-wuhan", ACTOR)
    assert shipped.stream_id == "part-return-o-1:F1"
    with pytest.raises(NotFound):
        await handlers.receive_return(runtime, "o-1:F1", "", ("midea",), "dispatcher:m")
    assert (await handlers.receive_return(runtime, "o-1:F1", "ok", ("gree",), "dispatcher:d")).version == 2
