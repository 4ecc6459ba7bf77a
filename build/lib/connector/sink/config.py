"""The settings of a built Pulsar sink, shipped (pickled) to every sink subtask."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pyflink.datastream.connectors.base import DeliveryGuarantee

from connector.security import PulsarSecurity
from connector.serde import SerializationSchema
from connector.sink.router import TopicRouter


@dataclass(frozen=True)
class SinkConfig:
    """What `PulsarSinkBuilder.build()` validated. `producer_config` and `client_config` are keyword arguments of
    `pulsar.Client.create_producer` and `pulsar.Client` that the sink does not manage itself."""

    service_url: str
    admin_url: str | None
    topics: tuple[str, ...]
    topic_selector: Callable[[Any], str] | None
    schema: SerializationSchema
    delivery_guarantee: DeliveryGuarantee
    router: TopicRouter
    producer_config: Mapping[str, Any]
    client_config: Mapping[str, Any]
    sink_name: str
    send_timeout_ms: int
    max_pending_messages: int
    security: PulsarSecurity | None = None
