"""`PulsarSink.builder()`: configure, validate and build a Pulsar sink, then attach it with `sink.sink_to(stream)`.

Delivery guarantees:
- NONE: sends are asynchronous and nothing waits for them before a checkpoint; a failed send still fails the job.
- AT_LEAST_ONCE: before every checkpoint the broker has acknowledged every record the sink received before the
  barrier. After a failure, records since the last checkpoint are written again (duplicates, no loss).
- EXACTLY_ONCE (no Pulsar transactions in the Python client): broker-side deduplication. Each record goes out under
  a stable producer name and sequence id, through one producer of that name per target partition (batches:
  `connector.sink.writer`); before each checkpoint every send is acknowledged; a replay after restore re-sends each
  record under the same name and id, and the broker drops what it already persisted. Names and ids come from the
  source message a record was made from when the writer runs fused behind a `PulsarSource` in one Python operator
  (`connector.sink.chain`); otherwise records are keyed by their *sequence key* (`PulsarMessage.sequence_key`) and
  per key the sink keeps a producer name and a sequence-id counter in Flink keyed state. This holds exactly for
  pipelines where, per source split, the sink receives the same records in the same order on every replay:
    * the split (one partition of a Pulsar topic, or what a sequence key names) is read in order from a
      checkpointed position;
    * between source and sink the records of a split only pass one-to-one (forward, chained) operators at the
      same parallelism: map / filter / flat_map, no rebalance, key_by, window or union of parallel branches
      that would interleave one split's records from several channels;
    * those operators are deterministic (no time, randomness or external lookups in what they emit);
    * topic selector and custom router are deterministic, and partition counts of target topics do not change
      between a failure and its replay.
  The broker must deduplicate the target topics (checked by `sink_to` and before the first write to a topic;
  the sink refuses otherwise).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pyflink.datastream import DataStream
from pyflink.datastream.connectors.base import DeliveryGuarantee

from connector.errors import PulsarConfigError
from connector.options import check_options
from connector.security import PulsarSecurity
from connector.serde import SerializationSchema
from connector.sink import flink
from connector.sink.config import MAX_PENDING_BYTES, MAX_PENDING_MESSAGES, SinkConfig, batch_limits
from connector.sink.dedup import deduplication_problem
from connector.sink.options import SINK_OPTIONS
from connector.sink.router import KeyHashTopicRouter, RoundRobinTopicRouter, TopicRouter, TopicRoutingMode
from connector.topics import TopicName
from connector.urls import check_admin_url, check_service_url


class PulsarSink:
    """A validated sink configuration; `sink_to(stream)` adds the writer to a job."""

    def __init__(self, config: SinkConfig) -> None:
        self.config = config

    @staticmethod
    def builder() -> PulsarSinkBuilder:
        return PulsarSinkBuilder()

    def check_broker(self) -> PulsarSink:
        """Check the sink against the broker, through the admin API: under EXACTLY_ONCE every fixed target topic
        must have deduplication on. Returns the sink; raises `PulsarConfigError` naming the topic and the cause.
        `sink_to` calls it (topics chosen per record are checked before their first write)."""
        if self.config.delivery_guarantee == DeliveryGuarantee.EXACTLY_ONCE:
            for topic in self.config.topics:
                problem = deduplication_problem(self.config.admin_url, topic, self.config.security)
                if problem:
                    raise PulsarConfigError(problem)
        return self

    def sink_to(self, stream: DataStream) -> DataStream:
        """Write every element of `stream` (a `PulsarMessage` or a value for the serialization schema), after
        `check_broker`."""
        return flink.attach(self.check_broker().config, stream)


class PulsarSinkBuilder:
    """Option names in error messages are the Java connector's (`serviceUrl`, `topics`, ...)."""

    def __init__(self) -> None:
        self._service_url: str | None = None
        self._admin_url: str | None = None
        self._topics: tuple[str, ...] = ()
        self._topic_selector: Callable[[Any], str] | None = None
        self._schema: SerializationSchema | None = None
        self._guarantee: DeliveryGuarantee = DeliveryGuarantee.NONE
        self._routing_mode: TopicRoutingMode = TopicRoutingMode.MESSAGE_KEY_HASH
        self._router: TopicRouter | None = None
        self._producer_config: dict[str, Any] = {}
        self._client_config: dict[str, Any] = {}
        self._security: PulsarSecurity | None = None
        self._sink_name = "pulsar-sink"

    def set_service_url(self, url: str) -> PulsarSinkBuilder:
        self._service_url = url
        return self

    def set_admin_url(self, url: str) -> PulsarSinkBuilder:
        """The REST admin URL; EXACTLY_ONCE needs it to check deduplication."""
        self._admin_url = url
        return self

    def set_topics(self, *topics: str | Iterable[str]) -> PulsarSinkBuilder:
        """Fixed targets. With several, routing picks among the partitions of all of them (as in Java)."""
        flat: list[str] = []
        for topic in topics:
            flat.extend([topic] if isinstance(topic, str) else topic)
        self._topics = tuple(flat)
        return self

    def set_topic_selector(self, selector: Callable[[Any], str]) -> PulsarSinkBuilder:
        """The target topic of each element (as handed to the sink); routing picks among its partitions."""
        self._topic_selector = selector
        return self

    def set_serialization_schema(self, schema: SerializationSchema) -> PulsarSinkBuilder:
        self._schema = schema
        return self

    def set_delivery_guarantee(self, guarantee: DeliveryGuarantee) -> PulsarSinkBuilder:
        self._guarantee = guarantee
        return self

    def set_topic_routing_mode(self, mode: TopicRoutingMode) -> PulsarSinkBuilder:
        """MESSAGE_KEY_HASH (default), ROUND_ROBIN, or CUSTOM with `set_topic_router`."""
        self._routing_mode = mode
        return self

    def set_topic_router(self, router: TopicRouter) -> PulsarSinkBuilder:
        self._router = router
        return self

    def set_producer_config(self, config: Mapping[str, Any]) -> PulsarSinkBuilder:
        """Keywords of `pulsar.Client.create_producer` (e.g. compression_type, batching_max_publish_delay_ms);
        `send_timeout_millis` (default 30000) is enforced by the sink; `max_pending_messages` (default 10000) and
        `max_pending_bytes` (payload bytes, default 64 MiB) bound the unacknowledged messages of a subtask."""
        self._producer_config.update(config)
        return self

    def set_client_config(self, config: Mapping[str, Any]) -> PulsarSinkBuilder:
        """Keywords of `pulsar.Client` (e.g. operation_timeout_seconds, connection_timeout_ms)."""
        self._client_config.update(config)
        return self

    def set_security(self, security: PulsarSecurity) -> PulsarSinkBuilder:
        """Authentication and TLS, used by the producers and by the admin REST calls alike."""
        self._security = security
        return self

    def set_sink_name(self, name: str) -> PulsarSinkBuilder:
        """A name stable across job versions: the writer's operator uid and the prefix of its producer names."""
        self._sink_name = name
        return self

    def build(self) -> PulsarSink:
        """The sink; raises `PulsarConfigError` naming the first option that is missing or wrong. No I/O: the
        broker is checked by `PulsarSink.check_broker` (called by `sink_to`)."""
        check_service_url(self._service_url)
        if self._admin_url is not None:  # optional: only EXACTLY_ONCE needs it (checked below)
            check_admin_url(self._admin_url)
        if not self._topics and self._topic_selector is None:
            raise PulsarConfigError("topics: set the target topics (set_topics) or a topic selector "
                                    "(set_topic_selector)")
        if self._topics and self._topic_selector is not None:
            raise PulsarConfigError("topics: set either fixed topics or a topic selector, not both")
        for topic in self._topics:
            try:
                TopicName.parse(topic)
            except ValueError as error:
                raise PulsarConfigError(f"topics: {error}") from None
        given = {"schema": self._schema, "delivery_guarantee": self._guarantee, "sink_name": self._sink_name,
                 "client_config": self._client_config, "producer_config": self._producer_config,
                 **({"security": self._security} if self._security is not None else {})}
        check_options(SINK_OPTIONS, given)
        producer_config = dict(self._producer_config)
        send_timeout_ms = int(producer_config.pop("send_timeout_millis", 30_000))
        max_pending = int(producer_config.pop("max_pending_messages", MAX_PENDING_MESSAGES))
        max_pending_bytes = int(producer_config.pop("max_pending_bytes", MAX_PENDING_BYTES))
        if send_timeout_ms <= 0 or max_pending <= 0 or max_pending_bytes <= 0:
            raise PulsarConfigError("producerConfig: send_timeout_millis, max_pending_messages and max_pending_bytes "
                                    "must be positive")
        if self._guarantee == DeliveryGuarantee.EXACTLY_ONCE:
            self._check_exactly_once()
        try:
            batch_limits(producer_config)
        except ValueError as error:
            raise PulsarConfigError(f"producerConfig: {error}") from None
        return PulsarSink(SinkConfig(
            service_url=self._service_url, admin_url=self._admin_url, topics=self._topics,
            topic_selector=self._topic_selector, schema=self._schema, delivery_guarantee=self._guarantee,
            router=self._build_router(), producer_config=producer_config,
            client_config=dict(self._client_config), sink_name=self._sink_name, send_timeout_ms=send_timeout_ms,
            max_pending_messages=max_pending, max_pending_bytes=max_pending_bytes, security=self._security))

    def _build_router(self) -> TopicRouter:
        if self._routing_mode == TopicRoutingMode.CUSTOM:
            if not isinstance(self._router, TopicRouter):
                raise PulsarConfigError("topicRouter: topicRoutingMode CUSTOM needs a TopicRouter (set_topic_router)")
            return self._router
        if self._router is not None:
            raise PulsarConfigError(f"topicRouter is only used with topicRoutingMode CUSTOM, "
                                    f"not {self._routing_mode.name}")
        if self._routing_mode == TopicRoutingMode.ROUND_ROBIN:
            return RoundRobinTopicRouter()
        if self._routing_mode == TopicRoutingMode.MESSAGE_KEY_HASH:
            return KeyHashTopicRouter()
        raise PulsarConfigError(f"topicRoutingMode must be a TopicRoutingMode, not {self._routing_mode!r}")

    def _check_exactly_once(self) -> None:
        if not self._admin_url:
            raise PulsarConfigError("adminUrl: deliveryGuarantee EXACTLY_ONCE needs the admin URL to check "
                                    "deduplication")
