"""Certified technicians (seeds 001, 002): the maker's certifications per technician and category."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from libs.events.catalog import CertificationRevoked, TechnicianCertified
from libs.events.command import Committed
from libs.web.auth import Principal
from libs.web.consistency import committed, read_model_at
from libs.web.context import correlation_id
from libs.web.deps import RuntimeDep, require
from libs.web.problems import NotFound
from libs.web.runtime import Runtime
from libs.web.scoping import maker_or_404, maker_scope, provider_scope
from services.dispatch import certifications, reference
from services.dispatch.api.schemas.certifications import (
    CertificationAccepted,
    CertificationPublic,
    CertificationsPublic,
    CertifyIn,
    RevokeIn,
)
from services.dispatch.domain.certification import Certifications, certification_stream

router = APIRouter(prefix="/dispatch", tags=["dispatch: certified technicians"])

Certifier = Annotated[Principal, Depends(require("dispatcher", "supervisor"))]
Reader = Annotated[Principal, Depends(require("dispatcher", "supervisor", "provider", "technician"))]
TECHNICIAN = "/outlets/{outlet_id}/technicians/{technician_id}/certifications"


async def _provider_of(runtime: Runtime, outlet_id: str, technician_id: str) -> str:
    found = await reference.get_outlet(runtime.engine, outlet_id)
    if found is None or found[0].technician(technician_id) is None:
        raise NotFound(f"technician {technician_id} of outlet {outlet_id} not found")
    return found[0].provider_id


def _answer(stream_id: str, done: Committed[Certifications]) -> CertificationAccepted:
    return CertificationAccepted(stream_id=stream_id, version=done.version, events=[e.type for e in done.events],
                                 position=committed(done.position))


@router.post(TECHNICIAN, response_model=CertificationAccepted)
async def certify(outlet_id: str, technician_id: str, body: CertifyIn, runtime: RuntimeDep,
                  principal: Certifier) -> CertificationAccepted:
    """Certify a technician for a product category until `valid_until` (a renewal replaces the day)."""
    maker_or_404(principal, body.maker)
    provider_id = await _provider_of(runtime, outlet_id, technician_id)
    data = TechnicianCertified(maker=body.maker, outlet_id=outlet_id, provider_id=provider_id,
                               technician_id=technician_id, category=body.category, valid_until=body.valid_until,
                               certificate_no=body.certificate_no or "")
    done = await certifications.certify(runtime, data, principal.actor, correlation_id())
    return _answer(certification_stream(body.maker, outlet_id, technician_id), done)


@router.post(TECHNICIAN + "/{category}/revocation", response_model=CertificationAccepted)
async def revoke(outlet_id: str, technician_id: str, category: str, body: RevokeIn, runtime: RuntimeDep,
                 principal: Certifier) -> CertificationAccepted:
    """Withdraw a technician's certification for a category; dispatch refuses it at once."""
    maker_or_404(principal, body.maker)
    await _provider_of(runtime, outlet_id, technician_id)
    data = CertificationRevoked(maker=body.maker, outlet_id=outlet_id, technician_id=technician_id,
                                category=category, reason=body.reason)
    done = await certifications.revoke(runtime, data, principal.actor, correlation_id())
    return _answer(certification_stream(body.maker, outlet_id, technician_id), done)


@router.get("/certifications", response_model=CertificationsPublic,
            dependencies=[read_model_at(certifications.PROJECTION.name)])
async def list_certifications(
    runtime: RuntimeDep, principal: Reader,
    outlet_id: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    expiring_within_days: Annotated[int | None, Query(ge=0, le=3660,
                                                      description="only valid ones ending within N days")] = None,
) -> CertificationsPublic:
    """Certifications of the caller's makers (provider staff: of their provider's technicians), with status today."""
    now = runtime.clock()
    rows = await certifications.listing(runtime.engine, maker_scope(principal), provider_scope(principal), now,
                                        outlet_id, expiring_within_days)
    return CertificationsPublic(as_of=now, certifications=[CertificationPublic.model_validate(r) for r in rows])
