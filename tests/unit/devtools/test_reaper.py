"""`devtools.reaper`: once a run's process dies, what it started is stopped, and nothing else."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid

from devtools.processes import alive
from devtools.reaper import GRACE_S, MARK_VARIABLE, ROOT

SLEEP = ["sleep", "600"]


def test_the_watcher_waits_for_the_run_then_stops_what_carries_its_marker_and_nothing_else() -> None:
    mark = uuid.uuid4().hex
    run = subprocess.Popen(SLEEP)  # stands in for the test process
    started = subprocess.Popen(SLEEP, env={**os.environ, MARK_VARIABLE: mark}, start_new_session=True)
    unrelated = subprocess.Popen(SLEEP, start_new_session=True)
    watcher = subprocess.Popen([sys.executable, "-m", "devtools.reaper", str(run.pid), mark], cwd=ROOT,
                               stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(2)
        assert watcher.poll() is None and alive(started.pid), "the watcher acted while the run still lived"
        run.kill()
        run.wait()
        _, stderr = watcher.communicate(timeout=60)
        assert watcher.returncode == 0, stderr
        assert started.wait(timeout=5) == -signal.SIGTERM
        assert alive(unrelated.pid)
        assert f"test process {run.pid} ended and left 1 processes running {GRACE_S} s later" in stderr
        assert f"{started.pid} sleep 600" in stderr
    finally:
        for process in (run, started, unrelated, watcher):
            process.kill()
            process.wait()


def test_a_crashed_run_that_called_watch_has_its_children_stopped() -> None:
    crashing_run = textwrap.dedent("""
        import os, signal, subprocess
        from devtools.reaper import watch
        watch()
        child = subprocess.Popen(["sleep", "600"], start_new_session=True)
        print(child.pid, flush=True)
        os.kill(os.getpid(), signal.SIGSEGV)
    """)
    run = subprocess.run([sys.executable, "-c", crashing_run], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == -signal.SIGSEGV, run.stderr
    child = int(run.stdout)
    deadline = time.monotonic() + GRACE_S + 30
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.2)
    if alive(child):
        os.kill(child, signal.SIGKILL)
        raise AssertionError(f"the run's child {child} still ran {GRACE_S + 30} s after the run crashed")


def test_a_watcher_whose_run_left_nothing_says_nothing() -> None:
    run = subprocess.Popen(["true"])
    run.wait()
    watcher = subprocess.run([sys.executable, "-m", "devtools.reaper", str(run.pid), uuid.uuid4().hex], cwd=ROOT,
                             capture_output=True, text=True, timeout=60)
    assert (watcher.returncode, watcher.stderr) == (0, "")
