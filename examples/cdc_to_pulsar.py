"""Database changes through Pulsar into PyFlink SQL: PostgreSQL -> Debezium Server -> Pulsar -> a SQL join and
aggregate -> upserts in Pulsar, checked against the same query run in the database.

    ./dev example cdc_to_pulsar [--orders 3000] [--service-url pulsar://127.0.0.1:6650] [--admin-url http://...]

Starts a local PostgreSQL (`./dev postgres`, 127.0.0.1:25432) if none runs, and (re)starts Debezium Server
(`./dev debezium`, fresh: its topics, slot and offsets of an earlier run are removed) after writing `customers` and
`orders` rows, which it reads as a snapshot. Then it updates, re-keys and deletes rows, waits for Debezium to deliver
the last change, and runs a PyFlink job over the change topics (columns from their change events' schema) up to
their latest message: the orders per region (a join of the two tables), written as upserts to `cdc-region-totals`,
read back as an upsert table and printed beside the database's answer. PostgreSQL and Debezium keep running
afterwards: `./dev debezium stop`, `./dev postgres stop`.
"""

from __future__ import annotations

import argparse
import json
import time

import pulsar
from pyflink.common import RowKind, Types
from pyflink.datastream import StreamExecutionEnvironment
from pyflink.table import StreamTableEnvironment

from connector import DebeziumJsonSchema, JsonRowSchema, PulsarSink, PulsarSource, StopCursor, change_topic_columns
from connector.admin import PulsarAdmin, PulsarAdminError
from connector.table import PulsarTable, write_upserts
from devtools.debezium_server import DebeziumServer
from devtools.postgres_server import Postgres

RESULTS = "persistent://public/default/cdc-region-totals"
TOTALS = Types.ROW_NAMED(["region", "orders", "cents"], [Types.STRING(), Types.LONG(), Types.LONG()])
REGION_TOTALS = """
    SELECT c.region, COUNT(*) AS orders, SUM(o.cents) AS cents
    FROM orders AS o JOIN customers AS c ON o.customer_id = c.id
    GROUP BY c.region"""


def fresh_database(postgres: Postgres, debezium: DebeziumServer, admin: PulsarAdmin, orders: int) -> None:
    """Tables with rows for the snapshot, and Debezium started on them with no state or topics of an earlier run."""
    postgres.start()
    debezium.wipe()
    for topic in (debezium.topic("customers"), debezium.topic("orders"), RESULTS):
        try:
            admin.delete_topic(topic)
        except PulsarAdminError:
            pass  # not there yet
    admin.create_partitioned_topic(RESULTS, 2)
    postgres.execute(f"""
        DROP TABLE IF EXISTS customers, orders;
        CREATE TABLE customers (id int PRIMARY KEY, region text NOT NULL, name text NOT NULL);
        CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL, cents bigint NOT NULL);
        ALTER TABLE customers REPLICA IDENTITY FULL;  -- updates and deletes carry the whole old row
        ALTER TABLE orders REPLICA IDENTITY FULL;
        INSERT INTO customers SELECT i, (ARRAY['north', 'south', 'east', 'west'])[i % 4 + 1], 'customer ' || i
            FROM generate_series(0, 19) AS i;
        INSERT INTO orders SELECT i, i % 20, 100 + (i * 37) % 900 FROM generate_series(0, {orders // 2 - 1}) AS i;""")
    debezium.start()


def change_rows(postgres: Postgres, orders: int) -> None:
    postgres.execute(f"INSERT INTO orders SELECT i, i % 20, 100 + (i * 37) % 900 "
                     f"FROM generate_series({orders // 2}, {orders - 1}) AS i;")
    postgres.execute("UPDATE orders SET cents = cents * 2 WHERE id % 5 = 0;")
    postgres.execute("UPDATE customers SET region = 'south' WHERE id IN (0, 4);")  # moves their orders' region
    postgres.execute("UPDATE orders SET id = id + 1000000 WHERE id % 9 = 1;")  # a new primary key
    postgres.execute("DELETE FROM orders WHERE id % 7 = 3;")
    postgres.execute("UPDATE customers SET name = 'the last change' WHERE id = 19;")


def wait_for_the_last_change(service_url: str, topic: str, timeout_s: float = 120) -> None:
    client = pulsar.Client(service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Warn))
    deadline = time.monotonic() + timeout_s
    try:
        reader = client.create_reader(topic, pulsar.MessageId.earliest)
        while time.monotonic() < deadline:
            if reader.has_message_available():
                data = reader.read_next(10_000).data()
                if data and (json.loads(data)["payload"]["after"] or {}).get("name") == "the last change":
                    return
            else:
                time.sleep(0.2)
    finally:
        client.close()
    raise SystemExit(f"FAILED: Debezium did not deliver the last change to {topic} within {timeout_s} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=3000)
    parser.add_argument("--service-url", default="pulsar://127.0.0.1:6650")
    parser.add_argument("--admin-url", default="http://127.0.0.1:8080")
    parser.add_argument("--postgres", default="default:25432", help="NAME:PORT of the local PostgreSQL instance")
    parser.add_argument("--debezium", default="default:28089", help="NAME:HTTP_PORT of the Debezium instance")
    args = parser.parse_args()
    pg_name, pg_port = args.postgres.split(":")
    dbz_name, dbz_port = args.debezium.split(":")
    postgres = Postgres(pg_name, int(pg_port))
    debezium = DebeziumServer(dbz_name, int(dbz_port), args.service_url, postgres, ("public.customers",
                                                                                      "public.orders"), "shop")
    fresh_database(postgres, debezium, PulsarAdmin(args.admin_url), args.orders)
    change_rows(postgres, args.orders)
    wait_for_the_last_change(args.service_url, debezium.topic("customers"))

    env = StreamExecutionEnvironment.get_execution_environment()
    env.enable_checkpointing(1000)
    t_env = StreamTableEnvironment.create(env)
    for table in ("customers", "orders"):
        columns = change_topic_columns(args.service_url, debezium.topic(table))  # from its change events' schema
        (PulsarTable.builder()
         .set_source(PulsarSource.builder().set_service_url(args.service_url).set_admin_url(args.admin_url)
                     .set_topics(debezium.topic(table)).set_bounded_stop_cursor(StopCursor.latest())
                     .set_deserialization_schema(DebeziumJsonSchema(columns)))
         .set_upsert_key("id")  # each change upserts or deletes its row: one Debezium sends twice counts once
         .build().register(t_env, table))
    sink = (PulsarSink.builder().set_service_url(args.service_url).set_admin_url(args.admin_url)
            .set_topics(RESULTS).set_serialization_schema(JsonRowSchema(TOTALS)).build())
    write_upserts(t_env, t_env.sql_query(REGION_TOTALS), sink, ["region"])
    env.execute("orders per region over change topics")

    read_back = StreamTableEnvironment.create(StreamExecutionEnvironment.get_execution_environment())
    # Mini-batches fold a region's updates within a batch into one row: collect() then fetches a few rows per region
    # rather than one or two per upsert message (PyFlink's collect() costs several JVM calls a row).
    for option, value in (("enabled", "true"), ("allow-latency", "1 s"), ("size", "10000")):
        read_back.get_config().set(f"table.exec.mini-batch.{option}", value)
    (PulsarTable.builder()
     .set_source(PulsarSource.builder().set_service_url(args.service_url).set_admin_url(args.admin_url)
                 .set_topics(RESULTS).set_bounded_stop_cursor(StopCursor.latest())
                 .set_deserialization_schema(JsonRowSchema(TOTALS)))
     .set_upsert_key("region").build().register(read_back, "region_totals"))
    job = {}
    with read_back.execute_sql("SELECT region, orders, cents FROM region_totals").collect() as rows:
        for row in rows:  # the upsert table's changelog, applied
            if row.get_row_kind() in (RowKind.INSERT, RowKind.UPDATE_AFTER):
                job[row[0]] = (row[1], row[2])
            else:
                job.pop(row[0], None)
    database = {region: (int(orders), int(cents)) for region, orders, cents in postgres.query(REGION_TOTALS)}
    print(f"{'region':<8} {'database: orders':>16} {'cents':>10}   {'job: orders':>11} {'cents':>10}")
    for region in sorted(database.keys() | job.keys()):
        db_orders, db_cents = database.get(region, ("-", "-"))
        job_orders, job_cents = job.get(region, ("-", "-"))
        print(f"{region:<8} {db_orders:>16} {db_cents:>10}   {job_orders:>11} {job_cents:>10}")
    if job != database:
        raise SystemExit("FAILED: the job's answer differs from the database's")
    print(f"OK: the job's orders per region, from the change topics, equal the database's ({len(job)} regions)")


if __name__ == "__main__":
    main()
