"""Acceptance 2: partitions added to a running job's topic, and new topics matching its pattern, are read."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pulsar
from pyflink.datastream import StreamExecutionEnvironment

from connector import PulsarSource, SimpleStringSchema
from connector.admin import PulsarAdmin
from connector.topics import TopicName

DISCOVERY_INTERVAL_MS = 2_000


def produce(client: pulsar.Client, topic: str, label: str, count: int) -> set[str]:
    producer = client.create_producer(topic)
    sent = {f"{label}:{i}" for i in range(count)}
    for value in sorted(sent):
        producer.send(value.encode())
    producer.close()
    return sent


def take(records: Iterator[str], expected: set[str], timeout_s: float) -> float:
    """Consumes records until all of `expected` arrived; returns the seconds it took. Fails on extras."""
    began = time.monotonic()
    missing = set(expected)
    while missing:
        assert time.monotonic() - began < timeout_s, f"{len(missing)} records missing, e.g. {sorted(missing)[:3]}"
        record = next(records)
        assert record in missing, f"unexpected or repeated record {record!r}"
        missing.discard(record)
    return time.monotonic() - began


def test_new_partitions_and_new_topics_are_read_and_deleted_topics_drop_out(
        broker, admin: PulsarAdmin, pulsar_client: pulsar.Client) -> None:
    prefix = f"persistent://public/default/disc-{uuid.uuid4().hex[:8]}"
    grown, added = f"{prefix}-grown", f"{prefix}-added"
    admin.create_partitioned_topic(grown, 2)
    first = set()
    for partition in range(2):
        first |= produce(pulsar_client, TopicName.parse(grown).partition(partition), f"g{partition}", 100)

    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    env.enable_checkpointing(1000)
    source = (PulsarSource.builder().set_service_url(broker.service_url).set_admin_url(broker.admin_url)
              .set_topic_pattern(prefix.replace(".", r"\.") + "-.*")
              .set_deserialization_schema(SimpleStringSchema())
              .set_partition_discovery_interval_ms(DISCOVERY_INTERVAL_MS).build())
    with source.create_stream(env).execute_and_collect() as records:
        take(records, first, timeout_s=120)

        admin.update_partitions(grown, 4)
        admin.create_topic(added)
        later = set()
        for partition in (2, 3):
            later |= produce(pulsar_client, TopicName.parse(grown).partition(partition), f"g{partition}", 100)
        later |= produce(pulsar_client, added, "a", 100)
        seconds = take(records, later, timeout_s=60)
        # Found at the next discovery run, then read at the next poll: one interval plus a little.
        assert seconds < DISCOVERY_INTERVAL_MS / 1000 + 5, f"new splits took {seconds:.1f} s to be read"

        admin.delete_topic(added)
        time.sleep(2 * DISCOVERY_INTERVAL_MS / 1000)
        take(records, produce(pulsar_client, TopicName.parse(grown).partition(0), "after-delete", 50), 60)
