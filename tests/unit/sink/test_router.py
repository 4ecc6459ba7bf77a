"""Partition choice: the Java client's default key hashing, round robin, and the router contract."""

from __future__ import annotations

import pytest

from connector.sink.message import PulsarMessage
from connector.sink.router import (BatchRotation, KeyHashTopicRouter, RoundRobinTopicRouter, java_string_hash,
                                   sign_safe_mod)

# Computed with the real Java client (pulsar-client-original 4.2.4): `new RoundRobinPartitionMessageRouterImpl(
# HashingScheme.JavaStringHash, 0, false, 1).choosePartition(message with that key, 7 partitions)`, run by
# tests/integration/test_sink_writer.py::test_key_hash_picks_the_java_clients_partition for any key set.
JAVA_PARTITION_OF_7 = {"a": 6, "key-1": 4, "user-42": 4, "": 0, "Motörhead": 4, "日本語": 5, "😀emoji": 6,
                       "order-123456789": 3, "k0": 5, "k1": 6, "k2": 0, "k3": 1}
PARTITIONS = [f"persistent://public/default/t-partition-{i}" for i in range(7)]


@pytest.mark.parametrize(("key", "partition"), sorted(JAVA_PARTITION_OF_7.items()))
def test_key_hash_matches_the_java_client(key: str, partition: int) -> None:
    assert KeyHashTopicRouter().route(PulsarMessage(b"v", key=key), PARTITIONS, sequence=99) == PARTITIONS[partition]


def test_java_string_hash_of_known_strings() -> None:
    assert java_string_hash("a") == 97
    assert java_string_hash("hello") == 99162322  # "hello".hashCode()
    assert java_string_hash("polygenelubricants") == 0  # its hashCode() is Integer.MIN_VALUE, masked to 0
    assert java_string_hash("😀") == ((0xD83D * 31 + 0xDE00) & 0x7FFFFFFF)  # a surrogate pair: two UTF-16 units


def test_sign_safe_mod_is_never_negative() -> None:
    assert sign_safe_mod(-1, 4) == 3
    assert sign_safe_mod(9, 4) == 1


def test_round_robin_follows_the_sequence_and_ignores_keys() -> None:
    router = RoundRobinTopicRouter()
    picks = [router.route(PulsarMessage(b"v", key="same"), PARTITIONS[:3], sequence=n) for n in range(6)]
    assert picks == PARTITIONS[:3] * 2


def test_keyless_messages_round_robin_under_key_hash_routing() -> None:
    router = KeyHashTopicRouter()
    assert [router.route(PulsarMessage(b"v"), PARTITIONS[:2], sequence=n) for n in (4, 5, 6)] == \
        [PARTITIONS[0], PARTITIONS[1], PARTITIONS[0]]


def test_batch_rotation_moves_on_after_max_messages() -> None:
    rotation = BatchRotation(max_messages=3, max_bytes=1_000_000)
    picks = [rotation.choose(PARTITIONS[:2], 10) for _ in range(8)]
    assert picks == [PARTITIONS[0]] * 3 + [PARTITIONS[1]] * 3 + [PARTITIONS[0]] * 2


def test_batch_rotation_moves_on_before_the_message_that_would_pass_max_bytes() -> None:
    rotation = BatchRotation(max_messages=1000, max_bytes=100)
    picks = [rotation.choose(PARTITIONS[:3], size) for size in (40, 40, 30, 100, 0, 250, 1)]
    # 40+40 fit, +30 would pass 100; 30 alone; +100 passes; 100 fills the next, which the client then sends at once,
    # so 0 starts another; 250 passes 100 alone, and 1 follows a batch sent full
    assert picks == [PARTITIONS[0], PARTITIONS[0], PARTITIONS[1], PARTITIONS[2], PARTITIONS[0], PARTITIONS[1],
                     PARTITIONS[2]]


def test_batch_rotation_follows_a_changing_candidate_list() -> None:
    rotation = BatchRotation(max_messages=1, max_bytes=100)
    assert [rotation.choose(candidates, 1) for candidates in (PARTITIONS[:2], PARTITIONS[:3], PARTITIONS[:3])] == \
        [PARTITIONS[0], PARTITIONS[1], PARTITIONS[2]]
