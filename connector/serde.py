"""Serialization contracts between Pulsar payload bytes and the values a PyFlink job handles.

A `DeserializationSchema` turns one payload into one value; a `SerializationSchema` turns one value into one
payload. Both also name the Flink type of the value (`None` means "any Python object", carried pickled),
so the source can declare its output type and downstream operators get typed values.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from pyflink.common import Types
from pyflink.common.typeinfo import TypeInformation


class DeserializationSchema(ABC):
    @abstractmethod
    def deserialize(self, payload: bytes) -> Any:
        """The value of one message; raises on a payload it cannot decode."""

    def produced_type(self) -> TypeInformation | None:
        """The Flink type of what `deserialize` returns, or None for pickled Python objects."""
        return None


class SerializationSchema(ABC):
    @abstractmethod
    def serialize(self, value: Any) -> bytes:
        """The payload for one value."""


class SimpleStringSchema(DeserializationSchema, SerializationSchema):
    """UTF-8 text both ways (the Java connector's `SimpleStringSchema`)."""

    def deserialize(self, payload: bytes) -> str:
        return payload.decode("utf-8")

    def serialize(self, value: str) -> bytes:
        return value.encode("utf-8")

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
