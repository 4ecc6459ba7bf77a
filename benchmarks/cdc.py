"""Change events per second: Debezium JSON through the changelog decode into a SQL aggregate, next to plain JSON rows
through the same aggregate (issue 14's throughput figure).

    .venv/bin/python -m benchmarks.cdc [--events 100000]   # on its own broker (micro-bench ports 24650/24080)
    ./dev bench                                            # also runs it, on the bench broker (--no-cdc: not)

The change events are shaped as Debezium Server 2.7.3 writes them for a PostgreSQL table (the `{schema, payload}`
wrapper, about 1.7 KB an event, a tombstone after each delete): 60% inserts, 30% updates, 10% deletes of an
`orders(id, customer_id, cents, note)` table, written before the job by a default-batching producer to one topic
(Debezium writes a table to one topic). The plain JSON topic holds the same number of rows, each the `after` image
of an insert (about 90 B). Each job is `SELECT customer_id, COUNT(*), SUM(cents) FROM orders GROUP BY customer_id`
over a bounded read (PyFlink 2.3, parallelism 2, streaming mode, mini-batch aggregation, collected); the change
job's answer is checked against the table the events leave.

Rates exclude job start-up and shut-down: each job also runs over the first `SMALL` messages, and the rate is
(events - SMALL) / (wall time - wall time of the small run), after one warm-up job. The decode rows are the
deserializers alone, without Flink (events per second of `deserialize`).
"""

from __future__ import annotations

import argparse
import json
import random
import time
import uuid
from collections.abc import Callable
from typing import Any

import pulsar
from pyflink.common import Types
from pyflink.datastream import StreamExecutionEnvironment
from pyflink.table import StreamTableEnvironment

from connector import DebeziumJsonSchema, JsonRowSchema, PulsarSource, StopCursor
from connector.table import PulsarTable

SMALL = 1_000
ORDER_ROWS = Types.ROW_NAMED(["id", "customer_id", "cents", "note"],
                             [Types.INT(), Types.INT(), Types.LONG(), Types.STRING()])
TOTALS_SQL = "SELECT customer_id, COUNT(*) AS orders, SUM(cents) AS cents FROM orders GROUP BY customer_id"
CUSTOMERS = 100
MINI_BATCH = {"table.exec.mini-batch.enabled": "true", "table.exec.mini-batch.allow-latency": "1 s",
              "table.exec.mini-batch.size": "5000"}
"""The aggregate folds its input in mini-batches, as a throughput-minded job sets it: one output change per key and
batch instead of one per event (which the collecting client cannot take at this rate)."""
_COLUMNS = [{"type": "int32", "optional": False, "field": "id"}, {"type": "int32", "optional": True,
            "field": "customer_id"}, {"type": "int64", "optional": True, "field": "cents"},
            {"type": "string", "optional": True, "field": "note"}]
_SOURCE_FIELDS = [{"type": "string", "optional": False, "field": name} for name in
                  ("version", "connector", "name", "db", "schema", "table")] + \
                 [{"type": "int64", "optional": True, "field": name} for name in ("ts_ms", "txId", "lsn")]
WRAPPER_SCHEMA = {"type": "struct", "optional": False, "name": "cdc.public.orders.Envelope", "version": 2, "fields": [
    {"type": "struct", "fields": _COLUMNS, "optional": True, "name": "cdc.public.orders.Value", "field": "before"},
    {"type": "struct", "fields": _COLUMNS, "optional": True, "name": "cdc.public.orders.Value", "field": "after"},
    {"type": "struct", "fields": _SOURCE_FIELDS, "optional": False, "name": "io.debezium.connector.postgresql.Source",
     "field": "source"},
    {"type": "string", "optional": False, "field": "op"}, {"type": "int64", "optional": True, "field": "ts_ms"}]}


def change_events(count: int, seed: int = 7) -> tuple[list[tuple[str, bytes | None]], list[bytes],
                                                      dict[int, tuple[int, int]]]:
    """`count` messages of change events (key, value; None for a tombstone), as many plain JSON rows, and the
    answer of TOTALS_SQL over the table the events leave: customer -> (orders, cents)."""
    rng = random.Random(seed)
    table: dict[int, dict[str, Any]] = {}
    events: list[tuple[str, bytes | None]] = []
    rows: list[bytes] = []
    next_id = 0
    while len(events) < count:
        draw = rng.random()
        if draw < 0.6 or len(table) < 10:
            op, before = "c", None
            after = {"id": next_id, "customer_id": next_id % CUSTOMERS, "cents": rng.randrange(100, 10_000),
                     "note": f"order {next_id} {uuid.UUID(int=rng.getrandbits(128)).hex}"}
            next_id += 1
        else:
            before = table[rng.choice(list(table))]
            op = "u" if draw < 0.9 else "d"
            after = {**before, "cents": rng.randrange(100, 10_000)} if op == "u" else None
        row = after or before
        source = {"version": "2.7.3.Final", "connector": "postgresql", "name": "cdc", "db": "app",
                  "schema": "public", "table": "orders", "ts_ms": 1_764_756_000_000 + len(events),
                  "txId": 1000 + len(events), "lsn": 26_000_000 + 64 * len(events)}
        payload = {"before": before, "after": after, "source": source, "op": op, "ts_ms": source["ts_ms"] + 5}
        key = json.dumps({"schema": {"type": "struct", "fields": _COLUMNS[:1], "optional": False,
                                     "name": "cdc.public.orders.Key"}, "payload": {"id": row["id"]}})
        events.append((key, json.dumps({"schema": WRAPPER_SCHEMA, "payload": payload}).encode()))
        rows.append(json.dumps(after or before).encode())
        if op == "d":
            del table[row["id"]]
            if len(events) < count:
                events.append((key, None))
                rows.append(json.dumps(before).encode())
        else:
            table[row["id"]] = after
    answer: dict[int, tuple[int, int]] = {}
    for row in table.values():
        orders, cents = answer.get(row["customer_id"], (0, 0))
        answer[row["customer_id"]] = (orders + 1, cents + row["cents"])
    return events, rows, answer


def _write(service_url: str, topic: str, messages: list[tuple[str | None, bytes | None]]) -> None:
    client = pulsar.Client(service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Warn))
    producer = client.create_producer(topic, block_if_queue_full=True)  # the client's default batching
    for key, value in messages:  # a value of None is a tombstone (a null value)
        producer.send_async(value, None, **({"partition_key": key} if key else {}))
    producer.flush()
    client.close()


def _aggregate(service_url: str, admin_url: str, topic: str, schema: Any, upsert_key: bool, stop: pulsar.MessageId,
               ) -> tuple[float, dict[int, tuple[int, int]]]:
    """Wall seconds of TOTALS_SQL over `topic` up to `stop` (inclusive), and its answer."""
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    t_env = StreamTableEnvironment.create(env)
    for key, value in MINI_BATCH.items():
        t_env.get_config().set(key, value)
    builder = PulsarTable.builder().set_source(
        PulsarSource.builder().set_service_url(service_url).set_admin_url(admin_url).set_topics(topic)
        .set_deserialization_schema(schema).set_bounded_stop_cursor(StopCursor.after_message_id(stop)))
    (builder.set_upsert_key("id") if upsert_key else builder).build().register(t_env, "orders")
    began = time.monotonic()
    answer: dict[int, tuple[int, int]] = {}
    with t_env.sql_query(TOTALS_SQL).execute().collect() as rows:
        for row in rows:
            if row.get_row_kind().name in ("INSERT", "UPDATE_AFTER"):
                answer[row[0]] = (row[1], row[2])
            else:
                answer.pop(row[0], None)
    return time.monotonic() - began, answer


def _message_ids(service_url: str, topic: str, positions: tuple[int, ...]) -> list[pulsar.MessageId]:
    """The MessageIds of the messages at `positions` (0-based) of `topic`."""
    client = pulsar.Client(service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Warn))
    found = []
    try:
        reader = client.create_reader(topic, pulsar.MessageId.earliest)
        for position in range(max(positions) + 1):
            message = reader.read_next(30_000)
            if position in positions:
                found.append(message.message_id())
    finally:
        client.close()
    return found


def _decode_rate(decode: Callable[[bytes], Any], payloads: list[bytes]) -> float:
    began = time.perf_counter()
    for payload in payloads:
        decode(payload)
    return len(payloads) / (time.perf_counter() - began)


def figures(service_url: str, admin_url: str, events: int, new_topic: Callable[[str], str]) -> dict[str, Any]:
    """Events/s of each job and decode (see the module doc); `new_topic(label)` makes a fresh 1-partition topic."""
    changes, rows, answer = change_events(events)
    change_topic, row_topic = new_topic("cdc-changes"), new_topic("cdc-rows")
    _write(service_url, change_topic, changes)
    _write(service_url, row_topic, [(None, row) for row in rows])
    debezium = DebeziumJsonSchema(ORDER_ROWS)
    plain = JsonRowSchema(ORDER_ROWS)
    figures: dict[str, Any] = {"events": events, "bytes_per_event": sum(len(v or b"") for _, v in changes) // events,
                               "bytes_per_row": sum(map(len, rows)) // events, "rates": {}}
    jobs = {"Debezium JSON, upsert key id": (change_topic, debezium, True),
            "Debezium JSON, all change kinds": (change_topic, debezium, False),
            "plain JSON rows (append-only)": (row_topic, plain, False)}
    warm_up = _message_ids(service_url, row_topic, (SMALL - 1,))[0]
    _aggregate(service_url, admin_url, row_topic, plain, False, warm_up)  # the first job in a process starts slower
    for label, (topic, schema, upsert_key) in jobs.items():
        small_stop, stop = _message_ids(service_url, topic, (SMALL - 1, events - 1))
        small_s, _ = _aggregate(service_url, admin_url, topic, schema, upsert_key, small_stop)
        wall_s, got = _aggregate(service_url, admin_url, topic, schema, upsert_key, stop)
        rate = (events - SMALL) / max(wall_s - small_s, 1e-9)
        checked = got == answer if topic == change_topic else None
        figures["rates"][label] = {"events_per_s": round(rate), "wall_s": round(wall_s, 1),
                                   "startup_s": round(small_s, 1), "answer_equal": checked}
        print(f"    {label}: {rate:,.0f} events/s (wall {wall_s:.1f} s, start-up run {small_s:.1f} s)"
              + ("" if checked is None else f", answer {'equal' if checked else 'DIFFERENT'}"), flush=True)
    payloads = [value for _, value in changes if value is not None][:20_000]
    figures["decode"] = {"DebeziumJsonSchema.deserialize": round(_decode_rate(debezium.deserialize, payloads)),
                         "JsonRowSchema.deserialize": round(_decode_rate(plain.deserialize, rows[:20_000]))}
    return figures


def markdown(figures: dict[str, Any]) -> list[str]:
    """The report's section for `figures`."""
    plain = figures["rates"]["plain JSON rows (append-only)"]["events_per_s"]
    lines = ["## Change events (CDC)", "",
             f"{figures['events']:,} messages in one topic: Debezium JSON change events (~{figures['bytes_per_event']} "
             f"B each, 60% inserts, 30% updates, 10% deletes with tombstones) vs plain JSON rows "
             f"(~{figures['bytes_per_row']} B), each through `{TOTALS_SQL}` (bounded, parallelism 2; start-up "
             "subtracted, benchmarks/cdc.py).", "",
             "| what | events/s | vs plain JSON | answer |", "|---|---:|---:|---|"]
    for label, run in figures["rates"].items():
        answer = "" if run["answer_equal"] is None else ("equal" if run["answer_equal"] else "DIFFERENT")
        lines.append(f"| {label} | {run['events_per_s']:,} | {run['events_per_s'] / plain:.2f} | {answer} |")
    for label, rate in figures["decode"].items():
        lines.append(f"| decode alone: {label} | {rate:,} | | |")
    return lines + [""]


def main() -> None:
    from benchmarks.micro import BROKER, micro_broker

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    with micro_broker() as admin:
        def new_topic(label: str) -> str:
            name = f"persistent://public/default/{label}-{uuid.uuid4().hex[:8]}"
            admin.create_topic(name)
            return name

        result = figures(BROKER.service_url, BROKER.admin_url, args.events, new_topic)
    print("\n".join(markdown(result)))


if __name__ == "__main__":
    main()
