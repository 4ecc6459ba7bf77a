"""The project's broker command gives a real broker: admin REST calls and a produce/consume round trip."""

from __future__ import annotations

import pulsar
import pytest

from connector.admin import PulsarAdmin, PulsarAdminError
from tools.pulsar_standalone import Broker, start


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
    try:
        admin.create_namespace(namespace)
    except PulsarAdminError as error:
        assert error.status == 409  # left by an earlier run against the same broker
    admin.set_deduplication(namespace, True)
    assert admin.get_deduplication(namespace) is True


def test_admin_errors_name_the_url_and_cause(admin: PulsarAdmin) -> None:
    with pytest.raises(PulsarAdminError, match=r"no-such-topic-anywhere/partitions failed: HTTP 404: .*not found"):
        admin.partition_count("persistent://public/default/no-such-topic-anywhere")
    down = PulsarAdmin("http://127.0.0.1:1", timeout_s=1)
    with pytest.raises(PulsarAdminError, match="127.0.0.1:1.*not reachable"):
        down.clusters()
