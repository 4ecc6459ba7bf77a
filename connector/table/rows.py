"""A Pulsar table's rows: the payload's fields, then the chosen metadata columns, as one flat `Row`.

`TableRows` wraps the payload's deserializer: a payload that decodes to a `Row` (Avro, JSON) gives one column per
field; any other typed payload (STRING, BYTES) gives one column named `value`. A table with event time has one
more column last, `WATERMARK_COLUMN`, which the reader fills (`connector.source.watermarks`). An upsert table
(`upsert_key`: its primary key's payload columns) reads a message as an UPDATE_AFTER row of its key and a tombstone
as a DELETE row that holds only the key its message key names (`connector.table.upsert`). A changelog payload
(`is_changelog`, e.g. Debezium JSON) gives `Records` of rows that keep its row kinds; with an upsert key it leaves
out UPDATE_BEFORE rows, so that each change upserts or deletes its key and one delivered twice counts once (Flink
then keeps the latest row per key). No Flink runtime here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulsar
from pyflink.common import Row, RowKind, Types
from pyflink.common.typeinfo import RowTypeInfo, TypeInformation

from connector.admin import PulsarAdmin
from connector.errors import PulsarConfigError
from connector.serde import DeserializationSchema, Records
from connector.table.metadata import METADATA
from connector.table.upsert import check_primary_key, decode_key, kind_of_type_info

VALUE_COLUMN = "value"
WATERMARK_COLUMN = "__watermark"


def check_metadata_columns(metadata: Mapping[str, str]) -> None:
    """Raises `PulsarConfigError` for a metadata key that is not in `METADATA` (`metadata`: column -> key)."""
    for column, key in metadata.items():
        if key not in METADATA:
            raise PulsarConfigError(f"metadata column {column}: unknown metadata {key!r}; readable: "
                                    f"{', '.join(METADATA)}")


class TableRows(DeserializationSchema):
    """Flat rows of `payload`'s fields and the `metadata` columns (column name -> metadata key, in order), and with
    `rowtime` (the event-time column) a last column of its type for the watermark, left None here; with
    `upsert_key` the rows of an upsert table (see the module doc)."""

    def __init__(self, payload: DeserializationSchema, metadata: Mapping[str, str], rowtime: str | None = None,
                 upsert_key: tuple[str, ...] = ()) -> None:
        check_metadata_columns(metadata)
        self.payload = payload
        self.metadata = dict(metadata)
        self.rowtime = rowtime
        self.upsert_key = tuple(upsert_key)
        self._readers = [METADATA[key].read for key in self.metadata.values()]
        self._row: Row | None = None  # made at the first message: the payload's type is known once bound
        self._flatten = False

    def bind(self, admin: PulsarAdmin, topics: tuple[str, ...]) -> TableRows:
        return TableRows(self.payload.bind(admin, topics), self.metadata, self.rowtime, self.upsert_key)

    def payload_columns(self) -> list[tuple[str, TypeInformation]]:
        """(name, type) of the payload's columns. Raises `PulsarConfigError` when the payload has no Flink type
        (pickled Python objects cannot be columns)."""
        payload_type = self.payload.produced_type()
        if payload_type is None:
            raise PulsarConfigError(f"deserializationSchema: {type(self.payload).__name__} declares no Flink type, "
                                    "so its values cannot be table columns; give the topic a registered schema "
                                    "(AVRO, JSON, PROTOBUF_NATIVE, STRING, BYTES) or use a typed schema such as "
                                    "JsonRowSchema(row_type)")
        if isinstance(payload_type, RowTypeInfo):
            return list(zip(payload_type.get_field_names(), payload_type.get_field_types()))
        return [(VALUE_COLUMN, payload_type)]

    def columns(self) -> list[tuple[str, TypeInformation]]:
        """(name, type) of every column: the payload's, the metadata's, the watermark's. Raises `PulsarConfigError`
        when a metadata column has the name of a payload column, `rowtime` names no column, or the upsert key is
        not a key of payload columns (`connector.table.upsert.check_primary_key`)."""
        payload = self.payload_columns()
        if self.upsert_key:
            check_primary_key(self.upsert_key, [(name, kind_of_type_info(type_info)) for name, type_info in payload])
        taken = {name for name, _ in payload}
        for column, key in self.metadata.items():
            if column in taken:
                raise PulsarConfigError(f"metadata column {column}: the payload already has a column {column}; "
                                        f"read the metadata under another name, e.g. {{'meta_{column}': '{key}'}}")
        columns = payload + [(column, METADATA[key].type_info) for column, key in self.metadata.items()]
        if self.rowtime is None:
            return columns
        types = dict(columns)
        if self.rowtime not in types:
            raise PulsarConfigError(f"watermark: no column {self.rowtime}; columns: "
                                    f"{', '.join(name for name, _ in columns)}")
        return columns + [(WATERMARK_COLUMN, types[self.rowtime])]

    def produced_type(self) -> TypeInformation:
        names, types = zip(*self.columns())
        return Types.ROW_NAMED(list(names), list(types))

    def is_changelog(self) -> bool:
        return self.payload.is_changelog()

    def deserialize(self, payload: bytes) -> Any:
        raise PulsarConfigError("a table row needs the whole message (deserialize_message), not only its payload")

    def deserialize_message(self, message: pulsar.Message) -> Row:
        if self._row is None:
            columns = self.columns()
            self._row = Row(*(name for name, _ in columns))
            self._flatten = isinstance(self.payload.produced_type(), RowTypeInfo)
            payload_names = [name for name, _ in self.payload_columns()]
            self._key_positions = [payload_names.index(column) for column in self.upsert_key]
            self._payload_width = len(payload_names)
            self._changelog = self.payload.is_changelog()
        watermark = () if self.rowtime is None else (None,)
        if self.upsert_key and not self._changelog and message.has_null_value():
            fields: list[Any] = [None] * self._payload_width
            for position, value in zip(self._key_positions, decode_key(message.partition_key(), self.upsert_key)):
                fields[position] = value
            row = self._row(*fields, *(read(message) for read in self._readers), *watermark)
            row.set_row_kind(RowKind.DELETE)
            return row
        value = self.payload.deserialize_message(message)
        if type(value) is Records:  # a changelog format's rows, with their kinds
            metadata = [read(message) for read in self._readers]
            return Records(self._change_row(change, metadata, watermark) for change in value
                           if not (self.upsert_key and change.get_row_kind() is RowKind.UPDATE_BEFORE))
        fields = list(value) if self._flatten else [value]
        row = self._row(*fields, *(read(message) for read in self._readers), *watermark)
        if self.upsert_key:
            row.set_row_kind(RowKind.UPDATE_AFTER)
        return row

    def _change_row(self, change: Row, metadata: list[Any], watermark: tuple[None, ...]) -> Row:
        row = self._row(*change, *metadata, *watermark)
        row.set_row_kind(change.get_row_kind())
        return row

    def __getstate__(self) -> dict[str, Any]:
        return {"payload": self.payload, "metadata": self.metadata, "rowtime": self.rowtime,
                "upsert_key": self.upsert_key}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["payload"], state["metadata"], state["rowtime"], state["upsert_key"])
