"""Avro payloads <-> Flink Rows, with fastavro; interoperable with Pulsar's `AvroSchema` producers and consumers.

Pulsar's Avro payloads are schemaless Avro binary (no container header, no magic byte); the schema lives in the
topic's schema registry and each message carries the registry version it was written with.

    schema = AvroRowSchema("user.avsc")                   # a path, a JSON string or a dict
    schema = AvroRowSchema.from_registry(PulsarAdmin(admin_url), topic)  # the topic's latest registered Avro schema

Decoding parses every schema once and calls `fastavro.schemaless_reader` with the parsed schema; a record becomes a
`Row` in one pass over its fields (see `connector.formats.types` for the type mapping). When the source is built,
`bind` reads every registered version of the topics' schema and refuses, naming topic and version, one the given
schema cannot read. A message written with another version is decoded with that version as writer schema and
ours as reader schema (Avro schema resolution); a version first seen while running is fetched from the registry.
A payload that does not decode, or leaves bytes over, raises.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import fastavro
import pulsar
from fastavro.schema import to_parsing_canonical_form
from pyflink.common.typeinfo import TypeInformation

from connector.admin import PulsarAdmin
from connector.errors import PulsarAdminError, PulsarConfigError
from connector.formats.compatibility import read_problems
from connector.formats.schema_registry import registered_schema, registered_schemas, version_number
from connector.formats.types import map_avro
from connector.serde import DeserializationSchema, PulsarSchema, SerializationSchema
from connector.topics import full_name, split_partition


class AvroRowSchema(DeserializationSchema, SerializationSchema):
    """Deserializes Avro payloads to Rows (or the mapped value of a non-record schema) and serializes them back."""

    def __init__(self, schema: dict[str, Any] | str | Path) -> None:
        self._raw = _load(schema)
        self._admin: PulsarAdmin | None = None
        # (base topic, registry version) -> parsed codec schema of that writer version; None when it is ours.
        self._writers: dict[tuple[str, int], Any] = {}
        self._prepare()

    @classmethod
    def from_registry(cls, admin: PulsarAdmin, topic: str) -> AvroRowSchema:
        """The latest Avro schema registered for `topic`, bound to the topic's other versions."""
        latest = registered_schema(admin, topic)
        if latest is None or latest.schema.type != "AVRO":
            found = "no schema" if latest is None else f"a {latest.schema.type} schema"
            raise PulsarConfigError(f"topic {topic} has {found} in the schema registry, not an AVRO one")
        return cls(latest.schema.definition).bind(admin, (topic,))

    @property
    def avro_schema(self) -> dict[str, Any] | list | str:
        """The Avro schema as given (JSON-compatible)."""
        return self._raw

    # -- DeserializationSchema ----------------------------------------------------------------------

    def produced_type(self) -> TypeInformation:
        return self._mapping.type_info

    def deserialize(self, payload: bytes) -> Any:
        return self._decode(payload, None)

    def deserialize_message(self, message: pulsar.Message) -> Any:
        version = message.schema_version()
        if not version or self._admin is None:
            return self._decode(message.data(), None)
        return self._decode(message.data(), self._writer(message.topic_name(), version))

    def bind(self, admin: PulsarAdmin, topics: tuple[str, ...]) -> AvroRowSchema:
        """A copy that knows the registered schema versions of `topics`; raises ValueError for one it cannot read."""
        bound = AvroRowSchema(self._raw)
        bound._admin = admin
        bound._writers = dict(self._writers)
        for topic in topics:
            try:
                versions = registered_schemas(admin, topic)
            except PulsarAdminError as error:
                raise PulsarConfigError(
                    f"adminUrl: could not read the registered schemas of {topic}: {error}") from None
            for registered in versions:
                bound._writers[(full_name(topic), registered.version)] = bound._writer_codec(
                    topic, registered.version, registered.schema)
        return bound

    # -- SerializationSchema ------------------------------------------------------------------------

    def serialize(self, value: Any) -> bytes:
        to_avro = self._mapping.to_avro
        buffer = io.BytesIO()
        fastavro.schemaless_writer(buffer, self._codec, value if to_avro is None or value is None else to_avro(value))
        return buffer.getvalue()

    def pulsar_schema(self) -> PulsarSchema:
        return PulsarSchema("AVRO", json.dumps(self._raw))

    # -- internals ----------------------------------------------------------------------------------

    def _prepare(self) -> None:
        self._parsed = fastavro.parse_schema(self._raw)
        self._mapping = map_avro(self._parsed)
        self._codec = fastavro.parse_schema(self._mapping.codec_schema)
        self._to_flink = self._mapping.to_flink

    def _decode(self, payload: bytes, writer: Any) -> Any:
        """`payload` written with the parsed codec schema `writer` (None: with ours), as a Flink value."""
        buffer = io.BytesIO(payload)
        if writer is None:
            record = fastavro.schemaless_reader(buffer, self._codec, None)
        else:
            record = fastavro.schemaless_reader(buffer, writer, self._codec)
        if buffer.tell() != len(payload):
            raise ValueError(f"{len(payload) - buffer.tell()} of {len(payload)} bytes left over after decoding: "
                             f"not written with this schema")
        return record if self._to_flink is None else self._to_flink(record)

    def _writer(self, topic_name: str, message_version: str | bytes) -> Any:
        key = (split_partition(topic_name)[0], version_number(message_version))
        if key not in self._writers:
            topic, version = key
            try:
                registered = registered_schema(self._admin, topic, version)
            except PulsarAdminError as error:
                raise ValueError(f"schema version {version} of {topic} could not be fetched: {error}") from None
            if registered is None:
                raise ValueError(f"schema version {version} of {topic} is not in the schema registry")
            self._writers[key] = self._writer_codec(topic, version, registered.schema)
        return self._writers[key]

    def _writer_codec(self, topic: str, version: int, schema: PulsarSchema) -> Any:
        """The parsed codec schema to decode messages of that version with; None when it is our own schema."""
        if schema.type != "AVRO":
            raise PulsarConfigError(f"topic {topic}: registered schema version {version} is {schema.type}, not AVRO")
        writer = fastavro.parse_schema(json.loads(schema.definition))
        if to_parsing_canonical_form(writer) == to_parsing_canonical_form(self._parsed):
            return None
        problems = read_problems(writer, self._parsed)
        if problems:
            raise PulsarConfigError(f"topic {topic}: registered schema version {version} cannot be read with the "
                                    f"given Avro schema: {'; '.join(problems)}")
        return fastavro.parse_schema(map_avro(writer).codec_schema)

    def __getstate__(self) -> dict[str, Any]:
        # Parsed schemas and converters are rebuilt where the schema is unpickled (they hold closures).
        return {"raw": self._raw, "admin": self._admin, "writers": self._writers}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._raw, self._admin, self._writers = state["raw"], state["admin"], state["writers"]
        self._prepare()


def _load(schema: dict[str, Any] | str | Path) -> Any:
    """A schema given as a dict, a JSON string, or the path of an .avsc file."""
    if isinstance(schema, Path) or (isinstance(schema, str) and not schema.lstrip().startswith(("{", "[", '"'))):
        return json.loads(Path(schema).read_text())
    if isinstance(schema, str):
        return json.loads(schema)
    return schema
