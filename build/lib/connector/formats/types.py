"""How Avro types map into Flink: the `TypeInformation` of each Avro type and its value conversions both ways.

`map_avro(parsed_schema)` walks a fastavro-parsed schema once and returns an `AvroMapping`: the Flink type, two
converters (fastavro value -> Flink value, Flink value -> fastavro value), and the *codec schema* to decode and
encode with. The codec schema is the schema without the logical types this module converts itself (timestamps
and uuid): the binary encoding is the same, and decoding skips fastavro's own conversion to objects we would
convert again.

| Avro | Flink type | Python value |
|---|---|---|
| boolean, int, long, float, double, string | BOOLEAN, INT, LONG, FLOAT, DOUBLE, STRING | bool, int, float, str |
| bytes, fixed | PRIMITIVE_ARRAY(BYTE) | bytes |
| enum | STRING | the symbol |
| record | ROW_NAMED (nested records nest) | `Row` with field names |
| array | OBJECT_ARRAY(items) | list |
| map | MAP(STRING, values) | dict |
| union of null and one type | that type, nullable | value or None |
| date / time-millis, time-micros | LOCAL_DATE / LOCAL_TIME | `datetime.date` / `datetime.time` |
| timestamp-millis/micros, local-timestamp-millis/micros | LOCAL_DATE_TIME | naive `datetime` (UTC for timestamp-*) |
| decimal (bytes or fixed) | BIG_DEC | `decimal.Decimal` |
| uuid | STRING | str |

Refused with `UnsupportedAvroType` (naming the field path): unions of two or more non-null types (Flink has no
union type), a bare `null`, and recursive records. Unknown logical types map as their underlying type (Avro spec).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pyflink.common import Row, Types
from pyflink.common.typeinfo import LocalTimeTypeInfo, TypeInformation

from connector.errors import UnsupportedAvroType

Convert = Callable[[Any], Any]

EPOCH = datetime.datetime(1970, 1, 1)
_EPOCH_UTC = EPOCH.replace(tzinfo=datetime.timezone.utc)
_UNITS = {"millis": datetime.timedelta(milliseconds=1), "micros": datetime.timedelta(microseconds=1)}

LOCAL_DATE_TIME = LocalTimeTypeInfo(LocalTimeTypeInfo.TimeType.LOCAL_DATE_TIME)
LOCAL_DATE = LocalTimeTypeInfo(LocalTimeTypeInfo.TimeType.LOCAL_DATE)
LOCAL_TIME = LocalTimeTypeInfo(LocalTimeTypeInfo.TimeType.LOCAL_TIME)

_PRIMITIVES: dict[str, TypeInformation] = {
    "boolean": Types.BOOLEAN(), "int": Types.INT(), "long": Types.LONG(), "float": Types.FLOAT(),
    "double": Types.DOUBLE(), "string": Types.STRING(), "bytes": Types.PRIMITIVE_ARRAY(Types.BYTE()),
}
_TIMESTAMPS = {"timestamp-millis", "timestamp-micros", "local-timestamp-millis", "local-timestamp-micros"}


@dataclass(frozen=True)
class AvroMapping:
    """One Avro type in Flink terms. A converter of None means the value passes as it is."""

    type_info: TypeInformation
    to_flink: Convert | None
    to_avro: Convert | None
    codec_schema: Any


def map_avro(parsed_schema: Any) -> AvroMapping:
    """The mapping of a schema parsed by `fastavro.parse_schema`; raises `UnsupportedAvroType`."""
    named = parsed_schema.get("__named_schemas", {}) if isinstance(parsed_schema, dict) else {}
    return _Walk(named).map(parsed_schema, "<root>", ())


class _Walk:
    def __init__(self, named: dict[str, Any]) -> None:
        self._named = named

    def map(self, schema: Any, path: str, records: tuple[str, ...]) -> AvroMapping:
        if isinstance(schema, list):
            return self._union(schema, path, records)
        if isinstance(schema, str):
            if schema in _PRIMITIVES:
                return AvroMapping(_PRIMITIVES[schema], None, None, schema)
            if schema == "null":
                raise UnsupportedAvroType(f"{path}: a bare null type has no Flink counterpart")
            if schema in records:
                raise UnsupportedAvroType(f"{path}: record {schema} is recursive; Flink types cannot be")
            # A reference to a named type defined earlier in the schema (parsed schemas define at first use).
            return _with_schema(self.map(self._named[schema], path, records), schema)
        kind = schema["type"]
        logical = schema.get("logicalType")
        if logical is not None:
            mapped = _logical(schema, kind, logical)
            if mapped is not None:
                return mapped
        if kind == "record":
            return self._record(schema, path, records)
        if kind in ("enum", "fixed"):
            return AvroMapping(Types.STRING() if kind == "enum" else _PRIMITIVES["bytes"], None, None,
                               _plain(schema))
        if kind == "array":
            items = self.map(schema["items"], f"{path}[]", records)
            return AvroMapping(Types.OBJECT_ARRAY(items.type_info), _each(items.to_flink), _each(items.to_avro),
                               {"type": "array", "items": items.codec_schema})
        if kind == "map":
            values = self.map(schema["values"], f"{path}{{}}", records)
            return AvroMapping(Types.MAP(Types.STRING(), values.type_info), _each_value(values.to_flink),
                               _each_value(values.to_avro), {"type": "map", "values": values.codec_schema})
        return self.map(kind, path, records)  # {"type": "int"} and the like

    def _union(self, branches: list[Any], path: str, records: tuple[str, ...]) -> AvroMapping:
        others = [branch for branch in branches if branch != "null"]
        if len(others) != 1:
            names = [b if isinstance(b, str) else b.get("name", b["type"]) for b in branches]
            raise UnsupportedAvroType(f"{path}: union {names} is not supported; Flink has no union type, only "
                                      f"nullable types: use a union of null and one type")
        inner = self.map(others[0], path, records)
        codec = [inner.codec_schema if branch != "null" else "null" for branch in branches]
        return AvroMapping(inner.type_info, _nullable(inner.to_flink), _nullable(inner.to_avro), codec)

    def _record(self, schema: dict[str, Any], path: str, records: tuple[str, ...]) -> AvroMapping:
        inner = records + (schema["name"],)
        names = [field["name"] for field in schema["fields"]]
        fields = [self.map(field["type"], f"{path}.{field['name']}" if path != "<root>" else field["name"], inner)
                  for field in schema["fields"]]
        codec_fields = [{**{k: v for k, v in field.items() if k != "type"}, "type": mapped.codec_schema}
                        for field, mapped in zip(schema["fields"], fields)]
        return AvroMapping(Types.ROW_NAMED(names, [f.type_info for f in fields]),
                           _record_to_row(names, [f.to_flink for f in fields]),
                           _row_to_record(names, [f.to_avro for f in fields]),
                           {**_plain(schema), "fields": codec_fields})


def _logical(schema: dict[str, Any], kind: str, logical: str) -> AvroMapping | None:
    """The mapping of a logical type, or None for one mapped as its underlying type."""
    codec = {k: v for k, v in _plain(schema).items() if k != "logicalType"}
    if logical == "decimal" and kind in ("bytes", "fixed"):
        return AvroMapping(Types.BIG_DEC(), None, None, _plain(schema))
    if logical == "date" and kind == "int":
        return AvroMapping(LOCAL_DATE, None, None, _plain(schema))
    if (logical, kind) in (("time-millis", "int"), ("time-micros", "long")):
        return AvroMapping(LOCAL_TIME, None, None, _plain(schema))
    if logical in _TIMESTAMPS and kind == "long":
        unit = _UNITS[logical.rsplit("-", 1)[1]]
        return AvroMapping(LOCAL_DATE_TIME, lambda v: EPOCH + unit * v, lambda v: _to_epoch(v, unit), codec)
    if logical == "uuid" and kind == "string":
        return AvroMapping(Types.STRING(), None, str, codec)
    return None


def _to_epoch(value: datetime.datetime, unit: datetime.timedelta) -> int:
    """A naive datetime is taken as UTC (fastavro would take it as local time)."""
    epoch = EPOCH if value.tzinfo is None else _EPOCH_UTC
    return (value - epoch) // unit


def _plain(schema: dict[str, Any]) -> dict[str, Any]:
    """A parsed schema node without fastavro's bookkeeping keys."""
    return {k: v for k, v in schema.items() if not k.startswith("__")}


def _with_schema(mapping: AvroMapping, codec_schema: Any) -> AvroMapping:
    return AvroMapping(mapping.type_info, mapping.to_flink, mapping.to_avro, codec_schema)


def _nullable(convert: Convert | None) -> Convert | None:
    if convert is None:
        return None
    return lambda v: None if v is None else convert(v)


def _each(convert: Convert | None) -> Convert | None:
    if convert is None:
        return None
    return lambda values: [convert(v) for v in values]


def _each_value(convert: Convert | None) -> Convert | None:
    if convert is None:
        return None
    return lambda values: {k: convert(v) for k, v in values.items()}


def _record_to_row(names: list[str], converters: list[Convert | None]) -> Convert:
    """fastavro's dict -> Row in schema field order, converting only the fields that need it."""
    converted = [(i, name, convert) for i, (name, convert) in enumerate(zip(names, converters)) if convert]

    def to_row(record: dict[str, Any]) -> Row:
        values = [record[name] for name in names]
        for i, name, convert in converted:
            values[i] = convert(values[i])
        row = Row(*values)
        row.set_field_names(names)
        return row

    return to_row


def _row_to_record(names: list[str], converters: list[Convert | None]) -> Convert:
    """A Row (fields in schema order) or a dict (by field name) -> the dict fastavro writes."""

    def to_record(value: Any) -> dict[str, Any]:
        values = [value.get(name) for name in names] if isinstance(value, dict) else list(value)
        if len(values) != len(names):
            raise ValueError(f"a row of {len(values)} fields for a record of {len(names)} ({', '.join(names)})")
        return {name: v if convert is None or v is None else convert(v)
                for name, v, convert in zip(names, values, converters)}

    return to_record
