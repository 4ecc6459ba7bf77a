"""SQL over Pulsar topics: a namespace as a database, an Avro topic as a table, an event-time window in SQL.

    ./dev example sql_over_topics [--orders 5000] [--service-url pulsar://127.0.0.1:6650] [--admin-url http://...]

Writes Avro orders (pulsar-client `AvroSchema`, the producer's event time set) to `orders` in the namespace
`public/pyflink-pulsar-sql`, then in one PyFlink batch job lists the catalog, describes the table and sums each
customer's orders per 10-second window of event time, and checks the sums against what it wrote.
"""

from __future__ import annotations

import argparse
import datetime
from collections import Counter

import pulsar
from pulsar.schema import AvroSchema, Long, Record, String
from pyflink.datastream import RuntimeExecutionMode, StreamExecutionEnvironment
from pyflink.table import StreamTableEnvironment

from connector import PulsarSource, StopCursor
from connector.admin import PulsarAdmin, PulsarAdminError
from connector.table import PulsarCatalog, Watermark

NAMESPACE = "public/pyflink-pulsar-sql"
START = datetime.datetime(2026, 1, 1)  # UTC, as the session time zone below
START_MS = 1_767_225_600_000  # START in epoch milliseconds


class Order(Record):
    customer = String()
    cents = Long()


def write_orders(service_url: str, admin: PulsarAdmin, count: int) -> Counter:
    """A fresh `orders` topic with `count` orders, 4 a second of event time; returns cents per (customer, window)."""
    admin.create_namespace(NAMESPACE, exist_ok=True)
    try:
        admin.delete_topic(f"persistent://{NAMESPACE}/orders")  # from an earlier run
    except PulsarAdminError:
        pass
    admin.create_partitioned_topic(f"persistent://{NAMESPACE}/orders", 4)
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


if __name__ == "__main__":
    main()
