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
    release = threading.Event()
    running = pool.submit(release.wait, 5)
    waiting = pool.submit(lambda: "ran")
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
