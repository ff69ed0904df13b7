"""Text a person typed, checked for characters that only ever cause harm.

Refused everywhere: NUL and the other C0 controls, DEL and the C1 controls (U+0080-U+009F:
invisible, and PostgreSQL refuses NUL in text outright), the bidirectional embeddings,
overrides and isolates (U+202A-U+202E, U+2066-U+2069: "Trojan Source", a name that reads
differently than it sorts and matches) and the zero-width characters (U+200B-U+200D, U+2060,
U+FEFF: two names that look alike but differ). Free text may hold newlines and tabs; a name
may not. Use the Annotated types on request models: a refused value is a 422 naming the
field and the character.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

BIDI = frozenset(range(0x202A, 0x202F)) | frozenset(range(0x2066, 0x206A))
ZERO_WIDTH = frozenset({0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF})
FREE_TEXT_CONTROLS = frozenset({0x09, 0x0A})  # tab, newline


def refused(ch: str, allowed: frozenset[int] = frozenset()) -> str | None:
    """Why `ch` may not appear in text (None: it may)."""
    code = ord(ch)
    if code in allowed:
        return None
    if code < 0x20 or code == 0x7F:
        return "a control character"
    if 0x80 <= code <= 0x9F:
        return "a C1 control character"
    if code in BIDI:
        return "a bidirectional override"
    if code in ZERO_WIDTH:
        return "a zero-width character"
    return None


def check_text(value: str, *, multiline: bool = False) -> str:
    """`value` unchanged, or ValueError naming the first refused character and where it is."""
    allowed = FREE_TEXT_CONTROLS if multiline else frozenset()
    for index, ch in enumerate(value):
        why = refused(ch, allowed)
        if why is not None:
            raise ValueError(f"U+{ord(ch):04X} at position {index} is {why}; it is not allowed here")
    return value


def plain_text(value: str) -> str:
    """A name, a reference, a one-line field: no control characters at all."""
    return check_text(value)


def free_text(value: str) -> str:
    """A description or a note: newlines and tabs allowed."""
    return check_text(value, multiline=True)


PlainText = Annotated[str, AfterValidator(plain_text)]
FreeText = Annotated[str, AfterValidator(free_text)]
