"""The data subject: a stable pseudonymous id per maker, derived from the phone number.

Why HMAC and not a hash: a phone number has ~10^10 values, an unkeyed hash of it is
reversed by enumeration in minutes. With a per-deployment secret the id says nothing to
anyone without the secret, yet the same customer of the same maker always gets the same id
(so one erasure or export finds all their orders). Per maker: a customer of two makers is
two subjects, each maker handles its own customers' data (PIPL: each is a handler).
"""

from __future__ import annotations

import hashlib
import hmac
import re

_NOT_DIGIT = re.compile(r"\D")
_SUBJECT = re.compile(r"^ds_[0-9a-f]{32}$")


def normalise_phone(phone: str) -> str:
    """Digits only; a Chinese mobile number loses its +86 / 0086 / 86 prefix, so
    "+86 138-0013-8000", "008613800138000" and "13800138000" are one subject."""
    digits = _NOT_DIGIT.sub("", phone)
    for prefix in ("0086", "86"):
        rest = digits.removeprefix(prefix)
        if rest != digits and len(rest) == 11 and rest.startswith("1"):
            return rest
    return digits


def subject_id(secret: bytes, maker: str, phone: str) -> str:
    """`ds_` + 128 bits of HMAC-SHA256(secret, maker NUL normalised phone), hex."""
    if not secret:
        raise ValueError("the subject secret is empty")
    number = normalise_phone(phone)
    if not number:
        raise ValueError("phone has no digits: no subject can be derived")
    mac = hmac.new(secret, f"{maker}\x00{number}".encode(), hashlib.sha256).hexdigest()
    return "ds_" + mac[:32]


def is_subject_id(value: str) -> bool:
    return bool(_SUBJECT.match(value))
