"""Per-split watermarks of one reader subtask: the smallest split's event time rules, idle splits step aside."""

from __future__ import annotations

import datetime

from pyflink.common.time import Instant

from connector.source.watermarks import SplitWatermarks, WatermarkColumns

BOUND = 10


def stamps(watermarks: SplitWatermarks, split: str, now_s: float, times: list[int | None]) -> list[int | None]:
    stamp = watermarks.stamper(split, now_s)
    return [stamp(t) for t in times]


def two_splits(idle_timeout_ms: int = 5000) -> SplitWatermarks:
    watermarks = SplitWatermarks(BOUND, idle_timeout_ms)
    watermarks.track("a", 0.0)
    watermarks.track("b", 0.0)
    return watermarks


def test_a_split_that_has_shown_no_event_time_holds_the_watermark() -> None:
    watermarks = two_splits()
    assert stamps(watermarks, "a", 0.1, [1000, 2000]) == [None, None]


def test_the_split_furthest_behind_sets_the_watermark_while_a_backlog_is_read() -> None:
    watermarks = two_splits()
    stamps(watermarks, "a", 0.1, [1000, 2000])  # "a" read far ahead first
    assert stamps(watermarks, "b", 0.2, [500, 600]) == [490, 590]
    assert stamps(watermarks, "a", 0.3, [3000]) == [590]
    assert stamps(watermarks, "b", 0.4, [2500, 3500]) == [2490, 2990]


def test_a_split_quiet_for_the_idle_timeout_no_longer_holds_the_watermark_until_its_next_record() -> None:
    watermarks = two_splits(idle_timeout_ms=5000)
    assert stamps(watermarks, "a", 4.0, [1000]) == [None]
    assert stamps(watermarks, "a", 5.5, [2000]) == [1990]
    stamps(watermarks, "b", 6.0, [1500])
    assert stamps(watermarks, "a", 6.5, [2500]) == [1490]


def test_a_removed_split_no_longer_holds_the_watermark() -> None:
    watermarks = two_splits()
    watermarks.untrack("b")
    assert stamps(watermarks, "a", 0.1, [1000]) == [990]


def test_records_without_event_time_do_not_move_the_watermark_but_keep_their_split_active() -> None:
    watermarks = two_splits(idle_timeout_ms=1000)
    stamps(watermarks, "a", 0.0, [1000])
    stamps(watermarks, "b", 0.0, [800])
    assert stamps(watermarks, "b", 0.9, [None]) == [790]
    assert stamps(watermarks, "a", 1.5, [2000]) == [790]  # "b" gave a record 0.6 s ago: still active


def test_the_watermark_never_passes_a_split_own_largest_time_minus_the_bound() -> None:
    watermarks = SplitWatermarks(BOUND, 5000)
    watermarks.track("only", 0.0)
    assert stamps(watermarks, "only", 0.1, [100, 50, 200]) == [90, 90, 190]


def test_watermark_columns_convert_instants_and_naive_utc_datetimes_to_millis_and_back() -> None:
    instant = WatermarkColumns(0, 1, instant=True, max_out_of_orderness_ms=0, idle_timeout_ms=0)
    assert instant.millis(Instant.of_epoch_milli(1_700_000_000_123)) == 1_700_000_000_123
    assert instant.value(1_700_000_000_123).to_epoch_milli() == 1_700_000_000_123
    local = WatermarkColumns(0, 1, instant=False, max_out_of_orderness_ms=0, idle_timeout_ms=0)
    moment = datetime.datetime(2026, 12, 3, 4, 5, 6, 789_000)
    assert local.value(local.millis(moment)) == moment
    assert local.millis(None) is None and local.value(None) is None
