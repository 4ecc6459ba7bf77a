"""`PulsarSource` and its builder, in the style of the Java connector (`PulsarSource.builder()`).

    source = (PulsarSource.builder()
              .set_service_url("pulsar://127.0.0.1:6650")
              .set_admin_url("http://127.0.0.1:8080")
              .set_topics("orders")
              .set_start_cursor(StartCursor.earliest())
              .set_deserialization_schema(SimpleStringSchema())
              .build())
    stream = source.create_stream(env)

Configuration is checked in `build()`, without I/O: a missing or wrong option raises `PulsarConfigError` (a
`ValueError`) naming the option (the Java connector's option name). `create_stream` first checks the broker
(`PulsarSource.check_broker`): fixed topics must exist and the schema must accept their registered schemas.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pyflink.common import Types
from pyflink.common.typeinfo import TypeInformation
from pyflink.datastream import DataStream, StreamExecutionEnvironment

from connector.admin import PulsarAdmin
from connector.errors import PulsarAdminError, PulsarConfigError
from connector.formats.from_registry import FromRegistry
from connector.options import check_options
from connector.security import PulsarSecurity
from connector.serde import DeserializationSchema
from connector.source.bad_message import BadMessagePolicy
from connector.source.cursor import StartCursor, StopCursor
from connector.source.discovery import TopicSubscription
from connector.source.flink import build_stream, metadata_type
from connector.source.options import SOURCE_OPTIONS
from connector.source.watermarks import WatermarkColumns
from connector.topics import full_name
from connector.urls import check_admin_url, check_service_url

DEFAULT_DISCOVERY_INTERVAL_MS = 30_000  # the Java connector's partitionDiscoveryIntervalMs default


DEFAULT_SOURCE_NAME = "pulsar-source"
"""The source's name unless `set_source_name` gives one (a table's source is named after the table instead)."""


@dataclass(frozen=True)
class PulsarSource:
    """A validated source configuration. Immutable and picklable: it travels to every reader."""

    service_url: str
    admin_url: str
    subscription: TopicSubscription
    deserialization_schema: DeserializationSchema
    start_cursor: StartCursor = StartCursor.earliest()
    stop_cursor: StopCursor = StopCursor.never()
    bounded: bool = False
    """Reads the splits found at start to the stop cursor and ends (`set_bounded_stop_cursor`)."""
    discovery_interval_ms: int = DEFAULT_DISCOVERY_INTERVAL_MS
    poll_interval_ms: int = 10
    max_records_per_poll: int = 10_000
    receiver_queue_size: int = 1000
    bounded_wait_ms: int = 100
    emit_metadata: bool = False
    bad_message_policy: BadMessagePolicy = BadMessagePolicy.FAIL
    dead_letter_topic: str | None = None
    broker_outage_timeout_ms: int = 60_000
    split_stall_timeout_ms: int = 60_000
    fail_on_split_removal: bool = False
    lag_sample_interval_ms: int = 10_000
    name: str = DEFAULT_SOURCE_NAME
    client_config: dict[str, Any] = field(default_factory=dict)
    security: PulsarSecurity | None = None
    watermark_columns: WatermarkColumns | None = None
    """Set by `connector.table.PulsarTable` for event time: the readers write per-split watermarks into the rows."""

    @staticmethod
    def builder() -> PulsarSourceBuilder:
        return PulsarSourceBuilder()

    def output_type(self) -> TypeInformation:
        value_type = self.deserialization_schema.produced_type() or Types.PICKLED_BYTE_ARRAY()
        return metadata_type(value_type) if self.emit_metadata else value_type

    def new_admin(self) -> PulsarAdmin:
        return PulsarAdmin(self.admin_url, security=self.security)

    def check_broker(self) -> PulsarSource:
        """Check the source against the broker, through the admin API: the fixed topics exist, and the
        deserialization schema accepts their registered schemas (`DeserializationSchema.bind`, which also turns
        `set_deserialization_schema_from_registry` into the registry's deserializer). Returns the source to run;
        raises `PulsarConfigError` naming the topic and the cause. `create_stream` calls it."""
        admin = self.new_admin()
        try:
            for topic in self.subscription.topics:
                if not admin.topic_exists(topic):
                    raise PulsarConfigError(f"topics: topic {topic} does not exist on {self.admin_url}")
        except PulsarAdminError as error:
            raise PulsarConfigError(f"adminUrl: could not check the topics: {error}") from None
        return replace(self, deserialization_schema=self.deserialization_schema.bind(admin, self.subscription.topics))

    def create_stream(self, env: StreamExecutionEnvironment) -> DataStream:
        """The records of the chosen topics as a DataStream of `env` (bounded after `set_bounded_stop_cursor`),
        after `check_broker`."""
        return self.check_broker().checked_stream(env)

    def checked_stream(self, env: StreamExecutionEnvironment) -> DataStream:
        """`create_stream` of a source `check_broker` returned, without checking the broker again."""
        initial = self.subscription.discover(self.new_admin()) if self.bounded else frozenset()
        return build_stream(env, self, initial)


class PulsarSourceBuilder:
    """Collects options; `build()` validates them all and returns a `PulsarSource`."""

    def __init__(self) -> None:
        self._options: dict[str, Any] = {}
        self._topics: tuple[str, ...] = ()
        self._pattern: str | None = None

    def set_service_url(self, service_url: str) -> PulsarSourceBuilder:
        self._options["service_url"] = service_url
        return self

    def set_admin_url(self, admin_url: str) -> PulsarSourceBuilder:
        self._options["admin_url"] = admin_url
        return self

    def set_topics(self, *topics: str) -> PulsarSourceBuilder:
        """One or more topics (short names resolve to persistent://public/default/...)."""
        flat = [t for item in topics for t in ([item] if isinstance(item, str) else item)]
        self._topics = tuple(flat)
        return self

    def set_topic_pattern(self, pattern: str) -> PulsarSourceBuilder:
        """A regex over full topic names, with a literal `persistent://tenant/ns/` prefix."""
        self._pattern = pattern
        return self

    def set_start_cursor(self, cursor: StartCursor) -> PulsarSourceBuilder:
        self._options["start_cursor"] = cursor
        return self

    def set_bounded_stop_cursor(self, cursor: StopCursor) -> PulsarSourceBuilder:
        """Where each split stops; any cursor but `StopCursor.never()` makes the source bounded: it reads the splits
        found at start to their stop and ends (batch or streaming mode), with no partition discovery."""
        self._options["stop_cursor"] = cursor
        self._options["bounded"] = isinstance(cursor, StopCursor) and cursor.is_bounded
        return self

    def set_unbounded_stop_cursor(self, cursor: StopCursor) -> PulsarSourceBuilder:
        """Where each split stops, while the source stays unbounded (streaming): discovery goes on, splits found
        later stop at the same cursor, and the job runs until cancelled (Java: setUnboundedStopCursor)."""
        self._options["stop_cursor"] = cursor
        self._options["bounded"] = False
        return self

    def set_deserialization_schema(self, schema: DeserializationSchema) -> PulsarSourceBuilder:
        self._options["deserialization_schema"] = schema
        return self

    def set_deserialization_schema_from_registry(self) -> PulsarSourceBuilder:
        """Take the deserializer from the first topic's registered schema (AVRO -> Rows of its record, JSON ->
        Rows, STRING -> str, none -> bytes) when the broker is checked (`PulsarSource.check_broker`); see
        `connector.formats.from_registry`."""
        self._options["deserialization_schema"] = FromRegistry()
        return self

    def set_bad_message_policy(self, policy: BadMessagePolicy,
                               dead_letter_topic: str | None = None) -> PulsarSourceBuilder:
        """What to do with a message that does not decode: FAIL (default), SKIP, or DEAD_LETTER to
        `dead_letter_topic` (see `connector.source.bad_message`)."""
        self._options["bad_message_policy"] = policy
        self._options["dead_letter_topic"] = dead_letter_topic
        return self

    def set_partition_discovery_interval_ms(self, interval_ms: int) -> PulsarSourceBuilder:
        self._options["discovery_interval_ms"] = interval_ms
        return self

    def set_poll_interval_ms(self, interval_ms: int) -> PulsarSourceBuilder:
        """How often each split is polled when idle; a busy split reads `max_records_per_poll` per poll."""
        self._options["poll_interval_ms"] = interval_ms
        return self

    def set_max_records_per_poll(self, count: int) -> PulsarSourceBuilder:
        self._options["max_records_per_poll"] = count
        return self

    def set_receiver_queue_size(self, size: int) -> PulsarSourceBuilder:
        """Messages each split's reader prefetches: bounds the memory per split."""
        self._options["receiver_queue_size"] = size
        return self

    def set_emit_metadata(self, emit: bool = True) -> PulsarSourceBuilder:
        """Emit Rows (value, topic, partition, message_id, key, properties, publish_time, event_time)."""
        self._options["emit_metadata"] = emit
        return self

    def set_broker_outage_timeout_ms(self, timeout_ms: int) -> PulsarSourceBuilder:
        """A split without a broker connection for this long fails the job, which then restarts from its
        last checkpoint (shorter outages are ridden out by the client's reconnects)."""
        self._options["broker_outage_timeout_ms"] = timeout_ms
        return self

    def set_split_stall_timeout_ms(self, timeout_ms: int) -> PulsarSourceBuilder:
        """A connected split that receives nothing for this long while its partition holds messages after its
        position fails the job (a WARN comes after a quarter of it). Stalls are seen through the lag samples, so
        this must exceed lagSampleIntervalMs. An idle, caught-up split never stalls."""
        self._options["split_stall_timeout_ms"] = timeout_ms
        return self

    def set_fail_on_split_removal(self, fail: bool = True) -> PulsarSourceBuilder:
        """When a topic or partition being read is deleted: end its split cleanly (default) or fail the job."""
        self._options["fail_on_split_removal"] = fail
        return self

    def set_lag_sample_interval_ms(self, interval_ms: int) -> PulsarSourceBuilder:
        """How often each reader asks the admin API how far its splits are behind (the lag metric)."""
        self._options["lag_sample_interval_ms"] = interval_ms
        return self

    def set_source_name(self, name: str) -> PulsarSourceBuilder:
        """Names the operators and their state uid: keep it stable to restore from a savepoint."""
        self._options["name"] = name
        return self

    def set_client_config(self, config: Mapping[str, Any]) -> PulsarSourceBuilder:
        """Keywords of `pulsar.Client` (e.g. operation_timeout_seconds, io_threads), as the sink's."""
        self._options["client_config"] = dict(config)
        return self

    def set_security(self, security: PulsarSecurity) -> PulsarSourceBuilder:
        """Authentication and TLS, used by the Pulsar client and by the admin REST calls alike."""
        self._options["security"] = security
        return self

    def build(self) -> PulsarSource:
        """The source; raises `PulsarConfigError` naming the first option that is missing or wrong. No I/O: the
        broker is checked by `PulsarSource.check_broker` (called by `create_stream`)."""
        options = dict(self._options)
        check_service_url(options.get("service_url"))
        check_admin_url(options.get("admin_url"))
        if "deserialization_schema" not in options:
            raise PulsarConfigError("deserializationSchema is not set: call set_deserialization_schema(...)")
        if isinstance(options["deserialization_schema"], FromRegistry) and not self._topics:
            raise PulsarConfigError("deserializationSchema from the registry needs fixed topics (set_topics)")
        if not self._topics and self._pattern is None:
            raise PulsarConfigError("topics is not set: call set_topics(...) or set_topic_pattern(...)")
        if self._topics and self._pattern is not None:
            raise PulsarConfigError("topics and topicPattern are both set; choose one")
        check_options(SOURCE_OPTIONS, options)
        if options.get("emit_metadata") and options["deserialization_schema"].is_changelog():
            raise PulsarConfigError("emitMetadata: a changelog deserializer's rows carry their row kind, which a "
                                    "metadata row would hide; read metadata with the format's own columns")
        stall_ms = options.get("split_stall_timeout_ms", PulsarSource.split_stall_timeout_ms)
        lag_ms = options.get("lag_sample_interval_ms", PulsarSource.lag_sample_interval_ms)
        if stall_ms <= lag_ms:
            raise PulsarConfigError(f"splitStallTimeoutMs ({stall_ms}) must exceed lagSampleIntervalMs ({lag_ms}): "
                                    "stalls are seen through the lag samples")
        _check_bad_message_policy(options)
        subscription = TopicSubscription(topics=self._topics, pattern=self._pattern)
        return PulsarSource(subscription=subscription, **options)


def _check_bad_message_policy(options: dict[str, Any]) -> None:
    policy = options.get("bad_message_policy", BadMessagePolicy.FAIL)
    topic = options.get("dead_letter_topic")
    if (policy is BadMessagePolicy.DEAD_LETTER) != (topic is not None):
        raise PulsarConfigError("badMessagePolicy: a dead-letter topic is needed for DEAD_LETTER, and only there")
    if topic is not None:
        options["dead_letter_topic"] = full_name(topic)


