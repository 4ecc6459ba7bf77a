"""Pulsar's schema registry, through the admin REST API: read a topic's registered schemas, register ours.

Pulsar keeps one schema history per topic (partitions share it); each message written by a producer that has a
schema carries the version it was written with. Clients that read with a schema (`AvroSchema`, `JsonSchema`, Java's
`Schema.AVRO(...)`) can only subscribe to a topic whose registered schema is compatible, so a sink writing Avro or
JSON for them registers its schema first (`register_schema`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from connector.admin import PulsarAdmin
from connector.errors import PulsarAdminError, PulsarConfigError
from connector.serde import PulsarSchema, SerializationSchema


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
            raise PulsarConfigError(f"topics: registering the {pulsar_schema.type} schema of {type(schema).__name__} "
                                    f"for {topic} failed: {error}") from None


def _registered(body: dict) -> RegisteredSchema:
    return RegisteredSchema(int(body["version"]),
                            PulsarSchema(body["type"], body.get("data") or "", body.get("properties") or {}))
