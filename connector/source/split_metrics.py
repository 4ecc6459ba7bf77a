"""A split's metrics: counters and gauges in the metric group `split=<tenant/namespace/topic-partition-N>`.

No Flink import: the group is anything with `counter(name)`, `gauge(name, fn)` (a PyFlink metric group).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulsar


class SplitMetrics:
    """Counters: numRecordsIn, numBytesIn (every message read, decodable or not); decodeErrors (every message
    that did not decode, whatever the policy); skippedMessages and deadLetteredMessages (SKIP and DEAD_LETTER).
    Gauges: lastPublishTime (ms) and lag (entries behind the partition's end, sampled every lagSampleIntervalMs;
    -1 until known)."""

    def __init__(self, group: Any, lag: Callable[[], int]) -> None:
        self._records = group.counter("numRecordsIn")
        self._bytes = group.counter("numBytesIn")
        self.decode_errors = group.counter("decodeErrors")
        self.skipped = group.counter("skippedMessages")
        self.dead_lettered = group.counter("deadLetteredMessages")
        self._last_publish_time = 0
        group.gauge("lastPublishTime", lambda: self._last_publish_time)
        group.gauge("lag", lag)

    def record(self, messages: list[pulsar.Message]) -> None:
        """Counts a polled batch (before decoding)."""
        if messages:
            self._records.inc(len(messages))
            self._bytes.inc(sum(len(message.data()) for message in messages))
            self._last_publish_time = messages[-1].publish_timestamp()
