"""A small pool of daemon threads for calls into the client that may never return.

pulsar-client 3.13's `create_reader` never returns when its client is shut down or closed while the call is in flight:
in a scratch loop (a reader created on one thread, the client shut down 0-20 ms later on another; the probe broker,
2026-12-07) 5 of 60 calls were still blocked after 40 s, and 6 of 40 with `close()`. A connector drops its client
without waiting for such calls (the broker may be frozen), so a thread running one can stay blocked for good.
`concurrent.futures.ThreadPoolExecutor` joins its threads when the interpreter exits: one such thread kept a test
run's process (and would keep a Python worker) from ever exiting. These threads are daemons, so they do not.
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

    def shutdown(self) -> None:
        """Cancels the calls not started yet and lets each thread end after its current call, without waiting."""
        with self._lock:
            self._shut_down = True
            while True:
                try:
                    waiting = self._calls.get_nowait()
                except queue.Empty:
                    break
                if waiting is not None:
                    waiting[0].cancel()
            for _ in self._threads:
                self._calls.put(None)

    def _work(self) -> None:
        while (item := self._calls.get()) is not None:
            future, call, args = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(call(*args))
            except BaseException as error:  # handed to whoever waits on the future, as ThreadPoolExecutor does
                future.set_exception(error)
