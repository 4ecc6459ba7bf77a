"""Sequenced input and its checker: the Flink way to prove exactly-once.

Every partition p of a topic gets messages "p:0", "p:1", ... "p:n-1". A checker downstream keeps, in keyed
state, the last sequence seen per partition; a gap or a repeat is reported as a violation, and a partition
whose last sequence is n-1 with no violation has delivered each of its n records exactly once.
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
            else:
                violations.append(text)
    finally:
        reader.close()
    return {"done": sorted(done.items()), "violations": violations, "resumed": resumed}


def wait_until_each_partition_read(admin: PulsarAdmin, topic: str, more: int, timeout_s: float,
                                   job_ended: Callable[[], str | None] = lambda: None,
                                   counted_from_now: bool = True) -> None:
    """Wait until the broker has sent readers of each partition `more` messages beyond what it had sent them when
    called (or in all, without `counted_from_now`); fail naming the partitions behind if that takes over
    `timeout_s`, or once `job_ended` says why it ended.

    Pick `more` above a reader's prefetch (its receiver queue plus an entry): then records were taken from the
    queue and emitted, so a savepoint taken now holds progress on every partition.
    """
    def sent() -> dict[str, int]:
        partitions = admin.partitioned_stats(topic, per_partition=True).get("partitions", {})
        return {name: stats.get("msgOutCounter", 0) for name, stats in partitions.items()}

    baseline = sent() if counted_from_now else {}
    deadline = time.monotonic() + timeout_s
    while True:
        behind = {name: count - baseline.get(name, 0) for name, count in sent().items()
                  if count - baseline.get(name, 0) < more}
        if not behind:
            return
        ended = job_ended()
        if ended is not None:
            raise AssertionError(f"the job ended before it read {more} messages of each partition: {ended}")
        if time.monotonic() > deadline:
            raise AssertionError(f"in {timeout_s:g} s the job read fewer than {more} messages of partitions "
                                 f"{behind} of {topic}: a stalled read")
        time.sleep(0.5)


def create_sequenced_topic(admin: PulsarAdmin, client: pulsar.Client, topic: str, partitions: int,
                           per_partition: int) -> None:
    admin.create_partitioned_topic(topic, partitions)
    produce_sequenced(client, topic, partitions, per_partition)
