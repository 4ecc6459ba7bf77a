"""A change event's Connect schema -> the table's columns: every mapped type, and the refusals that name the column."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from pyflink.common import RowKind, Types

from connector.errors import PulsarConfigError
from connector.formats.debezium import DebeziumJsonSchema
from connector.formats.debezium_columns import _envelope_schema, row_type_of
from connector.formats.types import LOCAL_DATE, LOCAL_DATE_TIME


def envelope_schema(*columns: dict[str, Any]) -> dict[str, Any]:
    """The wrapper's schema as Debezium writes it: before and after structs of the columns, then source, op, ts_ms."""
    image = {"type": "struct", "fields": list(columns), "optional": True, "name": "cdc.public.t.Value"}
    return {"type": "struct", "name": "cdc.public.t.Envelope", "optional": False, "version": 2, "fields": [
        {**image, "field": "before"}, {**image, "field": "after"},
        {"type": "struct", "fields": [{"type": "string", "optional": False, "field": "db"}], "optional": False,
         "name": "io.debezium.connector.postgresql.Source", "field": "source"},
        {"type": "string", "optional": False, "field": "op"}, {"type": "int64", "optional": True, "field": "ts_ms"}]}


def column(field: str, kind: str, name: str | None = None, optional: bool = True) -> dict[str, Any]:
    return {"type": kind, "optional": optional, "field": field, **({"name": name} if name else {})}


def test_every_mapped_connect_type_becomes_its_column_in_order() -> None:
    schema = envelope_schema(
        column("id", "int32", optional=False), column("small", "int16"), column("tiny", "int8"),
        column("big", "int64"), column("ratio", "float32"), column("amount", "float64"), column("ok", "boolean"),
        column("name", "string"), column("zoned", "string", "io.debezium.time.ZonedTimestamp"),
        column("doc", "string", "io.debezium.data.Json"), column("year", "int32", "io.debezium.time.Year"),
        column("day", "int32", "io.debezium.time.Date"), column("cday", "int32", "org.apache.kafka.connect.data.Date"),
        column("at_ms", "int64", "io.debezium.time.Timestamp"),
        column("at_us", "int64", "io.debezium.time.MicroTimestamp"),
        column("at_ns", "int64", "io.debezium.time.NanoTimestamp"),
        column("at_connect", "int64", "org.apache.kafka.connect.data.Timestamp"))
    row_type = row_type_of(schema)
    assert row_type.get_field_names() == [
        "id", "small", "tiny", "big", "ratio", "amount", "ok", "name", "zoned", "doc", "year", "day", "cday", "at_ms",
        "at_us", "at_ns", "at_connect"]
    assert row_type.get_field_types() == [
        Types.INT(), Types.INT(), Types.INT(), Types.LONG(), Types.FLOAT(), Types.DOUBLE(), Types.BOOLEAN(),
         Types.STRING(), Types.STRING(), Types.STRING(), Types.INT(), LOCAL_DATE, LOCAL_DATE, LOCAL_DATE_TIME,
         LOCAL_DATE_TIME, LOCAL_DATE_TIME, LOCAL_DATE_TIME]


def test_the_columns_decode_the_events_they_came_from() -> None:
    schema = envelope_schema(column("id", "int32"), column("at", "int64", "org.apache.kafka.connect.data.Timestamp"))
    event = {"before": None, "after": {"id": 7, "at": 1_764_756_000_123}, "op": "c", "source": {"db": "app"},
             "ts_ms": 1}
    (row,) = DebeziumJsonSchema(row_type_of(schema)).deserialize(json.dumps({"schema": schema,
                                                                              "payload": event}).encode())
    assert (row.get_row_kind(), tuple(row)) == \
        (RowKind.INSERT, (7, datetime.datetime(2025, 12, 3, 10, 0, 0, 123_000)))


@pytest.mark.parametrize(("kind", "name", "says"), [
    ("bytes", "org.apache.kafka.connect.data.Decimal", "decimal.handling.mode"),
    ("struct", "io.debezium.data.VariableScaleDecimal", "decimal.handling.mode"),
    ("bytes", None, "Connect type bytes"),
    ("int64", "io.debezium.time.MicroTime", "int64 io.debezium.time.MicroTime"),
    ("int32", "io.debezium.time.Time", "int32 io.debezium.time.Time"),
    ("array", None, "Connect type array"),
])
def test_a_column_without_a_type_here_is_refused_naming_it_and_what_to_do(kind: str, name: str | None,
                                                                          says: str) -> None:
    with pytest.raises(PulsarConfigError, match=rf"column price of cdc.public.t has .*{says}.*declare the columns"):
        row_type_of(envelope_schema(column("id", "int32"), column("price", kind, name)), "cdc.public.t")


def test_a_schema_without_an_after_struct_is_refused() -> None:
    with pytest.raises(PulsarConfigError, match="without an 'after' struct"):
        row_type_of({"type": "struct", "fields": [{"type": "string", "field": "op"}]})


def test_a_message_gives_its_schema_none_for_a_tombstone_and_a_bare_envelope_is_refused() -> None:
    schema = envelope_schema(column("id", "int32"))
    assert _envelope_schema(json.dumps({"schema": schema, "payload": {"op": "c"}}).encode(), "t") == schema
    assert _envelope_schema(b"", "t") is None
    assert _envelope_schema(json.dumps({"schema": schema, "payload": None}).encode(), "t") is None
    with pytest.raises(PulsarConfigError, match="carry no schema .*schemas.enable=false"):
        _envelope_schema(json.dumps({"op": "c", "after": {"id": 1}}).encode(), "t")
    with pytest.raises(PulsarConfigError, match="a message of t is not JSON"):
        _envelope_schema(b"{not json", "t")
