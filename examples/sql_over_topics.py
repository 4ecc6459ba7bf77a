"""SQL over Pulsar topics: a namespace as a database, an Avro topic as a table, an event-time window in SQL, and
an upsert write read back as an upsert table.

    ./dev example sql_over_topics [--orders 5000] [--service-url pulsar://127.0.0.1:6650] [--admin-url http://...]

Writes Avro orders (pulsar-client `AvroSchema`, the producer's event time set) to `orders` in the namespace
`public/pyflink-pulsar-sql`, then in PyFlink batch jobs lists the catalog, describes the table, sums each customer's
orders per 10-second window of event time, and writes each customer's totals as upserts (key: the customer) to
`customer_totals`; a streaming job reads that topic back as an upsert table. Both are checked against what it wrote.
"""

from __future__ import annotations

import argparse
import datetime
from collections import Counter

import pulsar
from pulsar.schema import AvroSchema, Long, Record, String
from pyflink.datastream import RuntimeExecutionMode, StreamExecutionEnvironment
from pyflink.table import StreamTableEnvironment

from pyflink.common import Types

from connector import JsonRowSchema, PulsarSink, PulsarSource, StopCursor
from connector.admin import PulsarAdmin, PulsarAdminError
from connector.table import PulsarCatalog, PulsarTable, Watermark, write_upserts

NAMESPACE = "public/pyflink-pulsar-sql"
START = datetime.datetime(2026, 1, 1)  # UTC, as the session time zone below
START_MS = 1_767_225_600_000  # START in epoch milliseconds
TOTALS = Types.ROW_NAMED(["customer", "orders", "cents"], [Types.STRING(), Types.LONG(), Types.LONG()])


class Order(Record):
    customer = String()
    cents = Long()


def write_orders(service_url: str, admin: PulsarAdmin, count: int) -> Counter:
    """A fresh `orders` topic with `count` orders, 4 a second of event time, and a fresh `customer_totals`; returns
    cents per (customer, window)."""
    admin.create_namespace(NAMESPACE, exist_ok=True)
    for topic in ("orders", "customer_totals"):
        try:
            admin.delete_topic(f"persistent://{NAMESPACE}/{topic}")  # from an earlier run
        except PulsarAdminError:
            pass
        admin.create_partitioned_topic(f"persistent://{NAMESPACE}/{topic}", 4)
    client = pulsar.Client(service_url)
    producer = client.create_producer(f"persistent://{NAMESPACE}/orders", schema=AvroSchema(Order))
    expected: Counter = Counter()
    for n in range(count):
        customer, event_ms, cents = f"customer-{n % 3}", START_MS + n * 250, 100 + n * 37 % 900
        producer.send_async(Order(customer=customer, cents=cents), None, partition_key=customer,
                            event_timestamp=event_ms)
        expected[customer, (event_ms - START_MS) // 10_000] += cents
    producer.flush()
    client.close()
    return expected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=5000)
    parser.add_argument("--service-url", default="pulsar://127.0.0.1:6650")
    parser.add_argument("--admin-url", default="http://127.0.0.1:8080")
    args = parser.parse_args()
    expected = write_orders(args.service_url, PulsarAdmin(args.admin_url), args.orders)

    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_runtime_mode(RuntimeExecutionMode.BATCH)  # bounded reads: every table ends at the topic's latest message
    t_env = StreamTableEnvironment.create(env)
    t_env.get_config().set_local_timezone("UTC")
    source = (PulsarSource.builder().set_service_url(args.service_url).set_admin_url(args.admin_url)
              .set_bounded_stop_cursor(StopCursor.latest()))
    PulsarCatalog(t_env, source, [NAMESPACE], watermark=Watermark("event_time", max_out_of_orderness_ms=1000))
    t_env.execute_sql("USE CATALOG pulsar")
    t_env.execute_sql(f"USE `{NAMESPACE}`")
    t_env.execute_sql("SHOW TABLES").print()
    t_env.execute_sql("DESCRIBE orders").print()
    windows = t_env.execute_sql("""
        SELECT customer, window_start, SUM(cents) AS cents
        FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(event_time), INTERVAL '10' SECOND))
        GROUP BY customer, window_start, window_end ORDER BY window_start, customer""")
    got: Counter = Counter()
    with windows.collect() as rows:
        for customer, window_start, cents in rows:
            got[customer, int((window_start - START).total_seconds()) // 10] = cents
            if len(got) <= 6:
                print(f"{window_start}  {customer}  {cents / 100:10.2f}")
    print(f"... {len(got)} windows in all")
    if got != expected:
        raise SystemExit(f"FAILED: {len(got)} windows, expected {len(expected)}; differing: "
                         f"{sorted(set(got.items()) ^ set(expected.items()))[:5]}")
    print(f"OK: {args.orders} orders, {len(got)} customer windows, every sum equal to what was written")

    totals = t_env.sql_query("SELECT customer, COUNT(*) AS orders, SUM(cents) AS cents FROM orders GROUP BY customer")
    write_upserts(t_env, totals, PulsarSink.builder().set_service_url(args.service_url).set_admin_url(args.admin_url)
                  .set_topics(f"persistent://{NAMESPACE}/customer_totals").set_serialization_schema(
                      JsonRowSchema(TOTALS)).build(), ["customer"])
    env.execute("customer totals as upserts")
    read_back = StreamTableEnvironment.create(StreamExecutionEnvironment.get_execution_environment())
    (PulsarTable.builder()
     .set_source(PulsarSource.builder().set_service_url(args.service_url).set_admin_url(args.admin_url)
                 .set_topics(f"persistent://{NAMESPACE}/customer_totals").set_bounded_stop_cursor(StopCursor.latest())
                 .set_deserialization_schema(JsonRowSchema(TOTALS)))
     .set_upsert_key("customer").build().register(read_back, "customer_totals"))
    latest = {}
    with read_back.execute_sql("SELECT customer, orders, cents FROM customer_totals").collect() as rows:
        for customer, orders, cents in rows:  # a bounded read: one upsert per key, no later change
            latest[customer] = (orders, cents)
    wanted = {customer: (sum(1 for n in range(args.orders) if f"customer-{n % 3}" == customer),
                         sum(c for (who, _), c in expected.items() if who == customer)) for customer in latest}
    print("customer_totals, read back as an upsert table:", latest)
    if latest != wanted or len(latest) != 3:
        raise SystemExit(f"FAILED: customer totals {latest}, expected {wanted}")
    print("OK: the upsert table holds each customer's totals")


if __name__ == "__main__":
    main()
