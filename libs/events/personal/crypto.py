"""Pure AES-256-GCM sealing of personal fields into a compact, JSON-safe envelope.

An envelope is what an event's data holds instead of the clear values:

    {"pd": 1, "s": "ds_…", "k": 1, "f": {"name": "<b64url>", "phone": "<b64url>", …}}

`pd` is the envelope format, `s` the data subject, `k` the version of the subject's key,
each field a base64url (unpadded) string of a fresh 96-bit nonce followed by the GCM
ciphertext and tag. The associated data of each field is (format, subject, key version,
field name): a ciphertext copied into another subject's envelope, to another key version
or to another field fails authentication instead of showing someone else's value.
A field whose value is None stays None (an absent optional contact is not secret).
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from libs.events.personal.errors import BadEnvelope, TamperedCiphertext

FORMAT = 1
KEY_BYTES = 32
NONCE_BYTES = 12
Envelope = dict[str, Any]


def b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64d(text: str) -> bytes:
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadEnvelope(f"not base64url: {exc}") from None


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def _aad(subject: str, version: int, field: str) -> bytes:
    return f"pd{FORMAT}\x00{subject}\x00{version}\x00{field}".encode()


def seal_with(aead: AESGCM, subject: str, version: int, fields: Mapping[str, str | None]) -> Envelope:
    """Encrypt each field under the subject's key (as an AESGCM of it)."""
    sealed: dict[str, str | None] = {}
    for name, value in fields.items():
        if value is None:
            sealed[name] = None
            continue
        nonce = os.urandom(NONCE_BYTES)
        sealed[name] = b64e(nonce + aead.encrypt(nonce, value.encode(), _aad(subject, version, name)))
    return {"pd": FORMAT, "s": subject, "k": version, "f": sealed}


def open_with(aead: AESGCM, envelope: Envelope) -> dict[str, str | None]:
    """Decrypt every field; TamperedCiphertext when any fails authentication."""
    subject, version, fields = parse_envelope(envelope)
    opened: dict[str, str | None] = {}
    for name, token in fields.items():
        if token is None:
            opened[name] = None
            continue
        raw = b64d(token)
        if len(raw) < NONCE_BYTES + 16:
            raise TamperedCiphertext(f"field {name!r}: too short to be a sealed value")
        try:
            plain = aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(subject, version, name))
        except InvalidTag:
            raise TamperedCiphertext(
                f"field {name!r} of subject {subject} (key v{version}) failed authentication"
            ) from None
        opened[name] = plain.decode()
    return opened


def is_envelope(value: Any) -> bool:
    return isinstance(value, dict) and value.get("pd") == FORMAT and isinstance(value.get("f"), dict)


def parse_envelope(envelope: Any) -> tuple[str, int, dict[str, str | None]]:
    """(subject, key version, sealed fields), or BadEnvelope naming what is wrong."""
    if not isinstance(envelope, dict) or envelope.get("pd") != FORMAT:
        raise BadEnvelope(f"not a sealed envelope of format {FORMAT}")
    subject, version, fields = envelope.get("s"), envelope.get("k"), envelope.get("f")
    if not isinstance(subject, str) or not subject:
        raise BadEnvelope("envelope.s: the subject id is missing")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise BadEnvelope("envelope.k: the key version must be a positive integer")
    if not isinstance(fields, dict) or not all(
        isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in fields.items()
    ):
        raise BadEnvelope("envelope.f: fields must map names to base64url strings or null")
    return subject, version, fields


def wrap_key(master: AESGCM, subject: str, version: int, key: bytes) -> str:
    """A data key encrypted by the master key, bound to its subject and version."""
    nonce = os.urandom(NONCE_BYTES)
    return b64e(nonce + master.encrypt(nonce, key, _aad(subject, version, "#key")))


def unwrap_key(master: AESGCM, subject: str, version: int, wrapped: str) -> bytes:
    raw = b64d(wrapped)
    try:
        return master.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(subject, version, "#key"))
    except InvalidTag:
        raise TamperedCiphertext(
            f"the key of subject {subject} v{version} does not open with this master key"
        ) from None
