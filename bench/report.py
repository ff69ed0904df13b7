"""Printing benchmark figures the same way everywhere (and saving them as JSON)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


class Report:
    def __init__(self) -> None:
        self.figures: dict[str, dict[str, Any]] = {}
        self.current = ""

    def section(self, name: str, doc: str) -> None:
        self.current = name
        self.figures[name] = {}
        print(f"\n== {name} ==")
        if doc.strip():
            print(doc.strip().splitlines()[0])

    def figure(self, label: str, value: float, unit: str = "", *, baseline: float | None = None,
               target: float | None = None, ratio: float | None = None) -> None:
        """One figure, with its ratio to a baseline measured in the same run and the target ratio
        (`ratio` when it was taken otherwise than value / baseline, e.g. as a median of rounds)."""
        entry: dict[str, Any] = {"value": round(value, 3), "unit": unit}
        text = f"  {label:<58} {value:>12,.1f} {unit}"
        if baseline or ratio is not None:
            ratio = ratio if ratio is not None else value / baseline if baseline else 0.0
            entry["ratio"] = round(ratio, 3)
            text += f"   ratio {ratio:5.2f}x"
            if target is not None:
                entry["target"] = target
                text += f" (target ≥ {target}x: {'met' if ratio >= target else 'NOT met'})"
        self.figures[self.current][label] = entry
        print(text, flush=True)

    def line(self, text: str) -> None:
        print(f"  {text}", flush=True)

    def finish(self) -> None:
        out = Path(os.environ.get("BENCH_OUT", "artifacts/bench.json"))
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(self.figures, indent=2, ensure_ascii=False))
        print(f"\nfigures saved to {out}")
