"""Service feeds sales (seed 003): the maker's lead routing table, its leads and their conversion.

Who works leads: the maker's dispatch desk (role dispatcher: the seed's 负责客户管理的人员, who
classify and hand leads to stores and departments) sets the table and records contact, won and
lost; supervisors read (the table too); provider staff read their own technicians' leads.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from libs.events.bounds import Month
from libs.events.catalog import LeadContacted, LeadLost, LeadRule, LeadRulesSet, LeadWon
from libs.events.chinatime import month_end, month_start
from libs.events.command import Committed
from libs.web.auth import Principal
from libs.web.consistency import committed, read_model_at
from libs.web.context import correlation_id
from libs.web.deps import RuntimeDep, require
from libs.web.runtime import Runtime
from libs.web.scoping import maker_or_404, maker_scope, provider_scope, sees, visible_or_404
from services.dispatch import leads
from services.dispatch.api.schemas.leads import (
    ContactIn,
    ConversionPublic,
    LeadAccepted,
    LeadPublic,
    LeadRulesIn,
    LeadRulesPublic,
    LeadsPublic,
    LostIn,
    OutletConversion,
    TechnicianConversion,
    WonIn,
)
from services.dispatch.domain.leads import Contact, Lead, LeadCommand, Lose, Win, lead_stream, rules_stream

router = APIRouter(prefix="/dispatch", tags=["dispatch: sales leads"])
READ_MODEL = read_model_at(leads.PROJECTION.name)

Worker = Annotated[Principal, Depends(require("dispatcher"))]
Reader = Annotated[Principal, Depends(require("dispatcher", "supervisor", "provider", "technician"))]
DeskReader = Annotated[Principal, Depends(require("dispatcher", "supervisor"))]
Status = Annotated[str | None, Query(pattern="^(open|contacted|won|lost)$")]
Filter = Annotated[str | None, Query(min_length=1, max_length=100)]


def _rules_public(table: LeadRulesSet, version: int, position: int | None = None) -> LeadRulesPublic:
    return LeadRulesPublic.model_validate({**table.model_dump(mode="json"), "version": version, "position": position})


@router.put("/lead-rules/{maker}", response_model=LeadRulesPublic)
async def set_rules(maker: str, body: LeadRulesIn, runtime: RuntimeDep, principal: Worker) -> LeadRulesPublic:
    """Set the maker's lead routing table (keywords → category → store/department) for leads opened from now on."""
    maker_or_404(principal, maker)
    table = LeadRulesSet(maker=maker, default_route=body.default_route, default_kind=body.default_kind,
                         rules=[LeadRule(**r.model_dump()) for r in body.rules])
    done = await leads.set_table(runtime, table, principal.actor, correlation_id())
    return _rules_public(table, done.version, committed(done.position))


@router.get("/lead-rules/{maker}", response_model=LeadRulesPublic)
async def get_rules(maker: str, runtime: RuntimeDep, principal: DeskReader) -> LeadRulesPublic:
    """The maker's lead routing table in force (version 0: the built-in default after seed 003)."""
    maker_or_404(principal, maker)
    return _rules_public(*await leads.table_of(runtime.store, maker))


@router.get("/leads", response_model=LeadsPublic, dependencies=[READ_MODEL])
async def list_leads(runtime: RuntimeDep, principal: Reader, status: Status = None, outlet_id: Filter = None,
                     technician_id: Filter = None, category: Filter = None,
                     month: Annotated[Month | None, Query(description="noted in YYYY-MM, China time")] = None,
                     ) -> LeadsPublic:
    """The caller's leads, newest first (at most 500)."""
    span = (month_start(month), month_end(month)) if month else (None, None)
    rows = await leads.listing(runtime.engine, maker_scope(principal), provider_scope(principal), {
        "status": status, "outlet_id": outlet_id, "technician_id": technician_id, "category": category}, *span)
    return LeadsPublic(leads=[LeadPublic.model_validate(r) for r in rows])


@router.get("/leads/conversion", response_model=ConversionPublic, dependencies=[READ_MODEL])
async def conversion(runtime: RuntimeDep, principal: Reader,
                     month: Annotated[Month | None, Query(description="noted in YYYY-MM, China time")] = None,
                     ) -> ConversionPublic:
    """Leads and conversion (won / leads) per outlet and per technician."""
    since, until = (month_start(month), month_end(month)) if month else (None, None)
    rows = await leads.listing(runtime.engine, maker_scope(principal), provider_scope(principal), {}, since, until,
                               limit=1_000_000)
    return ConversionPublic(
        month=month,
        outlets=[OutletConversion.model_validate(g) for g in leads.tally(rows, ("outlet_id",))],
        technicians=[TechnicianConversion.model_validate(g) for g in leads.tally(rows, ("outlet_id", "technician_id"))],
    )


@router.get("/leads/{order_id}", response_model=LeadPublic, dependencies=[READ_MODEL])
async def get_lead(order_id: str, runtime: RuntimeDep, principal: Reader) -> LeadPublic:
    """One lead (its order's id)."""
    row = await leads.one(runtime.engine, order_id)
    allowed = row is not None and sees(principal, maker=row["maker"], provider=row["provider_id"])
    return LeadPublic.model_validate(visible_or_404(row, allowed, f"lead {order_id}"))


async def _work(runtime: Runtime, order_id: str, principal: Principal, command: LeadCommand) -> LeadAccepted:
    state: Lead = await leads.load_lead(runtime.store, order_id)
    opened = state.opened
    visible_or_404(opened, opened is not None and sees(principal, maker=opened.maker), f"lead {order_id}")
    done: Committed[Lead] = await leads.work(runtime, order_id, command, principal.actor, correlation_id())
    return LeadAccepted(stream_id=lead_stream(order_id), version=done.version, events=[e.type for e in done.events],
                        position=committed(done.position))


@router.post("/leads/{order_id}/contacted", response_model=LeadAccepted)
async def contacted(order_id: str, body: ContactIn, runtime: RuntimeDep, principal: Worker) -> LeadAccepted:
    """Record a contact with the customer about the lead."""
    return await _work(runtime, order_id, principal, Contact(LeadContacted(note=body.note)))


@router.post("/leads/{order_id}/won", response_model=LeadAccepted)
async def won(order_id: str, body: WonIn, runtime: RuntimeDep, principal: Worker) -> LeadAccepted:
    """The lead became a sale (optionally with its value in fen); final."""
    return await _work(runtime, order_id, principal, Win(LeadWon(amount_fen=body.amount_fen, note=body.note)))


@router.post("/leads/{order_id}/lost", response_model=LeadAccepted)
async def lost(order_id: str, body: LostIn, runtime: RuntimeDep, principal: Worker) -> LeadAccepted:
    """The lead came to nothing, with the reason; final."""
    return await _work(runtime, order_id, principal, Lose(LeadLost(reason=body.reason)))


__all__ = ["router", "rules_stream"]
