"""The admin API for principals: create, list, rotate and revoke keys; platform HMAC secrets.

Only the `admin` role passes (read-only roles do not even read it: the list names every
party). A key or secret appears once, in the answer that made it; the database keeps the
key's hash (a platform secret must be kept as is, see `auth.platform_secret_rows`). Every
change is a row of `principal_key_events`, readable at /admin/key-events.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from libs.web import auth, ratelimit
from libs.web.auth import Principal
from libs.web.deps import RoleCheck, RuntimeDep, forget_keys
from libs.web.problems import Conflict, NotFound, Unprocessable

ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$"
Admin = Annotated[Principal, Depends(RoleCheck(("admin",), readers=False))]
PrincipalId = Annotated[str, Path(pattern=ID, max_length=100)]
router = APIRouter(prefix="/admin", tags=["admin"])


class PrincipalCreate(BaseModel):
    """Who the key is for. `party`: the maker (maker staff, viewer, hotline), the provider
    (provider staff, technicians) or, for partners and platforms, themselves (the default)."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=ID, max_length=100)
    role: auth.Role
    name: str = Field(min_length=1, max_length=200)
    party: str | None = Field(default=None, pattern=ID, max_length=100)
    makers: list[Annotated[str, Field(pattern=ID, max_length=100)]] = Field(default=[], max_length=50)
    outlet_id: str | None = Field(default=None, pattern=ID, max_length=100)
    webhook_url: str | None = Field(default=None, pattern=r"^https?://", max_length=500)
    rate_limit: str | None = Field(default=None, max_length=100, examples=["20/second;600/minute"])

    @field_validator("rate_limit")
    @classmethod
    def _limit(cls, value: str | None) -> str | None:
        return None if value is None else ratelimit.validate(value)


class KeyIssued(BaseModel):
    id: str
    role: str
    key: str | None = Field(default=None, description="the API key; shown this once")
    secret: str | None = Field(default=None, description="a platform's HMAC secret; shown this once")


class SecretRotation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    overlap_seconds: int = Field(default=86_400, ge=0, le=30 * 86_400,
                                 description="how long the previous secret stays valid")


def _check(body: PrincipalCreate) -> None:
    """The scoping each role needs (ValueError-free: a 422 naming the field)."""
    if body.role in auth.MAKER_STAFF | auth.PROVIDER_STAFF | {"hotline"} and not body.party:
        raise Unprocessable(f"a {body.role} acts for a maker or provider: set party", field="party")
    if body.makers and body.role not in auth.MAKER_STAFF:
        raise Unprocessable("only maker staff (dispatcher, finance, supervisor, viewer) span makers", field="makers")
    if body.outlet_id and body.role != "technician":
        raise Unprocessable("only a technician is linked to an outlet", field="outlet_id")
    if body.webhook_url and body.role != "partner":
        raise Unprocessable("only a partner has a webhook", field="webhook_url")


@router.post("/principals", status_code=201, response_model=KeyIssued)
async def create(body: PrincipalCreate, admin: Admin, runtime: RuntimeDep) -> KeyIssued:
    """A new principal and its first key (and, for a platform, its first HMAC secret)."""
    _check(body)
    if any(p["id"] == body.id for p in await auth.list_principals(runtime.engine)):
        raise Conflict(f"principal {body.id!r} exists; rotate its key instead", field="id")
    key = await auth.create_principal(
        runtime.engine, runtime.clock, id=body.id, role=body.role, name=body.name, party=body.party,
        webhook_url=body.webhook_url, scopes=tuple(body.makers), outlet_id=body.outlet_id,
        rate_limit=body.rate_limit, actor=admin.actor)
    secret = None
    if body.role == "platform":
        secret = await auth.add_platform_secret(runtime.engine, runtime.clock, body.id, actor=admin.actor)
    return KeyIssued(id=body.id, role=body.role, key=key, secret=secret)


@router.get("/principals")
async def list_all(admin: Admin, runtime: RuntimeDep) -> list[dict[str, Any]]:
    """Every principal with a key in force: role, scope, limits; never a key or its hash."""
    return await auth.list_principals(runtime.engine)


@router.post("/principals/{principal_id}/keys", status_code=201, response_model=KeyIssued)
async def rotate(principal_id: PrincipalId, admin: Admin, runtime: RuntimeDep) -> KeyIssued:
    """A new key; the principal's previous keys stop working (here at once, in other
    processes within `key_watch_interval`)."""
    key = await auth.rotate_key(runtime.engine, runtime.clock, principal_id, actor=admin.actor)
    if key is None:
        raise NotFound(f"no principal {principal_id!r} with a key in force")
    forget_keys(runtime)
    role = next(p["role"] for p in await auth.list_principals(runtime.engine) if p["id"] == principal_id)
    return KeyIssued(id=principal_id, role=role, key=key)


@router.delete("/principals/{principal_id}", status_code=204)
async def revoke(principal_id: PrincipalId, admin: Admin, runtime: RuntimeDep) -> Response:
    """Revoke every key and platform secret of the principal."""
    if not await auth.revoke(runtime.engine, runtime.clock, principal_id, actor=admin.actor):
        raise NotFound(f"no principal {principal_id!r} with a key in force")
    forget_keys(runtime)
    return Response(status_code=204)


@router.post("/platforms/{principal_id}/secrets", status_code=201, response_model=KeyIssued)
async def rotate_secret(principal_id: PrincipalId, body: SecretRotation, admin: Admin,
                        runtime: RuntimeDep) -> KeyIssued:
    """A new HMAC secret for a platform; the previous one stays valid for `overlap_seconds`."""
    found = [p for p in await auth.list_principals(runtime.engine) if p["id"] == principal_id]
    if not found or found[0]["role"] != "platform":
        raise NotFound(f"no platform {principal_id!r}")
    secret = await auth.add_platform_secret(runtime.engine, runtime.clock, principal_id, actor=admin.actor,
                                            overlap=timedelta(seconds=body.overlap_seconds))
    return KeyIssued(id=principal_id, role="platform", secret=secret)


@router.get("/key-events")
async def key_events(admin: Admin, runtime: RuntimeDep,
                     principal_id: Annotated[str | None, Query(pattern=ID, max_length=100)] = None,
                     ) -> list[dict[str, Any]]:
    """The audit trail of key changes: who, when, what, a fingerprint; never a key."""
    return await auth.key_history(runtime.engine, principal_id)
