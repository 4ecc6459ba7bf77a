"""Acceptance: the sink's delivery guarantees on real PyFlink jobs under injected Python failures.

tests/jobs/sink_sequence_job.py writes N sequenced records ("<key>:<n>", per-key increasing n) through a Python
map that raises once at each --fail-at record; checkpoints every second, fixed-delay restarts. The target is
read back with plain readers.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pulsar
import pytest

from connector.admin import PulsarAdmin
from devtools.pulsar_standalone import Broker
from tests.integration.sink_helpers import (DEDUP_NAMESPACE, NO_AUTO_CREATE_NAMESPACE, namespace, new_topic,
                                            read_partitions)
from tests.user_environment import user_environment

JOB = Path(__file__).resolve().parent.parent / "jobs" / "sink_sequence_job.py"
RECORDS = 100_000
FAIL_AT = [20_000, 55_000, 90_000]  # 20k is in the first source's half, the others in the second's


def run_job(broker: Broker, topic: str, guarantee: str, tmp_path: Path, records: int, fail_at: list[int],
            expect_success: bool = True, restart_attempts: int = 10) -> str:
    env = user_environment(FLINK_LOG_DIR=str(tmp_path / "log"))
    done = subprocess.run(
        [sys.executable, str(JOB), "--service-url", broker.service_url, "--admin-url", broker.admin_url,
         "--topic", topic, "--guarantee", guarantee, "--records", str(records),
         "--fail-at", ",".join(map(str, fail_at)), "--marker-dir", str(tmp_path),
         "--restart-attempts", str(restart_attempts)],
        capture_output=True, text=True, timeout=600, env=env)
    output = done.stdout + done.stderr
    assert (done.returncode == 0) == expect_success, output[-5000:]
    return output


def read_sequence(client: pulsar.Client, admin: PulsarAdmin, topic: str) -> tuple[Counter, dict[str, list[int]]]:
    """(times each record number was written, per key the record numbers in the order they were written)."""
    counts: Counter = Counter()
    per_key: dict[str, list[int]] = defaultdict(list)
    for messages in read_partitions(client, admin, topic).values():
        for message in messages:
            key, n = message.data().decode().rsplit(":", 1)
            assert message.partition_key() == key
            counts[int(n)] += 1
            per_key[key].append(int(n))
    return counts, per_key


def first_occurrences(numbers: list[int]) -> list[int]:
    seen: set[int] = set()
    return [n for n in numbers if not (n in seen or seen.add(n))]


@pytest.mark.parametrize("guarantee", ["EXACTLY_ONCE", "AT_LEAST_ONCE"])
def test_guarantee_holds_through_three_failures(guarantee: str, broker: Broker, admin: PulsarAdmin,
                                                pulsar_client: pulsar.Client, tmp_path: Path) -> None:
    topic = new_topic(namespace(admin, DEDUP_NAMESPACE, deduplication=True), guarantee.lower())
    admin.create_partitioned_topic(topic, 4)
    run_job(broker, topic, guarantee, tmp_path, RECORDS, FAIL_AT)
    assert sorted(p.name for p in tmp_path.glob("failed-at-*")) == sorted(f"failed-at-{n}" for n in FAIL_AT)
    counts, per_key = read_sequence(pulsar_client, admin, topic)
    assert set(counts) == set(range(RECORDS))
    if guarantee == "EXACTLY_ONCE":
        assert max(counts.values()) == 1
        assert all(numbers == sorted(numbers) for numbers in per_key.values())
    else:
        assert sum(counts.values()) > RECORDS  # the failures did replay records: the run proves something
        assert all(first_occurrences(numbers) == sorted(set(numbers)) for numbers in per_key.values())
    assert len(per_key) == 16


def test_exactly_once_without_failures_equals_the_input(broker: Broker, admin: PulsarAdmin,
                                                        pulsar_client: pulsar.Client, tmp_path: Path) -> None:
    topic = new_topic(namespace(admin, DEDUP_NAMESPACE, deduplication=True), "clean")
    run_job(broker, topic, "EXACTLY_ONCE", tmp_path, 2_000, [])
    counts, _ = read_sequence(pulsar_client, admin, topic)
    assert counts == Counter(range(2_000))


def test_a_producer_error_fails_the_job_naming_topic_and_cause(broker: Broker, admin: PulsarAdmin,
                                                               tmp_path: Path) -> None:
    missing = new_topic(namespace(admin, NO_AUTO_CREATE_NAMESPACE, auto_create=False), "missing")
    output = run_job(broker, missing, "NONE", tmp_path, 100, [], expect_success=False, restart_attempts=0)
    assert f"PulsarSinkError: cannot create a producer on topic {missing}: TopicNotFound" in output \
        or f"PulsarSinkError: cannot look up the partitions of topic {missing}" in output, output[-3000:]
