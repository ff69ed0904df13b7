"""Who sees what: a maker's staff their makers' parts, a provider's staff their provider's
outlets (a technician linked to an outlet, that outlet), the operator everything."""

from __future__ import annotations

from libs.web.auth import MAKER_STAFF, PROVIDER_STAFF, Principal
from services.parts.domain.errors import NotFound
from services.parts.queries import Scope


def scope_of(principal: Principal) -> Scope:
    if principal.role in MAKER_STAFF:
        return Scope(makers=principal.parties)
    if principal.role in PROVIDER_STAFF:
        return Scope(provider=principal.party)
    return Scope()


def makers_of(principal: Principal) -> tuple[str, ...] | None:
    return scope_of(principal).makers


def provider_of(principal: Principal) -> str | None:
    return principal.party if principal.role in PROVIDER_STAFF else None


def own_outlet(principal: Principal, outlet_id: str) -> None:
    """A technician linked to an outlet acts only there; any other outlet is not found."""
    if principal.role == "technician" and principal.outlet_id and principal.outlet_id != outlet_id:
        raise NotFound(f"no outlet {outlet_id} for {principal.id}", "outlet_id")
