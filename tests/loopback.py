"""What an in-process (loopback) PyFlink job leaves behind in this process, and stopping it.

PyFlink 2.3 runs a local job's Python operators in threads of the process that submitted it, and every coder it
makes for them (`FlinkLengthPrefixCoderBeamWrapper`) starts a thread that wakes each second to mark its stream for
flushing (`BeamTimeBasedOutputStream`, a `PeriodicThread`). Only the output coders' threads are stopped when the
job's operators are torn down, so each job leaves about ten behind, for as long as the process lives, each taking
the GIL every second. In a CI run of the whole suite (2026-12-06) 1,625 of them had piled up after ~35 minutes when a
test's in-process job made no progress for 16 minutes at a load average of 500 (whether they caused that stall is not
known; a later run, without them, crashed in the same test instead).
"""

from __future__ import annotations

import sys
import threading
import time

_FLUSH_NOTICE = "BeamTimeBasedOutputStream.notify_flush"


def flushers() -> list[threading.Thread]:
    """The running threads that mark a loopback job's coder streams for flushing."""
    return [thread for thread in threading.enumerate()
            if getattr(getattr(thread, "_function", None), "__qualname__", None) == _FLUSH_NOTICE]


def running_workers() -> list[str]:
    """Names of the threads that run a loopback job's Python worker (Beam's `SdkHarness.run`) right now."""
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    running = []
    for ident, frame in sys._current_frames().items():
        while frame is not None:
            if frame.f_code.co_qualname == "SdkHarness.run" and frame.f_code.co_filename.endswith("sdk_worker.py"):
                running.append(names.get(ident, str(ident)))
                break
            frame = frame.f_back
    return running


def stop_flushers_once_jobs_ended(timeout_s: float) -> int:
    """Waits up to `timeout_s` for every loopback worker to end (a cancelled job's workers end shortly after the
    cancel is acknowledged), then stops the flusher threads left behind and returns how many it stopped. Raises
    RuntimeError naming the workers still running at the deadline: a job left running would lose its time-based
    flushes, so its threads are left alone."""
    deadline = time.monotonic() + timeout_s
    while (running := running_workers()) and time.monotonic() < deadline:
        time.sleep(0.2)
    if running:
        raise RuntimeError(f"an in-process PyFlink job still runs {timeout_s:.0f} s after its test ended "
                           f"(Python worker threads {running}): a test must cancel or finish every job it starts")
    left = flushers()
    for thread in left:
        thread.cancel()
    return len(left)
