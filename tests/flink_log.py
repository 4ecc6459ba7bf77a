"""The log of this process's mini cluster, for a test whose in-process job fell behind to say what the job went through.

PyFlink's gateway JVM (which runs every in-process job of a test session) writes its log to `$FLINK_LOG_DIR`, or
else to the `log` folder of the installed `pyflink` package, one `flink-*-python-*.log` per JVM start. A test takes a
`LogMark` before it starts its job and, when it fails, adds `events_since(mark)` to its message: the job's state
changes, task failures, exceptions and the connector's warnings logged since.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pyflink

# A log line worth reporting: a job's state change, a task that failed, a checkpoint that expired or was declined,
# the first line of an exception (not its stack), or a warning or error of the Python workers (the connector logs
# there).
_EVENT = re.compile(r"Job .* switched from state|switched from \w+ to FAILED|^(Caused by: )?\S*(Exception|Error)\b|"
                    r"(WARN|ERROR) +PythonWorker|Checkpoint \d+ of job \w+ expired|Decline checkpoint")
_COMPLETED = "Completed checkpoint"
# The mini cluster's one TaskManager can die in a job's failover: PyFlink 2.3's Beam runner releases a Python
# environment once too often while it cancels a task ("Reference count must not be negative", thrown by Beam's
# `DefaultJobBundleFactory$WrappedSdkHarnessClient` in the task's exception handler, which Flink treats as FATAL), and a
# mini cluster starts no other TaskManager: the job shows RUNNING and never runs again. Seen in 2 of the last 3 CI runs,
# each time in one test's first attempt (2026-12-07).
_TASKMANAGER_DIED = "TaskManager #0 failed"
_FATAL = re.compile(r"FATAL - (.*)")
_SHOWN = 40


@dataclass(frozen=True)
class LogMark:
    """Where the log ended when the mark was taken (no file: the gateway has not started yet)."""

    path: Path | None
    offset: int


def log_file() -> Path | None:
    """The newest mini-cluster log of a gateway JVM, or None when there is none."""
    folder = Path(os.environ.get("FLINK_LOG_DIR") or Path(pyflink.__file__).parent / "log")
    logs = sorted(folder.glob("flink-*-python-*.log"), key=lambda path: path.stat().st_mtime)
    return logs[-1] if logs else None


def mark() -> LogMark:
    path = log_file()
    return LogMark(path, path.stat().st_size if path else 0)


def assert_taskmanager_lives(since: LogMark) -> None:
    """Raises AssertionError, naming the cause, when the mini cluster's TaskManager died since `since` (see
    `_TASKMANAGER_DIED`): a job waited on then can only stall."""
    path, offset = _start(since)
    lines = _read(path, offset) if path else []
    if not any(_TASKMANAGER_DIED in line for line in lines):
        return
    fatal = next((f"{line[:23]} {match.group(1).rstrip('.')}: {cause}" for line, cause in zip(lines, lines[1:] + [""])
                  if (match := _FATAL.search(line))), "no FATAL line found")
    raise AssertionError(f"the mini cluster's only TaskManager died ({fatal}): a fault of PyFlink's Beam runner while "
                         "it cancelled tasks for a failover, after which this in-process job cannot run again")


def _start(since: LogMark) -> tuple[Path | None, int]:
    """The newest log and where in it `since` begins (its start when the log began after the mark)."""
    path = log_file()
    return path, since.offset if path == since.path else 0


def _read(path: Path, offset: int) -> list[str]:
    with path.open("rb") as log:
        log.seek(offset)
        return log.read().decode(errors="replace").splitlines()


def events_since(since: LogMark) -> str:
    """The last lines logged since `since` that tell of state changes, failures and warnings, one a line, then the
    last checkpoint completed since (whether checkpoints went on tells a job that idles from one that is stuck)."""
    path, offset = _start(since)
    if path is None:
        return "(no mini-cluster log found)"
    lines = _read(path, offset)
    events = [line for line in lines if _EVENT.search(line)]
    left_out = f"({len(events) - _SHOWN} earlier events left out)\n" if len(events) > _SHOWN else ""
    completed = [line for line in lines if _COMPLETED in line]
    last = f"last completed checkpoint: {completed[-1]}" if completed else "no checkpoint completed since"
    return f"{path} since byte {offset}:\n{left_out}" + "".join(f"{event}\n" for event in events[-_SHOWN:]) + last
