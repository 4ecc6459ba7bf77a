"""`PulsarTable.builder()` validates without I/O (no broker runs here)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from connector import JsonRowSchema, PulsarConfigError, PulsarSource
from connector.table import PulsarTable, Watermark
from connector.table.rows import TableRows
from tests.unit.table.test_rows import ORDER


def source() -> PulsarSource:
    return (PulsarSource.builder().set_service_url("pulsar://127.0.0.1:1").set_admin_url("http://127.0.0.1:1")
            .set_topics("orders").set_deserialization_schema(JsonRowSchema(ORDER)).build())


def test_a_table_reads_its_metadata_as_columns_and_its_event_time_column_is_known() -> None:
    table = (PulsarTable.builder().set_source(source()).set_metadata_columns("publish_time", msg_key="key")
             .set_watermark("publish_time", 2000, idle_timeout_ms=1000).build())
    rows = table.source.deserialization_schema
    assert isinstance(rows, TableRows)
    assert rows.metadata == {"publish_time": "publish_time", "msg_key": "key"}
    assert rows.rowtime == "publish_time"
    assert table.watermark == Watermark("publish_time", 2000, 1000)
    assert table.source.watermark_columns is None  # known once the broker is checked (the columns then are)


def test_the_source_may_be_given_as_its_builder() -> None:
    builder = (PulsarSource.builder().set_service_url("pulsar://127.0.0.1:1").set_admin_url("http://127.0.0.1:1")
               .set_topics("orders").set_deserialization_schema(JsonRowSchema(ORDER)))
    assert PulsarTable.builder().set_source(builder).build().source.subscription.topics == ("orders",)


@pytest.mark.parametrize("configure, message", [
    (lambda b: b, "source: required"),
    (lambda b: b.set_source(source()).set_metadata_columns("partition_key"), "unknown metadata 'partition_key'"),
    (lambda b: b.set_source(source()).set_watermark("publish_time", -1), "max_out_of_orderness_ms must be an int"),
    (lambda b: b.set_source(source()).set_watermark("publish_time", 10, idle_timeout_ms=1.5),
     "idle_timeout_ms must be an int"),
])
def test_bad_table_options_are_refused_naming_the_option(configure, message: str) -> None:
    with pytest.raises(PulsarConfigError, match=message):
        configure(PulsarTable.builder()).build()


def test_a_source_that_emits_metadata_rows_is_refused() -> None:
    with pytest.raises(PulsarConfigError, match="emitMetadata"):
        PulsarTable.builder().set_source(replace(source(), emit_metadata=True)).build()
