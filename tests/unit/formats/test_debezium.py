"""Debezium JSON change events -> changelog Rows: ops, wrapper, tombstones, types, metadata, and bad events."""

from __future__ import annotations

import datetime
import decimal
import json
import pickle
from typing import Any

import pytest
from pyflink.common import RowKind, Types

from connector.errors import PulsarConfigError
from connector.formats.debezium import DebeziumJsonSchema
from connector.formats.types import LOCAL_DATE, LOCAL_DATE_TIME
from connector.serde import Records

ORDERS = Types.ROW_NAMED(["id", "customer_id", "cents"], [Types.INT(), Types.INT(), Types.LONG()])
SOURCE = {"version": "2.7.3.Final", "connector": "postgresql", "name": "cdc", "ts_ms": 1764756000123,
          "snapshot": "false", "db": "app", "schema": "public", "table": "orders", "txId": 771, "lsn": 26876624}


def event(op: str, before: dict[str, Any] | None, after: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    return {"before": before, "after": after, "source": SOURCE, "op": op, "ts_ms": 1764756000456, **extra}


def payload(document: Any) -> bytes:
    return json.dumps(document).encode()


def wrapped(envelope: dict[str, Any], after_fields: list[dict[str, Any]]) -> dict[str, Any]:
    """The envelope in Kafka Connect's {schema, payload} wrapper, as Debezium writes it by default."""
    image = {"type": "struct", "optional": True, "fields": after_fields}
    return {"schema": {"type": "struct", "fields": [{**image, "field": "before"}, {**image, "field": "after"}]},
            "payload": envelope}


def kinds_and_values(records: Records) -> list[tuple[RowKind, tuple[Any, ...]]]:
    return [(row.get_row_kind(), tuple(row)) for row in records]


def test_inserts_snapshot_reads_updates_and_deletes_become_their_changelog_rows() -> None:
    schema = DebeziumJsonSchema(ORDERS)
    row = {"id": 1, "customer_id": 7, "cents": 1250}
    changed = {"id": 1, "customer_id": 7, "cents": 990}
    assert kinds_and_values(schema.deserialize(payload(event("c", None, row)))) == [(RowKind.INSERT, (1, 7, 1250))]
    assert kinds_and_values(schema.deserialize(payload(event("r", None, row)))) == [(RowKind.INSERT, (1, 7, 1250))]
    assert kinds_and_values(schema.deserialize(payload(event("u", row, changed)))) == [
        (RowKind.UPDATE_BEFORE, (1, 7, 1250)), (RowKind.UPDATE_AFTER, (1, 7, 990))]
    assert kinds_and_values(schema.deserialize(payload(event("d", changed, None)))) == [(RowKind.DELETE, (1, 7, 990))]


def test_the_connect_wrapper_is_read_like_the_bare_envelope_and_rows_carry_the_column_names() -> None:
    schema = DebeziumJsonSchema(ORDERS)
    fields = [{"type": "int32", "field": "id"}, {"type": "int32", "field": "customer_id"},
              {"type": "int64", "field": "cents"}]
    records = schema.deserialize(payload(wrapped(event("c", None, {"id": 2, "customer_id": 3, "cents": 5}), fields)))
    assert kinds_and_values(records) == [(RowKind.INSERT, (2, 3, 5))]
    assert records[0].as_dict() == {"id": 2, "customer_id": 3, "cents": 5}


def test_tombstones_give_no_rows() -> None:
    schema = DebeziumJsonSchema(ORDERS)
    assert schema.deserialize(b"") == Records()
    assert schema.deserialize(b"null") == Records()
    assert schema.deserialize(payload({"schema": None, "payload": None})) == Records()


def test_an_update_without_the_old_row_names_replica_identity_full() -> None:
    schema = DebeziumJsonSchema(ORDERS)
    with pytest.raises(ValueError, match=r"'before' row of an op 'u' event of app\.public\.orders is missing.*"
                                         "REPLICA IDENTITY FULL"):
        schema.deserialize(payload(event("u", None, {"id": 1, "customer_id": 7, "cents": 1})))


def test_bad_events_are_refused_naming_the_table_and_the_cause() -> None:
    schema = DebeziumJsonSchema(ORDERS)
    row = {"id": 1, "customer_id": 7, "cents": 5}
    with pytest.raises(ValueError, match=r"unknown op 'x' in a change event of app\.public\.orders"):
        schema.deserialize(payload(event("x", None, row)))
    with pytest.raises(ValueError, match=r"TRUNCATE of app\.public\.orders"):
        schema.deserialize(payload(event("t", None, None)))
    with pytest.raises(ValueError, match=r"'after' row of an op 'c' event of app\.public\.orders is missing"):
        schema.deserialize(payload(event("c", None, None)))
    with pytest.raises(ValueError, match=r"has no column cents \(was it dropped\?\); it has id, customer_id"):
        schema.deserialize(payload(event("c", None, {"id": 1, "customer_id": 7})))
    with pytest.raises(ValueError, match=r"column cents of app\.public\.orders: expected an integer, got str '5'"):
        schema.deserialize(payload(event("c", None, {**row, "cents": "5"})))
    with pytest.raises(ValueError, match="a change event is a JSON object, got list"):
        schema.deserialize(b"[1]")
    with pytest.raises(ValueError):
        schema.deserialize(b"{not json")


def test_columns_the_declaration_lacks_are_ignored_and_nulls_stay_null() -> None:
    schema = DebeziumJsonSchema(ORDERS)
    records = schema.deserialize(payload(event("c", None, {"id": 1, "customer_id": None, "cents": 4, "note": "x"})))
    assert kinds_and_values(records) == [(RowKind.INSERT, (1, None, 4))]


def test_column_types_follow_the_json_debezium_writes_and_timestamps_their_schema_unit() -> None:
    row_type = Types.ROW_NAMED(["name", "ok", "price", "amount", "day", "at", "at_ms"],
                               [Types.STRING(), Types.BOOLEAN(), Types.DOUBLE(), Types.BIG_DEC(), LOCAL_DATE,
                                LOCAL_DATE_TIME, LOCAL_DATE_TIME])
    image = {"name": "a", "ok": True, "price": 3, "amount": "12.50", "day": 20425,
             "at": 1764756000123456, "at_ms": 1764756000123}
    fields = [{"type": "int64", "name": "io.debezium.time.MicroTimestamp", "field": "at"},
              {"type": "int64", "name": "io.debezium.time.Timestamp", "field": "at_ms"}]
    schema = DebeziumJsonSchema(row_type)
    (row,) = schema.deserialize(payload(wrapped(event("c", None, image), fields)))
    at = datetime.datetime(2025, 12, 3, 10, 0, 0, 123456)
    assert tuple(row) == ("a", True, 3.0, decimal.Decimal("12.50"), datetime.date(2025, 12, 3), at,
                          at.replace(microsecond=123000))
    (bare,) = schema.deserialize(payload(event("c", None, {**image, "at_ms": 1764756000123456})))
    assert bare[5] == at and bare[6] == at  # no wrapper: microseconds, PostgreSQL's default


def test_metadata_columns_come_from_the_envelope_after_the_table_columns() -> None:
    schema = DebeziumJsonSchema(ORDERS, metadata=["source.table", "ingestion-timestamp", "source.properties"])
    assert schema.produced_type().get_field_names() == ["id", "customer_id", "cents", "source_table",
                                                       "ingestion_timestamp", "source_properties"]
    (row,) = schema.deserialize(payload(event("c", None, {"id": 1, "customer_id": 2, "cents": 3})))
    assert row[3] == "orders"
    assert row[4].to_epoch_milli() == 1764756000456
    assert row[5]["lsn"] == "26876624" and row[5]["db"] == "app"
    renamed = DebeziumJsonSchema(ORDERS, metadata={"origin_db": "source.database", "changed": "source.timestamp"})
    (row,) = renamed.deserialize(payload(event("c", None, {"id": 1, "customer_id": 2, "cents": 3})))
    assert row.as_dict()["origin_db"] == "app" and row[4].to_epoch_milli() == 1764756000123


def test_bad_declarations_are_refused_when_made() -> None:
    with pytest.raises(PulsarConfigError, match="row type must be a RowTypeInfo"):
        DebeziumJsonSchema(Types.STRING())
    with pytest.raises(PulsarConfigError, match=r"column tags is .*supported: STRING"):
        DebeziumJsonSchema(Types.ROW_NAMED(["tags"], [Types.LIST(Types.STRING())]))
    with pytest.raises(PulsarConfigError, match="unknown metadata 'source.lsn'; readable: ingestion-timestamp"):
        DebeziumJsonSchema(ORDERS, metadata=["source.lsn"])
    with pytest.raises(PulsarConfigError, match="metadata column id has the name of a table column"):
        DebeziumJsonSchema(ORDERS, metadata={"id": "source.table"})


def test_it_pickles_for_the_workers_and_decodes_the_same_after() -> None:
    schema = DebeziumJsonSchema(ORDERS, metadata=["source.table"])
    schema.produced_type().get_java_type_info()  # as building a job does
    copy = pickle.loads(pickle.dumps(schema))
    message = payload(event("u", {"id": 1, "customer_id": 2, "cents": 3}, {"id": 1, "customer_id": 2, "cents": 4}))
    assert kinds_and_values(copy.deserialize(message)) == kinds_and_values(schema.deserialize(message))
    assert copy.is_changelog()
