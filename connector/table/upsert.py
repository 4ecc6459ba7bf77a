"""Upsert semantics over Pulsar messages, the `upsert-pulsar` way: a primary key becomes the message key, a row
upserts its key and a tombstone (the key with a null value) deletes it, so a compacted topic keeps the latest row
per key. No Flink runtime here.

Writing (`UpsertMessages`): INSERT and UPDATE_AFTER write the row under its key; DELETE and UPDATE_BEFORE write a
tombstone. UPDATE_BEFORE cannot simply be dropped: Flink's planner emits an UPDATE_BEFORE with no UPDATE_AFTER
when a filter after an aggregate drops the new row (measured on PyFlink 2.3, also in `ChangelogMode.upsert()`:
`... GROUP BY customer HAVING SUM(cents) < 12` retracted a customer crossing 12 with a lone UPDATE_BEFORE), and
that is a delete. An update therefore writes a tombstone and then the new row: the latest message per key is right
and a compacted topic keeps it; a consumer reading live sees the key deleted for a moment. Reading
(`connector.table.rows`): a row upserts, a tombstone deletes the key it names.

The message key is the primary key's columns as a compact JSON object in the key's order, e.g.
`{"customer":"c7"}` or `{"region":"eu","id":42}` (Flink's upsert-kafka with `key.format = 'json'` writes the
same). Key columns must be of a type JSON carries exactly: STRING, INT, LONG or BOOLEAN.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from pyflink.common import Row, RowKind, Types
from pyflink.common.typeinfo import TypeInformation

from connector.errors import PulsarConfigError
from connector.sink.message import PulsarMessage

KEY_KINDS = ("STRING", "INT", "LONG", "BOOLEAN")
_KEY_TYPE_INFOS = {"STRING": Types.STRING(), "INT": Types.INT(), "LONG": Types.LONG(), "BOOLEAN": Types.BOOLEAN()}
_KEY_TYPE_ROOTS = {"VARCHAR": "STRING", "CHAR": "STRING", "INTEGER": "INT", "BIGINT": "LONG", "BOOLEAN": "BOOLEAN"}


def kind_of_type_info(type_info: TypeInformation) -> str:
    """A DataStream field type as a key kind (one of KEY_KINDS), or its own name when it is none of them."""
    return next((kind for kind, key_type in _KEY_TYPE_INFOS.items() if key_type == type_info), str(type_info))


def kind_of_type_root(root: str) -> str:
    """A SQL type root (`LogicalTypeRoot` name: VARCHAR, BIGINT, ...) as a key kind, or itself when it is none."""
    return _KEY_TYPE_ROOTS.get(root, root)


def check_primary_key(primary_key: Sequence[str], columns: Sequence[tuple[str, str]]) -> None:
    """Raises `PulsarConfigError` unless `primary_key` names one or more distinct columns of a key kind;
    `columns`: (name, kind) pairs (`kind_of_type_info`, `kind_of_type_root`)."""
    if not primary_key:
        raise PulsarConfigError("upsert: the primary key needs at least one column")
    if len(set(primary_key)) != len(primary_key):
        raise PulsarConfigError(f"upsert: the primary key {list(primary_key)} names a column twice")
    types = dict(columns)
    for column in primary_key:
        if column not in types:
            raise PulsarConfigError(f"upsert: primary key column {column} is not a column "
                                    f"({', '.join(name for name, _ in columns)})")
        if types[column] not in KEY_KINDS:
            raise PulsarConfigError(f"upsert: primary key column {column} is {types[column]}; a key column must be "
                                    f"one of {', '.join(KEY_KINDS)}")


def encode_key(values: Sequence[Any], primary_key: Sequence[str]) -> str:
    """The message key of a row whose primary key columns hold `values`."""
    return json.dumps(dict(zip(primary_key, values)), separators=(",", ":"), ensure_ascii=False)


def decode_key(key: str | None, primary_key: Sequence[str]) -> list[Any]:
    """The primary key values a message key names; `ValueError` naming the key when it is not such a key."""
    try:
        fields = json.loads(key) if key else None
    except ValueError:
        fields = None
    if not isinstance(fields, dict) or any(column not in fields for column in primary_key):
        raise ValueError(f"message key {key!r} is not an upsert key: a JSON object of {', '.join(primary_key)}")
    return [fields[column] for column in primary_key]


class UpsertMessages:
    """Changelog rows of `columns` (names, in order) -> the upsert messages they write (see the module doc)."""

    def __init__(self, columns: Sequence[str], primary_key: Sequence[str]) -> None:
        self._primary_key = list(primary_key)
        self._positions = [list(columns).index(column) for column in primary_key]

    def __call__(self, row: Row) -> Iterator[PulsarMessage]:
        key = encode_key([row[position] for position in self._positions], self._primary_key)
        removes = row.get_row_kind() in (RowKind.DELETE, RowKind.UPDATE_BEFORE)
        yield PulsarMessage(value=None if removes else row, key=key)
