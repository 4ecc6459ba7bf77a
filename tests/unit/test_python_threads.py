"""What a stalled in-process job test reports of its Python threads (tests/python_threads.py): threads in the
connector's code are shown with their stacks, others are not."""

from __future__ import annotations

import threading

from connector.daemon_pool import DaemonPool
from tests import python_threads


def test_a_thread_waiting_in_the_connector_is_shown_and_an_unrelated_one_is_not() -> None:
    started, release, other_done = threading.Event(), threading.Event(), threading.Event()
    pool = DaemonPool(1, "waiting-in-the-connector")
    pool.submit(lambda: (started.set(), release.wait()))
    assert started.wait(5)
    unrelated = threading.Thread(target=other_done.wait, name="unrelated-waiter", daemon=True)
    unrelated.start()
    try:
        report = python_threads.busy_stacks()
    finally:
        release.set()
        other_done.set()
        pool.shutdown()
    assert "thread waiting-in-the-connector_0:" in report
    assert "daemon_pool.py" in report
    assert "unrelated-waiter" not in report
