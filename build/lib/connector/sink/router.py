"""Which partition topic a message goes to. Pure functions of (message, candidate partitions, sequence number).

Key hashing is the Java client's default (`HashingScheme.JavaStringHash` in
`RoundRobinPartitionMessageRouterImpl`): `signSafeMod(key.hashCode() & Integer.MAX_VALUE, partitions)`, so a key
lands on the same partition whether a Java or this Python producer writes it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from enum import Enum

from connector.sink.message import PulsarMessage


class TopicRoutingMode(Enum):
    """How a message picks one of the candidate partitions (the Java connector's `topicRoutingMode`)."""

    ROUND_ROBIN = "round-robin"
    """Ignore keys; cycle through the partitions."""
    MESSAGE_KEY_HASH = "message-key-hash"
    """Keyed messages by the Java client's default key hash; keyless ones round robin."""
    CUSTOM = "custom"
    """A user `TopicRouter` decides."""


class TopicRouter(ABC):
    """Chooses the partition topic of one message.

    `partitions` are the candidate topics in a stable order: every partition (`...-partition-N`, by N) of each
    target topic, or the topic itself when it is not partitioned. `sequence` counts the messages of the writer
    (under EXACTLY_ONCE: the message's sequence id). Under EXACTLY_ONCE the choice must depend on these arguments
    only, so a replayed message goes where it went before.
    """

    @abstractmethod
    def route(self, message: PulsarMessage, partitions: Sequence[str], sequence: int) -> str:
        """One of `partitions`."""


class RoundRobinTopicRouter(TopicRouter):
    def route(self, message: PulsarMessage, partitions: Sequence[str], sequence: int) -> str:
        return partitions[sign_safe_mod(sequence, len(partitions))]


class KeyHashTopicRouter(TopicRouter):
    def route(self, message: PulsarMessage, partitions: Sequence[str], sequence: int) -> str:
        if message.key is None:
            return partitions[sign_safe_mod(sequence, len(partitions))]
        return partitions[sign_safe_mod(java_string_hash(message.key), len(partitions))]


def java_string_hash(key: str) -> int:
    """Java's `key.hashCode() & Integer.MAX_VALUE` (the hash runs over UTF-16 code units)."""
    units = key.encode("utf-16-be")
    h = 0
    for i in range(0, len(units), 2):
        h = (31 * h + (units[i] << 8 | units[i + 1])) & 0xFFFFFFFF
    return h & 0x7FFFFFFF


def sign_safe_mod(dividend: int, divisor: int) -> int:
    """Pulsar's `MathUtils.signSafeMod`: a remainder in [0, divisor)."""
    return dividend % divisor  # Python's % already takes the divisor's sign
