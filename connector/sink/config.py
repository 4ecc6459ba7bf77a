"""The settings of a built Pulsar sink, shipped (pickled) to every sink subtask."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulsar
from pyflink.datastream.connectors.base import DeliveryGuarantee

from connector.security import PulsarSecurity
from connector.serde import SerializationSchema
from connector.sink.router import TopicRouter

_PRODUCER_DEFAULTS = inspect.signature(pulsar.Client.create_producer).parameters
BATCH_LIMIT_OPTIONS = ("batching_max_messages", "batching_max_allowed_size_in_bytes")
"""The producer settings that end a batch by size; unset, pulsar-client's defaults (1000 messages, 128 KB)."""
MAX_PENDING_MESSAGES = 10_000
"""The default bound of a subtask's unacknowledged messages: ten of the client's default batches. With the client's
own default (1,000, one batch of small records), a writer waited for each batch's acknowledgement before it filled
the next (README, the sink)."""
MAX_PENDING_BYTES = 64 << 20
"""The default bound of a subtask's unacknowledged payload bytes: the Java client's memory limit (memoryLimitBytes),
which bounds the Java connector's pending messages."""


def batch_limits(producer_config: Mapping[str, Any]) -> tuple[int, int] | None:
    """(messages, bytes) at which the sink's producers end a batch, or None when they do not batch (`batching_enabled`
    False). Raises ValueError naming a limit that is not a positive integer."""
    if not producer_config.get("batching_enabled", True):
        return None
    limits = tuple(producer_config.get(name, _PRODUCER_DEFAULTS[name].default) for name in BATCH_LIMIT_OPTIONS)
    for name, value in zip(BATCH_LIMIT_OPTIONS, limits):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer, not {value!r}")
    return limits


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
    max_pending_bytes: int
    security: PulsarSecurity | None = None
