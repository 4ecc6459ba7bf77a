"""Sequenced input and its checker: the Flink way to prove exactly-once.

Every partition p of a topic gets messages "p:0", "p:1", ... "p:n-1". A checker downstream keeps, in keyed
state, the last sequence seen per partition; a gap or a repeat is reported as a violation, and a partition
whose last sequence is n-1 with no violation has delivered each of its n records exactly once. Every
PROGRESS_EVERY-th sequence it also reports progress, which tells a test the job emitted records of that partition.
"""

from __future__ import annotations

import time
from typing import Callable

import pulsar

from connector.admin import PulsarAdmin
from connector.topics import TopicName

RESULT_DONE = "done"
RESULT_VIOLATION = "violation"
RESULT_RESUMED = "resumed"
RESULT_PROGRESS = "progress"
PROGRESS_EVERY = 500


RECORD_SIZE = 200  # bytes: a small JSON event; default batching packs ~600 of them into one 128 KiB entry


def sequenced_record(partition: int, seq: int) -> bytes:
    """"<partition>:<seq>" padded with spaces to RECORD_SIZE bytes (`int()` of either part ignores the padding)."""
    return f"{partition}:{seq}".encode().ljust(RECORD_SIZE)


def produce_sequenced(client: pulsar.Client, topic: str, partitions: int, per_partition: int) -> None:
    """Write `per_partition` sequenced records to each partition the way ordinary producers do: batching on with the
    client's default batch settings, so the broker stores entries of up to 128 KiB."""
    name = TopicName.parse(topic)
    for partition in range(partitions):
        producer = client.create_producer(name.partition(partition), batching_enabled=True,
                                          block_if_queue_full=True)
        for seq in range(per_partition):
            producer.send_async(sequenced_record(partition, seq), None)
        producer.flush()
        producer.close()


def read_results(client: pulsar.Client, results_topic: str, partitions: int, timeout_s: float,
                 each_second: Callable[[], None] = lambda: None) -> dict[str, list]:
    """Reads the checker's reports until every partition is done or a violation shows up (or time is out).

    "resumed" lists (partition, last sequence) each time a checker instance started from restored state.
    `each_second` runs about once a second while waiting (e.g. a supervisor replacing lost TaskManagers).
    """
    reader = client.create_reader(results_topic, pulsar.MessageId.earliest)
    done: dict[int, int] = {}
    violations: list[str] = []
    resumed: list[tuple[int, int]] = []
    deadline = time.monotonic() + timeout_s
    next_second = time.monotonic() + 1
    try:
        while len(done) < partitions and not violations and time.monotonic() < deadline:
            if time.monotonic() >= next_second:
                each_second()
                next_second = time.monotonic() + 1
            try:
                text = reader.read_next(1000).data().decode()
            except pulsar.Timeout:
                continue
            kind, partition, detail = text.split(":", 2)
            if kind == RESULT_DONE:
                done[int(partition)] = int(detail)
            elif kind == RESULT_RESUMED:
                resumed.append((int(partition), int(detail)))
            elif kind == RESULT_PROGRESS:
                continue
            else:
                violations.append(text)
    finally:
        reader.close()
    return {"done": sorted(done.items()), "violations": violations, "resumed": resumed}


def wait_until_each_partition_emitted(client: pulsar.Client, results_topic: str, partitions: int, timeout_s: float,
                                      job_ended: Callable[[], str | None] = lambda: None) -> None:
    """Wait until the checker has reported progress on each partition since this call (a record whose sequence is a
    multiple of PROGRESS_EVERY reached it); fail naming the partitions without a report after `timeout_s`, or once
    `job_ended` says why the job ended.

    The job's own output, not the broker's dispatch count: a reader is sent whole batched entries, up to a
    partition's entire backlog at once (measured: all 20,000 records of a partition before it read one), so
    the count says nothing of what the job emitted. A savepoint taken after this returns holds progress on every
    partition beyond what it held at the call.
    """
    reader = client.create_reader(results_topic, pulsar.MessageId.latest)
    waiting = set(range(partitions))
    deadline = time.monotonic() + timeout_s
    try:
        while waiting:
            ended = job_ended()
            if ended is not None:
                raise AssertionError(f"the job ended before it emitted records of partitions {sorted(waiting)}: "
                                     f"{ended}")
            if time.monotonic() > deadline:
                raise AssertionError(f"in {timeout_s:g} s the checker reported no progress on partitions "
                                     f"{sorted(waiting)} (a report each {PROGRESS_EVERY} records): a stalled read")
            try:
                kind, partition, _ = reader.read_next(500).data().decode().split(":", 2)
            except pulsar.Timeout:
                continue
            if kind == RESULT_PROGRESS:
                waiting.discard(int(partition))
    finally:
        reader.close()


def create_sequenced_topic(admin: PulsarAdmin, client: pulsar.Client, topic: str, partitions: int,
                           per_partition: int) -> None:
    admin.create_partitioned_topic(topic, partitions)
    produce_sequenced(client, topic, partitions, per_partition)
