"""Tenant scoping: which makers' and providers' objects a principal may read.

One rule in every service: another tenant's object is answered 404, exactly as a missing
one, so an answer never confirms that it exists nor names its owner. The tenants:

- maker staff (dispatcher, finance, supervisor, hotline, viewer) act for their makers
  (`Principal.parties`: the party and its further scopes);
- provider staff (provider, technician) for their provider;
- partners and platforms for themselves (the intake service scopes those by reporter);
- the operator is the one global reader (read only: the kernel refuses its writes);
- admin manages principals and reference data and reads no tenant's orders.
"""

from __future__ import annotations

from typing import TypeVar

from libs.web.auth import PROVIDER_STAFF, Principal
from libs.web.problems import NotFound

GLOBAL_READERS = frozenset({"operator"})
MAKER_ROLES = frozenset({"dispatcher", "finance", "supervisor", "hotline", "viewer"})

T = TypeVar("T")


def maker_scope(principal: Principal) -> tuple[str, ...] | None:
    """The makers whose data a list or report may show; None: no maker filter (the global
    reader, and provider staff, whose filter is their provider: `provider_scope`)."""
    if principal.role in GLOBAL_READERS or principal.role in PROVIDER_STAFF:
        return None
    if principal.role in MAKER_ROLES:
        return principal.parties
    return ()  # partners, platforms, admin: no maker's data


def provider_scope(principal: Principal) -> str | None:
    """The provider a provider's staff is confined to; None for everyone else."""
    return principal.party if principal.role in PROVIDER_STAFF else None


def sees(principal: Principal, *, maker: str | None = None, provider: str | None = None) -> bool:
    """Whether the principal may read an object of this maker (and, for provider staff, this
    provider). An object with neither is nobody's but the global reader's."""
    if principal.role in GLOBAL_READERS:
        return True
    if principal.role in PROVIDER_STAFF:
        return provider is not None and provider == principal.party
    makers = maker_scope(principal)
    return maker is not None and makers is not None and maker in makers


def visible_or_404(item: T | None, allowed: bool, what: str) -> T:
    """The item, if it exists and the caller may read it; otherwise the same 404 either way."""
    if item is None or not allowed:
        raise NotFound(f"{what} not found")
    return item


def maker_or_404(principal: Principal, maker: str, what: str = "maker") -> str:
    """A maker named in a path or query, if the caller acts for it (else 404, as unknown)."""
    makers = maker_scope(principal)
    return visible_or_404(maker, makers is None or maker in makers, f"{what} {maker!r}")
