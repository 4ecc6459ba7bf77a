"""A savepoint written by an earlier version of the source restores in this one, exactly once.

The earlier version's packages come from this repository's history (`git archive`), so the test needs a clone with
history, as CI's is. Phase 1 runs that version's job in its own process and stops with a savepoint once its checker
has seen records of every partition; phase 2 resumes from it here, at another parallelism, and the checker counts
every record.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
from pathlib import Path

import pulsar
import pytest

from connector.admin import PulsarAdmin
from tests.conftest import unique_topic
from tests.jobs import exactly_once_source_job as job
from tests.sequenced import create_sequenced_topic, read_results, wait_until_each_partition_emitted
from tests.user_environment import user_environment

ROOT = Path(__file__).resolve().parents[2]
PHASE_1 = ROOT / "tests" / "jobs" / "stop_with_savepoint_job.py"
PARTITIONS = 4
PER_PARTITION = 20_000
# Earlier versions whose savepoints restore here: the last whose source kept each split under a key of its own
# (known-splits format 1, state "split-state"), and the last whose discovery ran the step timer chain (the readers'
# own chains replaced it; a restored timer of it failed the task in 1 of 3 runs without discovery's `on_timer`, which
# tests/unit/source/test_flink.py checks every time).
# And what of them phase 1 runs.
EARLIER = {"per-split-keys": "70ac709", "discovery-timer-chain": "069ebf5"}
PHASE_1_PACKAGES = ("connector", "checkpoint", "tests/__init__.py", "tests/jobs/__init__.py",
                    "tests/jobs/exactly_once_source_job.py", "tests/jobs/mini_cluster.py", "tests/sequenced.py")


def earlier_version(version: str, into: Path) -> Path:
    """The packages of `version` that phase 1 needs, taken from this clone's history into `into`."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", version, *PHASE_1_PACKAGES], capture_output=True)
    if archive.returncode != 0:
        pytest.fail(f"cannot take version {version} from git history (the test needs a clone with history, "
                    f"not a shallow one): {archive.stderr.decode(errors='replace')}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into


@pytest.mark.parametrize("version", EARLIER.values(), ids=EARLIER.keys())
def test_savepoint_of_an_earlier_version_restores_exactly_once(
        broker, admin: PulsarAdmin, pulsar_client: pulsar.Client, topic: str, tmp_path: Path, version: str) -> None:
    create_sequenced_topic(admin, pulsar_client, topic, PARTITIONS, PER_PARTITION)
    results_topic = unique_topic("upgrade-results")
    old = earlier_version(version, tmp_path / "old")
    environment = user_environment(PYTHONPATH=str(old))  # the old packages come first, for the job's workers too
    stop_file, out, err = tmp_path / "stop", tmp_path / "phase-1.out", tmp_path / "phase-1.err"
    with out.open("w") as stdout, err.open("w") as stderr:  # files, not pipes: a full pipe would block the job
        phase_1 = subprocess.Popen(
            [sys.executable, str(PHASE_1), "--service-url", broker.service_url, "--admin-url", broker.admin_url,
             "--topic", topic, "--results-topic", results_topic, "--marker-dir", str(tmp_path),
             "--savepoint-dir", f"file://{tmp_path}/savepoints", "--per-partition", str(PER_PARTITION),
             "--stop-file", str(stop_file)],
            cwd=old, env=environment, stdout=stdout, stderr=stderr, text=True)
    try:
        wait_until_each_partition_emitted(pulsar_client, results_topic, PARTITIONS, timeout_s=180,
                                          job_ended=lambda: None if phase_1.poll() is None else
                                          f"exit code {phase_1.returncode}: {err.read_text()[-3000:]}")
        stop_file.touch()
        phase_1.wait(timeout=120)
    finally:
        phase_1.kill()
    lines = [line for line in out.read_text().splitlines() if line.startswith("savepoint: ")]
    assert phase_1.returncode == 0 and lines, \
        f"phase 1 (version {version}) failed:\n{err.read_text()[-3000:]}"
    savepoint = lines[-1].removeprefix("savepoint: ")
    partial = read_results(pulsar_client, results_topic, PARTITIONS, timeout_s=2)
    assert partial["violations"] == [] and len(partial["done"]) < PARTITIONS, f"phase 1 must stop midway: {partial}"

    results = job.resume_to_end(savepoint, 3, broker.service_url, broker.admin_url, topic, results_topic, PARTITIONS,
                                PER_PARTITION, str(tmp_path), pulsar_client)
    assert results["violations"] == []
    assert {partition for partition, last in results["resumed"] if last > 0} == set(range(PARTITIONS)), \
        "every split resumes from the savepoint"
    assert results["done"] == [(p, PER_PARTITION) for p in range(PARTITIONS)]
