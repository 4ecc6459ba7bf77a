"""The message metadata a Pulsar table can read as columns, named as in the Java connector's SQL connector.

`METADATA` holds each column's SQL type, the type the source carries it in, how it is read from a message and what
it means; the README's metadata table is `markdown_table()` (a unit test keeps them equal). No Flink runtime here;
TIMESTAMP_LTZ values are PyFlink `Instant`s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulsar
from pyflink.common import Types
from pyflink.common.time import Instant
from pyflink.common.typeinfo import TypeInformation


@dataclass(frozen=True)
class MetadataColumn:
    """One readable metadata field: its SQL type, the type the source carries it in, and how to read it."""

    sql_type: str
    type_info: TypeInformation
    read: Callable[[pulsar.Message], Any]
    meaning: str


def _event_time(message: pulsar.Message) -> Instant | None:
    millis = message.event_timestamp()
    return Instant.of_epoch_milli(millis) if millis else None


METADATA: dict[str, MetadataColumn] = {
    "topic": MetadataColumn("STRING", Types.STRING(), lambda message: message.topic_name(),
                            "the topic partition the message came from"),
    "message_id": MetadataColumn("BYTES", Types.PRIMITIVE_ARRAY(Types.BYTE()),
                                 lambda message: message.message_id().serialize(),
                                 "the serialized MessageId (`pulsar.MessageId.deserialize` reads it)"),
    "message_size": MetadataColumn("INT", Types.INT(), lambda message: len(message.data()),
                                   "the payload's size in bytes"),
    "producer_name": MetadataColumn("STRING", Types.STRING(), lambda message: message.producer_name(),
                                    "the producer that wrote it"),
    "publish_time": MetadataColumn("TIMESTAMP_LTZ(3)", Types.INSTANT(),
                                   lambda message: Instant.of_epoch_milli(message.publish_timestamp()),
                                   "when the broker stored it"),
    "event_time": MetadataColumn("TIMESTAMP_LTZ(3)", Types.INSTANT(), _event_time,
                                 "the event time its producer set, NULL if none"),
    "properties": MetadataColumn("MAP<STRING, STRING>", Types.MAP(Types.STRING(), Types.STRING()),
                                 lambda message: dict(message.properties()), "the message properties"),
    "key": MetadataColumn("STRING", Types.STRING(), lambda message: message.partition_key() or None,
                          "the message key, NULL if none"),
}


def markdown_table() -> str:
    """The README's table of the metadata columns."""
    rows = ["| column | SQL type | value |", "|---|---|---|"]
    rows += [f"| `{name}` | {column.sql_type} | {column.meaning} |" for name, column in METADATA.items()]
    return "\n".join(rows)
