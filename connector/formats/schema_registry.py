"""Pulsar's schema registry, through the admin REST API: read a topic's registered schemas, register ours.

Pulsar keeps one schema history per topic (partitions share it); each message written by a producer that has a
schema carries the version it was written with. Clients that read with a schema (`AvroSchema`, `JsonSchema`, Java's
`Schema.AVRO(...)`) can only subscribe to a topic whose registered schema is compatible, so a sink writing Avro or
JSON for them registers its schema first (`register_schema`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from connector.admin import PulsarAdmin, PulsarAdminError

if TYPE_CHECKING:
    from connector.serde import DeserializationSchema, SerializationSchema


@dataclass(frozen=True)
class PulsarSchema:
    """A schema as Pulsar registers it: its type (AVRO, JSON, STRING, BYTES, ...) and definition text."""

    type: str
    definition: str
    properties: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RegisteredSchema:
    version: int
    schema: PulsarSchema


def registered_schemas(admin: PulsarAdmin, topic: str) -> list[RegisteredSchema]:
    """Every registered version of `topic`'s schema, oldest first; empty when it has none."""
    return [_registered(body) for body in admin.get_schemas(topic)]


def registered_schema(admin: PulsarAdmin, topic: str, version: int | None = None) -> RegisteredSchema | None:
    """The latest (or the given) version of `topic`'s schema, or None."""
    body = admin.get_schema(topic, version)
    return None if body is None else _registered(body)


def version_number(message_version: str | bytes) -> int | None:
    """The schema version a message carries (8 big-endian bytes; the client returns them as str), or None."""
    if not message_version:
        return None
    raw = message_version.encode("latin-1") if isinstance(message_version, str) else message_version
    return int.from_bytes(raw, "big")


def register_schema(admin: PulsarAdmin, topics: Iterable[str], schema: SerializationSchema) -> None:
    """The sink's hook: register `schema.pulsar_schema()` for each topic (nothing for plain bytes).

    Raises `ValueError` naming the topic when the broker refuses it (incompatible with the registered schema).
    """
    pulsar_schema = schema.pulsar_schema()
    if pulsar_schema is None:
        return
    for topic in topics:
        try:
            admin.post_schema(topic, pulsar_schema.type, pulsar_schema.definition, dict(pulsar_schema.properties))
        except PulsarAdminError as error:
            raise ValueError(f"topics: registering the {pulsar_schema.type} schema of {type(schema).__name__} "
                             f"for {topic} failed: {error}") from None


def schema_from_registry(admin: PulsarAdmin, topic: str) -> DeserializationSchema:
    """A deserializer for what `topic`'s registered schema describes: AVRO -> `AvroRowSchema`, JSON ->
    `JsonRowSchema`, STRING -> `SimpleStringSchema`, none or BYTES -> `BytesSchema`; other types raise ValueError."""
    from connector.formats.avro import AvroRowSchema
    from connector.formats.json import JsonRowSchema
    from connector.serde import BytesSchema, SimpleStringSchema

    latest = registered_schema(admin, topic)
    kind = "BYTES" if latest is None else latest.schema.type
    if kind == "AVRO":
        return AvroRowSchema(latest.schema.definition).bind(admin, (topic,))
    if kind == "JSON":
        return JsonRowSchema.from_avro(latest.schema.definition)
    if kind == "STRING":
        return SimpleStringSchema()
    if kind == "BYTES":
        return BytesSchema()
    raise ValueError(f"topic {topic} has a registered schema of type {kind}; supported: AVRO, JSON, STRING, BYTES")


def _registered(body: dict) -> RegisteredSchema:
    return RegisteredSchema(int(body["version"]),
                            PulsarSchema(body["type"], body.get("data") or "", body.get("properties") or {}))
