"""`python -m app.handlers`: who emits and who handles each event type, as a Markdown table.

Generated from the catalog (allowed emitters) and the services' projections (their
handler tables), so the README's copy can be checked against the code
(tests/unit/test_handlers_table.py).
"""

from __future__ import annotations

from app.main import ALL
from libs.events import catalog


def table() -> str:
    rows = ["| event type | emitted by | handled by (service: read model) |", "|---|---|---|"]
    for type_ in catalog.known_types():
        emitters = sorted(catalog.spec(type_, catalog.latest_version(type_)).emitters)
        handlers = sorted(
            f"{service.name}: {projection.name}"
            for service in ALL.values()
            for projection in service.projections
            if type_ in projection.handlers
        )
        rows.append(f"| `{type_}` | {', '.join(emitters)} | {', '.join(handlers) or '—'} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(table(), end="")
