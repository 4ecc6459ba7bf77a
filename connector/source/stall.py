"""Telling a stalled split from an idle one.

A split is idle when its reader has read everything the partition holds: nothing arrives, and nothing should.
It is stalled when nothing arrives while the partition holds entries after the split's position (a broker that
cannot read its storage, a frozen broker, a lost dispatch). From outside, both look the same: a reader whose
`read_next` times out. What tells them apart is the split's lag, sampled from the admin API in the background
(`connector.source.lag.LagSampler`): only a sample taken after the last message arrived counts.

No broker and no Flink here: the lag samples and the clock are given.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from connector.errors import SplitStalledError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LagSample:
    """Entries the split was behind its partition's end (None: the admin API did not answer), and when
    (`time.monotonic()` seconds)."""

    entries_behind: int | None
    taken_at: float
    error: str | None = None


class StallWatch:
    """Watches one split: `received()` after every poll that read messages, `idle(position)` after every poll whose
    read timed out before any message (not one that finds the split at its stop).

    `idle` warns once the split has received nothing for `warn_after_s` while a later lag sample shows entries
    after its position, and raises `SplitStalledError` (naming split, position and backlog) once that has lasted
    `fail_after_s`. A sample showing no entries behind means the split is caught up: idle, never a stall. A
    failed sample (admin API not answering) after the last message counts as a stall too: a frozen broker answers
    neither its readers nor its admin API.
    """

    def __init__(self, split: str, sample: Callable[[], LagSample | None], warn_after_s: float, fail_after_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._split = split
        self._sample = sample
        self._warn_after_s = warn_after_s
        self._fail_after_s = fail_after_s
        self._clock = clock
        self._last_received = clock()
        self._warned = False

    def received(self) -> None:
        self._last_received = self._clock()
        if self._warned:
            log.info("split %s receives messages again", self._split)
            self._warned = False

    def idle(self, position: Callable[[], str]) -> None:
        """Called after a poll that returned nothing; `position()` describes where the split stands (asked only
        when there is something to report)."""
        waited = self._clock() - self._last_received
        if waited < self._warn_after_s:
            return
        sample = self._sample()
        if sample is None or sample.taken_at <= self._last_received:
            return  # no evidence yet either way
        if sample.entries_behind == 0:
            self._last_received = sample.taken_at  # caught up: idle, and the stall clock starts again
            return
        backlog = (f"{sample.entries_behind} entries after it on the broker" if sample.entries_behind is not None
                   else f"its backlog unknown: the admin API did not answer ({sample.error})")
        if waited >= self._fail_after_s:
            raise SplitStalledError(
                f"split {self._split} stalled: no message for {waited:.0f} s at position {position()}, {backlog} "
                f"(splitStallTimeoutMs {self._fail_after_s * 1000:.0f}). The broker is not delivering stored "
                "messages; its log says why. The job restarts from its last checkpoint with a new reader.")
        if not self._warned:
            self._warned = True
            log.warning("split %s receives nothing at position %s for %.0f s, %s; the job fails if this lasts "
                        "%.0f s", self._split, position(), waited, backlog, self._fail_after_s)
