"""A Pulsar sink for PyFlink DataStreams: `PulsarSink.builder()...build().sink_to(stream)`."""

from pyflink.datastream.connectors.base import DeliveryGuarantee

from connector.errors import PulsarSinkError
from connector.sink.builder import PulsarSink, PulsarSinkBuilder
from connector.sink.message import PulsarMessage
from connector.sink.router import KeyHashTopicRouter, RoundRobinTopicRouter, TopicRouter, TopicRoutingMode

__all__ = ["DeliveryGuarantee", "KeyHashTopicRouter", "PulsarMessage", "PulsarSink", "PulsarSinkBuilder",
           "PulsarSinkError", "RoundRobinTopicRouter", "TopicRouter", "TopicRoutingMode"]
