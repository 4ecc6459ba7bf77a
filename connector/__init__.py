"""pyflink-pulsar: a pure-Python Apache Pulsar connector for PyFlink 2.x with exactly-once checkpointing."""

from connector.errors import (MessageDecodeError, PulsarAdminError, PulsarAuthenticationError, PulsarConfigError,
                              PulsarConnectorError, PulsarSinkError, PulsarSourceError, SplitReadError,
                              SplitStalledError, UnsupportedAvroType)
from connector.formats import (AvroRowSchema, DebeziumJsonSchema, JsonRowSchema, ProtobufRowSchema,
                               change_topic_columns)
from connector.security import OAuth2ClientCredentials, PulsarSecurity
from connector.serde import (BytesSchema, DeserializationSchema, PulsarSchema, Records, SerializationSchema,
                             SimpleStringSchema)
from connector.sink import DeliveryGuarantee, PulsarMessage, PulsarSink, TopicRoutingMode
from connector.source.bad_message import BadMessagePolicy
from connector.source.builder import PulsarSource, PulsarSourceBuilder
from connector.source.cursor import StartCursor, StopCursor

__all__ = [
    "AvroRowSchema", "BadMessagePolicy", "BytesSchema", "DebeziumJsonSchema", "DeliveryGuarantee",
    "DeserializationSchema",
    "JsonRowSchema", "MessageDecodeError", "OAuth2ClientCredentials", "PulsarAdminError", "PulsarAuthenticationError",
    "PulsarConfigError", "PulsarConnectorError", "PulsarMessage", "PulsarSchema", "PulsarSecurity", "PulsarSink",
    "ProtobufRowSchema", "PulsarSinkError", "PulsarSource", "PulsarSourceBuilder", "PulsarSourceError", "Records",
    "SerializationSchema",
    "SimpleStringSchema", "SplitReadError", "SplitStalledError", "StartCursor", "StopCursor", "TopicRoutingMode",
    "UnsupportedAvroType", "change_topic_columns",
]
