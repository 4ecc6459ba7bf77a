"""The columns of a Debezium change topic, from the Kafka Connect schema its change events carry.

    orders = change_topic_columns("pulsar://127.0.0.1:6650", "persistent://public/default/cdc.public.orders")
    DebeziumJsonSchema(orders)   # Types.ROW_NAMED(["id", "customer_id", ...], [Types.INT(), Types.INT(), ...])

Debezium's JSON converter wraps each change event as `{"schema", "payload"}` by default; the schema's `after` struct
names every column of the table with its Connect type. `row_type_of` maps it (no I/O); `change_topic_columns` reads
the topic's latest change event for it (I/O: call it while you build the job, not in a builder).

| Connect type (schema name) | column |
|---|---|
| int8, int16, int32 (io.debezium.time.Year, or none) | INT |
| int32 io.debezium.time.Date, org.apache.kafka.connect.data.Date | LOCAL_DATE |
| int64 (no name) | LONG |
| int64 io.debezium.time.Timestamp / MicroTimestamp / NanoTimestamp | LOCAL_DATE_TIME |
| int64 org.apache.kafka.connect.data.Timestamp (`time.precision.mode=connect`) | LOCAL_DATE_TIME |
| float32 / float64 | FLOAT / DOUBLE |
| boolean | BOOLEAN |
| string (any name: ZonedTimestamp, Json, Uuid, Enum, ...) | STRING |

Any other column raises `PulsarConfigError` naming it and its type, with what to do: bytes (NUMERIC under Debezium's
default `decimal.handling.mode=precise`: set it to `double` or `string`), times of day, structs, arrays and maps.
Declaring the columns yourself (`Types.ROW_NAMED`) reads a table with such columns: undeclared columns are ignored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pulsar
from pyflink.common import Types
from pyflink.common.typeinfo import RowTypeInfo, TypeInformation

from connector.clients import new_client
from connector.errors import PulsarConfigError
from connector.formats.debezium import image_schema
from connector.formats.types import LOCAL_DATE, LOCAL_DATE_TIME
from connector.security import PulsarSecurity

_DATES = {"io.debezium.time.Date", "org.apache.kafka.connect.data.Date"}
_TIMESTAMPS = {"io.debezium.time.Timestamp", "io.debezium.time.MicroTimestamp", "io.debezium.time.NanoTimestamp",
               "org.apache.kafka.connect.data.Timestamp"}
_PLAIN = {"int8": Types.INT(), "int16": Types.INT(), "int32": Types.INT(), "int64": Types.LONG(),
          "float32": Types.FLOAT(), "float64": Types.DOUBLE(), "boolean": Types.BOOLEAN(), "string": Types.STRING()}
_INTEGER_NAMES_READ_PLAIN = {"io.debezium.time.Year"}

TAIL_LOOK_BACK_MS = 10_000
TAIL_MESSAGES = 1_000
"""`change_topic_columns` reads a partition from 10 s before its last message, at most 1,000 messages."""


def row_type_of(envelope_schema: Mapping[str, Any], table: str = "the table") -> RowTypeInfo:
    """The columns of the `after` struct of a change event's Connect schema (the wrapper's `schema`), in order."""
    image = image_schema(envelope_schema, "after")
    if image is None or image.get("type") != "struct" or not image.get("fields"):
        raise PulsarConfigError(f"Debezium JSON: the change events of {table} carry a schema without an 'after' "
                                "struct of columns; declare the columns (Types.ROW_NAMED)")
    names, types = [], []
    for column in image["fields"]:
        names.append(column["field"])
        types.append(_column_type(column, table))
    return Types.ROW_NAMED(names, types)


def _column_type(column: Mapping[str, Any], table: str) -> TypeInformation:
    kind, name = column.get("type"), column.get("name")
    if kind in ("int32", "int64") and name in _DATES | _TIMESTAMPS:
        return LOCAL_DATE if name in _DATES else LOCAL_DATE_TIME
    if kind in _PLAIN and (name is None or kind == "string" or name in _INTEGER_NAMES_READ_PLAIN):
        return _PLAIN[kind]
    described = f"{kind} {name}" if name else str(kind)
    hint = (" (a NUMERIC under Debezium's default decimal.handling.mode: set it to double or string)"
            if kind == "bytes" or (name or "").endswith("Decimal") else "")
    raise PulsarConfigError(f"Debezium JSON: column {column.get('field')} of {table} has Connect type {described}, "
                            f"which has no column type here{hint}; declare the columns you read (Types.ROW_NAMED): "
                            "undeclared ones are ignored")


def change_topic_columns(service_url: str, topic: str, security: PulsarSecurity | None = None) -> RowTypeInfo:
    """The columns of `topic`'s latest change event (`row_type_of`): the one published last among each partition's
    tail (`_latest_change_event`). `PulsarConfigError` when the topic is missing, holds no change event there, or its
    events carry no schema (Debezium's `value.converter.schemas.enable=false`)."""
    client = new_client(service_url, security)
    try:
        try:
            partitions = client.get_topic_partitions(topic)
        except pulsar.PulsarException as error:
            raise PulsarConfigError(f"Debezium JSON: cannot look up topic {topic}: {error}") from None
        latest: tuple[int, dict[str, Any]] | None = None
        for partition in partitions:
            found = _latest_change_event(client, partition, topic)
            if found is not None and (latest is None or found[0] > latest[0]):
                latest = found
    finally:
        client.close()
    if latest is None:
        raise PulsarConfigError(f"Debezium JSON: topic {topic} holds no change event to take the columns from (it "
                                "is empty, or holds only tombstones where it was read); declare the columns "
                                "(Types.ROW_NAMED)")
    return row_type_of(latest[1], topic)


def _latest_change_event(client: pulsar.Client, partition: str, topic: str) -> tuple[int, dict[str, Any]] | None:
    """(publish time, envelope schema) of the last change event in `partition`'s tail (from `TAIL_LOOK_BACK_MS`
    before its last message, at most `TAIL_MESSAGES`), else among its first `TAIL_MESSAGES`; None if neither has
    one. A reader cannot step back, and the last message is often a tombstone (Debezium writes one after a delete)."""
    reader = client.create_reader(partition, pulsar.MessageId.latest, start_message_id_inclusive=True)
    try:
        if not reader.has_message_available():
            return None
        last_published = reader.read_next(10_000).publish_timestamp()
        for start in (max(0, last_published - TAIL_LOOK_BACK_MS), pulsar.MessageId.earliest):
            reader.seek(start)
            latest = None
            for _ in range(TAIL_MESSAGES):
                if not reader.has_message_available():
                    break
                message = reader.read_next(10_000)
                schema = _envelope_schema(message.data(), topic)
                if schema is not None:
                    latest = (message.publish_timestamp(), schema)
            if latest is not None:
                return latest
        return None
    finally:
        reader.close()


def _envelope_schema(data: bytes, topic: str) -> dict[str, Any] | None:
    """The Connect schema of one message's change event; None for a tombstone."""
    if not data:
        return None
    try:
        document = json.loads(data)
    except ValueError as error:
        raise PulsarConfigError(f"Debezium JSON: a message of {topic} is not JSON ({error})") from None
    if document is None:
        return None
    if not isinstance(document, dict) or not isinstance(document.get("schema"), dict) or "payload" not in document:
        raise PulsarConfigError(f"Debezium JSON: the change events of {topic} carry no schema (Debezium's JSON "
                                "converter with schemas.enable=false?); declare the columns (Types.ROW_NAMED)")
    return document["schema"] if document["payload"] is not None else None
