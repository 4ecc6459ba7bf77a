"""A split's metrics: counters and gauges in the metric group `split=<tenant/namespace/topic-partition-N>`.

No Flink import: the group is anything with `counter(name)`, `gauge(name, fn)` (a PyFlink metric group).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pulsar


class SplitMetrics:
    """Counters: numRecordsIn, numBytesIn (every message read, decodable or not); decodeErrors (every message
    that did not decode, whatever the policy); skippedMessages and deadLetteredMessages (SKIP and DEAD_LETTER).
    Gauges: lastPublishTime (ms) and lag (entries behind the partition's end, sampled every lagSampleIntervalMs;
    -1 until known), registered once the split reads its first message or a lag sample finds it behind: PyFlink
    evaluates and ships every gauge at every bundle end (measured: 2,000 gauges of 1,000 idle splits cost about a
    quarter of a core), so a split that is idle and caught up has none."""

    def __init__(self, group: Any, lag: Callable[[], int]) -> None:
        self._records = group.counter("numRecordsIn")
        self._bytes = group.counter("numBytesIn")
        self.decode_errors = group.counter("decodeErrors")
        self.skipped = group.counter("skippedMessages")
        self.dead_lettered = group.counter("deadLetteredMessages")
        self._last_publish_time = 0
        self._group, self._lag = group, lag
        self._gauges_registered = False

    def counted(self, messages: Iterable[pulsar.Message]) -> Iterator[pulsar.Message]:
        """`messages` (one poll, before decoding), passed on one by one and counted once they are all passed, also
        when there were none (that may register the gauges)."""
        count = size = 0
        last = None
        try:
            for last in messages:
                count += 1
                size += len(last.data())
                yield last
        finally:
            if count:
                self._records.inc(count)
                self._bytes.inc(size)
                self._last_publish_time = last.publish_timestamp()
            if not self._gauges_registered and (count or self._lag() > 0):
                self._group.gauge("lastPublishTime", lambda: self._last_publish_time)
                self._group.gauge("lag", self._lag)
                self._gauges_registered = True
