"""One import run: every record through the real HTTP API, in-process (httpx over ASGI, as the demo).

The same request schemas, use cases and rules as any caller's, so a bad record is refused with
the API's own problem (reported by line and field) and nothing of it is written. What differs:
- the late-entry window is `IMPORT_WINDOW` (400 days back) for this run only (`importing`);
- the callers are principals made for the run, `import-<role>-<party>`, so every event's actor
  says `<role>:import-<role>-<party>`; their keys are revoked when the run ends (audited in the
  key events); every event of a run carries the run's correlation id (printed in the summary);
- resumable: an order is posted under the Idempotency-Key `import:<maker>:<ref>`, and a later
  record of it is skipped when the order's stream already holds its event at the record's time,
  so a run started again appends nothing twice and says at which line it resumed.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from app.importer.records import KINDS, Problem, Record, idempotency_key, problems_of, record, rows
from libs.events.backdating import importing
from libs.events.db import reader
from libs.web.auth import create_principal, new_key, revoke
from libs.web.runtime import Runtime
from services.intake.handlers import policies
from services.intake.projection import orders as intake_orders

Progress = Callable[[int, int], None]


@dataclass
class Summary:
    total: int = 0
    imported: int = 0
    skipped: int = 0  # already there (an earlier run)
    refused: list[Problem] = field(default_factory=list)
    resumed_at: int | None = None  # the first line imported after lines already there
    correlation_id: str = ""

    def lines(self) -> list[str]:
        out = [f"import: {self.imported} imported, {self.skipped} skipped as already there, "
               f"{len({p.line for p in self.refused})} refused, of {self.total} records (correlation id {self.correlation_id})"]
        if self.resumed_at is not None:
            out.append(f"  resumed at line {self.resumed_at}")
        out += [f"  refused: {p}" for p in self.refused]
        return out


class ProgressBar:
    """records done/total and the rate, one line on stderr (rewritten on a terminal, every 10 % otherwise)."""

    def __init__(self, width: int = 30) -> None:
        self.width, self.tty, self.started, self.last = width, sys.stderr.isatty(), time.perf_counter(), -1

    def __call__(self, done: int, total: int) -> None:
        percent = done * 100 // total if total else 100
        if percent == self.last or (not self.tty and percent % 10 and done != total):
            return
        self.last = percent
        rate = done / max(time.perf_counter() - self.started, 1e-6)
        filled = self.width * percent // 100
        line = f"[{'#' * filled}{'.' * (self.width - filled)}] {done}/{total} records {rate:.0f}/s"
        sys.stderr.write(("\r" + line + ("\n" if done == total else "")) if self.tty else line + "\n")
        sys.stderr.flush()


class Importer:
    def __init__(self, client: httpx.AsyncClient, runtime: Runtime, file: str) -> None:
        self.client, self.runtime, self.file = client, runtime, file
        self.cid = str(uuid.uuid4())
        self.keys: dict[tuple[str, str], str] = {}
        self.orders: dict[tuple[str, str], str] = {}  # (maker, ref) -> order id

    async def key(self, role: str, party: str) -> str:
        if (role, party) not in self.keys:
            self.keys[role, party] = await create_principal(
                self.runtime.engine, self.runtime.clock, id=f"import-{role}-{party}"[:100], role=role,
                name=f"history import ({Path(self.file).name})", party=party, key=new_key(), actor=f"import:{self.file}",
                rate_limit="none")  # an operator run of thousands of records
        return self.keys[role, party]

    async def close(self) -> None:
        for role, party in self.keys:
            await revoke(self.runtime.engine, self.runtime.clock, f"import-{role}-{party}"[:100], actor=f"import:{self.file}")

    async def one(self, rec: Record) -> str | list[Problem]:
        """'imported', 'skipped' or the record's problems."""
        spec = KINDS[rec.kind]
        if rec.kind == "order":
            brand = rec.body.get("product", {}).get("brand") if isinstance(rec.body.get("product"), dict) else None
            if isinstance(brand, str) and (owner := policies(self.runtime).maker_for(brand)[0]) != rec.maker:
                return [Problem(rec.line, "product.brand", f"{brand!r} is a brand of {owner!r}, not of {rec.maker!r}")]
            answer = await self.post(rec, spec.path, await self.key("partner", rec.partner),
                                     {"Idempotency-Key": idempotency_key(rec.maker, rec.ref)})
            if isinstance(answer, list):
                return answer
            self.orders[rec.maker, rec.ref] = answer["order_id"]
            return "skipped" if answer.get("replayed") else "imported"
        order_id = self.orders.get((rec.maker, rec.ref)) or await self.imported_before(rec)
        history = await self.runtime.store.read_stream(order_id) if order_id else ()
        first = history[0].data if history else {}
        if first.get("maker") != rec.maker or (rec.partner_given and first.get("partner_id") != rec.partner):
            return [Problem(rec.line, "ref", f"no order {rec.ref!r} of {rec.maker!r} earlier in the file or imported "
                                             "before (or several partners': name the `partner`)")]
        if any(e.type == spec.event and e.occurred_at == rec.at for e in history):
            return "skipped"
        party = rec.maker
        if spec.role == "technician":  # the provider the order was dispatched to
            dispatched = [e for e in history if e.type in ("order.dispatched", "order.reassigned")]
            party = str(dispatched[-1].data["provider_id"]) if dispatched else rec.maker
        answer = await self.post(rec, spec.path.format(order_id=order_id), await self.key(spec.role, party), {})
        return answer if isinstance(answer, list) else "imported"

    async def imported_before(self, rec: Record) -> str | None:
        """The order of `rec.ref` imported for the maker in an earlier file (orders and their later
        steps may come apart); a record naming its `partner` looks only among that partner's."""
        t = intake_orders
        query = select(t.c.order_id).where(t.c.external_ref == rec.ref, t.c.maker == rec.maker, t.c.channel == "partner")
        if rec.partner_given:
            query = query.where(t.c.partner_id == rec.partner)
        async with reader(self.runtime.engine).connect() as conn:
            found = [str(r[0]) for r in (await conn.execute(query.limit(2))).all()]
        if len(found) != 1:  # none, or two partners' orders under one reference: name the partner
            return None
        self.orders[rec.maker, rec.ref] = found[0]
        return found[0]

    async def post(self, rec: Record, path: str, key: str, headers: dict[str, str]) -> dict[str, Any] | list[Problem]:
        response = await self.client.post(path, json=rec.body, headers={
            "Authorization": f"Bearer {key}", "X-Correlation-ID": self.cid, **headers})
        body: Any = response.json() if response.content else {}
        if response.status_code >= 400:
            return problems_of(rec.line, response.status_code, body)
        if response.headers.get("Idempotent-Replayed") == "true":
            body["replayed"] = True
        return body if isinstance(body, dict) else {}


async def import_text(client: httpx.AsyncClient, runtime: Runtime, name: str, text: str, maker: str | None = None,
                      progress: Progress | None = None) -> Summary:
    """Import one file's text (named by `name`: .csv or JSONL) through `client` (the in-process app of `runtime`)."""
    read = list(rows(name, text))
    summary, importer = Summary(total=len(read)), Importer(client, runtime, name)
    summary.correlation_id = importer.cid
    try:
        with importing():
            for done, (number, raw) in enumerate(read, 1):
                rec = raw if isinstance(raw, Problem) else record(number, raw, maker)
                outcome = [rec] if isinstance(rec, Problem) else await importer.one(rec)
                if outcome == "skipped":
                    summary.skipped += 1
                elif outcome == "imported":
                    summary.imported += 1
                    if summary.skipped and summary.resumed_at is None:
                        summary.resumed_at = number
                else:
                    assert isinstance(outcome, list)
                    summary.refused += outcome
                if progress:
                    progress(done, summary.total)
    finally:
        await importer.close()
        await runtime.sync()
    return summary
