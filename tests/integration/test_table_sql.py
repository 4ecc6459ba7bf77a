"""Pulsar topics as tables, on a real broker and real PyFlink: an event-time tumbling window in SQL over a backlog of
Avro orders written by pulsar-client, streaming (results written to Pulsar, read back) and batch, and bad input.

The orders are written before the job by one default-batching producer, keyed by customer over 4 partitions, in
event-time order. A reader subtask reads its splits in turns of up to 2,000 records, 80 s of event time here, so a
watermark taken over a subtask's mixed records would make most records late; the windows are exact only because
the watermark follows the split furthest behind. In streaming mode the last window closes when time moves on: a
later order on each partition, written once the job has read the backlog (every split idle by then, so each
subtask's watermark follows the split that just got its record).
"""

from __future__ import annotations

import datetime
import json
import time
from collections import Counter, defaultdict

import pulsar
import pytest
from pulsar.schema import AvroSchema, Long, Record, String
from pyflink.common import Types
from pyflink.datastream import RuntimeExecutionMode, StreamExecutionEnvironment
from pyflink.table import StreamTableEnvironment

from connector import PulsarConfigError, PulsarSink, PulsarSource, SimpleStringSchema, StopCursor
from connector.admin import PulsarAdmin
from connector.table import PulsarTable
from devtools.pulsar_standalone import Broker
from tests import flink_log, python_threads
from tests.conftest import unique_topic

PARTITIONS = 4
ORDERS = 12_000
SPACING_MS = 10  # 12,000 orders over 120 s of event time
WINDOW_S = 10
START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
CLOSING_MS = START_MS + 3_600_000  # the later orders of the streaming test
CUSTOMERS = [f"customer-{i:02d}" for i in range(20)]
WINDOW_SQL = f"""
    SELECT customer, CAST(window_start AS STRING) AS window_start, COUNT(*) AS orders, SUM(cents) AS cents
    FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(event_time), INTERVAL '{WINDOW_S}' SECOND))
    GROUP BY customer, window_start, window_end"""


class Order(Record):
    order_id = Long()
    customer = String()
    cents = Long()
    note = String()


Result = tuple[str, str, int, int]  # customer, window start (UTC), orders, cents


def write_orders(client: pulsar.Client, topic: str) -> set[Result]:
    """Writes the orders; returns the window results they should give."""
    producer = client.create_producer(topic, schema=AvroSchema(Order), batching_enabled=True,
                                      block_if_queue_full=True)
    totals: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
    for i in range(ORDERS):
        customer, event_ms = CUSTOMERS[i * 7 % len(CUSTOMERS)], START_MS + i * SPACING_MS
        cents = 100 + i * 37 % 9_000
        producer.send_async(Order(order_id=i, customer=customer, cents=cents, note=f"gift wrap, leave at door {i}"),
                            None, partition_key=customer, event_timestamp=event_ms)
        total = totals[customer, event_ms - event_ms % (WINDOW_S * 1000)]
        total[0] += 1
        total[1] += cents
    producer.flush()
    producer.close()
    return {(customer, utc(start), count, cents) for (customer, start), (count, cents) in totals.items()}


def utc(millis: int) -> str:
    return datetime.datetime.fromtimestamp(millis / 1000, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def orders_table(broker: Broker, topic: str, bounded: bool) -> PulsarTable:
    source = (PulsarSource.builder().set_service_url(broker.service_url).set_admin_url(broker.admin_url)
              .set_topics(topic).set_deserialization_schema_from_registry())
    if bounded:
        source.set_bounded_stop_cursor(StopCursor.latest())
    return (PulsarTable.builder().set_source(source).set_metadata_columns("event_time", "key")
            .set_watermark("event_time", max_out_of_orderness_ms=1000, idle_timeout_ms=2000).build())


def table_env(mode: RuntimeExecutionMode) -> StreamTableEnvironment:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_runtime_mode(mode)
    env.set_parallelism(2)
    if mode is RuntimeExecutionMode.STREAMING:
        env.enable_checkpointing(1000)
    t_env = StreamTableEnvironment.create(env)
    t_env.get_config().set_local_timezone("UTC")
    return t_env


@pytest.fixture(scope="module")
def orders(storage_broker: Broker) -> tuple[str, set[Result]]:
    """The orders topic (a backlog read from the bookie) and the window results it should give."""
    topic = unique_topic("orders")
    PulsarAdmin(storage_broker.admin_url).create_partitioned_topic(topic, PARTITIONS)
    client = pulsar.Client(storage_broker.service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Warn))
    try:
        return topic, write_orders(client, topic)
    finally:
        client.close()


def test_a_tumbling_window_in_batch_mode_over_a_bounded_table_is_exact(storage_broker: Broker, orders) -> None:
    topic, expected = orders
    t_env = table_env(RuntimeExecutionMode.BATCH)
    orders_table(storage_broker, topic, bounded=True).register(t_env, "orders")
    with t_env.sql_query(WINDOW_SQL).execute().collect() as rows:
        got = {(row[0], row[1], row[2], row[3]) for row in rows}
    assert got == expected


def test_a_tumbling_window_in_streaming_mode_is_exact_and_written_to_pulsar(storage_broker: Broker, orders) -> None:
    topic, expected = orders
    last_window = utc(START_MS + ORDERS * SPACING_MS - WINDOW_S * 1000)
    results_topic = unique_topic("order-windows")
    t_env = table_env(RuntimeExecutionMode.STREAMING)
    orders_table(storage_broker, topic, bounded=False).register(t_env, "orders")
    windows = t_env.to_data_stream(t_env.sql_query(WINDOW_SQL)).map(
        lambda row: f"{row[0]},{row[1]},{row[2]},{row[3]}", output_type=Types.STRING())
    (PulsarSink.builder().set_service_url(storage_broker.service_url).set_admin_url(storage_broker.admin_url)
     .set_topics(results_topic).set_serialization_schema(SimpleStringSchema()).build().sink_to(windows))
    log = flink_log.mark()
    job = windows.get_execution_environment().execute_async("event-time windows over a Pulsar table")
    client = pulsar.Client(storage_broker.service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Warn))
    got: set[Result] = set()
    try:
        reader = client.create_reader(results_topic, pulsar.MessageId.earliest)

        def read_until(count: int, what: str) -> None:
            deadline = time.monotonic() + 180
            while len(got) < count and time.monotonic() < deadline:
                status = job.get_job_status().result()
                assert not status.is_globally_terminal_state(), f"the job ended {status} with {len(got)} windows"
                try:
                    customer, start, orders_, cents = reader.read_next(1000).data().decode().split(",")
                except pulsar.Timeout:
                    flink_log.assert_taskmanager_lives(log)
                    continue
                got.add((customer, start, int(orders_), int(cents)))
            per_window = sorted(Counter(start for _, start, _, _ in got).items())
            assert len(got) >= count, (f"{what}: {len(got)} of {count} windows in 180 s; per window: {per_window}; "
                                       f"{flink_log.events_since(log)}\nPython threads of the job then:\n"
                                       f"{python_threads.busy_stacks()}")

        read_until(len(expected) - len(CUSTOMERS), "before the later order")  # all but the last window
        for partition in range(PARTITIONS):
            producer = client.create_producer(f"{topic}-partition-{partition}", schema=AvroSchema(Order))
            producer.send(Order(order_id=ORDERS, customer=CUSTOMERS[0], cents=1, note=""), event_timestamp=CLOSING_MS)
            producer.close()
        read_until(len(expected), "after the later order")
    finally:
        job.cancel().result()
        client.close()
    assert {result for result in got if result[1] != utc(CLOSING_MS)} == expected
    assert last_window in {start for _, start, _, _ in got}


def test_a_column_named_like_a_metadata_column_is_refused_naming_both(broker: Broker) -> None:
    topic = unique_topic("clash")
    client = pulsar.Client(broker.service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Warn))
    try:
        client.create_producer(topic, schema=AvroSchema(Order)).close()
    finally:
        client.close()
    table = (PulsarTable.builder().set_source(
        PulsarSource.builder().set_service_url(broker.service_url).set_admin_url(broker.admin_url)
        .set_topics(topic).set_deserialization_schema_from_registry()).set_metadata_columns(customer="key").build())
    with pytest.raises(PulsarConfigError, match="metadata column customer: the payload already has a column customer"):
        table.register(table_env(RuntimeExecutionMode.STREAMING), "clash")


def test_a_topic_without_a_registered_schema_is_refused_naming_it(broker: Broker) -> None:
    topic = unique_topic("no-schema")
    PulsarAdmin(broker.admin_url).create_topic(topic)
    table = (PulsarTable.builder().set_source(
        PulsarSource.builder().set_service_url(broker.service_url).set_admin_url(broker.admin_url)
        .set_topics(topic).set_deserialization_schema_from_registry()).build())
    with pytest.raises(PulsarConfigError, match=f"topic {topic} has no registered schema"):
        table.register(table_env(RuntimeExecutionMode.STREAMING), "no_schema")


@pytest.mark.parametrize("schema_type, refusal", [
    ("PROTOBUF", "has a PROTOBUF schema, which registers an Avro description without protobuf field numbers: read "
                 "it with ProtobufRowSchema"),
    ("INT64", "has a registered schema of type INT64; supported: AVRO, JSON, PROTOBUF_NATIVE"),
])
def test_a_topic_with_an_unsupported_registered_schema_is_refused_naming_topic_and_type(
        broker: Broker, schema_type: str, refusal: str) -> None:
    topic = unique_topic("unsupported")
    admin = PulsarAdmin(broker.admin_url)
    admin.create_topic(topic)
    admin.post_schema(topic, schema_type, json.dumps(Order.schema()) if schema_type == "PROTOBUF" else "")
    table = (PulsarTable.builder().set_source(
        PulsarSource.builder().set_service_url(broker.service_url).set_admin_url(broker.admin_url)
        .set_topics(topic).set_deserialization_schema_from_registry()).build())
    with pytest.raises(PulsarConfigError, match=f"topic {topic} {refusal}"):
        table.register(table_env(RuntimeExecutionMode.STREAMING), "unsupported")
