"""What an in-process (loopback) PyFlink job leaves behind in this process, and stopping it.

PyFlink 2.3 runs a local job's Python operators in threads of the process that submitted it, and every coder it
makes for them (`FlinkLengthPrefixCoderBeamWrapper`) starts a thread that wakes each second to mark its stream for
flushing (`BeamTimeBasedOutputStream`, a `PeriodicThread`). Only the output coders' threads are stopped when the
job's operators are torn down, so each job leaves about ten behind, for as long as the process lives, each taking
the GIL every second. In a CI run of the whole suite (2026-12-06) 1,625 of them had piled up after ~35 minutes when a
test's in-process job made no progress for 16 minutes at a load average of 500 (whether they caused that stall is not
known).
"""

from __future__ import annotations

import threading

_FLUSH_NOTICE = "BeamTimeBasedOutputStream.notify_flush"


def flushers() -> list[threading.Thread]:
    """The running threads that mark a loopback job's coder streams for flushing."""
    return [thread for thread in threading.enumerate()
            if getattr(getattr(thread, "_function", None), "__qualname__", None) == _FLUSH_NOTICE]


def stop_flushers() -> int:
    """Stops the flusher threads left behind and returns how many it stopped. For use between tests, when their
    jobs have ended: a job still running would lose its time-based flushes. (It does not look for running jobs by
    walking other threads' frames: `sys._current_frames()` with `f_back` crashed CPython 3.11.7 in
    `PyFrame_GetBack`, a segfault of the test process; gdb showed it in one CI run, and an earlier crash of a run
    with that check was likely the same.)"""
    left = flushers()
    for thread in left:
        thread.cancel()
    return len(left)
