"""Upsert writes and upsert tables on a real broker and real PyFlink: a SQL aggregate whose changelog has inserts,
updates and deletes is written with `write_upserts` through an injected failure, converges to the exact table, and
reads back as an upsert table; compaction leaves one message per live key.

The orders (Avro, keyed by customer over 4 partitions) are written before the job by a default-batching producer,
so the job reads a backlog from the bookie. The query keeps a customer while their total stays under LIMIT_CENTS:
customers whose total crosses it are deleted (a tombstone), the rest updated order by order.
"""

from __future__ import annotations

import time

import pulsar
import pytest
from pulsar.schema import AvroSchema
from pyflink.common import Types
from pyflink.datastream import StreamExecutionEnvironment
from pyflink.datastream.connectors.base import DeliveryGuarantee
from pyflink.table import StreamTableEnvironment

from connector import JsonRowSchema, PulsarConfigError, PulsarSink, PulsarSource
from connector.admin import PulsarAdmin
from connector.table import PulsarTable, write_upserts
from devtools.pulsar_standalone import Broker
from tests import flink_log
from tests.conftest import unique_topic
from tests.integration.table_helpers import job_failing_once, latest_per_key, read_upsert_table
from tests.integration.test_table_sql import Order

PARTITIONS = 4
ORDERS = 20_000
CUSTOMERS = [f"customer-{i}" for i in range(10)]
LIMIT_CENTS = 120_000
FAIL_AT_ORDER = 15_000
TOTALS = Types.ROW_NAMED(["customer", "orders", "cents"], [Types.STRING(), Types.LONG(), Types.LONG()])
TOTALS_SQL = f"""
    SELECT customer, COUNT(*) AS orders, SUM(cents) AS cents FROM orders WHERE fail_once(order_id)
    GROUP BY customer HAVING SUM(cents) < {LIMIT_CENTS}"""


def write_orders(broker: Broker, topic: str) -> dict[str, tuple[int, int]]:
    """Writes the orders; returns the table the query should end with: customer -> (orders, cents)."""
    client = pulsar.Client(broker.service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Warn))
    producer = client.create_producer(topic, schema=AvroSchema(Order), block_if_queue_full=True)
    totals = {customer: [0, 0] for customer in CUSTOMERS}
    for i in range(ORDERS):
        n = i % len(CUSTOMERS)
        customer, cents = CUSTOMERS[n], 10 * (n + 1) + i % 7
        producer.send_async(Order(order_id=i, customer=customer, cents=cents, note=f"order {i}"), None,
                            partition_key=customer)
        totals[customer][0] += 1
        totals[customer][1] += cents
    producer.flush()
    client.close()
    return {customer: (count, cents) for customer, (count, cents) in totals.items() if cents < LIMIT_CENTS}


def key_of(customer: str) -> str:
    return f'{{"customer":"{customer}"}}'


@pytest.fixture(scope="module")
def orders(storage_broker: Broker) -> tuple[str, dict[str, tuple[int, int]]]:
    topic = unique_topic("upsert-orders")
    PulsarAdmin(storage_broker.admin_url).create_partitioned_topic(topic, PARTITIONS)
    return topic, write_orders(storage_broker, topic)


def test_a_changelog_written_as_upserts_through_a_failure_converges_and_reads_back(
        storage_broker: Broker, orders, tmp_path) -> None:
    topic, expected = orders
    assert 0 < len(expected) < len(CUSTOMERS), "the data must leave some customers and delete others"
    results = unique_topic("customer-totals")
    PulsarAdmin(storage_broker.admin_url).create_partitioned_topic(results, PARTITIONS)
    marker = tmp_path / "failed"
    env, t_env = job_failing_once(marker, FAIL_AT_ORDER)
    source = (PulsarSource.builder().set_service_url(storage_broker.service_url)
              .set_admin_url(storage_broker.admin_url).set_topics(topic).set_deserialization_schema_from_registry())
    PulsarTable.builder().set_source(source).build().register(t_env, "orders")
    sink = (PulsarSink.builder().set_service_url(storage_broker.service_url).set_admin_url(storage_broker.admin_url)
            .set_topics(results).set_serialization_schema(JsonRowSchema(TOTALS))
            .set_delivery_guarantee(DeliveryGuarantee.AT_LEAST_ONCE).set_sink_name("customer-totals").build())
    write_upserts(t_env, t_env.sql_query(TOTALS_SQL), sink, ["customer"])
    log = flink_log.mark()
    job = env.execute_async("customer totals as upserts")
    try:
        deadline, table = time.monotonic() + 180, {}
        while time.monotonic() < deadline:
            status = job.get_job_status().result()
            assert not status.is_globally_terminal_state(), f"the job ended {status}"
            flink_log.assert_taskmanager_lives(log)
            table, _ = latest_per_key(storage_broker, results, PARTITIONS, TOTALS)
            if table == {key_of(customer): totals for customer, totals in expected.items()}:
                break
            time.sleep(2)
    finally:
        job.cancel().result()
    assert marker.exists(), "the failure was injected"
    assert table == {key_of(customer): totals for customer, totals in expected.items()}, \
        f"after 180 s the topic's latest rows per key are {table}; {flink_log.events_since(log)}"

    final = read_upsert_table(storage_broker, results, TOTALS, "customer")
    assert final == expected

    admin = PulsarAdmin(storage_broker.admin_url)
    for partition in range(PARTITIONS):
        admin._call("PUT", f"/admin/v2/persistent/public/default/{results.rsplit('/', 1)[1]}-partition-{partition}"
                           "/compaction")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        states = [admin._call("GET", f"/admin/v2/persistent/public/default/{results.rsplit('/', 1)[1]}"
                                     f"-partition-{partition}/compaction")["status"] for partition in range(PARTITIONS)]
        if all(state != "RUNNING" for state in states):
            break
        time.sleep(1)
    assert states == ["SUCCESS"] * PARTITIONS, f"compaction: {states}"
    compacted, read = latest_per_key(storage_broker, results, PARTITIONS, TOTALS, compacted=True)
    assert compacted == {key_of(customer): totals for customer, totals in expected.items()}
    assert read == len(expected), f"a compacted read gives one message per live key, not {read}"


def test_exactly_once_upserts_are_refused_saying_why(storage_broker: Broker, orders) -> None:
    topic, _ = orders
    t_env = StreamTableEnvironment.create(StreamExecutionEnvironment.get_execution_environment())
    source = (PulsarSource.builder().set_service_url(storage_broker.service_url)
              .set_admin_url(storage_broker.admin_url).set_topics(topic).set_deserialization_schema_from_registry())
    table = PulsarTable.builder().set_source(source).build().to_table(t_env)
    sink = (PulsarSink.builder().set_service_url(storage_broker.service_url).set_admin_url(storage_broker.admin_url)
            .set_topics(topic).set_serialization_schema(JsonRowSchema(TOTALS))
            .set_delivery_guarantee(DeliveryGuarantee.EXACTLY_ONCE).build())
    with pytest.raises(PulsarConfigError, match="EXACTLY_ONCE is not offered.*interleaves its keys"):
        write_upserts(t_env, table, sink, ["customer"])
