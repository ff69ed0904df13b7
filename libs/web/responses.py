"""JSON responses for hot routes: plain data rendered once with orjson.

A route that returns a pydantic model under `response_model` has it validated again and
then serialised by FastAPI; a route whose data is already checked (built from validated
models) can return `json_response(...)` instead and keep `response_model` for the
OpenAPI document only. orjson writes what the stdlib would with `ensure_ascii=False`
and no spaces, several times faster.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

MEDIA_TYPE = "application/json"


def json_response(content: Any, status_code: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(orjson.dumps(content), status_code=status_code, headers=headers, media_type=MEDIA_TYPE)
