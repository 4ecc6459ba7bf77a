"""An Avro schema with every type the formats map, and records of it: one full, one with every nullable field null."""

from __future__ import annotations

import datetime
import decimal

from pyflink.common import Row

INNER = {"type": "record", "name": "Inner", "fields": [{"name": "x", "type": ["null", "int"]}]}

ALL_TYPES = {"type": "record", "name": "AllTypes", "namespace": "test.formats", "fields": [
    {"name": "flag", "type": "boolean"},
    {"name": "small", "type": "int"},
    {"name": "big", "type": "long"},
    {"name": "ratio", "type": "float"},
    {"name": "precise", "type": "double"},
    {"name": "text", "type": ["null", "string"]},
    {"name": "raw", "type": ["null", "bytes"]},
    {"name": "inner", "type": INNER},
    {"name": "maybe_inner", "type": ["null", "Inner"]},
    {"name": "tags", "type": ["null", {"type": "array", "items": ["null", "string"]}]},
    {"name": "inners", "type": {"type": "array", "items": "Inner"}},
    {"name": "counts", "type": ["null", {"type": "map", "values": ["null", "long"]}]},
    {"name": "color", "type": ["null", {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN", "BLUE"]}]},
    {"name": "digest", "type": ["null", {"type": "fixed", "name": "Digest", "size": 4}]},
    {"name": "at_ms", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}]},
    {"name": "at_us", "type": ["null", {"type": "long", "logicalType": "timestamp-micros"}]},
    {"name": "day", "type": ["null", {"type": "int", "logicalType": "date"}]},
    {"name": "time_ms", "type": ["null", {"type": "int", "logicalType": "time-millis"}]},
    {"name": "time_us", "type": ["null", {"type": "long", "logicalType": "time-micros"}]},
    {"name": "amount", "type": ["null", {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 3}]},
    {"name": "fixed_amount", "type": ["null", {"type": "fixed", "name": "Amount8", "size": 8,
                                               "logicalType": "decimal", "precision": 12, "scale": 2}]},
    {"name": "id", "type": ["null", {"type": "string", "logicalType": "uuid"}]},
]}

NAMES = [field["name"] for field in ALL_TYPES["fields"]]


def inner(x: int | None) -> Row:
    row = Row(x)
    row.set_field_names(["x"])
    return row


def all_types_row(values: list) -> Row:
    row = Row(*values)
    row.set_field_names(NAMES)
    return row


FULL = all_types_row([
    True, -7, 2**40, 1.5, 2.25, "héllo", b"\x00\xff", inner(1), inner(None), ["a", None, "c"], [inner(2), inner(None)],
    {"k": 3, "none": None}, "GREEN", b"abcd", datetime.datetime(2024, 1, 2, 3, 4, 5, 123000),
    datetime.datetime(1969, 12, 31, 23, 59, 59, 999999), datetime.date(2024, 2, 29), datetime.time(1, 2, 3, 456000),
    datetime.time(23, 59, 59, 999999), decimal.Decimal("-123456.789"), decimal.Decimal("12.34"),
    "0f8fad5b-d9cb-469f-a165-70867728950e"])

NULLS = all_types_row([False, 0, 0, 0.0, 0.0, None, None, inner(None), None, None, [], None, None, None, None, None,
                       None, None, None, None, None, None])
