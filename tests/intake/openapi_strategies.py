"""Hypothesis strategies from the app's own OpenAPI document (a small schemathesis).

Covers what intake's schemas use: $ref, anyOf, object (required, additionalProperties),
string (length, pattern, enum, date and date-time formats), integer, boolean, array.
`invalid_variants` derives bodies the contract forbids, so a test can require a 4xx.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from hypothesis import strategies as st

Schema = dict[str, Any]


class FromOpenApi:
    def __init__(self, document: Schema) -> None:
        self.document = document

    def resolve(self, schema: Schema) -> Schema:
        while "$ref" in schema:
            node: Any = self.document
            for part in schema["$ref"].removeprefix("#/").split("/"):
                node = node[part]
            schema = node
        return schema

    def body(self, path: str, method: str = "post") -> Schema:
        content = self.document["paths"][path][method]["requestBody"]["content"]["application/json"]
        return self.resolve(content["schema"])

    def values(self, schema: Schema) -> st.SearchStrategy[Any]:
        """Values the schema allows (the server may still refuse some on rules JSON Schema cannot say)."""
        schema = self.resolve(schema)
        if "anyOf" in schema:
            return st.one_of(*(self.values(s) for s in schema["anyOf"]))
        if "enum" in schema:
            return st.sampled_from(schema["enum"])
        if "const" in schema:
            return st.just(schema["const"])
        kind = schema.get("type")
        if kind == "object":
            return self._object(schema)
        if kind == "array":
            return st.lists(self.values(schema.get("items", {})), max_size=schema.get("maxItems", 5))
        if kind == "integer":
            return st.integers(int(schema.get("minimum", -(10**6))), int(schema.get("maximum", 10**6)))
        if kind == "boolean":
            return st.booleans()
        if kind == "null":
            return st.none()
        if kind == "string":
            return self._string(schema)
        return st.just(None)

    def _object(self, schema: Schema) -> st.SearchStrategy[dict[str, Any]]:
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        return st.fixed_dictionaries(
            {k: self.values(v) for k, v in props.items() if k in required},
            optional={k: self.values(v) for k, v in props.items() if k not in required},
        )

    @staticmethod
    def _string(schema: Schema) -> st.SearchStrategy[str]:
        low, high = schema.get("minLength", 0), schema.get("maxLength", 200)
        if schema.get("format") == "date":
            return st.dates(date(1990, 1, 1), date(2030, 12, 31)).map(date.isoformat)
        if schema.get("format") == "date-time":
            return st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1), timezones=st.just(UTC)).map(
                datetime.isoformat)
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True).filter(lambda s: low <= len(s) <= high)
        return st.text(min_size=low, max_size=high)


def invalid_variants(body: dict[str, Any], schema: Schema, api: FromOpenApi) -> list[tuple[str, Any]]:
    """Bodies the schema forbids, derived from a valid one: (what was broken, the body)."""
    out: list[tuple[str, Any]] = [("unknown field", {**body, "unexpected_field": 1}), ("not an object", [body])]
    for name in schema.get("required", []):
        out.append((f"missing {name}", {k: v for k, v in body.items() if k != name}))
        out.append((f"{name} of the wrong type", {**body, name: {"nested": True}}))
    for name, sub in schema.get("properties", {}).items():
        sub = api.resolve(sub)
        if sub.get("type") == "object" and isinstance(body.get(name), dict):
            for what, nested in invalid_variants(body[name], sub, api):
                if what != "not an object":
                    out.append((f"{name}: {what}", {**body, name: nested}))
        if sub.get("type") == "string" and "maxLength" in sub:
            out.append((f"{name} too long", {**body, name: "x" * (sub["maxLength"] + 1)}))
    return out


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()
