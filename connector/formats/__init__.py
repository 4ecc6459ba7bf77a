"""Structured payloads as Flink Rows: Avro (fastavro), JSON and protobuf, and Pulsar's schema registry; Debezium change
events as changelog Rows."""

from connector.errors import UnsupportedAvroType
from connector.formats.avro import AvroRowSchema
from connector.formats.debezium import DebeziumJsonSchema
from connector.formats.debezium_columns import change_topic_columns
from connector.formats.json import JsonRowSchema
from connector.formats.from_registry import schema_from_registry
from connector.formats.protobuf import ProtobufRowSchema
from connector.formats.schema_registry import register_schema

__all__ = ["AvroRowSchema", "DebeziumJsonSchema", "JsonRowSchema", "ProtobufRowSchema", "UnsupportedAvroType",
           "change_topic_columns", "register_schema", "schema_from_registry"]
