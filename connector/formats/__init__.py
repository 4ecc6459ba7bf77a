"""Structured payloads as Flink Rows: Avro (fastavro) and JSON, and Pulsar's schema registry."""

from connector.formats.avro import AvroRowSchema
from connector.formats.json import JsonRowSchema
from connector.formats.schema_registry import PulsarSchema, register_schema, schema_from_registry
from connector.formats.types import UnsupportedAvroType

__all__ = ["AvroRowSchema", "JsonRowSchema", "PulsarSchema", "UnsupportedAvroType", "register_schema",
           "schema_from_registry"]
