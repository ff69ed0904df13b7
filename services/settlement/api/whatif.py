"""What-if over HTTP: POST a draft fee standard and a period (a job starts), GET polls it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from libs.web.deps import RuntimeDep
from libs.web.problems import Forbidden, NotFound
from libs.web.runtime import Runtime
from libs.web.scoping import maker_scope
from services.settlement.api.queries import Supervision
from services.settlement.whatif import Jobs, WhatIfRequest, draft_standard

router = APIRouter(tags=["history"])


def jobs(runtime: Runtime) -> Jobs:
    found = runtime.state.get("settlement.whatif")
    if not isinstance(found, Jobs):
        found = runtime.state["settlement.whatif"] = Jobs()
    return found


@router.post("/settlement/whatif", status_code=202)
async def start_what_if(
    body: WhatIfRequest, runtime: RuntimeDep, principal: Supervision
) -> JSONResponse:
    """Replay a draft fee standard over a period of repairs (live read models untouched)."""
    own = maker_scope(principal)
    if own is not None and body.draft.maker not in own:
        raise Forbidden(f"{principal.id} may replay only drafts of its own makers")
    draft = draft_standard(body.draft, runtime.clock, principal.actor)
    job = jobs(runtime).start(runtime.store, runtime.engine, body, draft, runtime.clock)
    url = f"/settlement/whatif/{job.id}"
    return JSONResponse(
        jsonable_encoder(job.public() | {"status_url": url}), 202, headers={"Location": url}
    )


@router.get("/settlement/whatif/{job_id}")
async def read_what_if(job_id: str, runtime: RuntimeDep, principal: Supervision) -> dict[str, Any]:
    """The job: state, progress (positions replayed of the head), the difference table once done."""
    job = jobs(runtime).get(job_id)
    own = maker_scope(principal)
    if job is None or (own is not None and job.maker not in own):
        raise NotFound(f"no what-if job {job_id!r}")
    return job.public()
