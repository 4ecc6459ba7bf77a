"""Serialization contracts between Pulsar payload bytes and the values a PyFlink job handles.

A `DeserializationSchema` turns one payload into one value; a `SerializationSchema` turns one value into one
payload. Both also name the Flink type of the value (`None` means "any Python object", carried pickled),
so the source can declare its output type and downstream operators get typed values.

A deserializer may return `Records` to emit zero or more records for one message (a change event's rows, nothing
for a tombstone). Optional extensions, with defaults that keep plain schemas working: a deserializer may look at the
whole message
(`deserialize_message`, e.g. its schema version) and at the source's topics and their registered schemas when the
source is built (`bind`); a serializer may name the Pulsar schema of what it writes (`pulsar_schema`), so it can be
registered for Pulsar clients that read with a schema.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulsar
from pyflink.common import Types
from pyflink.common.typeinfo import TypeInformation

from connector.admin import PulsarAdmin


@dataclass(frozen=True)
class PulsarSchema:
    """A schema as Pulsar registers it: its type (AVRO, JSON, STRING, BYTES, ...) and definition text."""

    type: str
    definition: str
    properties: Mapping[str, str] = field(default_factory=dict)


class Records(list):
    """What a deserializer returns to emit zero or more records for one message, in order."""


class DeserializationSchema(ABC):
    @abstractmethod
    def deserialize(self, payload: bytes) -> Any:
        """The value of one message; raises on a payload it cannot decode."""

    def produced_type(self) -> TypeInformation | None:
        """The Flink type of what `deserialize` returns, or None for pickled Python objects."""
        return None

    def is_changelog(self) -> bool:
        """True when its records are Rows with their `RowKind` set (a table reads them as a changelog)."""
        return False

    def deserialize_message(self, message: pulsar.Message) -> Any:
        """The value of one message: `deserialize(message.data())` unless a schema needs more of the message."""
        return self.deserialize(message.data())

    def bind(self, admin: PulsarAdmin, topics: tuple[str, ...]) -> DeserializationSchema:
        """The schema the source will use, given its fixed topics (empty for a topic pattern), at build time.

        A schema that depends on the topics' registered schemas checks them here and raises `ValueError` on a
        mismatch, so it is reported before the job runs. The default returns `self`.
        """
        return self


class SerializationSchema(ABC):
    @abstractmethod
    def serialize(self, value: Any) -> bytes:
        """The payload for one value."""

    def pulsar_schema(self) -> PulsarSchema | None:
        """The Pulsar schema of the payloads, to register for the target topics; None for plain bytes."""
        return None


class SimpleStringSchema(DeserializationSchema, SerializationSchema):
    """UTF-8 text both ways (the Java connector's `SimpleStringSchema`)."""

    def deserialize(self, payload: bytes) -> str:
        return payload.decode("utf-8")

    def serialize(self, value: str) -> bytes:
        return value.encode("utf-8")

    def pulsar_schema(self) -> PulsarSchema:
        return PulsarSchema("STRING", "")

    def produced_type(self) -> TypeInformation:
        return Types.STRING()


class BytesSchema(DeserializationSchema, SerializationSchema):
    """Payload bytes as they are."""

    def deserialize(self, payload: bytes) -> bytes:
        return payload

    def serialize(self, value: bytes) -> bytes:
        return bytes(value)

    def produced_type(self) -> TypeInformation:
        return Types.PRIMITIVE_ARRAY(Types.BYTE())
