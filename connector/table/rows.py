"""A Pulsar table's rows: the payload's fields, then the chosen metadata columns, as one flat `Row`.

`TableRows` wraps the payload's deserializer: a payload that decodes to a `Row` (Avro, JSON) gives one column per
field; any other typed payload (STRING, BYTES) gives one column named `value`. A table with event time has one
more column last, `WATERMARK_COLUMN`, which the reader fills (`connector.source.watermarks`). No Flink runtime here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulsar
from pyflink.common import Row, Types
from pyflink.common.typeinfo import RowTypeInfo, TypeInformation

from connector.admin import PulsarAdmin
from connector.errors import PulsarConfigError
from connector.serde import DeserializationSchema
from connector.table.metadata import METADATA

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
    `rowtime` (the event-time column) a last column of its type for the watermark, left None here."""

    def __init__(self, payload: DeserializationSchema, metadata: Mapping[str, str], rowtime: str | None = None) -> None:
        check_metadata_columns(metadata)
        self.payload = payload
        self.metadata = dict(metadata)
        self.rowtime = rowtime
        self._readers = [METADATA[key].read for key in self.metadata.values()]
        self._row: Row | None = None  # made at the first message: the payload's type is known once bound
        self._flatten = False

    def bind(self, admin: PulsarAdmin, topics: tuple[str, ...]) -> TableRows:
        return TableRows(self.payload.bind(admin, topics), self.metadata, self.rowtime)

    def payload_columns(self) -> list[tuple[str, TypeInformation]]:
        """(name, type) of the payload's columns. Raises `PulsarConfigError` when the payload has no Flink type
        (pickled Python objects cannot be columns)."""
        payload_type = self.payload.produced_type()
        if payload_type is None:
            raise PulsarConfigError(f"deserializationSchema: {type(self.payload).__name__} declares no Flink type, "
                                    "so its values cannot be table columns; give the topic a registered schema "
                                    "(AVRO, JSON, STRING, BYTES) or use a typed schema such as JsonRowSchema(row_type)")
        if isinstance(payload_type, RowTypeInfo):
            return list(zip(payload_type.get_field_names(), payload_type.get_field_types()))
        return [(VALUE_COLUMN, payload_type)]

    def columns(self) -> list[tuple[str, TypeInformation]]:
        """(name, type) of every column: the payload's, the metadata's, the watermark's. Raises `PulsarConfigError`
        when a metadata column has the name of a payload column, or `rowtime` names no column."""
        payload = self.payload_columns()
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

    def deserialize(self, payload: bytes) -> Any:
        raise PulsarConfigError("a table row needs the whole message (deserialize_message), not only its payload")

    def deserialize_message(self, message: pulsar.Message) -> Row:
        if self._row is None:
            self._row = Row(*(name for name, _ in self.columns()))
            self._flatten = isinstance(self.payload.produced_type(), RowTypeInfo)
        value = self.payload.deserialize_message(message)
        fields = list(value) if self._flatten else [value]
        if self.rowtime is None:
            return self._row(*fields, *(read(message) for read in self._readers))
        return self._row(*fields, *(read(message) for read in self._readers), None)

    def __getstate__(self) -> dict[str, Any]:
        return {"payload": self.payload, "metadata": self.metadata, "rowtime": self.rowtime}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["payload"], state["metadata"], state["rowtime"])
