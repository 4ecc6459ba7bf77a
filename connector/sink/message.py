"""The record the Pulsar sink writes: a value plus the Pulsar message metadata that goes with it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PulsarMessage:
    """One message to write.

    `value` is serialized with the sink's serialization schema; a `PulsarMessage` whose value is None is a tombstone
    (a null value: on a compacted topic it deletes its key), a plain None element is serialized. `key` is the
    Pulsar message (partition) key and decides the partition under key-hash routing; `ordering_key` is the
    Key_Shared ordering key.
    `event_time` is in milliseconds since the epoch; `deliver_after_ms` delays delivery to consumers.
    `topic`, when set, overrides the sink's topics and topic selector for this message. `sequence_key` names the
    deterministic sub-stream the message belongs to (the source split); EXACTLY_ONCE needs it unless the sink runs
    fused behind a Pulsar source, which numbers records by their source message (`connector.sink.chain`).
    """

    value: Any
    key: str | None = None
    ordering_key: str | None = None
    properties: Mapping[str, str] = field(default_factory=dict)
    event_time: int | None = None
    deliver_after_ms: int | None = None
    topic: str | None = None
    sequence_key: str | None = None


def to_message(element: Any) -> PulsarMessage:
    """`element` itself when it is a `PulsarMessage`, else a message carrying `element` as its value and no key
    or sequence key."""
    if isinstance(element, PulsarMessage):
        return element
    return PulsarMessage(value=element)
