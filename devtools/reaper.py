"""Stops what a test run started once the run's process is gone, also when it crashed and tore nothing down.

`watch()` puts a marker into the run's environment, so every process the run starts inherits it: brokers, the Flink
cluster, the database, Debezium, jobs and their Python workers. A watcher process (`python -m devtools.reaper PID
MARK`, in a session of its own) waits for PID to end, gives the run's processes `GRACE_S` to end by themselves (an
in-process job's JVM ends once the run's process is gone), then stops every one that still carries MARK and says
which on stderr. A process started before the run (a developer's broker the run reuses) does not carry the marker
and is left alone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from devtools.processes import alive

MARK_VARIABLE = "PYFLINK_PULSAR_RUN"
GRACE_S = 10
_WATCHERS: list[subprocess.Popen] = []  # held, since a collected Popen of a running process warns
ROOT = Path(__file__).resolve().parents[1]


def watch() -> None:
    """Start a watcher for this process and put its marker into os.environ (so children started from now on carry
    it)."""
    mark = uuid.uuid4().hex
    _WATCHERS.append(subprocess.Popen([sys.executable, "-m", "devtools.reaper", str(os.getpid()), mark], cwd=ROOT,
                                      stdin=subprocess.DEVNULL, start_new_session=True))
    os.environ[MARK_VARIABLE] = mark


def carrying(mark: str) -> dict[int, str]:
    """The live processes (other than this one) whose environment carries `mark`: pid -> command line."""
    wanted = f"{MARK_VARIABLE}={mark}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if wanted not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if alive(int(entry.name)):
            found[int(entry.name)] = command
    return found


def reap(mark: str, timeout_s: float = 20) -> dict[int, str]:
    """SIGTERM every live process carrying `mark`, SIGKILL those still alive after `timeout_s` (and any started
    meanwhile); return the ones signalled: pid -> command line."""
    signalled = carrying(mark)
    for pid in signalled:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and any(alive(pid) for pid in signalled):
        time.sleep(0.2)
    left = carrying(mark)
    for pid in left:
        _signal(pid, signal.SIGKILL)
    return {**signalled, **left}


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def main(argv: list[str] | None = None) -> int:
    run_pid, mark = (argv if argv is not None else sys.argv[1:])
    while alive(int(run_pid)):
        time.sleep(1)
    deadline = time.monotonic() + GRACE_S
    while carrying(mark) and time.monotonic() < deadline:
        time.sleep(0.5)
    stopped = reap(mark)
    if stopped:
        listed = "\n".join(f"  {pid} {command[:200]}" for pid, command in sorted(stopped.items()))
        print(f"devtools.reaper: test process {run_pid} ended and left {len(stopped)} processes running "
              f"{GRACE_S} s later; stopped:\n{listed}", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
