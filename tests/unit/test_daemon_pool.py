"""The daemon pool: results and errors in futures, at most `size` threads, calls cancelled at shutdown, and a process
that exits although a call in the pool never returns."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from connector.daemon_pool import DaemonPool

ROOT = Path(__file__).resolve().parents[2]


def test_results_and_errors_come_back_in_futures_from_at_most_size_daemon_threads() -> None:
    pool = DaemonPool(2, "test-pool")
    threads: set[threading.Thread] = set()

    def square(n: int) -> int:
        threads.add(threading.current_thread())
        time.sleep(0.01)
        return n * n

    def fail() -> None:
        raise ValueError("no")

    futures = [pool.submit(square, n) for n in range(6)]
    failed = pool.submit(fail)
    assert [future.result(timeout=5) for future in futures] == [0, 1, 4, 9, 16, 25]
    with pytest.raises(ValueError, match="no"):
        failed.result(timeout=5)
    assert len(threads) == 2 and all(thread.daemon for thread in threads)
    assert {thread.name for thread in threads} == {"test-pool_0", "test-pool_1"}
    pool.shutdown()


def test_shutdown_cancels_waiting_calls_and_refuses_new_ones() -> None:
    pool = DaemonPool(1, "test-pool")
    started, release = threading.Event(), threading.Event()
    running = pool.submit(lambda: started.set() or release.wait(5))
    waiting = pool.submit(lambda: "ran")
    assert started.wait(5)
    pool.shutdown()
    assert waiting.cancelled()
    with pytest.raises(RuntimeError, match="test-pool: the pool is shut down"):
        pool.submit(lambda: None)
    release.set()
    assert running.result(timeout=5) is True  # a running call finishes


def test_a_process_exits_although_a_call_in_the_pool_never_returns() -> None:
    stuck = ("import threading\nfrom connector.daemon_pool import DaemonPool\n"
             "pool = DaemonPool(1, 'stuck')\nfuture = pool.submit(threading.Event().wait)\n"
             "pool.shutdown()\nprint('leaving', flush=True)\n")
    done = subprocess.run([sys.executable, "-c", stuck], cwd=ROOT, capture_output=True, text=True, timeout=20)
    assert (done.returncode, done.stdout) == (0, "leaving\n"), done.stderr


def test_then_runs_at_once_when_no_call_runs() -> None:
    pool = DaemonPool(1, "test-pool")
    assert pool.submit(lambda: 1).result(timeout=5) == 1
    threads: list[str] = []
    pool.shutdown(then=lambda: threads.append(threading.current_thread().name))
    assert threads == [threading.current_thread().name]


def test_then_waits_for_the_running_calls_but_not_for_the_cancelled_ones() -> None:
    pool = DaemonPool(2, "test-pool")
    releases = [threading.Event(), threading.Event()]
    started = threading.Barrier(3)
    events: list[str] = []

    def run(n: int) -> None:
        started.wait(5)
        releases[n].wait(5)
        events.append(f"call {n} returned")

    running = [pool.submit(run, n) for n in range(2)]
    waiting = pool.submit(events.append, "the waiting call ran")
    started.wait(5)  # both calls run
    done = threading.Event()
    pool.shutdown(then=lambda: (events.append(f"then in {threading.current_thread().name}"), done.set()))
    assert waiting.cancelled()
    releases[1].set()
    running[1].result(timeout=5)
    assert not done.wait(0.2)  # call 0 still runs
    releases[0].set()
    assert done.wait(5)
    assert events[:2] == ["call 1 returned", "call 0 returned"]
    assert events[2] in ("then in test-pool_0", "then in test-pool_1") and len(events) == 3
