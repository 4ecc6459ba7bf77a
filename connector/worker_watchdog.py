"""Closes the Pulsar clients of a Python worker whose TaskManager died, then ends the worker.

In process mode PyFlink runs Python functions in a worker process that the TaskManager (a JVM) starts through a
shell script. When the TaskManager is killed (kill -9, the OOM killer), that worker can live on as an orphan:
PyFlink 2.3's worker was seen hanging for minutes in a logging deadlock after losing its TaskManager. Its
Pulsar connections live on with it, and an EXACTLY_ONCE sink's producer names stay taken, so the restarted
attempt's writers get ProducerBusy until the orphan goes.

`close_when_taskmanager_dies(close)` finds the nearest `java` process among this process's ancestors (the
TaskManager, or the JVM of a local process-mode mini cluster) and checks it every `CHECK_INTERVAL_S`. Once it is
gone (or its pid was reused), the registered closers run (for at most `CLOSE_TIMEOUT_S` in all) and the process
exits with `EXIT_CODE`: nothing can use a worker whose TaskManager is gone. A process with no `java` ancestor
(a loopback-mode worker inside the Python driver, a plain script) is never watched. Linux only (/proc); elsewhere
it does nothing.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

CHECK_INTERVAL_S = 1.0
CLOSE_TIMEOUT_S = 10.0
EXIT_CODE = 70
JVM_NAME = "java"

_lock = threading.Lock()
_closers: list[Callable[[], None]] = []
_thread: threading.Thread | None = None


def close_when_taskmanager_dies(close: Callable[[], None]) -> None:
    """Call `close` (then end this process) once the JVM that started this worker is gone; see the module doc."""
    global _thread
    with _lock:
        _closers.append(close)
        if _thread is not None:
            return
        jvm = nearest_ancestor_named(JVM_NAME)
        if jvm is None:
            return
        _thread = threading.Thread(target=_watch, args=jvm, name="pulsar-taskmanager-watchdog", daemon=True)
        _thread.start()


def nearest_ancestor_named(name: str, pid: int | None = None) -> tuple[int, str] | None:
    """(pid, start time) of the nearest ancestor of `pid` (default: this process) whose command is `name`."""
    current = os.getpid() if pid is None else pid
    while True:
        stat = _stat(current)
        if stat is None:
            return None
        parent = int(stat[1])
        if parent <= 1:
            return None
        parent_stat = _stat(parent)
        if parent_stat is None:
            return None
        if parent_stat[0] == name:
            return parent, parent_stat[19]
        current = parent


def _stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat from the command name on: [comm, ppid, ...], or None once the process is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm_start, comm_end = text.index("(") + 1, text.rindex(")")
    return [text[comm_start:comm_end], *text[comm_end + 2:].split()[1:]]


def _alive(pid: int, start_time: str) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[19] == start_time


def _watch(pid: int, start_time: str) -> None:
    stopped = threading.Event()
    while _alive(pid, start_time):
        stopped.wait(CHECK_INTERVAL_S)
    closing = threading.Thread(target=_close_all, name="pulsar-orphan-close", daemon=True)
    closing.start()
    closing.join(CLOSE_TIMEOUT_S)
    # Straight to stderr (the worker's boot log): an orphan's logging handlers may be dead or deadlocked.
    _write_stderr(f"pyflink-pulsar: the TaskManager process {pid} that started this Python worker is gone: closed "
                  f"the worker's Pulsar clients, ending the worker (pid {os.getpid()})\n")
    os._exit(EXIT_CODE)


def _write_stderr(text: str) -> None:
    try:
        os.write(2, text.encode())
    except OSError:
        pass  # nobody reads it any more


def _close_all() -> None:
    with _lock:
        closers = list(_closers)
    for close in closers:
        try:
            close()
        except Exception as error:  # the process ends next: a client that fails to close is closed by the exit
            _write_stderr(f"pyflink-pulsar: closing a Pulsar client of an orphaned worker failed: {error!r}\n")
