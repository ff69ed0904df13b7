"""The OpenAPI document describes what the API really answers (libs/web/openapi.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, FastAPI
from pydantic import BaseModel

from app.main import create_app
from libs.events.settings import Settings
from libs.web.app import build_app
from libs.web.auth import Principal
from libs.web.deps import require
from libs.web.runtime import ServiceSpec

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path_factory.mktemp('oa') / 'x.db'}"))
    return app.openapi()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m.upper(), p, op) for p, ops in document["paths"].items() for m, op in ops.items()]


def test_every_error_response_is_the_problem_schema(document: dict[str, Any]) -> None:
    assert len(operations(document)) >= 49
    for method, path, op in operations(document):
        errors = {s: r for s, r in op["responses"].items() if int(s) >= 400}
        assert errors or path == "/healthz", f"{method} {path} documents no error"
        for status, response in errors.items():
            assert response["content"] == PROBLEM, f"{method} {path} {status}"
    text = json.dumps(document)
    assert "HTTPValidationError" not in text and '"ValidationError"' not in text
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status"}
    assert {"detail", "instance", "errors", "correlation_id"} <= set(problem["properties"])


def test_statuses_follow_what_each_operation_can_do(document: dict[str, Any]) -> None:
    for method, path, op in operations(document):
        codes = set(op["responses"])
        secured = op.get("security", [])
        if method in ("POST", "PUT", "PATCH", "DELETE"):
            assert "409" in codes, f"{method} {path}"
        if "requestBody" in op:
            assert {"413", "422"} <= codes, f"{method} {path}"
        if "{" in path:
            assert {"404", "422"} <= codes, f"{method} {path}"
        if {"bearerAuth": []} in secured:
            assert {"401", "403", "503"} <= codes, f"{method} {path}"
        if path not in ("/healthz", "/readyz", "/ops/projections"):
            assert secured, f"{method} {path} needs a key or a signature but says nothing"
    assert document["paths"]["/orders"]["post"]["security"] == [{"bearerAuth": []}]


def test_security_schemes_name_bearer_and_the_platform_signature(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    headers = {s["name"] for s in schemes.values() if s["type"] == "apiKey"}
    assert headers == {"X-Signature", "X-Timestamp", "X-Nonce"}
    report = document["paths"]["/platform/reports"]["post"]
    assert report["security"] == [{"platformSignature": [], "platformTimestamp": [], "platformNonce": []}]
    assert "401" in report["responses"] and "bearerAuth" not in json.dumps(report["security"])
    assert not any(p["in"] == "header" and p["name"].lower() == "x-signature" for p in report.get("parameters", []))


class Thing(BaseModel):
    name: str


Supervisor = Annotated[Principal, Depends(require("supervisor"))]


def test_a_route_added_later_is_described_by_the_same_rules(tmp_path: Path) -> None:
    later = APIRouter()

    @later.put("/things/{thing_id}")
    async def put_thing(thing_id: str, body: Thing, who: Supervisor) -> Thing:
        return body

    @later.get("/version")
    async def version() -> dict[str, str]:
        return {"version": "1"}

    app: FastAPI = build_app(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}"),
                             [ServiceSpec(name="later", router=later)])
    doc = app.openapi()
    put = doc["paths"]["/things/{thing_id}"]["put"]
    assert set(put["responses"]) == {"200", "401", "403", "404", "409", "413", "422", "503"}
    assert put["security"] == [{"bearerAuth": []}]
    assert all(put["responses"][s]["content"] == PROBLEM for s in put["responses"] if s != "200")
    plain = doc["paths"]["/version"]["get"]
    assert set(plain["responses"]) == {"200"} and "security" not in plain
