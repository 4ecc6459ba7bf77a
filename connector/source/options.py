"""The source builder's options: builder call, Java connector name, `PulsarSource` field, check, meaning.

`PulsarSourceBuilder.build()` validates with this table; the README's source option table is made from it.
"""

from __future__ import annotations

from connector.options import Option, client_keywords, instance_of, positive_int
from connector.security import PulsarSecurity
from connector.serde import DeserializationSchema
from connector.source.bad_message import BadMessagePolicy
from connector.source.cursor import StartCursor, StopCursor
from connector.source.pacing import STEP_BUDGET_MS

SOURCE_OPTIONS: tuple[Option, ...] = (
    Option("`set_service_url`", "serviceUrl", "service_url",
           "the broker's binary endpoint, `pulsar://` or `pulsar+ssl://` host[:port], several comma-separated",
           default="required"),
    Option("`set_admin_url`", "adminUrl", "admin_url",
           "the admin REST endpoint (topics, partitions, schemas, lag), `http://` or `https://`", default="required"),
    Option("`set_topics` / `set_topic_pattern`", "topics / topicPattern", None,
           "fixed topics (must exist) or a regex over full names of one namespace", default="one required"),
    Option("`set_start_cursor`", "startCursor", "start_cursor",
           "`earliest()`, `latest()`, `from_message_id(id, inclusive=True)`, `from_publish_time(ms)`",
           instance_of(StartCursor)),
    Option("`set_bounded_stop_cursor` / `set_unbounded_stop_cursor`", "stopCursor", "stop_cursor",
           "`never()`, `latest()`, `at_message_id`, `after_message_id`, `at_publish_time`, `after_publish_time`, "
           "`at_event_time`, `after_event_time`; bounded: the source reads the splits found at start to it and "
           "ends; unbounded: every split stops there, discovery goes on, the job runs until cancelled; a message id "
           "with batch index -1 stands for its whole entry",
           instance_of(StopCursor)),
    Option("`set_deserialization_schema` / `set_deserialization_schema_from_registry`", "deserializationSchema",
           "deserialization_schema", "`SimpleStringSchema()`, `BytesSchema()`, `AvroRowSchema`, `JsonRowSchema`, "
           "`ProtobufRowSchema`, your own `DeserializationSchema`, or the first topic's registered schema",
           instance_of(DeserializationSchema), default="required"),
    Option("`set_partition_discovery_interval_ms`", "partitionDiscoveryIntervalMs", "discovery_interval_ms",
           "how often new partitions and topics are looked for", positive_int),
    Option("`set_poll_interval_ms`", "pollIntervalMs", "poll_interval_ms",
           "how soon a split that found nothing is polled again (2 intervals, doubling to 100 ms; once a second after "
           "5 s of nothing); a busy one reads `maxRecordsPerPoll` a step", positive_int),
    Option("`set_max_records_per_poll`", "maxRecordsPerPoll", "max_records_per_poll",
           "records a split reads per step at most; unbounded, the steps of a reader key's element also stop once "
           f"they have read for {STEP_BUDGET_MS} ms together",
           positive_int),
    Option("`set_receiver_queue_size`", "receiverQueueSize", "receiver_queue_size",
           "messages each split's reader prefetches: bounds the memory per split", positive_int),
    Option("`set_emit_metadata`", None, "emit_metadata",
           "emit `Row(value, topic, partition, message_id, key, properties, publish_time, event_time)`",
           instance_of(bool)),
    Option("`set_bad_message_policy`", "badMessagePolicy", "bad_message_policy",
           "a message that does not decode: `FAIL`, `SKIP`, or `DEAD_LETTER` to a topic",
           instance_of(BadMessagePolicy)),
    Option("`set_broker_outage_timeout_ms`", "brokerOutageTimeoutMs", "broker_outage_timeout_ms",
           "a split without a broker connection this long fails the job", positive_int),
    Option("`set_split_stall_timeout_ms`", "splitStallTimeoutMs", "split_stall_timeout_ms",
           "a connected split that receives nothing this long while its partition holds messages after its position "
           "fails the job; WARN after a quarter of it; must exceed `lagSampleIntervalMs`", positive_int),
    Option("`set_lag_sample_interval_ms`", "lagSampleIntervalMs", "lag_sample_interval_ms",
           "how often the lag (and so a stall) is sampled from the admin API", positive_int),
    Option("`set_fail_on_split_removal`", None, "fail_on_split_removal",
           "a deleted topic or partition fails the job instead of ending its split", instance_of(bool)),
    Option("`set_source_name`", None, "name", "operator names and state uids; keep it stable across savepoints",
           instance_of(str)),
    Option("`set_client_config`", None, "client_config",
           "keywords of `pulsar.Client` (timeouts, io_threads, ...)", client_keywords),
    Option("`set_security`", None, "security", "authentication and TLS, for the client and the admin calls alike",
           instance_of(PulsarSecurity)),
)
