"""Acceptance 1 of the sink with the real source: Pulsar -> PulsarSource -> Python map -> PulsarSink -> Pulsar.

200k sequenced records of 200 B over 4 partitions, written before the job by default-batching producers, run at
full speed (source defaults) through tests/jobs/pulsar_to_pulsar_job.py with three injected
failures: Python exceptions on the local mini cluster (both guarantees), a TaskManager kill -9 plus two exceptions
on the standalone cluster (EXACTLY_ONCE). The unbounded job is cancelled once every record reached the target; the
target is then read to its end with plain Readers. EXACTLY_ONCE: every record exactly once, each key's records in
order. AT_LEAST_ONCE: every record at least once, and each key's records in order except where a restart replays
from the checkpoint.
"""

from __future__ import annotations

import time
from pathlib import Path

import pulsar
import pytest
from pyflink.datastream.connectors.base import DeliveryGuarantee

from connector.admin import PulsarAdmin
from devtools.flink_cluster import TERMINAL_STATES, FlinkCluster
from devtools.pulsar_standalone import Broker
from tests.integration.sink_helpers import (DEDUP_NAMESPACE, TargetTail, check_target, namespace, new_topic,
                                            sequenced)
from tests.jobs import pulsar_to_pulsar_job as job
from tests.jobs.pulsar_to_pulsar_job import first_positions_after
from tests.sequenced import create_sequenced_topic

JOB = Path(job.__file__)
PARTITIONS = 4
PER_PARTITION = 50_000  # 200k records in all


def assert_resumed_from_state(marker_dir: Path, fail_at: list[int]) -> None:
    """The attempt after the last injected failure resumed every split it read from checkpointed state (at a position
    above 0), and it read partition 0, whose records went on past that failure. Earlier failures can come before any
    checkpoint completed on a loaded machine, and a split can be done before the last one."""
    after_last = first_positions_after(marker_dir, f"failed-at-{fail_at[-1]}")
    assert 0 in after_last, f"no record of partition 0 after the last failure: {dict(after_last)}"
    assert all(seq > 0 for seqs in after_last.values() for seq in seqs), dict(after_last)


@pytest.fixture()
def topics(admin: PulsarAdmin, pulsar_client: pulsar.Client, topic: str) -> tuple[str, str]:
    """(a sequenced input topic, an empty 4-partition target in a namespace that deduplicates)."""
    create_sequenced_topic(admin, pulsar_client, topic, PARTITIONS, PER_PARTITION)
    target = new_topic(namespace(admin, DEDUP_NAMESPACE, deduplication=True), "target")
    admin.create_partitioned_topic(target, PARTITIONS)
    return topic, target


@pytest.mark.parametrize("guarantee", [pytest.param(DeliveryGuarantee.EXACTLY_ONCE, marks=pytest.mark.smoke),
                                       DeliveryGuarantee.AT_LEAST_ONCE])
def test_guarantee_through_three_python_exceptions(guarantee: DeliveryGuarantee, broker: Broker,
                                                   pulsar_client: pulsar.Client, topics: tuple[str, str],
                                                   tmp_path: Path) -> None:
    source_topic, target = topics
    fail_at = [12_000, 25_000, 38_000]  # of partition 0; by the last one, checkpoints have completed
    env = job.checkpointed_env(parallelism=2, checkpoint_ms=500)
    job.build(env, broker.service_url, broker.admin_url, source_topic, target, guarantee, fail_at, str(tmp_path))
    tail = TargetTail(pulsar_client, target, PARTITIONS)
    job_client = env.execute_async(f"pulsar-to-pulsar {guarantee.name} under injected exceptions")
    try:
        tail.wait_for_all(sequenced(PARTITIONS, PER_PARTITION), timeout_s=300,
                          job_ended=lambda: job_client.get_job_status().result().is_globally_terminal_state())
    finally:
        if not job_client.get_job_status().result().is_globally_terminal_state():
            job_client.cancel().result()
    tail.drain()
    tail.close()
    assert sorted(p.name for p in tmp_path.glob("failed-at-*")) == sorted(f"failed-at-{n}" for n in fail_at)
    assert_resumed_from_state(tmp_path, fail_at)
    check_target(tail, guarantee, PARTITIONS, PER_PARTITION)


@pytest.mark.cluster
def test_exactly_once_through_a_killed_taskmanager(flink_cluster: FlinkCluster, broker: Broker,
                                                   pulsar_client: pulsar.Client, topics: tuple[str, str],
                                                   tmp_path: Path) -> None:
    """EXACTLY_ONCE only: AT_LEAST_ONCE through failures is shown in-process above, and a run on the standalone
    cluster costs minutes (PyFlink 2.3 can take a surviving TaskManager down at each restart: see the README)."""
    guarantee = DeliveryGuarantee.EXACTLY_ONCE
    source_topic, target = topics
    fail_at = [30_000, 42_000]
    tail = TargetTail(pulsar_client, target, PARTITIONS)
    job_id = flink_cluster.submit(JOB, [
        "--service-url", broker.service_url, "--admin-url", broker.admin_url, "--topic", source_topic,
        "--target", target, "--guarantee", guarantee.name, "--marker-dir", str(tmp_path),
        "--fail-at", ",".join(map(str, fail_at)), "--checkpoint-ms", "1000", "--restart-delay", "2 s"])
    try:
        flink_cluster.wait_for_checkpoints(job_id, 2, timeout_s=210)
        flink_cluster.kill_taskmanager(flink_cluster.taskmanager_pids()[0])
        flink_cluster.start_taskmanager()
        # The killed TaskManager's Python worker closes its producers and ends (connector/worker_watchdog.py);
        # an orphan would keep its EXACTLY_ONCE producer names taken.
        deadline = time.monotonic() + 20
        while orphans := flink_cluster.orphaned_python_workers():
            assert time.monotonic() < deadline, f"Python workers {orphans} outlived their TaskManager by 20 s"
            time.sleep(0.5)
        # As a resource manager would: PyFlink 2.3 sometimes takes down the surviving TaskManager too while it
        # cancels its Python tasks (Beam's "Reference count must not be negative", a fatal error).
        tail.wait_for_all(sequenced(PARTITIONS, PER_PARTITION), timeout_s=300,
                          job_ended=lambda: flink_cluster.job_status(job_id) in TERMINAL_STATES,
                          each_second=flink_cluster.replace_lost_taskmanagers)
    finally:
        if flink_cluster.job_status(job_id) not in TERMINAL_STATES:
            flink_cluster.cancel(job_id)
            flink_cluster.wait_for_job(job_id, {"CANCELED"}, timeout_s=60)
    tail.drain()
    tail.close()
    assert flink_cluster.checkpoints(job_id)["latest"]["restored"] is not None, "the job restored a checkpoint"
    assert sorted(p.name for p in tmp_path.glob("failed-at-*")) == sorted(f"failed-at-{n}" for n in fail_at)
    assert_resumed_from_state(tmp_path, fail_at)
    check_target(tail, guarantee, PARTITIONS, PER_PARTITION)
