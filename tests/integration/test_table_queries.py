"""SQL across Pulsar tables on a real broker and real PyFlink: a join of two topics, and one table over a topic
pattern, in batch mode over bounded reads of data written before the job by pulsar-client Avro producers."""

from __future__ import annotations

import uuid
from collections import Counter

import pulsar
from pulsar.schema import AvroSchema, Record, String
from pyflink.datastream import RuntimeExecutionMode

from connector import AvroRowSchema, PulsarSource, StopCursor
from connector.admin import PulsarAdmin
from connector.table import PulsarTable
from devtools.pulsar_standalone import Broker
from tests.conftest import unique_topic
from tests.integration.test_table_sql import Order, table_env

CUSTOMERS = [f"customer-{i:02d}" for i in range(12)]
REGIONS = ["eu", "us", "apac"]


class Customer(Record):
    customer = String()
    region = String()


def bounded(broker: Broker) -> PulsarSource:
    return (PulsarSource.builder().set_service_url(broker.service_url).set_admin_url(broker.admin_url)
            .set_bounded_stop_cursor(StopCursor.latest()))


def write(broker: Broker, topic: str, schema: AvroSchema, records: list[Record], key: str) -> None:
    client = pulsar.Client(broker.service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Warn))
    producer = client.create_producer(topic, schema=schema, block_if_queue_full=True)
    for record in records:
        producer.send_async(record, None, partition_key=getattr(record, key))
    producer.flush()
    client.close()


def orders(count: int, offset: int = 0) -> list[Order]:
    return [Order(order_id=offset + i, customer=CUSTOMERS[i % len(CUSTOMERS)], cents=100 + i % 50, note="")
            for i in range(count)]


def test_a_join_of_two_topics_sums_orders_per_region(storage_broker: Broker) -> None:
    admin = PulsarAdmin(storage_broker.admin_url)
    orders_topic, customers_topic = unique_topic("join-orders"), unique_topic("join-customers")
    admin.create_partitioned_topic(orders_topic, 4)
    written = orders(6_000)
    write(storage_broker, orders_topic, AvroSchema(Order), written, "customer")
    regions = {customer: REGIONS[i % len(REGIONS)] for i, customer in enumerate(CUSTOMERS)}
    write(storage_broker, customers_topic, AvroSchema(Customer),
          [Customer(customer=c, region=r) for c, r in regions.items()], "customer")
    expected = Counter()
    for order in written:
        expected[regions[order.customer]] += order.cents

    t_env = table_env(RuntimeExecutionMode.BATCH)
    for name, topic in (("orders", orders_topic), ("customers", customers_topic)):
        source = bounded(storage_broker).set_topics(topic).set_deserialization_schema_from_registry()
        PulsarTable.builder().set_source(source).build().register(t_env, name)
    result = t_env.execute_sql("""
        SELECT c.region, SUM(o.cents) AS cents FROM orders o JOIN customers c ON o.customer = c.customer
        GROUP BY c.region""")
    with result.collect() as rows:
        got = {region: cents for region, cents in rows}
    assert got == dict(expected)


def test_a_table_over_a_topic_pattern_reads_every_matching_topic_and_no_other(storage_broker: Broker) -> None:
    admin = PulsarAdmin(storage_broker.admin_url)
    tag = uuid.uuid4().hex[:8]
    shops = {f"persistent://public/default/shop-{shop}-{tag}": count for shop, count in (("a", 700), ("b", 1_300))}
    other = f"persistent://public/default/stock-{tag}"
    for n, (topic, count) in enumerate(shops.items()):
        admin.create_partitioned_topic(topic, 2)
        write(storage_broker, topic, AvroSchema(Order), orders(count, offset=10_000 * n), "customer")
    write(storage_broker, other, AvroSchema(Order), orders(50), "customer")

    t_env = table_env(RuntimeExecutionMode.BATCH)
    source = (bounded(storage_broker).set_topic_pattern(f"persistent://public/default/shop-(a|b)-{tag}")
              .set_deserialization_schema(AvroRowSchema(Order.schema())))
    PulsarTable.builder().set_source(source).set_metadata_columns("topic").build().register(t_env, "shop_orders")
    result = t_env.execute_sql("""
        SELECT REGEXP_REPLACE(topic, '-partition-[0-9]+$', '') AS shop, COUNT(*) AS orders, COUNT(DISTINCT order_id)
        FROM shop_orders GROUP BY REGEXP_REPLACE(topic, '-partition-[0-9]+$', '')""")
    with result.collect() as rows:
        got = {shop: (count, distinct) for shop, count, distinct in rows}
    assert got == {topic: (count, count) for topic, count in shops.items()}
