"""What a failing in-process job test reports from the mini cluster's log (tests/flink_log.py): only what was logged
since its mark, and only state changes, failures and warnings, then the last checkpoint completed since."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import flink_log

BEFORE = "16:39:49,415 INFO  JobMaster [] - Job old (1) switched from state RUNNING to FINISHED.\n"
AFTER = """\
16:40:01,000 INFO  Task [] - Source: x (1/2) switched from DEPLOYING to INITIALIZING.
16:40:02,000 INFO  ExecutionGraph [] - Map (2/2) (a1) switched from RUNNING to FAILED on local.
java.lang.RuntimeException: injected failure at record 6000
\tat org.apache.flink.Foo.bar(Foo.java:1)
Caused by: RuntimeError: injected failure at record 6000
16:40:02,100 INFO  ExecutionGraph [] - Job new (2) switched from state RUNNING to RESTARTING.
16:40:03,000 WARN  PythonWorker [] - /work/connector/source/stall.py:80 split t-partition-0 received nothing for 30 s
16:40:03,500 INFO  PythonWorker [] - /work/connector/source/reader.py:69 split t-partition-0 has no stored position
16:40:04,000 INFO  CheckpointCoordinator [] - Completed checkpoint 7 for job 2 (5 bytes, checkpointDuration=9 ms).
16:40:05,000 INFO  CheckpointCoordinator [] - Checkpoint 8 of job 2 expired before completing.
16:40:06,000 INFO  CheckpointCoordinator [] - Completed checkpoint 9 for job 2 (5 bytes, checkpointDuration=8 ms).
"""


@pytest.fixture()
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FLINK_LOG_DIR", str(tmp_path))
    path = tmp_path / "flink-root-python-vm.log"
    path.write_text(BEFORE)
    return path


def test_only_events_logged_since_the_mark_are_reported(log: Path) -> None:
    since = flink_log.mark()
    with log.open("a") as out:
        out.write(AFTER)
    events = flink_log.events_since(since).splitlines()
    assert events[0] == f"{log} since byte {len(BEFORE)}:"
    assert [line.split(" - ", 1)[-1] for line in events[1:-1]] == [
        "Map (2/2) (a1) switched from RUNNING to FAILED on local.",
        "java.lang.RuntimeException: injected failure at record 6000",
        "Caused by: RuntimeError: injected failure at record 6000",
        "Job new (2) switched from state RUNNING to RESTARTING.",
        "/work/connector/source/stall.py:80 split t-partition-0 received nothing for 30 s",
        "Checkpoint 8 of job 2 expired before completing.",
    ]
    assert events[-1] == ("last completed checkpoint: 16:40:06,000 INFO  CheckpointCoordinator [] - Completed "
                          "checkpoint 9 for job 2 (5 bytes, checkpointDuration=8 ms).")


def test_a_log_with_no_checkpoint_since_the_mark_says_so(log: Path) -> None:
    since = flink_log.mark()
    with log.open("a") as out:
        out.write("16:40:02,100 INFO  ExecutionGraph [] - Job new (2) switched from state RUNNING to RESTARTING.\n")
    assert flink_log.events_since(since).splitlines()[-1] == "no checkpoint completed since"


def test_a_log_begun_after_the_mark_is_read_from_its_start(log: Path, tmp_path: Path) -> None:
    since = flink_log.LogMark(tmp_path / "flink-root-python-older.log", 10_000)
    assert "Job old (1) switched from state RUNNING to FINISHED." in flink_log.events_since(since)


def test_no_log_is_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLINK_LOG_DIR", str(tmp_path / "none"))
    assert flink_log.mark() == flink_log.LogMark(None, 0)
    assert flink_log.events_since(flink_log.mark()) == "(no mini-cluster log found)"


FATAL = """\
2026-12-08 00:05:17,776 ERROR Task [] - FATAL - exception in exception handler of task GroupAggregate[136] (2/2)#0.
java.lang.IllegalStateException: Reference count must not be negative.
\tat org.apache.beam.runners.fnexecution.control.DefaultJobBundleFactory$WrappedSdkHarnessClient.unref(X.java:1)
2026-12-08 00:05:17,776 ERROR MiniCluster [] - TaskManager #0 failed.
"""


def test_a_dead_taskmanager_is_reported_with_its_fatal_error(log: Path) -> None:
    since = flink_log.mark()
    flink_log.assert_taskmanager_lives(since)
    with log.open("a") as out:
        out.write(FATAL)
    with pytest.raises(AssertionError, match=r"only TaskManager died \(2026-12-08 00:05:17,776 exception in exception "
                                             r"handler of task GroupAggregate\[136\] \(2/2\)#0: java\.lang\."
                                             r"IllegalStateException: Reference count must not be negative\.\)"):
        flink_log.assert_taskmanager_lives(since)


def test_a_taskmanager_that_died_before_the_mark_is_not_this_jobs(log: Path) -> None:
    with log.open("a") as out:
        out.write(FATAL)
    flink_log.assert_taskmanager_lives(flink_log.mark())
