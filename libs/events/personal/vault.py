"""Seal, open and erase personal fields: the one object services and projections call.

`open` never raises for an erased subject: it returns an `Opened` whose every field is the
erased marker "已删除", the same on every call and in every process, so a projection
rebuilt after an erasure writes exactly what the live one shows after it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events.clock import Clock, system_clock
from libs.events.personal import crypto
from libs.events.personal.crypto import Envelope
from libs.events.personal.errors import BadEnvelope, PersonalConfigError
from libs.events.personal.keys import Erasure, KeyCache, KeyTable
from libs.events.personal.masking import ERASED
from libs.events.personal.subjects import subject_id
from libs.events.settings import Settings

DEMO_SUBJECT_SECRET = b"demo-personal-subject-secret"  # embedded demo only, see PersonalConfig

# The personal fields of order.reported (catalog.Customer). Any other mapping of field
# names seals the same way (a complaint's contact details when the catalog carries them).
CUSTOMER_FIELDS = ("name", "phone", "address", "contact")


@dataclass(frozen=True)
class Opened:
    """Clear values of an envelope, or the erased marker for each of them."""

    subject: str
    fields: Mapping[str, str | None]
    erased: bool

    def __getitem__(self, name: str) -> str | None:
        return self.fields[name]


@dataclass(frozen=True)
class PersonalConfig:
    """The secrets, checked once at start-up."""

    subject_secret: bytes
    master_key: bytes | None

    @classmethod
    def from_settings(cls, settings: Settings) -> PersonalConfig:
        """Outside the embedded demo (demo on, no Kafka) a subject secret must be given:
        a shared default would let anyone holding the code link subjects to phones."""
        secret = settings.personal_subject_secret
        if secret is not None and secret.get_secret_value():
            subject = secret.get_secret_value().encode()
        elif settings.demo and not settings.distributed:
            subject = DEMO_SUBJECT_SECRET
        else:
            raise PersonalConfigError(
                "PERSONAL_SUBJECT_SECRET is required (outside the embedded demo there is no default)"
            )
        master = None
        if settings.personal_master_key is not None:
            master = decode_master_key(settings.personal_master_key.get_secret_value())
        return cls(subject, master)


def decode_master_key(text: str) -> bytes:
    try:
        raw = crypto.b64d(text)
    except BadEnvelope:
        raw = b""
    if len(raw) != crypto.KEY_BYTES:
        raise PersonalConfigError("PERSONAL_MASTER_KEY must be 32 bytes, base64url")
    return raw


class Vault:
    """Personal fields in and out of envelopes, keys from the key table."""

    def __init__(self, keys: KeyTable, subject_secret: bytes) -> None:
        self.keys, self._secret = keys, subject_secret

    @classmethod
    def build(cls, engine: AsyncEngine, config: PersonalConfig, clock: Clock = system_clock,
              cache: KeyCache | None = None) -> Vault:
        return cls(KeyTable(engine, clock, master_key=config.master_key, cache=cache),
                   config.subject_secret)

    def subject(self, maker: str, phone: str) -> str:
        return subject_id(self._secret, maker, phone)

    async def seal(self, fields: Mapping[str, str | None], subject: str) -> Envelope:
        version, key = await self.keys.current(subject)
        return crypto.seal_with(key, subject, version, fields)

    async def open(self, envelope: Envelope) -> Opened:
        subject, version, fields = crypto.parse_envelope(envelope)
        key = await self.keys.key_for(subject, version)
        if key is None:
            return Opened(subject, {k: None if v is None else ERASED for k, v in fields.items()},
                          True)
        return Opened(subject, crypto.open_with(key, envelope), False)

    async def prefetch(self, envelopes: Iterable[Any]) -> None:
        """Warm the key cache for every envelope among `envelopes` (others are ignored)."""
        await self.keys.prefetch({(e["s"], e["k"]) for e in envelopes if crypto.is_envelope(e)})

    async def erase(self, subject: str, actor: str, reason: str) -> Erasure:
        return await self.keys.erase(subject, actor, reason)
