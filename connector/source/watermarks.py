"""Watermarks per split, carried in the rows: how a Python source gives Flink per-split event time.

A Python operator cannot emit watermarks, and a watermark generated after the source sees one subtask's splits
mixed: while it catches up on a backlog, the split read last would push the watermark past the others' records.
So each reader subtask tracks every split's event time itself (`SplitWatermarks`) and writes into each row the
watermark that row allows (`WatermarkColumns`); the table's WATERMARK clause is that column, and Flink's watermark
operator keeps the largest value seen.

The watermark of a subtask is the smallest of its splits' largest event times, minus the bound. Rows carry no
watermark until the subtask knows all of its splits: readers open splits as their reader keys' elements arrive, and
all elements of one discovery round reach a subtask (through one FIFO channel) before any of the next, so the
splits are all known once an element of a later round than the first arrives (`round`, `ready`). An unbounded
subtask therefore reads nothing before it is `ready`, one tick after its first element: rows read earlier would carry
no watermark, and a backlog read whole in the first round left no row that carries one, so no window ever closed
(3 of 40 runs of the streaming window test in `tests/integration/test_table_sql.py`, 2026-12-07). A bounded read has
one round only, so its rows carry none and its windows close at the end of the input. A split holds the watermark
until it shows its first event time, and stops holding it once it is idle: its polls found nothing for the idle
timeout. A split waiting behind the subtask's other work (a backlog read in turns, a busy machine) is not idle:
only a poll that comes back empty counts. From its next record on an idle split holds the watermark again; its
records older than the watermark by then are late, as with Flink's own idleness. No Flink runtime here; times are
epoch milliseconds.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pyflink.common.time import Instant

_EPOCH = datetime.datetime(1970, 1, 1)
_MILLISECOND = datetime.timedelta(milliseconds=1)


@dataclass(frozen=True)
class WatermarkColumns:
    """Where a row's event time is (`time_index`) and where its watermark goes (`watermark_index`, same type).
    `instant`: the time is an `Instant` (TIMESTAMP_LTZ); otherwise a naive UTC `datetime` (TIMESTAMP)."""

    time_index: int
    watermark_index: int
    instant: bool
    max_out_of_orderness_ms: int
    idle_timeout_ms: int

    def millis(self, value: Any) -> int | None:
        if value is None:
            return None
        if self.instant:
            return value.to_epoch_milli()
        return (value - _EPOCH) // _MILLISECOND

    def value(self, millis: int | None) -> Any:
        if millis is None:
            return None
        if self.instant:
            return Instant.of_epoch_milli(millis)
        return _EPOCH + millis * _MILLISECOND


class _Split:
    __slots__ = ("largest_ms", "quiet_since_s")

    def __init__(self) -> None:
        self.largest_ms: int | None = None
        self.quiet_since_s: float | None = None  # since when its polls have found nothing; None: not quiet


class SplitWatermarks:
    """The event time of one reader subtask's splits and the watermark they allow; see the module doc."""

    def __init__(self, max_out_of_orderness_ms: int, idle_timeout_ms: int) -> None:
        self._bound_ms = max_out_of_orderness_ms
        self._idle_s = idle_timeout_ms / 1000
        self._splits: dict[str, _Split] = {}
        self._first_round: int | None = None
        self._all_known = False

    def round(self, stamp: int) -> None:
        """An element of discovery round `stamp` (rounds grow) arrived, before its splits are stepped."""
        if self._first_round is None:
            self._first_round = stamp
        elif stamp > self._first_round:
            self._all_known = True

    @property
    def ready(self) -> bool:
        """Whether the subtask knows all of its splits (an element of a later round than its first arrived), so that
        the rows it reads from now on can carry a watermark."""
        return self._all_known

    def track(self, split: str) -> None:
        """`split` joins the subtask: it holds the watermark until its first event time, or until it is idle."""
        self._splits[split] = _Split()

    def untrack(self, split: str) -> None:
        self._splits.pop(split, None)

    def found_nothing(self, split: str, now_s: float) -> None:
        """A poll of `split` came back empty."""
        state = self._splits[split]
        if state.quiet_since_s is None:
            state.quiet_since_s = now_s

    def stamper(self, split: str, now_s: float) -> Callable[[int | None], int | None]:
        """For the records of one poll of `split`, called in their order: a record's event time (None if it has
        none) -> the watermark it carries, or None while the subtask may not know all its splits or some split
        that is not idle has shown no event time. Costs one pass over the subtask's splits per poll and O(1) per
        record."""
        state = self._splits[split]
        state.quiet_since_s = None
        others: int | None = None
        held = not self._all_known
        if not held:
            for name, other in self._splits.items():
                if name == split or (other.quiet_since_s is not None and now_s - other.quiet_since_s > self._idle_s):
                    continue
                if other.largest_ms is None:
                    held = True
                    break
                others = other.largest_ms if others is None else min(others, other.largest_ms)
        bound = self._bound_ms

        def stamp(event_ms: int | None) -> int | None:
            if event_ms is not None and (state.largest_ms is None or event_ms > state.largest_ms):
                state.largest_ms = event_ms
            if held or state.largest_ms is None:
                return None
            return (state.largest_ms if others is None else min(others, state.largest_ms)) - bound

        return stamp
