"""The sink's writer against a real broker, without Flink: routing, metadata, deduplicated replays, errors."""

from __future__ import annotations

import subprocess
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path

import pulsar
import pytest
from tests.integration.sink_helpers import (DEDUP_NAMESPACE, NO_AUTO_CREATE_NAMESPACE, namespace, new_topic, read_all,
                          read_partitions)

from connector.admin import PulsarAdmin
from connector.serde import SimpleStringSchema
from connector.sink import DeliveryGuarantee, PulsarMessage, PulsarSink, PulsarSinkError, TopicRoutingMode
from connector.sink.builder import PulsarSinkBuilder
from connector.sink.client_batches import BatchBoundary
from connector.sink.router import TopicRouter, java_string_hash
from connector.sink.writer import PulsarWriter, Sequenced
from devtools.pulsar_standalone import Broker, classpath

JAVA_ROUTER = textwrap.dedent("""
    import java.io.*;
    import java.lang.reflect.Proxy;
    import java.nio.charset.StandardCharsets;
    import org.apache.pulsar.client.api.*;
    import org.apache.pulsar.client.impl.RoundRobinPartitionMessageRouterImpl;

    /** Prints, per key read from stdin, the partition the Java client's default router picks. */
    public class Route {
        public static void main(String[] args) throws Exception {
            int partitions = Integer.parseInt(args[0]);
            MessageRouter router = new RoundRobinPartitionMessageRouterImpl(HashingScheme.JavaStringHash, 0, false, 1);
            TopicMetadata metadata = () -> partitions;
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String key; (key = in.readLine()) != null; ) {
                final String k = key;
                Message<?> message = (Message<?>) Proxy.newProxyInstance(Route.class.getClassLoader(),
                    new Class<?>[] {Message.class}, (proxy, method, a) -> switch (method.getName()) {
                        case "hasKey" -> true;
                        case "getKey" -> k;
                        default -> throw new UnsupportedOperationException(method.getName());
                    });
                System.out.println(router.choosePartition(message, metadata));
            }
        }
    }
""")


def builder(broker: Broker, *topics: str) -> PulsarSinkBuilder:
    return (PulsarSink.builder().set_service_url(broker.service_url).set_admin_url(broker.admin_url)
            .set_topics(*topics).set_serialization_schema(SimpleStringSchema()))


def java_partitions(keys: list[str], partitions: int, tmp_path: Path) -> list[int]:
    source = tmp_path / "Route.java"
    source.write_text(JAVA_ROUTER)
    done = subprocess.run(["java", "-cp", f"{classpath()}/*", str(source), str(partitions)], input="\n".join(keys),
                          capture_output=True, text=True, encoding="utf-8", check=True, timeout=120)
    return [int(line) for line in done.stdout.split()]


def test_key_hash_picks_the_java_clients_partition(broker: Broker, admin: PulsarAdmin, pulsar_client: pulsar.Client,
                                                    topic: str, tmp_path: Path) -> None:
    admin.create_partitioned_topic(topic, 5)
    keys = [f"user-{i}" for i in range(200)] + ["Motörhead", "日本語", "😀emoji", "", "a" * 300]
    writer = PulsarWriter(builder(broker, topic).build().config)
    for n, key in enumerate(keys):
        writer.write(PulsarMessage(f"{n}", key=key))
    writer.flush()
    writer.close()
    expected = java_partitions(keys, 5, tmp_path)
    landed = {message.partition_key(): name for name, messages in read_partitions(pulsar_client, admin, topic).items()
              for message in messages}
    assert [landed[key] for key in keys] == [f"{topic}-partition-{p}" for p in expected]
    assert len(set(expected)) == 5


def test_metadata_arrives_intact(broker: Broker, pulsar_client: pulsar.Client, topic: str) -> None:
    writer = PulsarWriter(builder(broker, topic).build().config)
    before = int(time.time() * 1000)
    writer.write(PulsarMessage("first", key="k1", ordering_key="o1", properties={"a": "1", "b": "two"},
                               event_time=1_700_000_000_123, deliver_after_ms=50))
    writer.write("plain value")
    writer.flush()
    writer.close()
    first, second = read_all(pulsar_client, topic)
    assert (first.data(), first.partition_key(), first.ordering_key(), first.properties(), first.event_timestamp()) \
        == (b"first", "k1", "o1", {"a": "1", "b": "two"}, 1_700_000_000_123)
    assert first.publish_timestamp() >= before
    assert (second.data(), second.partition_key(), second.properties(), second.event_timestamp()) == \
        (b"plain value", "", {}, 0)


def test_topic_selector_and_message_topic_pick_the_target(broker: Broker, admin: PulsarAdmin,
                                                          pulsar_client: pulsar.Client, topic: str) -> None:
    evens, odds, special = f"{topic}-even", f"{topic}-odd", f"{topic}-special"
    admin.create_partitioned_topic(odds, 2)
    config = (PulsarSink.builder().set_service_url(broker.service_url).set_serialization_schema(SimpleStringSchema())
              .set_topic_selector(lambda m: evens if int(m.value) % 2 == 0 else odds).build().config)
    writer = PulsarWriter(config)
    for n in range(10):
        writer.write(PulsarMessage(str(n), key=f"user-{n}"))
    writer.write(PulsarMessage("x", topic=special))
    writer.flush()
    writer.close()
    assert [m.data() for m in read_all(pulsar_client, evens)] == [b"0", b"2", b"4", b"6", b"8"]
    odd_partitions = read_partitions(pulsar_client, admin, odds)
    assert sorted(m.data() for ms in odd_partitions.values() for m in ms) == [b"1", b"3", b"5", b"7", b"9"]
    for name, messages in odd_partitions.items():  # within the selected topic, keys still pick the partition
        assert all(name.endswith(f"-partition-{java_string_hash(m.partition_key()) % 2}") for m in messages)
    assert [m.data() for m in read_all(pulsar_client, special)] == [b"x"]


def test_several_fixed_topics_share_one_round_robin_a_batch_at_a_time(broker: Broker, pulsar_client: pulsar.Client,
                                                                     topic: str) -> None:
    first, second = f"{topic}-a", f"{topic}-b"
    config = (builder(broker, first, second).set_topic_routing_mode(TopicRoutingMode.ROUND_ROBIN)
              .set_producer_config({"batching_max_messages": 2}).build().config)
    writer = PulsarWriter(config)
    for n in range(6):
        writer.write(PulsarMessage(str(n), key="same key"))
    writer.flush()
    writer.close()
    assert [m.data() for m in read_all(pulsar_client, first)] == [b"0", b"1", b"4", b"5"]
    assert [m.data() for m in read_all(pulsar_client, second)] == [b"2", b"3"]


class _ByFirstLetter(TopicRouter):
    def route(self, message: PulsarMessage, partitions: Sequence[str], sequence: int) -> str:
        return partitions[0] if message.value.startswith("a") else partitions[1]


def test_a_custom_router_sees_the_value_of_plain_elements(broker: Broker, admin: PulsarAdmin,
                                                          pulsar_client: pulsar.Client, topic: str) -> None:
    admin.create_partitioned_topic(topic, 2)
    config = (builder(broker, topic).set_topic_routing_mode(TopicRoutingMode.CUSTOM)
              .set_topic_router(_ByFirstLetter()).build().config)
    writer = PulsarWriter(config)
    for value in ["apple", "banana", "avocado", "cherry"]:
        writer.write(value)
    writer.flush()
    writer.close()
    landed = {name: [m.data() for m in messages]
              for name, messages in read_partitions(pulsar_client, admin, topic).items()}
    assert landed == {f"{topic}-partition-0": [b"apple", b"avocado"], f"{topic}-partition-1": [b"banana", b"cherry"]}


def test_exactly_once_replays_are_written_once(broker: Broker, admin: PulsarAdmin,
                                                      pulsar_client: pulsar.Client) -> None:
    """Replays from older positions, one after sends left in flight, against batches of at most 7 messages: each
    replay's batches start elsewhere than the first run's, and each record is stored once."""
    target = new_topic(namespace(admin, DEDUP_NAMESPACE, deduplication=True), "replay")
    admin.create_partitioned_topic(target, 3)
    config = (builder(broker, target).set_delivery_guarantee(DeliveryGuarantee.EXACTLY_ONCE)
              .set_producer_config({"batching_max_messages": 7}).build().config)

    def attempt(first: int, last: int, flush: bool = True) -> None:
        writer = PulsarWriter(config)
        for n in range(first, last + 1):
            writer.write(PulsarMessage(f"m{n}", key=f"k{n % 7}" if n % 3 else None), Sequenced("replay-split-0", n))
            if n % 40 == 0:
                writer.check()  # as at a bundle end: the held batches go out, partly filled
        if flush:
            writer.flush()
        writer.close()

    attempt(1, 500)
    attempt(301, 800)  # a replay from an older checkpoint: 301..500 again, then new records
    attempt(1, 100)
    attempt(101, 1200, flush=False)  # a failure with sends in flight: the broker has some of 801..1200, in order
    attempt(101, 1500)
    stored = read_partitions(pulsar_client, admin, target)
    written = [m.data() for ms in stored.values() for m in ms]
    assert sorted(written) == sorted(f"m{n}".encode() for n in range(1, 1501))
    assert max(size for ms in stored.values() for size in entry_sizes(ms)) == 7  # batched


def test_exactly_once_batches_leave_the_broker_their_last_sequence_id(broker: Broker, admin: PulsarAdmin,
                                                                     pulsar_client: pulsar.Client) -> None:
    """What EXACTLY_ONCE batching stands on: a batch whose first message carries the batch's last id makes the broker
    report that id for the producer name, and drop a later batch that starts at or below it."""
    target = new_topic(namespace(admin, DEDUP_NAMESPACE, deduplication=True), "last-id")
    config = builder(broker, target).set_delivery_guarantee(DeliveryGuarantee.EXACTLY_ONCE).build().config
    writer = PulsarWriter(config)
    for n in range(1, 11):
        writer.write(f"m{n}", Sequenced("last-id", n))
    assert writer.flush() == 10
    writer.close()
    reopened = pulsar_client.create_producer(target, producer_name="last-id", batching_enabled=True)
    assert reopened.last_sequence_id() == 10
    for n in (8, 9, 10):  # a batch of three whose first id, 8, the broker has
        reopened.send_async(f"again {n}".encode(), None, sequence_id=n)
    reopened.flush()
    reopened.close()
    stored = read_all(pulsar_client, target)
    assert [m.data() for m in stored] == [f"m{n}".encode() for n in range(1, 11)] and entry_sizes(stored) == [10]


def test_exactly_once_refuses_a_topic_without_deduplication(broker: Broker, admin: PulsarAdmin, topic: str) -> None:
    with pytest.raises(ValueError, match=f"EXACTLY_ONCE needs broker message deduplication on {topic}.*"
                                         "set-deduplication public/default --enable"):
        builder(broker, topic).set_delivery_guarantee(DeliveryGuarantee.EXACTLY_ONCE).build().check_broker()
    dedup_config = builder(broker, new_topic(namespace(admin, DEDUP_NAMESPACE, deduplication=True), "ok")) \
        .set_delivery_guarantee(DeliveryGuarantee.EXACTLY_ONCE).build().config
    writer = PulsarWriter(dedup_config)
    with pytest.raises(PulsarSinkError, match=f"deduplication on {topic}, and it is off"):
        writer.write(PulsarMessage("x", topic=topic), Sequenced("p", 1))  # a per-message topic is checked too
    writer.close()


def entry_sizes(messages: list[pulsar.Message]) -> list[int]:
    """How many messages each stored entry holds, in order (a batch is one entry)."""
    sizes: list[int] = []
    last = None
    for message in messages:
        entry = (message.message_id().ledger_id(), message.message_id().entry_id())
        if entry == last:
            sizes[-1] += 1
        else:
            sizes.append(1)
        last = entry
    return sizes


def test_batches_end_where_the_writer_predicts_and_every_message_is_acknowledged(
        broker: Broker, pulsar_client: pulsar.Client, topic: str) -> None:
    """Sizes from 0 to 400 bytes against a 7-message, 1,000-byte batch, with a delayed message (sent alone) and a
    check (open batches sent) between: each entry stored holds what BatchBoundary predicts, and the writer's own
    check of every batch's size (a failure otherwise) passes."""
    config = (builder(broker, topic).set_producer_config(
        {"batching_max_messages": 7, "batching_max_allowed_size_in_bytes": 1000}).build().config)
    writer = PulsarWriter(config)
    sizes = [(n * 137) % 401 for n in range(300)]
    model, predicted, waiting = BatchBoundary(7, 1000), [], 0  # predicted: messages per entry, in stored order

    def batch_sent() -> None:
        nonlocal waiting
        if waiting:
            predicted.append(waiting)
        waiting = 0

    for n, size in enumerate(sizes):
        if n % 50 == 49:
            writer.write(PulsarMessage(f"delayed {n}", deliver_after_ms=1))
            predicted.append(1)  # sent at once, alone; the open batch stays open
        if n % 90 == 89:
            writer.check()
            model.close()
            batch_sent()
        writer.write("x" * size)
        if model.add(size):
            batch_sent()
        waiting += 1
        if not model.is_open:  # full: sent at once
            batch_sent()
    batch_sent()
    assert writer.flush() == sum(predicted) == len(sizes) + 6  # 6 delayed
    writer.close()
    stored = read_all(pulsar_client, topic)
    assert sorted(len(m.data()) for m in stored if not m.data().startswith(b"delayed")) == sorted(sizes)
    assert entry_sizes(stored) == predicted
    assert max(predicted) == 7 and 1000 - 400 < sum(sizes) / (len(predicted) - 6) <= 1000  # both limits cut


@pytest.mark.parametrize("window", [{"max_pending_messages": 3}, {"max_pending_bytes": 3}])
def test_a_full_window_sends_the_open_batch_before_it_waits(broker: Broker, pulsar_client: pulsar.Client,
                                                          topic: str, window: dict[str, int]) -> None:
    """Three unacknowledged messages (or bytes, of 1-byte messages) at most, a batch of up to 1,000: the batch goes
    out every third message."""
    config = builder(broker, topic).set_producer_config(window).build().config
    writer = PulsarWriter(config)
    for n in range(10):
        writer.write(str(n))
    assert writer.flush() == 10
    writer.close()
    assert entry_sizes(read_all(pulsar_client, topic)) == [3, 3, 3, 1]


def test_a_failed_batch_fails_the_writer_naming_its_size(broker: Broker, topic: str) -> None:
    """Three 2 MiB messages make one 6 MiB batch, over the broker's 5 MiB limit: only the first has a callback."""
    config = builder(broker, topic).set_producer_config({"batching_max_allowed_size_in_bytes": 8 << 20}).build().config
    writer = PulsarWriter(config)
    for _ in range(3):
        writer.write("x" * (2 << 20))
    with pytest.raises(PulsarSinkError, match=f"sending a batch of 3 messages \\(6291456 bytes\\) to {topic}.* "
                                              "failed: MessageTooBig"):
        writer.flush()
    writer.close()


def test_a_batch_other_than_predicted_fails_the_writer(broker: Broker, topic: str) -> None:
    """The client batches 5 messages while the writer is made to expect 3: the first batch's result says so."""
    writer = PulsarWriter(builder(broker, topic).set_producer_config({"batching_max_messages": 5}).build().config)
    writer._batch_limits = (3, 1 << 20)
    for n in range(10):
        writer.write(str(n))
    with pytest.raises(PulsarSinkError, match=f"to {topic} otherwise than this writer predicted: a batch of 5 messages "
                                              "holds the first of a batch of 3 messages .* at index 0"):
        writer.flush()
    writer.close()


def test_a_message_too_large_fails_naming_topic_and_size(broker: Broker, topic: str) -> None:
    writer = PulsarWriter(builder(broker, topic).build().config)
    writer.write("small")
    with pytest.raises(PulsarSinkError, match=f"sending a message of 6291456 bytes to {topic}.* failed: MessageTooBig"):
        writer.write("x" * (6 * 1024 * 1024))
        writer.flush()
    writer.close()


def test_a_missing_topic_without_auto_creation_fails_naming_it(broker: Broker, admin: PulsarAdmin) -> None:
    missing = new_topic(namespace(admin, NO_AUTO_CREATE_NAMESPACE, auto_create=False), "missing")
    writer = PulsarWriter(builder(broker, missing).build().config)
    with pytest.raises(PulsarSinkError, match=f"topic {missing}.*TopicNotFound"):
        writer.write("x")
    writer.close()


def test_an_unreachable_broker_fails_within_the_configured_timeouts(topic: str) -> None:
    config = (PulsarSink.builder().set_service_url("pulsar://127.0.0.1:1").set_topics(topic)
              .set_serialization_schema(SimpleStringSchema())
              .set_client_config({"operation_timeout_seconds": 2, "connection_timeout_ms": 500}).build().config)
    writer = PulsarWriter(config)
    began = time.monotonic()
    with pytest.raises(PulsarSinkError, match=f"(?i)partitions of topic {topic}: .*(connect|timeout)"):
        writer.write("x")
    assert time.monotonic() - began < 10
    writer.close()
