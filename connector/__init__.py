"""pyflink-pulsar: a pure-Python Apache Pulsar connector for PyFlink 2.x with exactly-once checkpointing."""

from connector.formats import AvroRowSchema, JsonRowSchema
from connector.security import OAuth2ClientCredentials, PulsarSecurity
from connector.serde import BytesSchema, DeserializationSchema, SerializationSchema, SimpleStringSchema
from connector.sink import DeliveryGuarantee, PulsarMessage, PulsarSink, TopicRoutingMode
from connector.source.bad_message import BadMessagePolicy
from connector.source.builder import PulsarSource, PulsarSourceBuilder
from connector.source.cursor import StartCursor, StopCursor

__all__ = [
    "AvroRowSchema", "BadMessagePolicy", "BytesSchema", "DeliveryGuarantee", "DeserializationSchema",
    "JsonRowSchema", "OAuth2ClientCredentials", "PulsarMessage", "PulsarSecurity", "PulsarSink", "PulsarSource",
    "PulsarSourceBuilder", "SerializationSchema", "SimpleStringSchema", "StartCursor", "StopCursor",
    "TopicRoutingMode",
]
