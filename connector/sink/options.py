"""The sink builder's options: builder call, Java connector name, `SinkConfig` field, check, meaning.

`PulsarSinkBuilder.build()` validates with this table; the README's sink option table is made from it.
"""

from __future__ import annotations

import re
from typing import Any

import pulsar
from pyflink.datastream.connectors.base import DeliveryGuarantee

from connector.options import Option, client_keywords, instance_of, keywords_of
from connector.security import PulsarSecurity
from connector.serde import SerializationSchema

SINK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# Producer settings the sink makes itself; the rest of `pulsar.Client.create_producer`'s keywords pass through.
MANAGED_PRODUCER_OPTIONS = frozenset({"topic", "producer_name", "schema", "message_router", "message_routing_mode",
                                      "block_if_queue_full", "initial_sequence_id"})


def sink_name(value: Any) -> str | None:
    return None if isinstance(value, str) and SINK_NAME.fullmatch(value) else \
        f"must match {SINK_NAME.pattern}, not {value!r}"


SINK_OPTIONS: tuple[Option, ...] = (
    Option("`set_service_url`", "serviceUrl", "service_url",
           "the broker's binary endpoint, `pulsar://` or `pulsar+ssl://` host[:port], several comma-separated",
           default="required"),
    Option("`set_admin_url`", "adminUrl", "admin_url",
           "the admin REST endpoint; EXACTLY_ONCE checks deduplication through it and so requires it"),
    Option("`set_topics` / `set_topic_selector`", "topics", None,
           "fixed targets (with several, routing picks among the partitions of all of them, as in Java) or a "
           "function of each element as the sink receives it (a `PulsarMessage` or a plain value) -> topic; "
           "`PulsarMessage.topic` overrides both per message", default="one required"),
    Option("`set_serialization_schema`", "serializationSchema", "schema",
           "`SimpleStringSchema()`, `BytesSchema()`, Avro/JSON/protobuf row schemas or your own `SerializationSchema`",
           instance_of(SerializationSchema), default="required"),
    Option("`set_delivery_guarantee`", "deliveryGuarantee", "delivery_guarantee",
           "`NONE`, `AT_LEAST_ONCE`, `EXACTLY_ONCE` (below)", instance_of(DeliveryGuarantee)),
    Option("`set_topic_routing_mode` / `set_topic_router`", "topicRoutingMode / topicRouter", None,
           "`MESSAGE_KEY_HASH`, `ROUND_ROBIN`, or `CUSTOM` with a `TopicRouter`", default="MESSAGE_KEY_HASH"),
    Option("`set_producer_config`", "producerConfig", "producer_config",
           "keywords of `pulsar.Client.create_producer` (compression, batching delay, ...) but those the sink "
           "manages (topic, producer name, schema, routing, queue blocking, initial sequence id)",
           keywords_of(pulsar.Client.create_producer, MANAGED_PRODUCER_OPTIONS, own={"max_pending_bytes"})),
    Option("`set_producer_config({\"send_timeout_millis\": ms})`", "sendTimeoutMs", "send_timeout_ms",
           "no acknowledgement for this long while messages wait fails the job (applied by the sink; the client's "
           "own timeout stays off so a producer's messages persist in order)"),
    Option("`set_producer_config({\"max_pending_messages\": n})`", "maxPendingMessages", "max_pending_messages",
           "the unacknowledged messages of a subtask at most (the sink waits for room); the default is ten of the "
           "client's default batches"),
    Option("`set_producer_config({\"max_pending_bytes\": n})`", "memoryLimitBytes", "max_pending_bytes",
           "the payload bytes of a subtask's unacknowledged messages at most (the sink waits for room; a larger "
           "message goes once nothing is pending); the default is the Java client's memory limit",
           default="67108864 (64 MiB)"),
    Option("`set_client_config`", None, "client_config", "keywords of `pulsar.Client` (timeouts, io_threads, ...)",
           client_keywords),
    Option("`set_sink_name`", "sinkName", "sink_name",
           "the writer's operator uid (`<name>-writer`) and the prefix of its producer names; keep it stable across "
           "savepoints", sink_name),
    Option("`set_security`", None, "security", "authentication and TLS, for the producers and the admin calls alike",
           instance_of(PulsarSecurity)),
)
