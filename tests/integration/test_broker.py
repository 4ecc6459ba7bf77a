"""The project's broker command gives a real broker: admin REST calls and a produce/consume round trip."""

from __future__ import annotations

import pulsar
import pytest

from connector.admin import PulsarAdmin
from connector.errors import PulsarAdminError
from devtools.pulsar_standalone import Broker, start, stop
from tests.conftest import unique_topic


def test_start_is_idempotent_and_reports_running(broker: Broker) -> None:
    pid = broker.pid()
    start(broker)
    assert broker.pid() == pid
    assert broker.is_serving()


def test_round_trip_through_a_partitioned_topic(admin: PulsarAdmin, pulsar_client: pulsar.Client, topic: str) -> None:
    admin.create_partitioned_topic(topic, 3)
    assert admin.partition_count(topic) == 3
    producer = pulsar_client.create_producer(topic)
    consumer = pulsar_client.subscribe(topic, "it")
    sent = {f"m{i}".encode() for i in range(30)}
    for payload in sorted(sent):
        producer.send(payload, partition_key=payload.decode())
    received = {consumer.receive(10_000).data() for _ in range(30)}
    assert received == sent


def test_partitions_grow_and_topics_delete(admin: PulsarAdmin, topic: str) -> None:
    admin.create_partitioned_topic(topic, 2)
    admin.update_partitions(topic, 4)
    assert admin.partition_count(topic) == 4
    admin.delete_topic(topic)
    assert not admin.topic_exists(topic)


def test_namespace_deduplication_policy(admin: PulsarAdmin) -> None:
    namespace = "public/dedup-policy-test"
    admin.create_namespace(namespace, exist_ok=True)  # it may be left by an earlier run against the same broker
    with pytest.raises(PulsarAdminError) as exists:
        admin.create_namespace(namespace)
    assert exists.value.status == 409
    admin.set_deduplication(namespace, True)
    assert admin.get_deduplication(namespace) is True


def test_admin_errors_name_the_url_and_cause(admin: PulsarAdmin) -> None:
    with pytest.raises(PulsarAdminError, match=r"no-such-topic-anywhere/partitions failed: HTTP 404: .*not found"):
        admin.partition_count("persistent://public/default/no-such-topic-anywhere")
    down = PulsarAdmin("http://127.0.0.1:1", timeout_s=1)
    with pytest.raises(PulsarAdminError, match="127.0.0.1:1.*not reachable"):
        down.clusters()


def produce_default_batched(service_url: str, topic: str, count: int, size: int = 200) -> None:
    """`count` records of about `size` bytes, sent as ordinary producers do (batching on, default settings)."""
    client = pulsar.Client(service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Error))
    producer = client.create_producer(topic, batching_enabled=True, block_if_queue_full=True)
    for n in range(count):
        producer.send_async(f"{n:08d}:".encode().ljust(size, b"x"), None)
    producer.flush()
    client.close()


def read_all(service_url: str, topic: str) -> int:
    client = pulsar.Client(service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Error))
    reader = client.create_reader(topic, pulsar.MessageId.earliest)
    count = 0
    try:
        while True:
            reader.read_next(5000)
            count += 1
    except pulsar.Timeout:
        pass
    client.close()
    return count


def test_stored_batched_entries_read_back_from_the_bookie_also_after_a_restart(storage_broker: Broker) -> None:
    """Could not pass on the broker before issue 11: its in-process bookie transport returned no entry of 16 KiB
    or more, and batched entries are that large. This broker has no entry cache, so every read hits the bookie."""
    topic = unique_topic("stored-batches")
    produce_default_batched(storage_broker.service_url, topic, 20_000)
    stats = PulsarAdmin(storage_broker.admin_url).internal_stats(topic)
    assert int(stats["totalSize"]) / int(stats["numberOfEntries"]) >= 16 * 1024, "entries are >= 16 KiB"
    assert read_all(storage_broker.service_url, topic) == 20_000
    stop(storage_broker)
    start(storage_broker)
    assert read_all(storage_broker.service_url, topic) == 20_000
