"""The receipt signing key, loaded once at start-up from Settings.

Why no default key: a receipt is worth exactly as much as the secrecy of its key, so
outside the embedded demo a missing key is a start-up error. The demo generates one on
first run under ./data (mode 0600) so that `make demo` shows receipts with no setup.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from libs.events.settings import Settings

DEMO_KEY_FILE = Path("data") / "receipt-signing-key.pem"


class SigningKeyError(Exception):
    """No usable receipt signing key (not set, unreadable, or not Ed25519)."""


def signing_key(settings: Settings, demo_file: Path = DEMO_KEY_FILE) -> Ed25519PrivateKey:
    """The key from RECEIPT_SIGNING_KEY (PEM) or RECEIPT_SIGNING_KEY_FILE; in the demo only,
    the one under ./data, generated if absent."""
    if settings.receipt_signing_key is not None:
        pem = settings.receipt_signing_key.get_secret_value().encode()
    elif settings.receipt_signing_key_file:
        try:
            pem = Path(settings.receipt_signing_key_file).read_bytes()
        except OSError as exc:
            raise SigningKeyError(f"RECEIPT_SIGNING_KEY_FILE: {exc}") from exc
    elif settings.demo:
        pem = _demo_pem(demo_file)
    else:
        raise SigningKeyError("set RECEIPT_SIGNING_KEY (PEM) or RECEIPT_SIGNING_KEY_FILE")
    return private_from_pem(pem)


def private_from_pem(pem: bytes) -> Ed25519PrivateKey:
    try:
        key = load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(f"receipt signing key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError("receipt signing key must be Ed25519")
    return key


def public_from_pem(pem: bytes) -> Ed25519PublicKey:
    try:
        key = load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(f"public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError("public key must be Ed25519")
    return key


def private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def _demo_pem(path: Path) -> bytes:
    """Read the demo key, or create it exactly once: written aside, then hard-linked into
    place, which fails if another process got there first (then its key is the one)."""
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = private_pem(Ed25519PrivateKey.generate())
    aside = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    try:
        os.link(aside, path)
    except FileExistsError:
        pem = path.read_bytes()
    finally:
        aside.unlink()
    return pem
