"""A deserializer chosen by a topic's registered schema: the factory above every format, and the placeholder a
builder holds until the broker is checked (`FromRegistry`)."""

from __future__ import annotations

from typing import Any

from connector.admin import PulsarAdmin, PulsarAdminError
from connector.errors import PulsarConfigError
from connector.formats.avro import AvroRowSchema
from connector.formats.json import JsonRowSchema
from connector.formats.protobuf import ProtobufRowSchema
from connector.formats.schema_registry import registered_schema
from connector.serde import BytesSchema, DeserializationSchema, SimpleStringSchema


class FromRegistry(DeserializationSchema):
    """Stands for "the first topic's registered schema" until `bind` looks it up and returns that deserializer."""

    def deserialize(self, payload: bytes) -> Any:
        raise PulsarConfigError("deserializationSchema from the registry was never bound to a topic's schema "
                                "(PulsarSource.check_broker does that)")

    def bind(self, admin: PulsarAdmin, topics: tuple[str, ...]) -> DeserializationSchema:
        if not topics:
            raise PulsarConfigError("deserializationSchema from the registry needs fixed topics (set_topics)")
        try:
            return schema_from_registry(admin, topics[0])
        except PulsarAdminError as error:
            raise PulsarConfigError(f"adminUrl: could not read the registered schema of {topics[0]}: {error}") \
                from None


def schema_from_registry(admin: PulsarAdmin, topic: str) -> DeserializationSchema:
    """A deserializer for what `topic`'s registered schema describes: AVRO -> `AvroRowSchema`, JSON ->
    `JsonRowSchema`, PROTOBUF_NATIVE -> `ProtobufRowSchema`, STRING -> `SimpleStringSchema`, none or BYTES ->
    `BytesSchema`; other types raise `PulsarConfigError`."""
    latest = registered_schema(admin, topic)
    kind = "BYTES" if latest is None else latest.schema.type
    if kind == "AVRO":
        return AvroRowSchema(latest.schema.definition).bind(admin, (topic,))
    if kind == "JSON":
        return JsonRowSchema.from_avro(latest.schema.definition)
    if kind == "PROTOBUF_NATIVE":
        return ProtobufRowSchema.from_definition(latest.schema.definition)
    if kind == "PROTOBUF":
        raise PulsarConfigError(f"topic {topic} has a PROTOBUF schema, which registers an Avro description without "
                                "protobuf field numbers: read it with ProtobufRowSchema(YourMessageClass)")
    if kind == "STRING":
        return SimpleStringSchema()
    if kind == "BYTES":
        return BytesSchema()
    raise PulsarConfigError(f"topic {topic} has a registered schema of type {kind}; "
                            "supported: AVRO, JSON, PROTOBUF_NATIVE, STRING, BYTES")
