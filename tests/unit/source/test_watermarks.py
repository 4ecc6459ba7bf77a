"""Per-split watermarks of one reader subtask: none before all its splits are known, then the smallest split's event
time rules, and idle splits step aside."""

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
    watermarks.round(1)
    watermarks.track("a")
    watermarks.track("b")
    watermarks.round(2)  # a later discovery round: every split of the subtask is known
    return watermarks


def test_rows_carry_no_watermark_until_an_element_of_a_later_discovery_round_arrives() -> None:
    watermarks = SplitWatermarks(BOUND, 5000)
    watermarks.round(7)
    watermarks.track("a")
    assert not watermarks.ready
    assert stamps(watermarks, "a", 0.1, [1000]) == [None]
    watermarks.round(7)  # the same round: another of the subtask's keys may still name splits not seen yet
    watermarks.track("b")
    assert not watermarks.ready
    assert stamps(watermarks, "b", 0.2, [900]) == [None]
    watermarks.round(8)
    assert watermarks.ready
    assert stamps(watermarks, "a", 0.3, [1100]) == [890]


def test_an_element_of_an_earlier_round_than_the_first_does_not_make_it_ready() -> None:
    watermarks = SplitWatermarks(BOUND, 5000)
    watermarks.round(7)
    watermarks.round(6)
    assert not watermarks.ready


def test_a_split_that_has_shown_no_event_time_holds_the_watermark() -> None:
    watermarks = two_splits()
    assert stamps(watermarks, "a", 0.1, [1000, 2000]) == [None, None]


def test_the_split_furthest_behind_sets_the_watermark_while_a_backlog_is_read() -> None:
    watermarks = two_splits()
    stamps(watermarks, "a", 0.1, [1000, 2000])  # "a" read far ahead first
    assert stamps(watermarks, "b", 0.2, [500, 600]) == [490, 590]
    assert stamps(watermarks, "a", 0.3, [3000]) == [590]
    assert stamps(watermarks, "b", 0.4, [2500, 3500]) == [2490, 2990]


def test_a_split_whose_polls_found_nothing_for_the_idle_timeout_stops_holding_until_its_next_record() -> None:
    watermarks = two_splits(idle_timeout_ms=5000)
    assert stamps(watermarks, "a", 4.0, [1000]) == [None]  # "b" has shown no event time
    watermarks.found_nothing("b", 4.0)
    assert stamps(watermarks, "a", 8.0, [2000]) == [None]  # quiet for 4 s only
    watermarks.found_nothing("b", 8.5)  # still quiet since 4.0
    assert stamps(watermarks, "a", 9.5, [2500]) == [2490]
    assert stamps(watermarks, "b", 10.0, [1500]) == [1490]
    assert stamps(watermarks, "a", 10.5, [3000]) == [1490]


def test_a_split_waiting_behind_other_work_longer_than_the_idle_timeout_still_holds() -> None:
    watermarks = two_splits(idle_timeout_ms=1000)
    stamps(watermarks, "b", 0.0, [800])
    assert stamps(watermarks, "a", 5.0, [2000]) == [790]  # "b" not polled for 5 s: not idle, it may have a backlog


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
    watermarks.track("only")
    watermarks.round(1)
    watermarks.round(2)
    assert stamps(watermarks, "only", 0.1, [100, 50, 200]) == [90, 90, 190]


def test_watermark_columns_convert_instants_and_naive_utc_datetimes_to_millis_and_back() -> None:
    instant = WatermarkColumns(0, 1, instant=True, max_out_of_orderness_ms=0, idle_timeout_ms=0)
    assert instant.millis(Instant.of_epoch_milli(1_700_000_000_123)) == 1_700_000_000_123
    assert instant.value(1_700_000_000_123).to_epoch_milli() == 1_700_000_000_123
    local = WatermarkColumns(0, 1, instant=False, max_out_of_orderness_ms=0, idle_timeout_ms=0)
    moment = datetime.datetime(2026, 12, 3, 4, 5, 6, 789_000)
    assert local.value(local.millis(moment)) == moment
    assert local.millis(None) is None and local.value(None) is None
