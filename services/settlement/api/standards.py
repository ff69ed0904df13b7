"""Fee standards API: finance records versions; finance, supervisors and providers read them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from libs.web.auth import Principal
from libs.web.consistency import read_model_at
from libs.web.deps import RuntimeDep, require
from libs.web.problems import Conflict, NotFound
from libs.web.scoping import maker_or_404, maker_scope, provider_scope
from services.settlement import queries
from services.settlement.domain.standards import FeeStandard, FeeStandardCreate
from services.settlement.projection import PROJECTION
from services.settlement.reference import StandardRace, add_standard, find_standard, load_standards

router = APIRouter(tags=["settlement"])
READ_MODEL = read_model_at(PROJECTION.name)  # min_position: read-your-writes
Finance = Annotated[Principal, Depends(require("finance", "admin"))]
Reader = Annotated[Principal, Depends(require("finance", "supervisor", "provider", "admin"))]


def _may_read(principal: Principal, standard: FeeStandard) -> bool:
    """A provider reads the standards it is paid under; finance and supervisors their makers';
    the operator and admin (who manages reference data) every one."""
    if principal.role == "admin":
        return True
    confined = provider_scope(principal)
    if confined is not None:
        return standard.provider_id in (confined, "*")
    makers = maker_scope(principal)
    return makers is None or standard.maker in makers


@router.post("/settlement/standards", status_code=201)
async def create_standard(body: FeeStandardCreate, runtime: RuntimeDep, principal: Finance) -> FeeStandard:
    """Record a new version of a maker's fee standard (versions are never edited)."""
    if principal.role != "admin":
        maker_or_404(principal, body.maker)
    try:
        return await add_standard(runtime.engine, body, runtime.clock, principal.actor)
    except StandardRace as exc:
        raise Conflict(str(exc)) from None


@router.get("/settlement/standards", dependencies=[READ_MODEL])
async def list_standards(
    runtime: RuntimeDep, principal: Reader,
    maker: Annotated[str | None, Query(max_length=100)] = None,
    provider: Annotated[str | None, Query(max_length=100)] = None,
) -> dict[str, Any]:
    """Every version of the fee standards the caller may see, oldest first."""
    found = [s for s in await load_standards(runtime.engine, maker, provider) if _may_read(principal, s)]
    return {"items": [s.model_dump(mode="json") for s in found], "count": len(found)}


@router.get("/settlement/contracts/{standard_id}", dependencies=[READ_MODEL])
async def read_contract(standard_id: str, runtime: RuntimeDep, principal: Reader) -> dict[str, Any]:
    """A lump-sum contract's budget, consumption by settled orders, and the remainder."""
    standard = await find_standard(runtime.engine, standard_id)
    if standard is None or standard.kind != "lump_sum" or not _may_read(principal, standard):
        raise NotFound(f"no lump-sum contract {standard_id}")
    return await queries.contract_consumption(runtime.engine, standard)
