"""What the table tests that write upserts share: a SQL job environment with a function that fails once, and
reading a topic back as an upsert table."""

from __future__ import annotations

import os
from pathlib import Path

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


def read_upsert_table(broker: Broker, topic: str, row_type: RowTypeInfo, key: str) -> dict[object, tuple]:
    """`topic` (JSON rows of `row_type`) read to its latest message as an upsert table keyed by `key`, the first
    column: key -> the other columns of its live row."""
    read_env = StreamExecutionEnvironment.get_execution_environment()
    read_env.set_parallelism(2)
    t_env = StreamTableEnvironment.create(read_env)
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
