"""Principals and API keys: who is calling, in what role, for which party.

Keys are 32 random bytes shown once; only their SHA-256 is stored (a random key needs
no slow hash). A re-key adds a row and revokes the old ones; a revoked row is kept (the
audit trail names it) but never authenticates. Every key change is also a row of
`principal_key_events` (who, when, what; never the key).

Roles (README "Roles"): partner (a dealer's/retailer's system), platform (a complaint
platform; signs with HMAC secrets, see `platform_secrets`), dispatcher / finance /
supervisor (a maker's staff, scoped to one or more makers), provider and technician (a
service provider's staff, technicians optionally linked to an outlet), hotline (a call
centre agent), viewer and operator (read only: a viewer for the makers it is scoped to,
the operator everything), admin (manages principals and reference data), privacy
(reserved for the personal-data requests). No role is admitted everywhere.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Column, Integer, MetaData, String, Table, case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.events.clock import Clock
from libs.events.db import reader
from libs.events.schema import UTCDateTime
from libs.events.sqlutil import upsert

Role = Literal[
    "partner", "platform", "dispatcher", "technician", "finance", "supervisor", "provider", "hotline",
    "viewer", "operator", "admin", "privacy",
]
ROLES: tuple[Role, ...] = (
    "partner", "platform", "dispatcher", "technician", "finance", "supervisor", "provider", "hotline",
    "viewer", "operator", "admin", "privacy",
)
READ_ONLY: frozenset[str] = frozenset({"viewer", "operator"})  # pass GET routes of any rule, never a write
MAKER_STAFF: frozenset[str] = frozenset({"dispatcher", "finance", "supervisor", "viewer"})
PROVIDER_STAFF: frozenset[str] = frozenset({"provider", "technician"})

KEY_CACHE = "principals"  # runtime.state key of the per-process cache of found API keys

metadata = MetaData()
principals = Table(
    "principals",
    metadata,
    Column("key_hash", String(64), primary_key=True),
    Column("id", String(100), nullable=False),
    Column("role", String(20), nullable=False),
    Column("name", String(200), nullable=False),
    Column("party", String(100), nullable=False),  # partner id, provider id or maker id it acts for
    Column("webhook_url", String(500)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("scopes", String(1000)),  # further makers a maker's staff acts for, comma-separated
    Column("outlet_id", String(100)),  # a technician's outlet
    Column("rate_limit", String(100)),  # e.g. "20/second;600/minute"; empty: Settings.rate_limit
    Column("revoked_at", UTCDateTime),
)
key_events = Table(
    "principal_key_events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(130), nullable=False),  # who changed it: "admin:alice", "cli", "demo"
    Column("principal_id", String(100), nullable=False),
    Column("role", String(20), nullable=False),
    Column("action", String(40), nullable=False),  # created | rotated | revoked | secret_added | ...
    Column("fingerprint", String(16), nullable=False),  # first hex digits of the key's hash, or a secret id
)
platform_secret_rows = Table(
    "platform_secrets",
    metadata,
    Column("secret_id", String(32), primary_key=True),
    Column("platform_id", String(100), nullable=False),
    # An HMAC verifier needs the secret itself (a hash cannot check a signature): the
    # database is the trust boundary for these, as for the partners' webhook secrets.
    Column("secret", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("valid_until", UTCDateTime),  # None: current; set: accepted until then (a changeover)
)


@dataclass(frozen=True)
class Principal:
    id: str
    role: str
    name: str
    party: str
    webhook_url: str | None = None
    scopes: tuple[str, ...] = ()
    outlet_id: str | None = None
    rate_limit: str | None = None
    key_hash: str = field(default="", compare=False, repr=False)

    @property
    def actor(self) -> str:
        return f"{self.role}:{self.id}"

    @property
    def parties(self) -> tuple[str, ...]:
        """Every party it acts for: its own and, for maker staff, the further makers."""
        return (self.party, *(s for s in self.scopes if s != self.party))

    @property
    def read_only(self) -> bool:
        return self.role in READ_ONLY


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return f"ak_{secrets.token_urlsafe(32)}"


def _row(row: Any) -> Principal:
    scopes = tuple(s for s in (row["scopes"] or "").split(",") if s)
    return Principal(row["id"], row["role"], row["name"], row["party"], row["webhook_url"], scopes,
                     row["outlet_id"], row["rate_limit"], row["key_hash"])


async def record_key_event(conn: AsyncConnection, clock: Clock, *, actor: str, principal_id: str, role: str,
                           action: str, fingerprint: str) -> None:
    await conn.execute(key_events.insert().values(
        at=clock(), actor=actor, principal_id=principal_id, role=role, action=action,
        fingerprint=fingerprint[:16]))


async def create_principal(
    engine: AsyncEngine, clock: Clock, *, id: str, role: str, name: str, party: str | None = None,
    key: str | None = None, webhook_url: str | None = None, scopes: tuple[str, ...] = (),
    outlet_id: str | None = None, rate_limit: str | None = None, actor: str = "cli",
) -> str:
    """Create (or re-key) a principal; returns the API key, which is never stored."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    key = key or new_key()
    digest = hash_key(key)
    row = {
        "key_hash": digest, "id": id, "role": role, "name": name, "party": party or id,
        "webhook_url": webhook_url, "created_at": clock(), "scopes": ",".join(scopes) or None,
        "outlet_id": outlet_id, "rate_limit": rate_limit, "revoked_at": None,
    }
    async with engine.begin() as conn:
        await upsert(conn, principals, [row], ["key_hash"])
        await record_key_event(conn, clock, actor=actor, principal_id=id, role=role, action="created",
                               fingerprint=digest)
    return key


async def rotate_key(engine: AsyncEngine, clock: Clock, principal_id: str, *, actor: str) -> str | None:
    """A new key for an existing principal; its other keys stop working. None: no such principal."""
    async with engine.begin() as conn:
        query = select(principals).where(principals.c.id == principal_id, principals.c.revoked_at.is_(None))
        current = (await conn.execute(query.order_by(principals.c.created_at.desc()))).mappings().first()
        if current is None:
            return None
        key = new_key()
        digest = hash_key(key)
        await conn.execute(principals.update().where(
            principals.c.id == principal_id, principals.c.revoked_at.is_(None)).values(revoked_at=clock()))
        await conn.execute(principals.insert().values(
            {**dict(current), "key_hash": digest, "created_at": clock(), "revoked_at": None}))
        await record_key_event(conn, clock, actor=actor, principal_id=principal_id, role=current["role"],
                               action="rotated", fingerprint=digest)
    return key


async def revoke(engine: AsyncEngine, clock: Clock, principal_id: str, *, actor: str) -> bool:
    """Revoke every key (and platform secret) of a principal; False: it had none in force."""
    async with engine.begin() as conn:
        live = (principals.c.id == principal_id) & principals.c.revoked_at.is_(None)
        rows = (await conn.execute(select(principals.c.key_hash, principals.c.role).where(live))).all()
        if not rows:
            return False
        await conn.execute(principals.update().where(live).values(revoked_at=clock()))
        now = clock()
        await conn.execute(platform_secret_rows.update().where(
            platform_secret_rows.c.platform_id == principal_id,
            (platform_secret_rows.c.valid_until.is_(None)) | (platform_secret_rows.c.valid_until > now),
        ).values(valid_until=now))
        for digest, role in rows:
            await record_key_event(conn, clock, actor=actor, principal_id=principal_id, role=role,
                                   action="revoked", fingerprint=digest)
    return True


async def list_principals(engine: AsyncEngine) -> list[dict[str, Any]]:
    """Every principal with a key in force, newest key first; no hashes, no keys."""
    async with reader(engine).connect() as conn:
        query = select(principals).where(principals.c.revoked_at.is_(None)).order_by(principals.c.id)
        rows = (await conn.execute(query)).mappings().all()
    seen: dict[str, dict[str, Any]] = {}
    for row in rows:
        p = _row(row)
        entry = seen.setdefault(p.id, {
            "id": p.id, "role": p.role, "name": p.name, "party": p.party, "scopes": list(p.parties),
            "outlet_id": p.outlet_id, "rate_limit": p.rate_limit, "webhook_url": p.webhook_url, "keys": 0,
        })
        entry["keys"] += 1
    return list(seen.values())


async def key_history(engine: AsyncEngine, principal_id: str | None = None) -> list[dict[str, Any]]:
    async with reader(engine).connect() as conn:
        query = select(key_events).order_by(key_events.c.seq)
        if principal_id is not None:
            query = query.where(key_events.c.principal_id == principal_id)
        return [dict(r) for r in (await conn.execute(query)).mappings().all()]


async def add_platform_secret(engine: AsyncEngine, clock: Clock, platform_id: str, *, actor: str,
                              overlap: timedelta = timedelta(hours=24), secret: str | None = None) -> str:
    """A new current HMAC secret; the previous ones stay valid for `overlap` (the changeover)."""
    secret = secret or secrets.token_urlsafe(32)
    secret_id = secrets.token_hex(8)
    now = clock()
    async with engine.begin() as conn:
        await conn.execute(platform_secret_rows.update().where(
            platform_secret_rows.c.platform_id == platform_id, platform_secret_rows.c.valid_until.is_(None),
        ).values(valid_until=now + overlap))
        await conn.execute(platform_secret_rows.insert().values(
            secret_id=secret_id, platform_id=platform_id, secret=secret, created_at=now, valid_until=None))
        await record_key_event(conn, clock, actor=actor, principal_id=platform_id, role="platform",
                               action="secret_added", fingerprint=secret_id)
    return secret


async def platform_secrets(engine: AsyncEngine, platform_id: str, now: datetime) -> list[str]:
    """The HMAC secrets a platform's signature may use now: the current one, and during a
    changeover the previous one (newest first). What the intake service verifies against."""
    async with reader(engine).connect() as conn:
        t = platform_secret_rows
        query = select(t.c.secret).where(
            t.c.platform_id == platform_id, (t.c.valid_until.is_(None)) | (t.c.valid_until > now),
        ).order_by(case((t.c.valid_until.is_(None), 0), else_=1), t.c.valid_until.desc())
        return list((await conn.execute(query)).scalars().all())


async def platform_has_secrets(engine: AsyncEngine, platform_id: str) -> bool:
    """Whether the platform was ever given a secret (then only those count, even all expired)."""
    async with reader(engine).connect() as conn:
        t = platform_secret_rows
        query = select(t.c.secret_id).where(t.c.platform_id == platform_id).limit(1)
        return (await conn.execute(query)).first() is not None


async def last_key_change(engine: AsyncEngine) -> int:
    """The sequence number of the newest key event (0: none): a cheap mark every process polls to
    drop its key cache when any process created, rotated or revoked a key."""
    async with reader(engine).connect() as conn:
        return int((await conn.execute(select(func.coalesce(func.max(key_events.c.seq), 0)))).scalar_one())


async def find_principal(engine: AsyncEngine, key: str) -> Principal | None:
    query = select(principals).where(principals.c.key_hash == hash_key(key), principals.c.revoked_at.is_(None))
    async with reader(engine).connect() as conn:
        row = (await conn.execute(query)).mappings().first()
    return None if row is None else _row(row)


async def webhook_for(engine: AsyncEngine, principal_id: str) -> str | None:
    async with reader(engine).connect() as conn:
        query = select(principals.c.webhook_url).where(principals.c.id == principal_id, principals.c.role == "partner")
        return (await conn.execute(query)).scalars().first()


async def set_webhook(engine: AsyncEngine, principal_id: str, url: str | None) -> None:
    async with engine.begin() as conn:
        await conn.execute(principals.update().where(principals.c.id == principal_id).values(webhook_url=url))


DEMO_PRINCIPALS: list[tuple[str, str, str, str, str]] = [
    # (key, id, role, name, party): only with Settings.demo (make run / make demo), never in a deployment
    ("demo-partner-key", "jd-retail", "partner", "京东家电 (demo partner)", "jd-retail"),
    ("demo-partner2-key", "suning", "partner", "苏宁 (second demo partner)", "suning"),
    ("demo-dispatcher-key", "dispatch-desk", "dispatcher", "Dispatch desk", "gree"),
    ("demo-technician-key", "tech-wh-01", "technician", "李师傅", "prov-wuhan"),
    ("demo-finance-key", "finance-01", "finance", "Finance clerk", "gree"),
    ("demo-supervisor-key", "supervision-01", "supervisor", "监督部", "gree"),
    ("demo-provider-key", "prov-wuhan-staff", "provider", "武汉服务商 staff", "prov-wuhan"),
    ("demo-operator-key", "ops", "operator", "Operator (read only)", "ops"),
    ("demo-viewer-key", "viewer-gree", "viewer", "格力 read-only viewer", "gree"),
    ("demo-hotline-key", "hotline-01", "hotline", "Hotline agent", "gree"),
    ("demo-admin-key", "admin", "admin", "Administrator", "ops"),
]
DEMO_RATE = "none"  # the demo and the benchmarks drive thousands of calls a second through these keys
DEMO_KEY_HASHES = frozenset(hash_key(key) for key, *_ in DEMO_PRINCIPALS)


async def create_demo_principals(engine: AsyncEngine, clock: Clock) -> None:
    for key, id_, role, name, party in DEMO_PRINCIPALS:
        await create_principal(engine, clock, id=id_, role=role, name=name, party=party, key=key, actor="demo",
                               rate_limit=DEMO_RATE)


async def remove_demo_principals(conn: AsyncConnection) -> int:
    """Delete every principal holding a demo key: the published ones and any other created with
    actor "demo" (`make demo` adds more). A deployment once started with DEMO=true must not keep
    them. Returns how many keys went."""
    made = select(key_events.c.fingerprint).where(key_events.c.actor == "demo", key_events.c.action == "created")
    demo = principals.c.key_hash.in_(list(DEMO_KEY_HASHES)) | func.substr(principals.c.key_hash, 1, 16).in_(made)
    result = await conn.execute(principals.delete().where(demo))
    return int(result.rowcount or 0)
