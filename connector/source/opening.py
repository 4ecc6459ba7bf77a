"""Opening and closing split readers off the reading thread: a few at a time, and ahead of need.

An open costs broker round trips (the topic lookup and subscription; for a `latest()` start or stop, the admin API's
last message id, which reads the partition's last entry): 10-15 ms apiece on a quiet broker, 30-60 ms on one busy
serving reads. Closing a reader costs one more. Over 256 partitions a reader key holds 8 splits, and a bounded read
goes through its keys one after another: waiting for their opens and closes took 6% of the reading threads' time
(py-spy; README, Benchmarks: "256 vs 4 partitions"). So readers open in a small pool of threads, the next key's readers
can open while this key reads (`prefetch`), and finished readers close in the pool.

No Flink here: the owner reads its Flink state on its own thread and passes the states in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future

from checkpoint.split_state import SplitState
from connector.daemon_pool import DaemonPool
from connector.source.reader import SplitReader

log = logging.getLogger(__name__)

OPEN_CONCURRENCY = 8
"""How many readers open (or close) at once. 64 splits opened by 1 / 4 / 8 / 16 threads on a quiet broker took
1.04 / 0.40 / 0.34 / 0.28 s."""

OpenReader = Callable[[str, str, SplitState], SplitReader]
"""Opens the reader of (split, origin, state); may wait on the broker, and raises what the open raised."""


class ReaderOpener:
    """Opens readers with an `OpenReader` in up to OPEN_CONCURRENCY daemon threads of its own, and runs closes there
    too.

    A reader opened ahead (`prefetch`) is handed out by `open` only for the state it was opened from: the owner's
    stored state may have changed (a restore), and then it is closed and the split opens again from the new state.
    """

    def __init__(self, open_reader: OpenReader, concurrency: int = OPEN_CONCURRENCY) -> None:
        self._open_reader = open_reader
        self._pool = DaemonPool(concurrency, "pulsar-open")
        self._ahead: dict[str, tuple[SplitState, Future]] = {}

    def open(self, wanted: list[tuple[str, str, SplitState]]) -> list[SplitReader]:
        """A reader per (split, origin, state) of `wanted`, in order: opened ahead from an equal state, or opened now
        (all at once, up to OPEN_CONCURRENCY at a time). Raises the error of the first split whose open failed."""
        futures = [self._take_ahead(split, state) or self._pool.submit(self._open_reader, split, origin, state)
                   for split, origin, state in wanted]
        return [future.result() for future in futures]

    def prefetch(self, wanted: list[tuple[str, str, SplitState]]) -> None:
        """Starts opening a reader per (split, origin, state) of `wanted` not opening ahead already; an error waits
        for the `open` that takes the reader."""
        for split, origin, state in wanted:
            if split not in self._ahead:
                self._ahead[split] = (state, self._pool.submit(self._open_reader, split, origin, state))

    def close_later(self, close: Callable[[], None]) -> None:
        """Runs `close` (a reader's, which waits on the broker) in the pool; at once once the pool is shut down."""
        try:
            self._pool.submit(close)
        except RuntimeError:  # shut down: the owner is closing too
            close()

    def shutdown(self, release_client: Callable[[], None]) -> None:
        """Forgets the readers opened ahead, cancels the opens and closes not started, and calls `release_client` (the
        owner's client shutdown, which drops every reader without a round trip) once the ones running have returned:
        an open in flight when its client shuts down may never return (`connector.daemon_pool`). Does not wait."""
        self._ahead.clear()
        self._pool.shutdown(then=release_client)

    def _take_ahead(self, split: str, state: SplitState) -> Future | None:
        ahead = self._ahead.pop(split, None)
        if ahead is None:
            return None
        if ahead[0] == state:
            return ahead[1]
        log.info("split %s: the reader opened ahead is not used (its state changed); it closes", split)
        ahead[1].add_done_callback(self._close_opened)
        return None

    def _close_opened(self, future: Future) -> None:
        if not future.cancelled() and future.exception() is None:
            self.close_later(future.result().close)
