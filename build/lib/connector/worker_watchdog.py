"""Closes the Pulsar clients of a Python worker whose TaskManager died, then ends the worker.

In process mode PyFlink runs Python functions in a worker process that the TaskManager (a JVM) starts through a
shell script. When the TaskManager is killed (kill -9, the OOM killer), that worker can live on as an orphan:
PyFlink 2.3's worker was seen hanging for minutes in a logging deadlock after losing its TaskManager. Its
Pulsar connections live on with it, and an EXACTLY_ONCE sink's producer names stay taken, so the restarted
attempt's writers get ProducerBusy until the orphan goes.

`close_when_taskmanager_dies(close)` looks once per process for the nearest `java` process among its ancestors
(the TaskManager, or the JVM of a local process-mode mini cluster) and then checks it every `CHECK_INTERVAL_S`.
Once it is gone (or its pid was reused), the registered closers run (for at most `CLOSE_TIMEOUT_S` in all) and the
process exits with `EXIT_CODE`: nothing can use a worker whose TaskManager is gone. Closers are bound methods held
weakly, so a client the worker dropped is forgotten. A process with no `java` ancestor (a loopback-mode worker
inside the Python driver, a plain script) is never watched and keeps nothing. Linux only (/proc); elsewhere it
does nothing.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path

CHECK_INTERVAL_S = 1.0
CLOSE_TIMEOUT_S = 10.0
EXIT_CODE = 70
JVM_NAME = "java"

_lock = threading.Lock()
_closers: list[weakref.WeakMethod] = []
_watching: bool | None = None  # None until the first registration looked for the JVM


def close_when_taskmanager_dies(close: Callable[[], None]) -> None:
    """Call `close` (a bound method, held weakly), then end this process, once the JVM that started this worker
    is gone; see the module doc."""
    global _watching
    with _lock:
        if _watching is None:
            jvm = nearest_ancestor_named(JVM_NAME)
            _watching = jvm is not None
            if jvm is not None:
                threading.Thread(target=_watch, args=jvm, name="pulsar-taskmanager-watchdog", daemon=True).start()
        if _watching:
            _closers[:] = [ref for ref in _closers if ref() is not None]
            _closers.append(weakref.WeakMethod(close))


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
    while _alive(pid, start_time):
        time.sleep(CHECK_INTERVAL_S)
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
        closers = [ref() for ref in _closers]
    for close in closers:
        if close is None:
            continue
        try:
            close()
        except Exception as error:  # the process ends next: a client that fails to close is closed by the exit
            _write_stderr(f"pyflink-pulsar: closing a Pulsar client of an orphaned worker failed: {error!r}\n")
