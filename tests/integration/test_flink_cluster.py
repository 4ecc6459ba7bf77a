"""A job on the standalone cluster survives a kill -9 of a TaskManager: it restores from a checkpoint and
finishes with every record exactly once."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest

from devtools.flink_cluster import FlinkCluster

SMOKE_JOB = Path(__file__).resolve().parent.parent / "jobs" / "smoke_job.py"
COUNT = 800
SLEEP_S = 0.05  # 400 records per subtask: about 20 s of work each


def committed_lines(output: Path) -> list[tuple[int, ...]]:
    """(number, subtask, attempt) of every line in the sink's committed part files (in-progress ones are hidden)."""
    return [tuple(map(int, line.split())) for part in output.rglob("part-*")
            for line in part.read_text().splitlines()]


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"no {what} within {timeout_s} s"
        time.sleep(0.5)


@pytest.mark.cluster
def test_job_recovers_from_a_killed_taskmanager_and_finishes_exactly_once(
        flink_cluster: FlinkCluster, tmp_path: Path) -> None:
    output = tmp_path / "out"
    job_id = flink_cluster.submit(SMOKE_JOB, [str(output), str(COUNT), str(SLEEP_S)])
    flink_cluster.wait_for_job(job_id, {"RUNNING"}, timeout_s=60)
    # Kill only once both subtasks have committed output, so the restarted one must resume mid-split.
    wait_until(lambda: {subtask for _, subtask, _ in committed_lines(output)} == {0, 1}, 90,
               "committed output from both subtasks")
    assert flink_cluster.checkpoints(job_id)["counts"]["completed"] >= 1

    victim = flink_cluster.taskmanager_pids()[0]
    victim_id = flink_cluster.taskmanager_id(victim)
    flink_cluster.kill_taskmanager(victim)
    assert len(committed_lines(output)) < COUNT, "the job was done before the kill; make it run longer"
    replacement = flink_cluster.start_taskmanager()
    pids = flink_cluster.taskmanager_pids()
    assert victim not in pids and replacement in pids and len(pids) == 2

    flink_cluster.wait_for_job(job_id, {"FINISHED"}, timeout_s=180)
    # This job's Python worker holds no Pulsar client, so nothing ends it if it outlived the killed TaskManager;
    # later tests count orphans of their own kills.
    flink_cluster.reap_orphaned_python_workers()

    lines = committed_lines(output)
    assert sorted(number for number, _, _ in lines) == list(range(COUNT))  # nothing lost, nothing twice
    attempts: dict[int, set[int]] = defaultdict(set)
    for _, subtask, attempt in lines:
        attempts[subtask].add(attempt)
    failures = flink_cluster.exceptions(job_id)["exceptionHistory"]["entries"]
    lost = [f for f in failures if f.get("taskManagerId") == victim_id]
    assert lost, f"no failure names the killed TaskManager {victim_id}: {failures}"
    # Region failover restarted only the subtask that ran on the killed TaskManager ("... (2/2) - execution #0").
    restarted = {int(f["taskName"].split("(")[-1].split("/")[0]) - 1 for f in lost}
    assert {subtask for subtask, seen in attempts.items() if max(seen) > 0} == restarted
    for subtask in restarted:
        assert 0 in attempts[subtask] and max(attempts[subtask]) > 0  # output from before and after the restart
    assert flink_cluster.checkpoints(job_id)["latest"]["restored"] is not None
