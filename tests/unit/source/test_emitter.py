"""The record emitter and split metrics without Flink or a broker."""

from __future__ import annotations

import json

import pulsar
import pytest

from connector.errors import MessageDecodeError
from connector.in_flight import IN_FLIGHT
from connector.serde import Records
from connector.source.bad_message import BadMessageHandler, BadMessagePolicy
from connector.source.emitter import METADATA_FIELDS, RecordEmitter
from connector.source.split_metrics import SplitMetrics


class Message:
    def __init__(self, payload: bytes, entry: int, key: str = "", properties: dict[str, str] | None = None) -> None:
        self._payload, self._key, self._properties = payload, key, properties or {}
        self._id = pulsar.MessageId(1, 7, entry, -1)

    def data(self) -> bytes:
        return self._payload

    def message_id(self) -> pulsar.MessageId:
        return self._id

    def topic_name(self) -> str:
        return "persistent://public/default/orders-partition-1"

    def partition_key(self) -> str:
        return self._key

    def properties(self) -> dict[str, str]:
        return self._properties

    def publish_timestamp(self) -> int:
        return 1_700_000_000_000 + self._id.entry_id()

    def event_timestamp(self) -> int:
        return 0


class Count:
    def __init__(self) -> None:
        self.value = 0

    def inc(self, n: int = 1) -> None:
        self.value += n


class Group:
    """A metric group that keeps what is registered."""

    def __init__(self) -> None:
        self.counters: dict[str, Count] = {}
        self.gauges: dict[str, object] = {}

    def counter(self, name: str) -> Count:
        return self.counters.setdefault(name, Count())

    def gauge(self, name: str, fn: object) -> None:
        self.gauges[name] = fn


def decode(message: Message) -> dict:
    return json.loads(message.data())


def emitter(policy: BadMessagePolicy, with_metadata: bool = False) -> tuple[RecordEmitter, Count, Count]:
    errors, skipped = Count(), Count()
    handler = BadMessageHandler(policy, "JsonSchema", skipped, Count())
    return RecordEmitter(decode, with_metadata, handler, errors), errors, skipped


def test_records_are_decoded_in_order_and_bad_ones_skipped_under_skip() -> None:
    emit, errors, skipped = emitter(BadMessagePolicy.SKIP)
    messages = [Message(b'{"n": 1}', 1), Message(b"not json", 2), Message(b'{"n": 3}', 3)]
    assert list(emit.records(messages)) == [{"n": 1}, {"n": 3}]
    assert (errors.value, skipped.value) == (1, 1)


def test_while_a_record_is_yielded_in_flight_names_its_message_number() -> None:
    """Numbers count every message, a skipped one too, from `first_ordinal`."""
    emit, _, _ = emitter(BadMessagePolicy.SKIP)
    messages = [Message(b'{"n": 1}', 1), Message(b"not json", 2), Message(b'{"n": 3}', 3)]
    assert [(record["n"], IN_FLIGHT.ordinal) for record in emit.records(messages, 11)] == [(1, 11), (3, 13)]


def test_a_message_decoded_to_records_yields_each_in_order_under_its_own_number_and_none_for_an_empty_one() -> None:
    def changes(message: Message) -> Records:
        return Records(json.loads(message.data()))

    emit = RecordEmitter(changes, False, BadMessageHandler(BadMessagePolicy.FAIL, "changes", Count(), Count()), Count())
    messages = [Message(b'["a", "b"]', 1), Message(b"[]", 2), Message(b'["c"]', 3)]
    assert [(record, IN_FLIGHT.ordinal) for record in emit.records(messages, 5)] == [("a", 5), ("b", 5), ("c", 7)]


def test_a_bad_message_under_fail_raises_after_the_good_ones_before_it() -> None:
    emit, errors, _ = emitter(BadMessagePolicy.FAIL)
    records = emit.records([Message(b'{"n": 1}', 1), Message(b"{", 2), Message(b'{"n": 3}', 3)])
    assert next(records) == {"n": 1}
    with pytest.raises(MessageDecodeError, match="JsonSchema"):
        next(records)
    assert errors.value == 1


def test_metadata_rows_carry_the_java_connector_fields() -> None:
    emit, _, _ = emitter(BadMessagePolicy.FAIL, with_metadata=True)
    [row] = emit.records([Message(b'{"n": 1}', 4, key="k1", properties={"a": "b"})])
    assert row._fields == METADATA_FIELDS
    assert row.value == {"n": 1}
    assert (row.topic, row.partition, row.key, row.properties) == (
        "persistent://public/default/orders-partition-1", 1, "k1", {"a": "b"})
    assert pulsar.MessageId.deserialize(row.message_id).entry_id() == 4
    assert (row.publish_time, row.event_time) == (1_700_000_000_004, 0)


def test_a_message_without_key_has_key_none() -> None:
    emit, _, _ = emitter(BadMessagePolicy.FAIL, with_metadata=True)
    [row] = emit.records([Message(b"{}", 1)])
    assert row.key is None


def test_split_metrics_count_messages_bytes_and_last_publish_time() -> None:
    group, lag = Group(), [0]
    metrics = SplitMetrics(group, lag=lambda: lag[0])
    list(metrics.counted([]))
    assert "lag" not in group.gauges, "an idle, caught-up split has no gauges"
    lag[0] = 42
    list(metrics.counted([Message(b"abc", 1), Message(b"de", 2)]))
    list(metrics.counted([]))
    assert group.counters["numRecordsIn"].value == 2
    assert group.counters["numBytesIn"].value == 5
    assert group.gauges["lastPublishTime"]() == 1_700_000_000_002
    assert group.gauges["lag"]() == 42
    assert {"decodeErrors", "skippedMessages", "deadLetteredMessages"} <= set(group.counters)


def test_split_metrics_gauges_appear_once_a_lag_sample_finds_the_split_behind() -> None:
    group, lag = Group(), [-1]
    metrics = SplitMetrics(group, lag=lambda: lag[0])
    list(metrics.counted([]))
    assert group.gauges == {}
    lag[0] = 7  # stalled: behind, reading nothing
    list(metrics.counted([]))
    assert group.gauges["lag"]() == 7 and group.gauges["lastPublishTime"]() == 0
