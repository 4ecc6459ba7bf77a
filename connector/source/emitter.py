"""Turning polled messages into the records the source emits: decode, apply the bad-message policy, add metadata.

The role of the Java and Kafka connectors' record emitter. No Flink runtime here: records are PyFlink `Row`s
(with metadata) or whatever the deserializer returns, and counters are anything with `inc()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pulsar
from pyflink.common import Row

from connector.in_flight import IN_FLIGHT
from connector.serde import Records
from connector.source.bad_message import BadMessageHandler, Counter

METADATA_FIELDS = ["value", "topic", "partition", "message_id", "key", "properties", "publish_time",
                   "event_time"]
_MetadataRow = Row(*METADATA_FIELDS)  # a Row "class": rows it makes carry the field names


class RecordEmitter:
    """Decodes a split's messages in order. A message that does not decode counts in `decode_errors` and goes to
    `bad_messages` (which raises under FAIL, or accounts for it and lets the emitter go on); it yields nothing. A
    message the deserializer decodes to `Records` yields each of them."""

    def __init__(self, deserialize: Callable[[pulsar.Message], Any], with_metadata: bool,
                 bad_messages: BadMessageHandler, decode_errors: Counter) -> None:
        self._deserialize = deserialize
        self._with_metadata = with_metadata
        self._bad_messages = bad_messages
        self._decode_errors = decode_errors

    def records(self, messages: Iterable[pulsar.Message], first_ordinal: int = 1) -> Iterator[Any]:
        """The records of `messages`, each message decoded once the records before it were taken; while the records
        of a message are yielded, `IN_FLIGHT.ordinal` is its number in the split (`first_ordinal` for the first: its
        state's read count before them, plus one)."""
        deserialize = self._deserialize
        in_flight = IN_FLIGHT
        for ordinal, message in enumerate(messages, first_ordinal):
            in_flight.ordinal = ordinal
            try:
                value = deserialize(message)
            except Exception as error:
                self._decode_errors.inc()
                self._bad_messages.handle(message, error)
                continue
            values = value if type(value) is Records else (value,)
            if not self._with_metadata:
                yield from values
                continue
            message_id = message.message_id()
            for value in values:
                yield _MetadataRow(value, message.topic_name(), message_id.partition(), message_id.serialize(),
                                   message.partition_key() or None, dict(message.properties()),
                                   message.publish_timestamp(), message.event_timestamp())
