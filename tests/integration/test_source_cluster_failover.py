"""Acceptance 1 on a standalone cluster: a TaskManager killed with -9 mid-read, plus Python exceptions.

200k sequenced records of 200 B written before the job by default-batching producers; the source at full speed."""

from __future__ import annotations

from pathlib import Path

import pulsar
import pytest

from connector.admin import PulsarAdmin
from devtools.flink_cluster import TERMINAL_STATES, FlinkCluster
from tests.conftest import unique_topic
from tests.sequenced import create_sequenced_topic, read_results, wait_until_each_partition_emitted

JOB = Path(__file__).resolve().parent.parent / "jobs" / "exactly_once_source_job.py"
PARTITIONS = 4
PER_PARTITION = 50_000


def _ended(flink_cluster: FlinkCluster, job_id: str) -> str | None:
    status = flink_cluster.job_status(job_id)
    if status not in TERMINAL_STATES:
        return None
    return f"{status}; latest failure:\n{flink_cluster.latest_failure(job_id)}"


@pytest.mark.cluster
def test_exactly_once_through_a_killed_taskmanager(flink_cluster: FlinkCluster, broker, admin: PulsarAdmin,
                                                    pulsar_client: pulsar.Client, topic: str, tmp_path: Path) -> None:
    create_sequenced_topic(admin, pulsar_client, topic, PARTITIONS, PER_PARTITION)
    results_topic = unique_topic("cluster-results")
    fail_at = [30_000, 42_000]
    job_id = flink_cluster.submit(JOB, [
        "--service-url", broker.service_url, "--admin-url", broker.admin_url, "--topic", topic,
        "--results-topic", results_topic, "--marker-dir", str(tmp_path), "--per-partition", str(PER_PARTITION),
        "--fail-at", ",".join(map(str, fail_at)), "--parallelism", "2", "--checkpoint-ms", "1000"])
    try:
        # Kill only once every partition's progress is in a checkpoint (the checker saw records of each, then two
        # more checkpoints), so each one resumes from state: killed earlier, a partition that had not started yet
        # restarts from its start cursor, and one that finishes before the later failures never resumes at all.
        flink_cluster.wait_for_job(job_id, {"RUNNING"}, timeout_s=210)
        wait_until_each_partition_emitted(pulsar_client, results_topic, PARTITIONS, timeout_s=210,
                                          job_ended=lambda: _ended(flink_cluster, job_id))
        completed = flink_cluster.checkpoints(job_id)["counts"]["completed"]
        flink_cluster.wait_for_checkpoints(job_id, completed + 2, timeout_s=120)
        victim = flink_cluster.taskmanager_pids()[0]
        flink_cluster.kill_taskmanager(victim)
        flink_cluster.start_taskmanager()
        # As a resource manager would: PyFlink 2.3 sometimes takes down the surviving TaskManager too while it
        # cancels its Python tasks (Beam's "Reference count must not be negative", a fatal error).
        def supervise() -> None:
            ended = _ended(flink_cluster, job_id)
            assert ended is None, f"the job ended {ended} before its results"
            flink_cluster.replace_lost_taskmanagers()

        results = read_results(pulsar_client, results_topic, PARTITIONS, timeout_s=400, each_second=supervise)
    finally:
        if flink_cluster.job_status(job_id) not in TERMINAL_STATES:
            flink_cluster.cancel(job_id)
            flink_cluster.wait_for_job(job_id, {"CANCELED"}, timeout_s=60)
    assert results["violations"] == []
    assert results["done"] == [(p, PER_PARTITION) for p in range(PARTITIONS)], (
        f"job {flink_cluster.job_status(job_id)}; latest failure:\n{flink_cluster.latest_failure(job_id)}")
    assert {p for p, last in results["resumed"] if last > 0} == set(range(PARTITIONS))
    assert {marker.name for marker in tmp_path.iterdir()} == {f"failed-at-{n}" for n in fail_at}
    assert flink_cluster.checkpoints(job_id)["latest"]["restored"] is not None
