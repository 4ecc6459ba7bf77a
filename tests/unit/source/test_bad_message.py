"""The bad-message policy without Flink or a broker."""

from __future__ import annotations

import pulsar
import pytest

from connector.errors import MessageDecodeError
from connector.source.bad_message import BadMessageHandler, BadMessagePolicy


class FakeMessage:
    def __init__(self) -> None:
        self._id = pulsar.MessageId(2, 11, 7, -1)

    def message_id(self) -> pulsar.MessageId:
        return self._id

    def topic_name(self) -> str:
        return "persistent://public/default/orders-partition-2"


class Count:
    def __init__(self) -> None:
        self.value = 0

    def inc(self, n: int = 1) -> None:
        self.value += n


class RecordingWriter:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple[FakeMessage, str]] = []
        self.fail = fail

    def send(self, message: FakeMessage, error: str) -> None:
        if self.fail:
            raise pulsar.Timeout("no ack")
        self.sent.append((message, error))


def handler(policy: BadMessagePolicy, writer: RecordingWriter | None = None) -> tuple[BadMessageHandler, Count, Count]:
    skipped, dead = Count(), Count()
    return BadMessageHandler(policy, "AvroRowSchema", skipped, dead, writer), skipped, dead


def test_fail_raises_naming_topic_partition_message_id_and_cause() -> None:
    fail, skipped, dead = handler(BadMessagePolicy.FAIL)
    with pytest.raises(MessageDecodeError) as raised:
        fail.handle(FakeMessage(), EOFError("truncated"))
    text = str(raised.value)
    for part in ("(11,7,2,-1)", "partition 2", "persistent://public/default/orders-partition-2", "AvroRowSchema",
                 "EOFError: truncated"):
        assert part in text
    assert isinstance(raised.value.__cause__, EOFError)
    assert (skipped.value, dead.value) == (0, 0)


def test_skip_counts_and_goes_on() -> None:
    skip, skipped, dead = handler(BadMessagePolicy.SKIP)
    skip.handle(FakeMessage(), ValueError("x"))
    skip.handle(FakeMessage(), ValueError("y"))
    assert (skipped.value, dead.value) == (2, 0)


def test_dead_letter_sends_then_counts() -> None:
    writer = RecordingWriter()
    dead_letter, skipped, dead = handler(BadMessagePolicy.DEAD_LETTER, writer)
    message = FakeMessage()
    dead_letter.handle(message, ValueError("bad"))
    assert writer.sent == [(message, "ValueError: bad")]
    assert (skipped.value, dead.value) == (0, 1)


def test_a_failed_dead_letter_send_fails_and_is_not_counted() -> None:
    dead_letter, _, dead = handler(BadMessagePolicy.DEAD_LETTER, RecordingWriter(fail=True))
    with pytest.raises(MessageDecodeError, match="sending it to the dead-letter topic failed"):
        dead_letter.handle(FakeMessage(), ValueError("bad"))
    assert dead.value == 0


def test_dead_letter_needs_a_writer_and_only_it_does() -> None:
    with pytest.raises(ValueError):
        handler(BadMessagePolicy.DEAD_LETTER)
    with pytest.raises(ValueError):
        handler(BadMessagePolicy.SKIP, RecordingWriter())
