"""Watermarks per split, carried in the rows: how a Python source gives Flink per-split event time.

A Python operator cannot emit watermarks, and a watermark generated after the source sees one subtask's splits
mixed: while it catches up on a backlog, the split read last would push the watermark past the others' records.
So each reader subtask tracks every split's event time itself (`SplitWatermarks`) and writes into each row the
watermark that row allows (`WatermarkColumns`); the table's WATERMARK clause is that column, and Flink's watermark
operator keeps the largest value seen.

The watermark of a subtask is the smallest of its splits' largest event times, minus the bound. A split holds it
back until it shows its first event time, and stops holding it once it has given no record for the idle timeout
(from its next record on it holds it again; its records older than the watermark by then are late, as with
Flink's own idleness). No Flink runtime here; times are epoch milliseconds.
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
    __slots__ = ("largest_ms", "last_record_s")

    def __init__(self, now_s: float) -> None:
        self.largest_ms: int | None = None
        self.last_record_s = now_s


class SplitWatermarks:
    """The event time of one reader subtask's splits and the watermark they allow; see the module doc."""

    def __init__(self, max_out_of_orderness_ms: int, idle_timeout_ms: int) -> None:
        self._bound_ms = max_out_of_orderness_ms
        self._idle_s = idle_timeout_ms / 1000
        self._splits: dict[str, _Split] = {}

    def track(self, split: str, now_s: float) -> None:
        """`split` joins the subtask: it holds the watermark until its first event time or the idle timeout."""
        self._splits[split] = _Split(now_s)

    def untrack(self, split: str) -> None:
        self._splits.pop(split, None)

    def stamper(self, split: str, now_s: float) -> Callable[[int | None], int | None]:
        """For the records of one poll of `split`, called in their order: a record's event time (None if it has
        none) -> the watermark it carries, or None while some split that is not idle has shown no event time.
        Costs one pass over the subtask's splits per poll and O(1) per record."""
        others: int | None = None
        held = False
        for name, other in self._splits.items():
            if name == split or now_s - other.last_record_s > self._idle_s:
                continue
            if other.largest_ms is None:
                held = True
                break
            others = other.largest_ms if others is None else min(others, other.largest_ms)
        state = self._splits[split]
        bound = self._bound_ms

        def stamp(event_ms: int | None) -> int | None:
            state.last_record_s = now_s
            if event_ms is not None and (state.largest_ms is None or event_ms > state.largest_ms):
                state.largest_ms = event_ms
            if held or state.largest_ms is None:
                return None
            return (state.largest_ms if others is None else min(others, state.largest_ms)) - bound

        return stamp
