"""The copy for the person (PIPL art. 45): everything held about one subject, as JSON.

The services pass one callable per kind of record (orders, timelines, reviews, complaints),
each returning JSON-able data about the subject that may hold sealed envelopes anywhere;
every envelope is opened here (an erased one shows "已删除"), so the export is clear text.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from libs.events.clock import iso_utc
from libs.events.personal import crypto
from libs.events.personal.vault import Vault

Source = Callable[[str], Awaitable[Any]]


async def export_subject(vault: Vault, subject: str, sources: Mapping[str, Source]) -> dict[str, Any]:
    """{"subject", "generated_at", "erased", "erasures", "sections": {name: data}}."""
    sections: dict[str, Any] = {}
    for name, source in sources.items():
        sections[name] = await _opened(vault, await source(subject))
    erasures = await vault.keys.erasures(subject)
    return {
        "subject": subject,
        "generated_at": iso_utc(vault.keys.clock()),
        "erased": await vault.keys.is_erased(subject),
        "erasures": [{"at": iso_utc(e.erased_at), "actor": e.actor, "reason": e.reason}
                     for e in erasures],
        "sections": sections,
    }


async def _opened(vault: Vault, value: Any) -> Any:
    if crypto.is_envelope(value):
        return dict((await vault.open(value)).fields)
    if isinstance(value, Mapping):
        return {k: await _opened(vault, v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [await _opened(vault, v) for v in value]
    return value
