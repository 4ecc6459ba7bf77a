"""PulsarWriter's contracts without a broker: a stand-in client records what the writer sends and lets the test
acknowledge or reject it (the real client is exercised by tests/integration/test_sink_*.py)."""

from __future__ import annotations

import threading
from typing import Any

import pulsar
import pytest

from connector.errors import PulsarSinkError
from connector.serde import SimpleStringSchema
from connector.sink import DeliveryGuarantee, PulsarMessage, PulsarSink
from connector.sink import writer as writer_module
from connector.sink.config import SinkConfig
from connector.sink.writer import PulsarWriter, Sequenced

TOPIC = "persistent://public/default/out"


class StandInBindings:
    """What a real producer's `_producer` offers the writer: a flush that does not wait."""

    def __init__(self) -> None:
        self.flushes = 0

    def flush_async(self, callback: Any) -> None:
        self.flushes += 1


class StandInProducer:
    def __init__(self, topic: str, name: str | None, settings: dict[str, Any], last_sequence_id: int) -> None:
        self.topic, self.name, self.settings = topic, name, settings
        self.sent: list[tuple[bytes, dict[str, Any]]] = []
        self.closed = False
        self._callbacks: list[Any] = []
        self._last_sequence_id = last_sequence_id

    def send_async(self, payload: bytes, callback: Any, **arguments: Any) -> None:
        self.sent.append((payload, arguments))
        self._callbacks.append(callback)

    def last_sequence_id(self) -> int:
        return self._last_sequence_id

    def close(self) -> None:
        self.closed = True

    def complete_all(self, result: pulsar.Result = pulsar.Result.Ok) -> None:
        """Complete every message sent so far as the client would: a message with a callback followed by messages
        without one is a batch (the callback's message id says so), anything else a message of its own."""
        callbacks, self._callbacks = self._callbacks, []
        for at, callback in enumerate(callbacks):
            if callback is not None:
                following = next((n for n, later in enumerate(callbacks[at + 1:]) if later is not None),
                                 len(callbacks) - at - 1)
                callback(result, StandInMessageId(batch_size=1 + following))


class StandInMessageId:
    """A message id at index 0 of a batch of `batch_size` messages, as `MessageId.serialize()` writes it."""

    def __init__(self, batch_size: int) -> None:
        self._serialized = bytes([4 << 3, 0, 6 << 3, batch_size])  # MessageIdData fields batch_index, batch_size

    def serialize(self) -> bytes:
        return self._serialized


class StandInClient:
    def __init__(self, partitions: int, last_sequence_id: int = -1, non_blocking_flush: bool = False) -> None:
        self.partitions = partitions
        self.non_blocking_flush = non_blocking_flush
        self.last_sequence_id = last_sequence_id
        self.producers: dict[str, StandInProducer] = {}
        self.created: list[StandInProducer] = []

    def get_topic_partitions(self, topic: str) -> list[str]:
        return [f"{topic}-partition-{p}" for p in range(self.partitions)]

    def create_producer(self, topic: str, producer_name: str | None = None, **settings: Any) -> StandInProducer:
        producer = self.producers[topic] = StandInProducer(topic, producer_name, settings, self.last_sequence_id)
        if self.non_blocking_flush:
            producer._producer = StandInBindings()
        self.created.append(producer)
        return producer

    def close(self) -> None:
        pass


def writer_for(monkeypatch: pytest.MonkeyPatch, client: StandInClient, guarantee: DeliveryGuarantee,
               send_timeout_ms: int = 30_000, max_pending: int = 1000, caller_checks: bool = True,
               **producer_config: Any) -> PulsarWriter:
    monkeypatch.setattr(writer_module, "new_client", lambda *args: client)
    monkeypatch.setattr(writer_module, "deduplication_problem", lambda *args: None)
    config: SinkConfig = (PulsarSink.builder().set_service_url("pulsar://127.0.0.1:6650")
                          .set_admin_url("http://127.0.0.1:8080").set_topics(TOPIC)
                          .set_serialization_schema(SimpleStringSchema()).set_delivery_guarantee(guarantee)
                          .set_producer_config({"send_timeout_millis": send_timeout_ms,
                                                "max_pending_messages": max_pending, **producer_config})
                          .build().config)
    return PulsarWriter(config, caller_checks=caller_checks)


def test_a_key_always_goes_to_the_same_partition_and_flush_counts_acknowledged(
        monkeypatch: pytest.MonkeyPatch) -> None:
    client = StandInClient(partitions=4)
    writer = writer_for(monkeypatch, client, DeliveryGuarantee.AT_LEAST_ONCE)
    for n in range(40):
        writer.write(PulsarMessage(value=f"v{n}", key=f"k{n % 3}"))
    keys_per_partition = {topic: {arguments["partition_key"] for _, arguments in producer.sent}
                          for topic, producer in client.producers.items()}
    assert sorted(key for keys in keys_per_partition.values() for key in keys) == ["k0", "k1", "k2"]
    assert writer.pending_messages == 40
    for producer in client.producers.values():
        producer.complete_all()
    assert writer.flush() == 40 and writer.pending_messages == 0
    assert writer.acknowledged_bytes == sum(len(f"v{n}") for n in range(40))


def test_a_predicted_batch_has_one_callback_and_goes_out_at_check(monkeypatch: pytest.MonkeyPatch) -> None:
    client = StandInClient(partitions=1, non_blocking_flush=True)
    writer = writer_for(monkeypatch, client, DeliveryGuarantee.AT_LEAST_ONCE)
    for value in ("a", "b", "c"):
        writer.write(value)
    writer.write(PulsarMessage("later", deliver_after_ms=5))  # sent alone by the client
    producer = client.producers[f"{TOPIC}-partition-0"]
    assert producer.settings["batching_max_publish_delay_ms"] >= 3600 * 1000
    assert [callback is not None for callback in producer._callbacks] == [True, False, False, True]
    writer.check()
    writer.check()  # nothing open any more
    assert producer._producer.flushes == 1 and writer.pending_messages == 4


def test_a_writer_whose_caller_does_not_check_leaves_batches_to_the_clients_timer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    client = StandInClient(partitions=1, non_blocking_flush=True)
    writer = writer_for(monkeypatch, client, DeliveryGuarantee.AT_LEAST_ONCE, caller_checks=False)
    writer.write("a")
    writer.write("b")
    producer = client.producers[f"{TOPIC}-partition-0"]
    assert "batching_max_publish_delay_ms" not in producer.settings and None not in producer._callbacks
    writer.check()
    assert producer._producer.flushes == 0


def test_without_a_non_blocking_flush_the_clients_timer_ends_batches_and_every_message_has_a_callback(
        monkeypatch: pytest.MonkeyPatch) -> None:
    client = StandInClient(partitions=1)  # its producers have no `_producer.flush_async`
    writer = writer_for(monkeypatch, client, DeliveryGuarantee.AT_LEAST_ONCE)
    writer.write("a")
    writer.write("b")
    first, second = client.created
    assert first.closed and first.settings["batching_max_publish_delay_ms"] >= 3600 * 1000
    assert "batching_max_publish_delay_ms" not in second.settings and len(second.sent) == 2
    second.complete_all()
    assert writer.flush() == 2


def test_a_rejected_send_fails_the_next_call_naming_topic_and_result(monkeypatch: pytest.MonkeyPatch) -> None:
    client = StandInClient(partitions=1)
    writer = writer_for(monkeypatch, client, DeliveryGuarantee.AT_LEAST_ONCE)
    writer.write("lost")
    client.producers[f"{TOPIC}-partition-0"].complete_all(pulsar.Result.ProducerBlockedQuotaExceededError)
    with pytest.raises(PulsarSinkError, match=f"to {TOPIC}-partition-0 failed: ProducerBlockedQuotaExceededError"):
        writer.write("next")
    with pytest.raises(PulsarSinkError):
        writer.flush()


def test_no_acknowledgement_within_the_send_timeout_fails_flush_naming_the_waiting_topic(
        monkeypatch: pytest.MonkeyPatch) -> None:
    writer = writer_for(monkeypatch, StandInClient(partitions=1), DeliveryGuarantee.AT_LEAST_ONCE, send_timeout_ms=100)
    writer.write("unanswered")
    with pytest.raises(PulsarSinkError, match=f"no acknowledgement from the broker for 0.1 s .*{TOPIC}-partition-0"):
        writer.flush()


def test_a_full_window_waits_for_acknowledgements(monkeypatch: pytest.MonkeyPatch) -> None:
    client = StandInClient(partitions=1)
    writer = writer_for(monkeypatch, client, DeliveryGuarantee.AT_LEAST_ONCE, max_pending=2)
    writer.write("a")
    writer.write("b")
    producer = client.producers[f"{TOPIC}-partition-0"]
    threading.Timer(0.1, producer.complete_all).start()  # the client's I/O thread acknowledging later
    writer.write("c")  # returns only once the window has room
    assert len(producer.sent) == 3 and writer.pending_messages == 1


def test_a_full_byte_window_waits_and_a_larger_message_goes_once_nothing_is_pending(
        monkeypatch: pytest.MonkeyPatch) -> None:
    client = StandInClient(partitions=1)
    writer = writer_for(monkeypatch, client, DeliveryGuarantee.AT_LEAST_ONCE, max_pending_bytes=8)
    writer.write("aaaa")
    writer.write("bbbb")
    producer = client.producers[f"{TOPIC}-partition-0"]
    threading.Timer(0.1, producer.complete_all).start()
    writer.write("c")  # 9 bytes would be pending: returns only once the first two are acknowledged
    assert len(producer.sent) == 3 and writer.pending_messages == 1
    threading.Timer(0.1, producer.complete_all).start()
    writer.write("x" * 20)  # over the bound by itself: waits until nothing is pending, then goes
    assert len(producer.sent) == 4 and writer.pending_messages == 1


def sent_ids(producer: StandInProducer) -> list[int]:
    return [arguments["sequence_id"] for _, arguments in producer.sent]


def test_exactly_once_does_not_send_what_the_broker_has_and_holds_a_batch_until_it_ends(
        monkeypatch: pytest.MonkeyPatch) -> None:
    client = StandInClient(partitions=1, last_sequence_id=5, non_blocking_flush=True)  # the name's ids up to 5
    writer = writer_for(monkeypatch, client, DeliveryGuarantee.EXACTLY_ONCE)
    for sequence_id in range(1, 9):
        writer.write(f"m{sequence_id}", Sequenced("sink-abc-split-0", sequence_id))
    producer = client.producers[f"{TOPIC}-partition-0"]
    assert producer.name == "sink-abc-split-0" and producer.settings["batching_enabled"] is True
    assert producer.sent == [] and writer.pending_messages == 3  # held until the batch ends
    writer.check()
    # The batch's first message carries its last id: the one id the client gives the broker for the whole batch.
    assert sent_ids(producer) == [8, 7, 8] and [payload for payload, _ in producer.sent] == [b"m6", b"m7", b"m8"]
    assert [callback is not None for callback in producer._callbacks] == [True, False, False]
    assert producer._producer.flushes == 1
    with pytest.raises(ValueError, match="Sequenced identity is required under EXACTLY_ONCE"):
        writer.write("no identity")


def test_exactly_once_sends_a_full_batch_at_once_and_a_delayed_message_after_the_held_batch(
        monkeypatch: pytest.MonkeyPatch) -> None:
    client = StandInClient(partitions=1, non_blocking_flush=True)
    writer = writer_for(monkeypatch, client, DeliveryGuarantee.EXACTLY_ONCE, batching_max_messages=3)
    for sequence_id in range(1, 9):
        writer.write(f"m{sequence_id}", Sequenced("p", sequence_id))
    producer = client.producers[f"{TOPIC}-partition-0"]
    assert sent_ids(producer) == [3, 2, 3, 6, 5, 6] and producer._producer.flushes == 0  # full: the client sends them
    writer.write(PulsarMessage("later", deliver_after_ms=5), Sequenced("p", 9))  # the client sends it alone
    assert sent_ids(producer) == [3, 2, 3, 6, 5, 6, 8, 8, 9] and producer._producer.flushes == 1
    assert [callback is not None for callback in producer._callbacks] == [True, False, False] * 2 + [True, False, True]
    producer.complete_all()
    assert writer.flush() == 9


@pytest.mark.parametrize("setup", [
    pytest.param({"caller_checks": False}, id="caller-does-not-check"),
    pytest.param({"batching_max_publish_delay_ms": 10}, id="client-timer-set"),
    pytest.param({"non_blocking_flush": False}, id="no-non-blocking-flush"),
])
def test_exactly_once_does_not_batch_where_the_writer_cannot_predict_batches(
        monkeypatch: pytest.MonkeyPatch, setup: dict[str, Any]) -> None:
    client = StandInClient(partitions=1, non_blocking_flush=setup.pop("non_blocking_flush", True))
    writer = writer_for(monkeypatch, client, DeliveryGuarantee.EXACTLY_ONCE, **setup)
    for sequence_id in range(1, 4):
        writer.write(f"m{sequence_id}", Sequenced("p", sequence_id))
    producer = client.created[-1]
    assert producer.settings["batching_enabled"] is False
    assert sent_ids(producer) == [1, 2, 3] and None not in producer._callbacks


def test_a_message_without_a_value_goes_out_as_a_tombstone_and_a_plain_none_is_serialized(
        monkeypatch: pytest.MonkeyPatch) -> None:
    client = StandInClient(partitions=1)
    writer = writer_for(monkeypatch, client, DeliveryGuarantee.AT_LEAST_ONCE)
    writer.write(PulsarMessage(value=None, key='{"id":1}'))
    with pytest.raises(AttributeError):  # SimpleStringSchema cannot serialize None: a plain None is no tombstone
        writer.write(None)
    producer = client.producers[f"{TOPIC}-partition-0"]
    assert producer.sent == [(None, {"partition_key": '{"id":1}'})]
    producer.complete_all()
    assert writer.flush() == 1 and writer.acknowledged_bytes == 0
