"""Helpers of the sink's integration tests: namespaces with the policies a test needs, reading topics back, and
checking what the end-to-end job (tests/jobs/pulsar_to_pulsar_job.py) wrote."""

from __future__ import annotations

import json
import logging
import time
import urllib.request
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable

import pulsar
from pyflink.datastream.connectors.base import DeliveryGuarantee

from connector.admin import PulsarAdmin
from tests.jobs import pulsar_to_pulsar_job as job

DEDUP_NAMESPACE = "public/sink-dedup"
NO_AUTO_CREATE_NAMESPACE = "public/sink-no-autocreate"

log = logging.getLogger(__name__)


def namespace(admin: PulsarAdmin, name: str, deduplication: bool = False, auto_create: bool = True) -> str:
    """Create `name` once per broker and apply the policies (idempotent)."""
    admin.create_namespace(name, exist_ok=True)
    admin.set_deduplication(name, deduplication)
    request = urllib.request.Request(f"{admin.admin_url}/admin/v2/namespaces/{name}/autoTopicCreation",
                                     data=json.dumps({"allowAutoTopicCreation": auto_create,
                                                      "topicType": "non-partitioned"}).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).close()
    return name


def new_topic(namespace_name: str, label: str) -> str:
    return f"persistent://{namespace_name}/{label}-{uuid.uuid4().hex[:8]}"


def read_all(client: pulsar.Client, topic: str) -> list[pulsar.Message]:
    """Every message of one non-partitioned topic or partition, oldest first."""
    reader = client.create_reader(topic, pulsar.MessageId.earliest)
    try:
        messages = []
        while reader.has_message_available():
            messages.append(reader.read_next(10_000))
        return messages
    finally:
        reader.close()


def read_partitions(client: pulsar.Client, admin: PulsarAdmin, topic: str) -> dict[str, list[pulsar.Message]]:
    """Partition topic name -> its messages, for a partitioned or non-partitioned `topic`."""
    count = admin.partition_count(topic)
    names = [f"{topic}-partition-{i}" for i in range(count)] if count else [topic]
    return {name: read_all(client, name) for name in names}


class TargetTail:
    """Plain Readers on every partition of the target topic, collecting its messages in partition order."""

    def __init__(self, client: pulsar.Client, topic: str, partitions: int) -> None:
        self._readers = [client.create_reader(f"{topic}-partition-{p}", pulsar.MessageId.earliest)
                         for p in range(partitions)]
        self.messages: list[list[pulsar.Message]] = [[] for _ in range(partitions)]
        self._distinct: set[tuple[int, int]] = set()

    def drain(self, budget_s: float = float("inf")) -> None:
        """Read every message available now, or as many as `budget_s` seconds allow."""
        deadline = time.monotonic() + budget_s
        for reader, messages in zip(self._readers, self.messages):
            while time.monotonic() < deadline and reader.has_message_available():
                message = reader.read_next(10_000)
                messages.append(message)
                self._distinct.add(_record(message))

    def wait_for_all(self, expected: set[tuple[int, int]], timeout_s: float, job_ended: Callable[[], bool],
                     each_second: Callable[[], None] = lambda: None) -> None:
        """Return once every `expected` record was read; fail when time is out or the job ended first, with how
        many distinct records had arrived every 30 s (a stall and a slow job look different).
        `each_second` runs once a second while waiting (e.g. a supervisor replacing lost TaskManagers)."""
        start = time.monotonic()
        progress: list[str] = []
        while True:
            try:
                self.drain(budget_s=1.0)
            except pulsar.PulsarException:  # a restarted broker is not serving lookups yet: try again
                pass
            missing = len(expected - self._distinct)
            if not missing:
                return
            elapsed = time.monotonic() - start
            if elapsed >= 30 * len(progress):
                progress.append(f"{elapsed:.0f} s: {len(expected) - missing}")
                log.info("%d of %d records arrived after %.0f s", len(expected) - missing, len(expected), elapsed)
            assert not job_ended(), (f"the job ended with {missing} of {len(expected)} records missing "
                                     f"(records arrived by then: {', '.join(progress)})")
            assert elapsed < timeout_s, (f"{missing} of {len(expected)} records still missing after {timeout_s:.0f} s "
                                         f"(records arrived by then: {', '.join(progress)})")
            each_second()
            time.sleep(1)

    def records(self) -> list[tuple[int, int]]:
        return [_record(message) for messages in self.messages for message in messages]

    def per_key(self) -> dict[str, list[int]]:
        """Each key's sequence numbers in the order they were written (a key lives on one partition)."""
        keyed: dict[str, list[int]] = defaultdict(list)
        for messages in self.messages:
            for message in messages:
                partition, seq = _record(message)
                assert message.partition_key() == job.message_key(partition, seq)
                keyed[message.partition_key()].append(seq)
        return keyed

    def close(self) -> None:
        for reader in self._readers:
            reader.close()


def _record(message: pulsar.Message) -> tuple[int, int]:
    partition, seq = message.data().decode().split(":")
    return int(partition), int(seq)


def in_order_but_replays(numbers: list[int], step: int) -> bool:
    """Each number follows the previous one by `step`, or goes back (a replay restarting from a checkpoint)."""
    return all(b == a + step or b <= a for a, b in zip(numbers, numbers[1:]))


def sequenced(partitions: int, per_partition: int) -> set[tuple[int, int]]:
    """Every (partition, sequence) record of a sequenced topic of this shape."""
    return {(p, seq) for p in range(partitions) for seq in range(per_partition)}


def check_target(tail: TargetTail, guarantee: DeliveryGuarantee, partitions: int, per_partition: int,
                 replayed: bool = True) -> None:
    """EXACTLY_ONCE: every record exactly once, each key in order. AT_LEAST_ONCE: every record, each key in order
    but for replays (and some replay happened, when `replayed`)."""
    counts = Counter(tail.records())
    assert set(counts) == sequenced(partitions, per_partition)
    per_key = tail.per_key()
    assert len(per_key) == partitions * job.KEYS_PER_PARTITION
    if guarantee == DeliveryGuarantee.EXACTLY_ONCE:
        assert max(counts.values()) == 1, f"duplicates: {[r for r, n in counts.items() if n > 1][:10]}"
        assert all(numbers == sorted(numbers) for numbers in per_key.values())
    else:
        if replayed:
            assert sum(counts.values()) > len(counts), "the failures replayed records: the run proves something"
        assert all(in_order_but_replays(numbers, job.KEYS_PER_PARTITION) for numbers in per_key.values())
