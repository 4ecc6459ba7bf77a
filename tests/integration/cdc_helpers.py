"""What the change-data-capture tests share: a PostgreSQL with two tables and Debezium Server streaming their
changes to the broker, the changes they make, the database's own answer, and the job's tables and answer (a job on a
standalone cluster imports it too: no pytest here).

Rows inserted before Debezium starts arrive as snapshot reads (`r`); then inserts, updates (a customer moving to
another region, so the join changes), primary-key updates (Debezium writes a delete and a create) and deletes (of
snapshot rows too) arrive as change events, some before the job starts (a backlog) and some while it runs, with a
restart of Debezium in between. The change tables have the primary key as upsert key, so a change Debezium delivers
twice (it does, after a restart) counts once, and take their columns from the change events' schema.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pulsar
from pyflink.common import Types
from pyflink.common.typeinfo import RowTypeInfo
from pyflink.datastream.connectors.base import DeliveryGuarantee
from pyflink.table import StreamTableEnvironment

from connector import DebeziumJsonSchema, JsonRowSchema, PulsarSink, PulsarSource, change_topic_columns
from connector.errors import PulsarConfigError
from connector.formats.types import LOCAL_DATE_TIME
from connector.table import PulsarTable, write_upserts
from devtools.debezium_server import DebeziumServer
from devtools.postgres_server import Postgres
from devtools.pulsar_standalone import Broker
from tests.integration.table_helpers import latest_per_key

SNAPSHOT_ORDERS = 2_000
CUSTOMERS = 40
REGIONS = ("north", "south", "east", "west")
# The change tables take their columns from the change events' schema (change_topic_columns); these are what the
# database's tables must give.
CUSTOMER_COLUMNS = (["id", "region", "name"], [Types.INT(), Types.STRING(), Types.STRING()])
ORDER_COLUMNS = (["id", "customer_id", "cents", "note", "placed_at"],
                 [Types.INT(), Types.INT(), Types.LONG(), Types.STRING(), LOCAL_DATE_TIME])
TOTALS = Types.ROW_NAMED(["region", "orders", "cents"], [Types.STRING(), Types.LONG(), Types.LONG()])
REGION_TOTALS = """
    SELECT c.region, COUNT(*) AS orders, SUM(o.cents) AS cents
    FROM orders AS o JOIN customers AS c ON o.customer_id = c.id
    {where}
    GROUP BY c.region"""
CATCH_UP_S = 180


@contextmanager
def cdc_database(broker: Broker) -> Iterator[tuple[Postgres, DebeziumServer]]:
    """A fresh database with the snapshot rows, and Debezium Server streaming its changes to the session's broker
    (topics under a prefix of the test's own). Both are stopped and wiped afterwards."""
    postgres = Postgres(name="test", port=25433)
    postgres.wipe()
    postgres.start()
    debezium = DebeziumServer(name="test", http_port=28090, pulsar_url=broker.service_url, pg=postgres,
                              tables=("public.customers", "public.orders"),
                              topic_prefix=f"cdc-{uuid.uuid4().hex[:8]}")
    try:
        postgres.execute(f"""
            CREATE TABLE customers (id int PRIMARY KEY, region text NOT NULL, name text NOT NULL);
            CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL, cents bigint NOT NULL,
                                 note text NOT NULL, placed_at timestamp NOT NULL);
            ALTER TABLE customers REPLICA IDENTITY FULL;
            ALTER TABLE orders REPLICA IDENTITY FULL;
            INSERT INTO customers SELECT i, (ARRAY{list(REGIONS)})[i % 4 + 1], 'customer ' || i
                FROM generate_series(0, {CUSTOMERS - 1}) AS i;
            {insert_orders(0, SNAPSHOT_ORDERS)}""")
        debezium.wipe()
        debezium.start()
        yield postgres, debezium
    finally:
        debezium.stop()
        debezium.wipe()
        postgres.stop()
        postgres.wipe()


def insert_orders(first: int, count: int) -> str:
    """SQL inserting orders `first` .. `first + count - 1`, about 100 bytes a row, spread over the customers."""
    return (f"INSERT INTO orders SELECT i, i % {CUSTOMERS}, 100 + (i * 37) % 5000, "
            f"'order ' || i || ' ' || repeat(md5(i::text), 2), timestamp '2026-12-01' + i * interval '1 second' "
            f"FROM generate_series({first}, {first + count - 1}) AS i;")


def changes_before_the_job(postgres: Postgres) -> None:
    """Inserts, updates, a customer moving region, primary-key updates and deletes (of snapshot rows too)."""
    postgres.execute(insert_orders(SNAPSHOT_ORDERS, 1_500))
    postgres.execute("UPDATE orders SET cents = cents + 1 WHERE id % 7 = 0;")
    postgres.execute("UPDATE customers SET region = 'south' WHERE id < 5;")
    postgres.execute("UPDATE orders SET id = id + 100000 WHERE id % 50 = 3;")
    postgres.execute("DELETE FROM orders WHERE id % 11 = 0;")
    postgres.execute(f"DELETE FROM customers WHERE id = {CUSTOMERS - 1};")
    postgres.execute(f"INSERT INTO customers VALUES ({CUSTOMERS}, 'central', 'a new customer');")


def changes_while_the_job_runs(postgres: Postgres, debezium: DebeziumServer) -> None:
    """More changes, with a restart of Debezium in the middle (it may send its last changes again)."""
    for first in range(5_000, 7_000, 250):  # one transaction each
        postgres.execute(insert_orders(first, 250))
        if first == 6_000:
            debezium.stop()
            debezium.start()
    postgres.execute(f"UPDATE orders SET customer_id = {CUSTOMERS} WHERE id % 13 = 5;")
    postgres.execute("DELETE FROM orders WHERE id BETWEEN 6500 AND 6600;")
    postgres.execute("UPDATE customers SET region = 'north' WHERE id = 7;")
    postgres.execute("UPDATE orders SET note = 'the last change' WHERE id = (SELECT max(id) FROM orders);")


def database_answer(postgres: Postgres) -> dict[str, tuple[int, int]]:
    rows = postgres.query(REGION_TOTALS.format(where=""))
    return {region: (int(orders), int(cents)) for region, orders, cents in rows}


def change_events(broker: Broker, topic: str) -> tuple[Counter, dict[str, object]]:
    """The ops of every change event in `topic` (tombstones counted as None), and the last event's payload."""
    client = pulsar.Client(broker.service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Warn))
    ops: Counter = Counter()
    last: dict[str, object] = {}
    try:
        reader = client.create_reader(topic, pulsar.MessageId.earliest)
        while reader.has_message_available():
            data = reader.read_next(10_000).data()
            if not data:
                ops[None] += 1
                continue
            last = json.loads(data)["payload"]
            ops[last["op"]] += 1
    finally:
        client.close()
    return ops, last


def wait_for_the_last_change(broker: Broker, topic: str) -> Counter:
    """Waits until `topic` holds the last change `changes_while_the_job_runs` makes; returns its ops."""
    deadline = time.monotonic() + CATCH_UP_S
    while True:
        ops, last = change_events(broker, topic)
        if (last.get("after") or {}).get("note") == "the last change":
            return ops
        assert time.monotonic() < deadline, f"Debezium did not deliver the last change in {CATCH_UP_S} s: {ops}"
        time.sleep(1)


def latest_per_region(broker: Broker, topic: str) -> dict[str, tuple[int, int]]:
    """The result topic read from the start: the latest live row per region."""
    table, _ = latest_per_key(broker, topic, 2, TOTALS)
    return {json.loads(key)["region"]: totals for key, totals in table.items()}


def change_table_columns(service_url: str, topic: str) -> RowTypeInfo:
    """The columns the change events of `topic` name (`change_topic_columns`), once Debezium wrote its first."""
    deadline = time.monotonic() + CATCH_UP_S
    while True:
        try:
            return change_topic_columns(service_url, topic)
        except PulsarConfigError as error:
            assert time.monotonic() < deadline, f"no change event in {topic} after {CATCH_UP_S} s: {error}"
            time.sleep(1)


def change_table(service_url: str, admin_url: str, topic: str, rows: RowTypeInfo) -> PulsarTable:
    """The change topic as an upsert table of `rows` with the primary key `id`."""
    return (PulsarTable.builder()
            .set_source(PulsarSource.builder().set_service_url(service_url).set_admin_url(admin_url)
                        .set_topics(topic).set_deserialization_schema(DebeziumJsonSchema(rows)))
            .set_upsert_key("id").build())


def register_change_tables(t_env: StreamTableEnvironment, service_url: str, admin_url: str, customers_topic: str,
                           orders_topic: str) -> None:
    """`customers` and `orders` in `t_env`, with the columns their change events name (checked against the tables')."""
    for name, topic, columns in (("customers", customers_topic, CUSTOMER_COLUMNS),
                                 ("orders", orders_topic, ORDER_COLUMNS)):
        rows = change_table_columns(service_url, topic)
        assert (rows.get_field_names(), rows.get_field_types()) == columns, f"the columns of {topic}"
        change_table(service_url, admin_url, topic, rows).register(t_env, name)


def wait_for_the_answer(broker: Broker, results: str, expected: dict[str, tuple[int, int]],
                        check_job: Callable[[], None]) -> dict[str, tuple[int, int]]:
    """The latest row per region in `results` once it equals `expected`, or after CATCH_UP_S; `check_job` runs each
    time (it raises when the job ended)."""
    deadline, table = time.monotonic() + CATCH_UP_S, {}
    while time.monotonic() < deadline:
        check_job()
        table = latest_per_region(broker, results)
        if table == expected:
            break
        time.sleep(2)
    return table


def write_region_totals(t_env: StreamTableEnvironment, service_url: str, admin_url: str, results: str,
                        where: str = "") -> None:
    """REGION_TOTALS over the registered change tables (`where` filters the join), written to `results` as upserts
    keyed by region, AT_LEAST_ONCE (EXACTLY_ONCE upserts are refused: README, Upserts)."""
    sink = (PulsarSink.builder().set_service_url(service_url).set_admin_url(admin_url)
            .set_topics(results).set_serialization_schema(JsonRowSchema(TOTALS))
            .set_delivery_guarantee(DeliveryGuarantee.AT_LEAST_ONCE).set_sink_name("region-totals").build())
    write_upserts(t_env, t_env.sql_query(REGION_TOTALS.format(where=where)), sink, ["region"])
