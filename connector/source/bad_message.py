"""What the source does with a message its deserializer cannot decode: the per-source bad-message policy.

- FAIL (default): raise `MessageDecodeError` naming the topic, partition, MessageId, deserializer and cause. The job
  fails; after a restore it meets the same message again, so nothing is passed over unseen.
- SKIP: log it, count it in a metric, and go on.
- DEAD_LETTER: send the raw payload, key, event time and properties to a dead-letter topic with the error added
  to the properties (`DEAD_LETTER_PROPERTIES`), wait for the broker's acknowledgement, then count it and go on.
  The send completes before the source emits its next record, so a checkpoint that includes the position past
  the message also follows its dead-lettering. After a failure, messages since the last checkpoint are
  dead-lettered again (at least once in the dead-letter topic).

Either way the source's position moves past the message exactly as for a good one. No Flink here: the glue passes
counters (anything with `inc()`) and a `DeadLetterWriter`.
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from enum import Enum
from typing import Protocol

import pulsar

from connector.errors import MessageDecodeError

log = logging.getLogger(__name__)

# Properties added to a dead-lettered message (its own properties are kept).
ERROR_PROPERTY = "pulsar-flink-decode-error"
TOPIC_PROPERTY = "pulsar-flink-source-topic"
MESSAGE_ID_PROPERTY = "pulsar-flink-source-message-id"
DEAD_LETTER_PROPERTIES = (ERROR_PROPERTY, TOPIC_PROPERTY, MESSAGE_ID_PROPERTY)


class BadMessagePolicy(Enum):
    FAIL = "fail"
    SKIP = "skip"
    DEAD_LETTER = "dead-letter"


class Counter(Protocol):
    def inc(self, n: int = 1) -> None: ...


class DeadLetterWriter:
    """Sends messages to the dead-letter topic through `client`, one acknowledged send at a time; its producer is
    created inside `calls` (`connector.clients.ClientCalls`, which closes the client only once no creation runs)."""

    def __init__(self, client: pulsar.Client, topic: str, calls: AbstractContextManager) -> None:
        self._client = client
        self._topic = topic
        self._calls = calls
        self._producer: pulsar.Producer | None = None

    def send(self, message: pulsar.Message, error: str) -> None:
        """Returns once the broker has persisted the message; raises `pulsar.PulsarException` otherwise."""
        if self._producer is None:
            with self._calls:
                self._producer = self._client.create_producer(self._topic, batching_enabled=False)
        properties = {**message.properties(), ERROR_PROPERTY: error, TOPIC_PROPERTY: message.topic_name(),
                      MESSAGE_ID_PROPERTY: str(message.message_id())}
        arguments = {"properties": properties}
        if message.partition_key():
            arguments["partition_key"] = message.partition_key()
        if message.event_timestamp():
            arguments["event_timestamp"] = message.event_timestamp()
        self._producer.send(message.data(), **arguments)


class BadMessageHandler:
    """Applies a policy to messages that did not decode. `deserializer` names the schema in errors."""

    def __init__(self, policy: BadMessagePolicy, deserializer: str, skipped: Counter, dead_lettered: Counter,
                 dead_letter: DeadLetterWriter | None = None) -> None:
        if (policy is BadMessagePolicy.DEAD_LETTER) != (dead_letter is not None):
            raise ValueError("a DeadLetterWriter is needed for the DEAD_LETTER policy, and only there")
        self._policy = policy
        self._deserializer = deserializer
        self._skipped = skipped
        self._dead_lettered = dead_lettered
        self._dead_letter = dead_letter

    def handle(self, message: pulsar.Message, error: Exception) -> None:
        """Raise (FAIL), or account for the message (SKIP, DEAD_LETTER) so the caller can go on."""
        description = describe(message, self._deserializer, error)
        if self._policy is BadMessagePolicy.FAIL:
            raise MessageDecodeError(description) from error
        if self._policy is BadMessagePolicy.SKIP:
            log.warning("skipped: %s", description)
            self._skipped.inc()
            return
        try:
            self._dead_letter.send(message, f"{type(error).__name__}: {error}")
        except pulsar.PulsarException as send_error:
            raise MessageDecodeError(f"{description}; sending it to the dead-letter topic failed: "
                                     f"{send_error}") from send_error
        log.warning("dead-lettered: %s", description)
        self._dead_lettered.inc()


def describe(message: pulsar.Message, deserializer: str, error: Exception) -> str:
    message_id = message.message_id()
    return (f"message {message_id} (partition {message_id.partition()}) of topic {message.topic_name()} does "
            f"not decode with {deserializer}: {type(error).__name__}: {error}")
