"""Structured payloads as Flink Rows: Avro (fastavro), JSON and protobuf, and Pulsar's schema registry."""

from connector.errors import UnsupportedAvroType
from connector.formats.avro import AvroRowSchema
from connector.formats.json import JsonRowSchema
from connector.formats.from_registry import schema_from_registry
from connector.formats.protobuf import ProtobufRowSchema
from connector.formats.schema_registry import register_schema

__all__ = ["AvroRowSchema", "JsonRowSchema", "ProtobufRowSchema", "UnsupportedAvroType", "register_schema",
           "schema_from_registry"]
