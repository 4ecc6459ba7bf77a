"""A small pool of daemon threads for calls into the client, and a way to release the client only after them.

pulsar-client 3.13's `create_reader` and `create_producer` never return when their client is shut down or closed while
the call is in flight: in scratch loops (the call on one thread, the client shut down 0-20 ms later on another; the
probe broker, 2026-12-07) 5 of 60 `create_reader` calls were still blocked after 40 s, 6 of 40 with `close()`, and 4
of 60 `create_producer` calls. A thread blocked so keeps a process from exiting if the interpreter joins it at exit
(`concurrent.futures.ThreadPoolExecutor` does: it kept a test run's pytest alive), and a process that exits with one
blocked, even in a daemon thread, aborts ("terminate called without an active exception"; 5 of 5 such scratch
processes, none of 2 where each call had returned before its client's shutdown). So the owner of a pool hands the
client's release to `shutdown(then=...)`, which runs it once no call is running: calls not started yet are cancelled,
and one in flight finishes first (on a frozen broker an open fails at the client's operation timeout: 30.0 s, measured
the same day).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any


class DaemonPool:
    """Runs submitted calls in up to `size` daemon threads, in the order submitted, each result in a `Future`."""

    def __init__(self, size: int, name: str) -> None:
        self._size = size
        self._name = name
        self._calls: queue.SimpleQueue[tuple[Future, Callable[..., Any], tuple] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._shut_down = False
        self._running = 0
        self._then: Callable[[], None] | None = None

    def submit(self, call: Callable[..., Any], *args: Any) -> Future:
        """Queues `call(*args)`; raises RuntimeError once the pool is shut down."""
        future: Future = Future()
        with self._lock:
            if self._shut_down:
                raise RuntimeError(f"{self._name}: the pool is shut down")
            self._calls.put((future, call, args))
            if len(self._threads) < self._size:
                thread = threading.Thread(target=self._work, name=f"{self._name}_{len(self._threads)}", daemon=True)
                thread.start()
                self._threads.append(thread)
        return future

    def shutdown(self, then: Callable[[], None] | None = None) -> None:
        """Cancels the calls not started yet and lets each thread end after its current call, without waiting.
        `then` runs once no call is running: here and now when none is, else in the thread of the last to finish."""
        cancelled = []
        with self._lock:
            self._shut_down = True
            while True:
                try:
                    waiting = self._calls.get_nowait()
                except queue.Empty:
                    break
                if waiting is not None:
                    cancelled.append(waiting[0])
            for _ in self._threads:
                self._calls.put(None)
            if self._running:
                self._then, then = then, None
        for future in cancelled:  # outside the lock: a future's done callbacks may submit
            future.cancel()
        if then is not None:
            then()

    def _work(self) -> None:
        while (item := self._calls.get()) is not None:
            future, call, args = item
            with self._lock:
                starts = not self._shut_down and future.set_running_or_notify_cancel()
                if starts:
                    self._running += 1
            if not starts:  # taken from the queue as the pool shut down: cancelled like the calls still in it
                future.cancel()
                continue
            try:
                future.set_result(call(*args))
            except BaseException as error:  # handed to whoever waits on the future, as ThreadPoolExecutor does
                future.set_exception(error)
            with self._lock:
                self._running -= 1
                then = self._then if self._running == 0 else None
                if then is not None:
                    self._then = None
            if then is not None:
                then()
