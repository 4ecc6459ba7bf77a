"""A savepoint written by an earlier version of the source restores in this one, exactly once.

The earlier version is taken from this repository's history (`git archive`), so the test needs a clone with
history, as CI's is. Phase 1 runs that version's source in its own process and stops with a savepoint midway;
phase 2 resumes from it here, at another parallelism, and the checker counts every record.
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
from tests.sequenced import create_sequenced_topic, read_results
from tests.user_environment import user_environment

ROOT = Path(__file__).resolve().parents[2]
PHASE_1 = ROOT / "tests" / "jobs" / "stop_with_savepoint_job.py"
PARTITIONS = 4
PER_PARTITION = 20_000
# The last commit whose source kept each split under a key of its own (known-splits format 1, state "split-state").
PER_SPLIT_KEYS = "70ac709"


def earlier_version(commit: str, into: Path) -> Path:
    """The project's packages at `commit`, unpacked into `into`."""
    try:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "connector", "checkpoint", "tests"],
                                 capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        stderr = getattr(error, "stderr", b"") or b""
        pytest.fail(f"cannot take version {commit} from git history (a clone with history is needed): "
                    f"{error} {stderr.decode(errors='replace')}")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def test_savepoint_of_the_per_split_key_version_restores_exactly_once(
        broker, admin: PulsarAdmin, pulsar_client: pulsar.Client, topic: str, tmp_path: Path) -> None:
    create_sequenced_topic(admin, pulsar_client, topic, PARTITIONS, PER_PARTITION)
    results_topic = unique_topic("upgrade-results")
    old = earlier_version(PER_SPLIT_KEYS, tmp_path / "old")
    environment = user_environment(PYTHONPATH=str(old))  # the old packages come first, for the job's workers too
    phase_1 = subprocess.run(
        [sys.executable, str(PHASE_1), "--service-url", broker.service_url, "--admin-url", broker.admin_url,
         "--topic", topic, "--results-topic", results_topic, "--marker-dir", str(tmp_path),
         "--savepoint-dir", f"file://{tmp_path}/savepoints", "--per-partition", str(PER_PARTITION)],
        cwd=old, env=environment, capture_output=True, text=True, timeout=300)
    lines = [line for line in phase_1.stdout.splitlines() if line.startswith("savepoint: ")]
    assert phase_1.returncode == 0 and lines, f"phase 1 (version {PER_SPLIT_KEYS}) failed:\n{phase_1.stderr[-3000:]}"
    savepoint = lines[-1].removeprefix("savepoint: ")
    partial = read_results(pulsar_client, results_topic, PARTITIONS, timeout_s=2)
    assert partial["violations"] == [] and len(partial["done"]) < PARTITIONS, f"phase 1 must stop midway: {partial}"

    results = job.resume_to_end(savepoint, 3, broker.service_url, broker.admin_url, topic, results_topic, PARTITIONS,
                                PER_PARTITION, str(tmp_path), pulsar_client)
    assert results["violations"] == []
    assert {partition for partition, last in results["resumed"] if last > 0} == set(range(PARTITIONS)), \
        "every split resumes from the savepoint"
    assert results["done"] == [(p, PER_PARTITION) for p in range(PARTITIONS)]
