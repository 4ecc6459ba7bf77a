"""What the local launchers (broker, database, Debezium, Flink cluster) and the benchmark's jobs share: whether a
process or a process group lives, ending a process group, and a log's last lines."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat after the command name: [state, ppid, ...], or None once the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def alive(pid: int) -> bool:
    """True while `pid` exists and has not exited. An exited process stays a zombie until its parent waits for it
    (a launcher's own child, until its `Popen` is collected), and signal 0 still reaches a zombie."""
    fields = stat_fields(pid)
    return fields is not None and fields[0] != "Z"


def terminate(pid: int, timeout_s: float = 20) -> None:
    """SIGTERM to the process group led by `pid`; SIGKILL if `pid` still lives after `timeout_s`."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not alive(pid):
            return
        time.sleep(0.2)
    os.killpg(pid, signal.SIGKILL)


def group_alive(pgid: int) -> bool:
    """True while a process of the process group `pgid` exists and has not exited (zombies do not count, as in
    `alive`: signal 0 to the group would still reach an exited orphan that nobody has waited for yet)."""
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            fields = stat_fields(int(entry.name))
            if fields is not None and fields[0] != "Z" and fields[2] == str(pgid):
                return True
    return False


def await_group(pgid: int, timeout_s: float = 20) -> None:
    """Wait until no process of the group `pgid` lives (its leader may have exited already, leaving children that
    go on); SIGKILL to the group if one still lives after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while group_alive(pgid):
        if time.monotonic() >= deadline:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            return
        time.sleep(0.1)


def log_tail(path: Path, lines: int = 40) -> str:
    """The last `lines` lines of the log at `path`, or "(no log)"."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
