"""Principals and API keys: who is calling, in what role, for which party.

Keys are 32 random bytes shown once; only their SHA-256 is stored (a random key needs
no slow hash). Roles: partner (a dealer's/retailer's system), platform (a complaint
platform), dispatcher, technician, finance, supervisor, provider (a service provider's
staff), operator (runs the system).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Column, MetaData, String, Table, select
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events.clock import Clock
from libs.events.db import reader
from libs.events.schema import UTCDateTime
from libs.events.sqlutil import upsert

Role = Literal["partner", "platform", "dispatcher", "technician", "finance", "supervisor", "provider", "operator"]
ROLES: tuple[Role, ...] = (
    "partner", "platform", "dispatcher", "technician", "finance", "supervisor", "provider", "operator",
)

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
)


@dataclass(frozen=True)
class Principal:
    id: str
    role: str
    name: str
    party: str
    webhook_url: str | None = None

    @property
    def actor(self) -> str:
        return f"{self.role}:{self.id}"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create_principal(
    engine: AsyncEngine, clock: Clock, *, id: str, role: str, name: str, party: str | None = None,
    key: str | None = None, webhook_url: str | None = None,
) -> str:
    """Create (or re-key) a principal; returns the API key, which is never stored."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    key = key or f"ak_{secrets.token_urlsafe(32)}"
    row = {
        "key_hash": hash_key(key), "id": id, "role": role, "name": name, "party": party or id,
        "webhook_url": webhook_url, "created_at": clock(),
    }
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
        await upsert(conn, principals, [row], ["key_hash"])
    return key


async def find_principal(engine: AsyncEngine, key: str) -> Principal | None:
    async with reader(engine).connect() as conn:
        row = (await conn.execute(select(principals).where(principals.c.key_hash == hash_key(key)))).mappings().first()
    if row is None:
        return None
    return Principal(row["id"], row["role"], row["name"], row["party"], row["webhook_url"])


async def webhook_for(engine: AsyncEngine, principal_id: str) -> str | None:
    async with reader(engine).connect() as conn:
        query = select(principals.c.webhook_url).where(principals.c.id == principal_id, principals.c.role == "partner")
        return (await conn.execute(query)).scalars().first()


async def set_webhook(engine: AsyncEngine, principal_id: str, url: str | None) -> None:
    async with engine.begin() as conn:
        await conn.execute(principals.update().where(principals.c.id == principal_id).values(webhook_url=url))


DEMO_PRINCIPALS: list[tuple[str, str, str, str, str]] = [
    # (key, id, role, name, party)
    ("demo-partner-key", "jd-retail", "partner", "京东家电 (demo partner)", "jd-retail"),
    ("demo-partner2-key", "suning", "partner", "苏宁 (second demo partner)", "suning"),
    ("demo-dispatcher-key", "dispatch-desk", "dispatcher", "Dispatch desk", "gree"),
    ("demo-technician-key", "tech-wh-01", "technician", "李师傅", "prov-wuhan"),
    ("demo-finance-key", "finance-01", "finance", "Finance clerk", "gree"),
    ("demo-supervisor-key", "supervision-01", "supervisor", "监督部", "gree"),
    ("demo-provider-key", "prov-wuhan-staff", "provider", "武汉服务商 staff", "prov-wuhan"),
    ("demo-operator-key", "ops", "operator", "Operator", "ops"),
]


async def create_demo_principals(engine: AsyncEngine, clock: Clock) -> None:
    for key, id_, role, name, party in DEMO_PRINCIPALS:
        await create_principal(engine, clock, id=id_, role=role, name=name, party=party, key=key)
