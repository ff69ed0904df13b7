"""AsyncAPI 3.0 description of the service-orders topic, generated from the event catalog.

The catalog is the single source of truth; docs/asyncapi.yaml is its printout
(`python -m libs.events.asyncapi > docs/asyncapi.yaml`) and a unit test fails when the
two drift apart, e.g. when an event type is added without regenerating the file.
"""

from __future__ import annotations

import sys
from typing import Any

import yaml
from pydantic.json_schema import models_json_schema

from libs.events import catalog
from libs.events.envelope import SPEC_VERSION
from libs.events.errors import UnknownEventType
from libs.events.kafka import CONTENT_TYPE

TOPIC = "service-orders.v1"
SCHEMA_REF = "#/components/schemas/{model}"


def message_name(type_: str, version: int) -> str:
    return f"{type_}.v{version}"


def catalog_entries() -> list[catalog.EventSpec]:
    """Every (type, schema version) in the catalog, sorted by type then version."""
    entries: list[catalog.EventSpec] = []
    for type_ in catalog.known_types():
        for version in range(1, catalog.latest_version(type_) + 1):
            try:
                entries.append(catalog.spec(type_, version))
            except UnknownEventType:
                continue
    return entries


def _envelope_schema() -> dict[str, Any]:
    """The structured-mode CloudEvent every message carries (see StoredEvent.to_cloudevent)."""
    uuid = {"type": "string", "format": "uuid"}
    stamp = {"type": "string", "format": "date-time"}
    sha = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
    return {
        "type": "object",
        "description": "CloudEvents 1.0 structured mode; the extension attributes carry the store's numbering "
        "and the order's hash chain, so a consumer can verify a history without the store.",
        "required": [
            "specversion", "id", "type", "source", "subject", "time", "datacontenttype", "dataschemaversion",
            "streamversion", "position", "recordedtime", "actor", "correlationid", "prevhash", "hash", "data",
        ],
        "properties": {
            "specversion": {"type": "string", "const": SPEC_VERSION},
            "id": {**uuid, "description": "Event id; a consumer that saw it already ignores it."},
            "type": {"type": "string", "description": "Event type, e.g. order.reported."},
            "source": {"type": "string", "pattern": "^/services/[a-z]+$", "description": "Emitting service."},
            "subject": {"type": "string", "description": "Order id (the stream); also the Kafka key."},
            "time": {**stamp, "description": "When it happened (UTC)."},
            "datacontenttype": {"type": "string", "const": "application/json"},
            "dataschemaversion": {"type": "integer", "minimum": 1, "description": "Schema version of data."},
            "streamversion": {"type": "integer", "minimum": 1, "description": "Version within the order."},
            "position": {"type": "integer", "minimum": 1, "description": "Global position in commit order."},
            "recordedtime": {**stamp, "description": "When the store recorded it (UTC)."},
            "actor": {"type": "string", "description": "Who caused it (user, partner, platform, system)."},
            "correlationid": uuid,
            "causationid": {"anyOf": [uuid, {"type": "null"}]},
            "prevhash": {**sha, "description": "Hash of the previous event of the same order (64 zeros first)."},
            "hash": {**sha, "description": "SHA-256 over prevhash and this event's canonical JSON."},
            "data": {"type": "object"},
        },
    }


def document() -> dict[str, Any]:
    """The AsyncAPI document as plain data (deterministic: same catalog, same document)."""
    entries = catalog_entries()
    models = sorted({e.model for e in entries}, key=lambda m: m.__name__)
    _, defs = models_json_schema([(m, "serialization") for m in models], ref_template=SCHEMA_REF)
    schemas: dict[str, Any] = {"CloudEvent": _envelope_schema(), **dict(sorted(defs.get("$defs", {}).items()))}
    messages: dict[str, Any] = {}
    for entry in entries:
        name = message_name(entry.name, entry.version)
        latest = catalog.latest_version(entry.name) == entry.version
        doc = " ".join((entry.model.__doc__ or "").split())
        messages[name] = {
            "name": name,
            "title": f"{entry.name} (schema version {entry.version})",
            "summary": (doc + " " if doc else "")
            + f"Emitted by: {', '.join(sorted(entry.emitters))}."
            + ("" if latest else " Older version: consumers receive it upcast to the latest one."),
            "contentType": CONTENT_TYPE.decode(),
            "headers": {"$ref": "#/components/schemas/KafkaHeaders"},
            "bindings": {"kafka": {"key": {"type": "string", "description": "Order id (= CloudEvent subject)."}}},
            "payload": {
                "allOf": [
                    {"$ref": "#/components/schemas/CloudEvent"},
                    {
                        "type": "object",
                        "properties": {
                            "type": {"const": entry.name},
                            "dataschemaversion": {"const": entry.version},
                            "source": {"enum": [f"/services/{s}" for s in sorted(entry.emitters)]},
                            "data": {"$ref": SCHEMA_REF.format(model=entry.model.__name__)},
                        },
                    },
                ]
            },
        }
    schemas["KafkaHeaders"] = {
        "type": "object",
        "properties": {
            "content-type": {"type": "string", "const": CONTENT_TYPE.decode()},
        },
    }
    refs = [{"$ref": f"#/channels/serviceOrders/messages/{name}"} for name in messages]
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "After-sales service orders: events",
            "version": "1.0.0",
            "description": "Every committed event of every service order, published by the outbox relay in "
            "commit order, at least once. Keyed by order id, so each order's events stay in order on "
            "one partition. Consumers must ignore event ids they have already applied.\n\n"
            "Generated from libs/events/catalog.py by `python -m libs.events.asyncapi`; do not edit by hand.",
        },
        "defaultContentType": CONTENT_TYPE.decode(),
        "channels": {
            "serviceOrders": {
                "address": TOPIC,
                "title": TOPIC,
                "description": "One topic for all order events (default 6 partitions), key = order id, "
                "value = structured-mode CloudEvent (JSON).",
                "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in messages},
                "bindings": {"kafka": {"topic": TOPIC, "partitions": 6}},
            }
        },
        "operations": {
            "publishServiceOrderEvents": {
                "action": "send",
                "title": "Outbox relay publishes committed events",
                "channel": {"$ref": "#/channels/serviceOrders"},
                "messages": refs,
            },
            "consumeServiceOrderEvents": {
                "action": "receive",
                "title": "Projections consume (one consumer group per read model)",
                "channel": {"$ref": "#/channels/serviceOrders"},
                "messages": refs,
            },
        },
        "components": {"messages": messages, "schemas": schemas},
    }


def render() -> str:
    text: str = yaml.safe_dump(document(), sort_keys=False, allow_unicode=True, width=100)
    return text


def main() -> None:
    sys.stdout.write(render())


if __name__ == "__main__":
    main()
