"""What the table tests that write upserts share: a SQL job environment with a function that fails once, and
reading a topic back, with plain Readers or as an upsert table."""

from __future__ import annotations

import os
from pathlib import Path

import pulsar

from pyflink.common import RowKind
from pyflink.common.typeinfo import RowTypeInfo
from pyflink.datastream import StreamExecutionEnvironment
from pyflink.table import DataTypes, StreamTableEnvironment
from pyflink.table.udf import udf

from connector import JsonRowSchema, PulsarSource, StopCursor
from connector.table import PulsarTable
from devtools.pulsar_standalone import Broker


def job_failing_once(marker: Path, fail_at: int) -> tuple[StreamExecutionEnvironment, StreamTableEnvironment]:
    """A checkpointed SQL environment (parallelism 2) with `fail_once(id)`: true, except that it raises the first
    time it sees `fail_at`, leaving `marker` behind so the restarted job goes on."""

    @udf(result_type=DataTypes.BOOLEAN())
    def fail_once(record_id: int) -> bool:
        if record_id == fail_at and not os.path.exists(marker):
            open(marker, "x").close()
            raise RuntimeError(f"injected failure at record {record_id}")
        return True

    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    env.enable_checkpointing(500)
    t_env = StreamTableEnvironment.create(env)
    t_env.create_temporary_function("fail_once", fail_once)
    return env, t_env


def latest_per_key(broker: Broker, topic: str, partitions: int, row_type: RowTypeInfo,
                   compacted: bool = False) -> tuple[dict[str, tuple], int]:
    """The upserts in `topic` (JSON rows of `row_type`, key first) read from the start with plain Readers: (message
    key -> the other columns of its latest live row, in key order; keyed messages read).

    A compacted read of batched messages also returns, in pulsar-client 3.13, each message compaction removed from
    a batch as an empty message without a key (the Java client skips them); those are not counted."""
    client = pulsar.Client(broker.service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Warn))
    rows = JsonRowSchema(row_type)
    table: dict[str, tuple] = {}
    read = 0
    try:
        for partition in range(partitions):
            reader = client.create_reader(f"{topic}-partition-{partition}", pulsar.MessageId.earliest,
                                          is_read_compacted=compacted)
            while reader.has_message_available():
                message = reader.read_next(10_000)
                if compacted and not message.partition_key() and not message.data():
                    continue  # a message compaction removed from its batch
                read += 1
                if message.has_null_value():
                    table.pop(message.partition_key(), None)
                else:
                    table[message.partition_key()] = tuple(rows.deserialize(message.data()))[1:]
    finally:
        client.close()
    return dict(sorted(table.items())), read


def read_upsert_table(broker: Broker, topic: str, row_type: RowTypeInfo, key: str) -> dict[object, tuple]:
    """`topic` (JSON rows of `row_type`) read to its latest message as an upsert table keyed by `key`, the first
    column: key -> the other columns of its live row.

    The query runs with mini-batches, so a key's updates within a batch reach the result as one row. PyFlink's
    `collect()` makes several JVM calls per row (2-5 ms): a 42,000-message topic took 200 s to collect row by row
    and takes seconds this way. The live rows are the same either way."""
    read_env = StreamExecutionEnvironment.get_execution_environment()
    read_env.set_parallelism(2)
    t_env = StreamTableEnvironment.create(read_env)
    for option, value in (("enabled", "true"), ("allow-latency", "1 s"), ("size", "10000")):
        t_env.get_config().set(f"table.exec.mini-batch.{option}", value)
    (PulsarTable.builder()
     .set_source(PulsarSource.builder().set_service_url(broker.service_url).set_admin_url(broker.admin_url)
                 .set_topics(topic).set_deserialization_schema(JsonRowSchema(row_type))
                 .set_bounded_stop_cursor(StopCursor.latest()))
     .set_upsert_key(key).build().register(t_env, "upserts"))
    table: dict[object, tuple] = {}
    with t_env.sql_query("SELECT * FROM upserts").execute().collect() as rows:
        for row in rows:
            if row.get_row_kind() in (RowKind.INSERT, RowKind.UPDATE_AFTER):
                table[row[0]] = tuple(row[1:])
            else:
                table.pop(row[0], None)
    return table
