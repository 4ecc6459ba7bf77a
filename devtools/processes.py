"""What the local launchers (broker, database, Debezium) share: ending a process group, and a log's last lines."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def terminate(pid: int, timeout_s: float = 20) -> None:
    """SIGTERM to the process group led by `pid`; SIGKILL if `pid` still lives after `timeout_s`."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.killpg(pid, signal.SIGKILL)


def log_tail(path: Path, lines: int = 40) -> str:
    """The last `lines` lines of the log at `path`, or "(no log)"."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
