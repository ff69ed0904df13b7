"""docs/asyncapi.yaml is generated from the catalog; these tests catch a stale copy."""

from __future__ import annotations

from pathlib import Path

import yaml

from libs.events import asyncapi, catalog

DOC = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.yaml"


def test_committed_asyncapi_is_up_to_date_with_the_catalog() -> None:
    assert DOC.read_text(encoding="utf-8") == asyncapi.render(), (
        "docs/asyncapi.yaml is stale: run `python -m libs.events.asyncapi > docs/asyncapi.yaml`"
    )


def test_every_type_and_version_has_a_message_with_its_data_schema() -> None:
    doc = yaml.safe_load(asyncapi.render())
    assert doc["asyncapi"].startswith("3.") and doc["channels"]["serviceOrders"]["address"] == "service-orders.v1"
    messages, schemas = doc["components"]["messages"], doc["components"]["schemas"]
    for type_ in catalog.known_types():
        latest = catalog.latest_version(type_)
        assert f"{type_}.v{latest}" in messages
        for version in range(1, latest + 1):
            name = f"{type_}.v{version}"
            if name not in messages:
                continue
            data_ref = messages[name]["payload"]["allOf"][1]["properties"]["data"]["$ref"]
            model = catalog.spec(type_, version).model
            assert data_ref.endswith(f"/{model.__name__}") and model.__name__ in schemas
    listed = {ref["$ref"].rsplit("/", 1)[1] for ref in doc["operations"]["publishServiceOrderEvents"]["messages"]}
    assert listed == set(messages)


def test_references_resolve() -> None:
    doc = yaml.safe_load(asyncapi.render())

    def walk(node: object) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                target: object = doc
                for part in ref.removeprefix("#/").split("/"):
                    assert isinstance(target, dict) and part in target, ref
                    target = target[part]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
