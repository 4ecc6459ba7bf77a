"""Debezium change events in JSON as changelog Rows, the way Flink's `debezium-json` format reads them.

    DebeziumJsonSchema(Types.ROW_NAMED(["id", "region"], [Types.INT(), Types.STRING()]),
                       metadata=["source.table", "ingestion-timestamp"])

One message is one change event: the envelope `{"before", "after", "op", "source", "ts_ms"}`, bare or inside
Kafka Connect's `{"schema", "payload"}` wrapper (Debezium's default). It decodes to `Records` of Rows of the declared
columns with their `RowKind` set:

| op | rows |
|---|---|
| `c` (insert), `r` (snapshot read) | INSERT of `after` |
| `u` (update) | UPDATE_BEFORE of `before`, UPDATE_AFTER of `after` |
| `d` (delete) | DELETE of `before` |
| tombstone (a null or empty value after a delete) | none |

An update or delete needs the whole old row in `before`: PostgreSQL sends it for tables with
`REPLICA IDENTITY FULL` (MySQL always does). Anything else raises `ValueError` naming the event, so the source's
bad-message policy decides: an unknown op, `t` (a TRUNCATE has no rows to retract; Debezium skips truncates unless
asked), a missing image, a declared column the image lacks (a schema change that dropped it), a value of another
type. Columns the image has and the declaration lacks are ignored, as Flink does.

Column types and the JSON Debezium writes for them (`decimal.handling.mode=double` or `string` for NUMERIC):
STRING, BOOLEAN, INT, LONG, FLOAT, DOUBLE, BIG_DEC (a number or a string), LOCAL_DATE (days since the epoch), and
LOCAL_DATE_TIME from `io.debezium.time.Timestamp` / `MicroTimestamp` / `NanoTimestamp` (milli-, micro-, nanoseconds
since the epoch, read from the wrapper's schema; microseconds, PostgreSQL's default, when there is no wrapper) or
Connect's `org.apache.kafka.connect.data.Timestamp` (milliseconds; `time.precision.mode=connect`). The columns of a
topic's events can also be read from the wrapper's schema: `debezium_columns.change_topic_columns`.

Metadata columns (`metadata`: keys, or column name -> key), after the declared columns, named as in Flink's format:
`ingestion-timestamp` (the event's `ts_ms`), `source.timestamp` (`source.ts_ms`), `source.database`,
`source.schema`, `source.table`, `source.properties` (every `source` field as text: `lsn`, `txId`, binlog `file`
and `pos`, ...). A key's default column name has `_` for `.` and `-` (`source_table`).
"""

from __future__ import annotations

import datetime
import decimal
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pyflink.common import Row, RowKind, Types
from pyflink.common.time import Instant
from pyflink.common.typeinfo import RowTypeInfo, TypeInformation

from connector.errors import PulsarConfigError
from connector.formats.types import EPOCH, LOCAL_DATE, LOCAL_DATE_TIME
from connector.serde import DeserializationSchema, Records

Convert = Callable[[Any, str], Any]
"""(JSON value, the field's Connect schema name or "") -> the column's value; raises ValueError."""

_TIMESTAMP_UNITS = {"io.debezium.time.Timestamp": 1_000, "io.debezium.time.MicroTimestamp": 1,
                    "io.debezium.time.NanoTimestamp": 0.001, "org.apache.kafka.connect.data.Timestamp": 1_000}
"""Microseconds per unit of each timestamp type Debezium writes as a number."""


def _source_field(name: str) -> Callable[[Mapping[str, Any]], Any]:
    return lambda event: (event.get("source") or {}).get(name)


_source_ts_ms = _source_field("ts_ms")


def _millis(value: Any) -> Instant | None:
    return None if value is None else Instant.of_epoch_milli(int(value))


METADATA: dict[str, tuple[TypeInformation, Callable[[Mapping[str, Any]], Any]]] = {
    "ingestion-timestamp": (Types.INSTANT(), lambda event: _millis(event.get("ts_ms"))),
    "source.timestamp": (Types.INSTANT(), lambda event: _millis(_source_ts_ms(event))),
    "source.database": (Types.STRING(), _source_field("db")),
    "source.schema": (Types.STRING(), _source_field("schema")),
    "source.table": (Types.STRING(), _source_field("table")),
    "source.properties": (Types.MAP(Types.STRING(), Types.STRING()),
                          lambda event: {k: None if v is None else str(v)
                                         for k, v in (event.get("source") or {}).items()}),
}
"""Readable metadata: key -> (Flink type, reader of the event envelope)."""


def _expect(kind: type, what: str) -> Convert:
    def check(value: Any, schema_name: str) -> Any:
        if type(value) is not kind:  # json.loads makes exact types: a bool is no integer here
            raise ValueError(f"expected {what}, got {type(value).__name__} {value!r}")
        return value
    return check


def _number(value: Any, schema_name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number, got {type(value).__name__} {value!r}")
    return float(value)


def _decimal(value: Any, schema_name: str) -> decimal.Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"expected a number or a numeric string, got {type(value).__name__} {value!r} (set "
                         "Debezium's decimal.handling.mode to double or string)")
    return decimal.Decimal(str(value))


_days = _expect(int, "days since the epoch")
_count = _expect(int, "a timestamp number")


def _date(value: Any, schema_name: str) -> datetime.date:
    return (EPOCH + datetime.timedelta(days=_days(value, schema_name))).date()


def _timestamp(value: Any, schema_name: str) -> datetime.datetime:
    count = _count(value, schema_name)
    micros_per_unit = _TIMESTAMP_UNITS.get(schema_name, 1)
    return EPOCH + datetime.timedelta(microseconds=count * micros_per_unit)


_CONVERTERS: list[tuple[TypeInformation, Convert]] = [
    (Types.STRING(), _expect(str, "a string")), (Types.BOOLEAN(), _expect(bool, "a boolean")),
    (Types.INT(), _expect(int, "an integer")), (Types.LONG(), _expect(int, "an integer")),
    (Types.FLOAT(), _number), (Types.DOUBLE(), _number), (Types.BIG_DEC(), _decimal),
    (LOCAL_DATE, _date), (LOCAL_DATE_TIME, _timestamp),
]


def _converter_index(column: str, type_info: TypeInformation) -> int:
    for index, (known, _) in enumerate(_CONVERTERS):
        if type_info == known:
            return index
    raise PulsarConfigError(f"Debezium JSON: column {column} is {type_info}; supported: STRING, BOOLEAN, INT, LONG, "
                            "FLOAT, DOUBLE, BIG_DEC, LOCAL_DATE, LOCAL_DATE_TIME")


def _metadata_columns(metadata: Sequence[str] | Mapping[str, str]) -> dict[str, str]:
    columns = dict(metadata) if isinstance(metadata, Mapping) \
        else {key.replace(".", "_").replace("-", "_"): key for key in metadata}
    for column, key in columns.items():
        if key not in METADATA:
            raise PulsarConfigError(f"Debezium JSON: metadata column {column}: unknown metadata {key!r}; readable: "
                                    f"{', '.join(METADATA)}")
    return columns


class DebeziumJsonSchema(DeserializationSchema):
    """Debezium JSON change events -> `Records` of changelog Rows of `row_type`'s columns and the `metadata` columns
    (see the module doc). `PulsarConfigError` for an unsupported column type, an unknown metadata key, or a metadata
    column named like a declared one."""

    def __init__(self, row_type: RowTypeInfo, metadata: Sequence[str] | Mapping[str, str] = ()) -> None:
        if not isinstance(row_type, RowTypeInfo):
            raise PulsarConfigError(f"Debezium JSON: the row type must be a RowTypeInfo (Types.ROW_NAMED) of the "
                                    f"table's columns, not {row_type!r}")
        self._names = list(row_type.get_field_names())
        self._types = list(row_type.get_field_types())
        self._kinds = [_converter_index(name, type_info) for name, type_info in zip(self._names, self._types)]
        self._convert = [_CONVERTERS[kind][1] for kind in self._kinds]
        self._timestamps = _timestamp in self._convert  # their unit is in the wrapper's schema
        self._metadata = _metadata_columns(metadata)
        for column in self._metadata:
            if column in self._names:
                raise PulsarConfigError(f"Debezium JSON: metadata column {column} has the name of a table column; "
                                        "give it another name, e.g. metadata={'meta_" + column + "': ...}")
        self._read_metadata = [METADATA[key][1] for key in self._metadata.values()]
        self._row = Row(*self._names, *self._metadata)

    def produced_type(self) -> TypeInformation:
        names = self._names + list(self._metadata)
        types = [*self._types, *(METADATA[key][0] for key in self._metadata.values())]
        return Types.ROW_NAMED(names, types)

    def is_changelog(self) -> bool:
        return True

    def deserialize(self, payload: bytes) -> Records:
        if not payload:
            return Records()  # a tombstone
        document = json.loads(payload.decode("utf-8"))
        if document is None:
            return Records()
        if not isinstance(document, dict):
            raise ValueError(f"Debezium JSON: a change event is a JSON object, got {type(document).__name__}")
        event, schema = document, None
        if "payload" in document and "schema" in document:
            event, schema = document["payload"], document["schema"]
            if event is None:
                return Records()
        op = event.get("op")
        if op in ("c", "r"):
            return Records([self._image(event, "after", schema, RowKind.INSERT)])
        if op == "u":
            return Records([self._image(event, "before", schema, RowKind.UPDATE_BEFORE),
                            self._image(event, "after", schema, RowKind.UPDATE_AFTER)])
        if op == "d":
            return Records([self._image(event, "before", schema, RowKind.DELETE)])
        if op == "t":
            raise ValueError(f"Debezium JSON: a TRUNCATE of {_table_of(event)} has no rows to retract, so it cannot "
                             "be a changelog (Debezium skips truncates unless skipped.operations leaves out 't')")
        raise ValueError(f"Debezium JSON: unknown op {op!r} in a change event of {_table_of(event)} (known: c, r, "
                         "u, d)")

    def _image(self, event: Mapping[str, Any], field: str, schema: Any, kind: RowKind) -> Row:
        image = event.get(field)
        if not isinstance(image, dict):
            hint = " (PostgreSQL sends it only for tables with REPLICA IDENTITY FULL)" if field == "before" else ""
            raise ValueError(f"Debezium JSON: the {field!r} row of an op {event.get('op')!r} event of "
                             f"{_table_of(event)} is {'missing' if image is None else type(image).__name__}{hint}")
        names = _field_schema_names(schema, field) if self._timestamps else {}
        values = []
        for name, convert in zip(self._names, self._convert):
            if name not in image:
                raise ValueError(f"Debezium JSON: the {field!r} row of {_table_of(event)} has no column {name} (was "
                                 f"it dropped?); it has {', '.join(image)}")
            value = image[name]
            try:
                values.append(None if value is None else convert(value, names.get(name, "")))
            except (ValueError, TypeError, OverflowError) as error:
                raise ValueError(f"Debezium JSON: column {name} of {_table_of(event)}: {error}") from None
        row = self._row(*values, *(read(event) for read in self._read_metadata))
        row.set_row_kind(kind)
        return row

    def __getstate__(self) -> dict[str, Any]:
        # A type used to build the job holds its Java counterpart, which does not pickle: keep only what rebuilds it.
        return {"names": self._names, "kinds": self._kinds, "metadata": self._metadata}

    def __setstate__(self, state: dict[str, Any]) -> None:
        row_type = Types.ROW_NAMED(state["names"], [_CONVERTERS[kind][0] for kind in state["kinds"]])
        self.__init__(row_type, state["metadata"])


def _table_of(event: Mapping[str, Any]) -> str:
    source = event.get("source")
    if not isinstance(source, dict):
        return "an unnamed table"
    return ".".join(str(source[part]) for part in ("db", "schema", "table") if source.get(part) is not None)


def image_schema(schema: Any, field: str) -> dict[str, Any] | None:
    """The Connect schema of the envelope's `field` struct (`before` or `after`) in the wrapper's `schema`, if any."""
    if not isinstance(schema, dict):
        return None
    return next((struct for struct in schema.get("fields") or ()
                 if isinstance(struct, dict) and struct.get("field") == field), None)


def _field_schema_names(schema: Any, field: str) -> dict[str, str]:
    """Column -> Connect schema name (e.g. io.debezium.time.MicroTimestamp) of the envelope's `field` struct."""
    struct = image_schema(schema, field) or {}
    return {column["field"]: column.get("name", "") for column in struct.get("fields") or ()
            if isinstance(column, dict) and "field" in column}
