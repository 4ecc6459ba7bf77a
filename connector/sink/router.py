"""Which partition topic a message goes to: routers are pure functions of (message, candidate partitions, sequence
number); `BatchRotation` is the writer's round robin for batching producers, a batch's worth at a time.

Key hashing is the Java client's default (`HashingScheme.JavaStringHash` in
`RoundRobinPartitionMessageRouterImpl`): `signSafeMod(key.hashCode() & Integer.MAX_VALUE, partitions)`, so a key
lands on the same partition whether a Java or this Python producer writes it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from enum import Enum

from connector.sink.client_batches import BatchBoundary
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


class BatchRotation:
    """Round robin for batching producers (what the built-in routers send round robin: every message under
    ROUND_ROBIN, keyless ones under MESSAGE_KEY_HASH): one partition until it got a batch's worth (where
    pulsar-client would end the batch: `connector.sink.client_batches`), then the next partition.

    A producer's batch holds messages of its own partition only, so one message per partition in turn cuts every
    batch small; the Java connector likewise moves on every batchingMaxMessages messages (`partitionSwitchSize`).
    Not a `TopicRouter`: its choice depends on the messages before, which a replay after a restore does not repeat,
    so EXACTLY_ONCE never uses it.
    """

    def __init__(self, max_messages: int, max_bytes: int) -> None:
        self._batch = BatchBoundary(max_messages, max_bytes)
        self._index = -1

    def choose(self, partitions: Sequence[str], size: int) -> str:
        """The partition for the next message, of `size` payload bytes."""
        if self._batch.add(size):
            self._index += 1
        return partitions[self._index % len(partitions)]
