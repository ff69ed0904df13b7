"""The README's "who handles what" table is the one `python -m app.handlers` generates."""

from __future__ import annotations

from pathlib import Path

from app.handlers import table


def test_the_readme_carries_the_generated_table() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert table() in readme
    assert "| `order.reviewed` | quality | intake: intake_orders, notify: notify, quality: quality |" in table()
