"""pyflink-pulsar: a pure-Python Apache Pulsar connector for PyFlink 2.x with exactly-once checkpointing."""

from connector.serde import BytesSchema, DeserializationSchema, SerializationSchema, SimpleStringSchema
from connector.source.builder import PulsarSource, PulsarSourceBuilder
from connector.source.cursor import StartCursor, StopCursor

__all__ = [
    "BytesSchema", "DeserializationSchema", "PulsarSource", "PulsarSourceBuilder", "SerializationSchema",
    "SimpleStringSchema", "StartCursor", "StopCursor",
]
