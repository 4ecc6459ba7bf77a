"""Tick pacing without Flink or a broker."""

from __future__ import annotations

from connector.source.pacing import StepTimers, TickPacer, Turns, step_ms, ticks_per_second


def test_young_ticks_are_steps() -> None:
    pacer = TickPacer(10)
    assert pacer.due(stamp_ms=1_000, now_ms=1_150, now_monotonic_s=5.0)
    pacer.stepped(5.0)
    assert pacer.due(stamp_ms=1_010, now_ms=1_210, now_monotonic_s=5.06)


def test_ticks_that_waited_behind_a_long_step_are_passed_over() -> None:
    pacer = TickPacer(10)
    assert pacer.due(stamp_ms=40_000, now_ms=40_005, now_monotonic_s=0.0)  # a tick that met no backlog
    pacer.stepped(10.0)  # a step that ended at 10.0 s; ticks stamped during it are now 600-1,500 ms old
    for age in range(600, 1_500, 10):
        assert not pacer.due(stamp_ms=50_000 - age, now_ms=50_000, now_monotonic_s=10.05)
    assert pacer.due(stamp_ms=49_950, now_ms=50_000, now_monotonic_s=10.06)  # a young one again


def test_a_constant_clock_skew_cancels_out() -> None:
    for skew_ms in (5_000, -5_000):  # the reader's clock runs 5 s ahead of discovery's, or behind it
        pacer = TickPacer(10)
        assert pacer.due(stamp_ms=1_000, now_ms=1_005 + skew_ms, now_monotonic_s=1.0)
        pacer.stepped(1.0)
        assert pacer.due(stamp_ms=1_100, now_ms=1_110 + skew_ms, now_monotonic_s=1.1)
        assert not pacer.due(stamp_ms=1_200, now_ms=1_800 + skew_ms, now_monotonic_s=1.2)  # 600 ms in a queue


def test_a_split_whose_ticks_all_look_stale_still_steps_once_per_starved_after() -> None:
    pacer = TickPacer(10)  # e.g. the reader's clock stepped 10 s forward after its first tick
    assert pacer.starved_after_ms == 5_000
    assert pacer.due(stamp_ms=1_000, now_ms=1_005, now_monotonic_s=1.0)
    pacer.stepped(1.0)
    assert not pacer.due(stamp_ms=2_000, now_ms=12_000, now_monotonic_s=2.0)
    assert not pacer.due(stamp_ms=5_900, now_ms=15_900, now_monotonic_s=5.9)
    assert pacer.due(stamp_ms=6_000, now_ms=16_000, now_monotonic_s=6.0)


def test_an_unstamped_tick_is_always_due() -> None:
    pacer = TickPacer(10)
    pacer.stepped(1.0)
    assert pacer.due(stamp_ms=0, now_ms=10**12, now_monotonic_s=1.0)


def test_stale_after_follows_the_poll_interval_with_a_floor() -> None:
    assert TickPacer(10).stale_after_ms == 500
    assert TickPacer(100).stale_after_ms == 1_000


def test_ticks_delayed_by_python_bundles_alone_are_steps() -> None:
    """At 2,000 records/s with no backlog, ticks reached the readers up to 436 ms later than the earliest one (two
    Python bundles of 100 ms and a step on the way). Passed over as stale, a split stepped only on the 5 s starvation
    fallback and records waited up to 5.2 s."""
    pacer = TickPacer(10)
    assert pacer.due(stamp_ms=1_000, now_ms=1_080, now_monotonic_s=1.0)  # the smallest delay: 80 ms
    pacer.stepped(1.0)
    for n, delay_ms in enumerate((281, 516, 383, 490, 300, 346)):  # 201-436 ms above the smallest
        stamp_ms = 2_000 + 100 * n
        assert pacer.due(stamp_ms=stamp_ms, now_ms=stamp_ms + delay_ms, now_monotonic_s=1.1 + 0.1 * n)
        pacer.stepped(1.1 + 0.1 * n)


def test_a_split_that_found_nothing_waits_the_idle_gap_before_its_next_poll() -> None:
    pacer = TickPacer(10)
    pacer.stepped(1.0, found_messages=False)
    assert not pacer.due(stamp_ms=5_000, now_ms=5_001, now_monotonic_s=1.001)  # the rest of the burst
    assert not pacer.due(stamp_ms=5_010, now_ms=5_011, now_monotonic_s=1.019)
    assert pacer.due(stamp_ms=5_020, now_ms=5_021, now_monotonic_s=1.021)


def test_a_split_that_is_reading_steps_on_every_young_tick() -> None:
    pacer = TickPacer(10)
    pacer.stepped(1.0, found_messages=True)
    assert pacer.due(stamp_ms=5_000, now_ms=5_001, now_monotonic_s=1.0001)


def test_the_idle_gap_is_two_poll_intervals() -> None:
    assert TickPacer(10).idle_gap_ms == 20


def test_the_idle_gap_doubles_while_a_split_stays_idle_up_to_its_cap() -> None:
    pacer = TickPacer(10)
    assert pacer.max_idle_gap_ms == 100
    now, gaps = 1.0, []
    for _ in range(6):
        gaps.append(_gap_after_empty_step(pacer, now))
        now += gaps[-1] / 1000
    assert gaps == [20, 40, 80, 100, 100, 100]


def _gap_after_empty_step(pacer: TickPacer, now: float) -> int:
    """Steps `pacer` at `now` finding nothing; returns the ms until its next tick is due, to the nearest 10 (float
    seconds round)."""
    pacer.stepped(now, found_messages=False)
    wait_ms = 1
    while not pacer.due(stamp_ms=10**6, now_ms=10**6, now_monotonic_s=now + wait_ms / 1000):
        wait_ms += 1
    return round(wait_ms, -1)


def test_a_split_that_found_nothing_for_five_seconds_is_polled_on_every_burst_of_the_driver() -> None:
    pacer = TickPacer(10)
    assert (pacer.quiet_after_ms, pacer.quiet_gap_ms) == (5_000, 900)
    now, gaps = 1.0, []
    while now < 9.0:
        gaps.append(_gap_after_empty_step(pacer, now))
        now += gaps[-1] / 1000
    quiet = gaps.index(900)
    assert 4.9 < sum(gaps[:quiet]) / 1000 < 5.1 and set(gaps[:quiet]) <= {20, 40, 80, 100}
    assert set(gaps[quiet:]) == {900}  # under the bursts' second: a burst 50 ms early still polls it


def test_a_split_that_finds_a_record_is_back_to_every_tick_also_when_quiet_and_is_not_quiet_again_at_once() -> None:
    pacer = TickPacer(10)
    for step in range(8):
        pacer.stepped(1.0 + step, found_messages=False)
    pacer.stepped(10.0, found_messages=True)
    assert pacer.due(stamp_ms=5_000, now_ms=5_001, now_monotonic_s=10.0001)
    assert _gap_after_empty_step(pacer, 10.001) == 20


def test_the_driver_ticks_once_per_poll_interval_from_one_to_ten_times_a_second() -> None:
    assert ticks_per_second(10) == 10  # the default poll interval
    assert ticks_per_second(1) == 10
    assert ticks_per_second(250) == 4
    assert ticks_per_second(5_000) == 1


def test_the_timer_chain_steps_every_50_ms_or_every_poll_interval_if_longer() -> None:
    assert step_ms(10) == 50
    assert step_ms(200) == 200
    assert StepTimers(200).step_ms == 200


def test_a_step_timer_that_fired_on_time_is_a_step_and_one_late_behind_a_backlog_is_not() -> None:
    pacer = TickPacer(10)
    pacer.stepped(1.0)
    assert pacer.due_on_timer(late_ms=120, now_monotonic_s=1.05)  # registered at a bundle end, fired at once
    pacer.stepped(1.05)
    assert not pacer.due_on_timer(late_ms=501, now_monotonic_s=1.1)


def test_a_late_step_timer_is_a_step_once_the_split_starved() -> None:
    pacer = TickPacer(10)
    pacer.stepped(1.0)
    assert not pacer.due_on_timer(late_ms=3_000, now_monotonic_s=5.9)
    assert pacer.due_on_timer(late_ms=3_000, now_monotonic_s=6.0)


def test_a_step_timer_waits_out_the_idle_gap_as_a_tick_does() -> None:
    pacer = TickPacer(10)
    pacer.stepped(1.0, found_messages=False)
    assert not pacer.due_on_timer(late_ms=0, now_monotonic_s=1.019)
    assert pacer.due_on_timer(late_ms=0, now_monotonic_s=1.021)


def test_a_split_is_busy_from_a_step_that_found_messages_until_it_is_quiet() -> None:
    pacer = TickPacer(10)
    assert not pacer.busy  # not stepped yet: the driver's ticks step it first
    pacer.stepped(1.0, found_messages=False)
    assert not pacer.busy
    pacer.stepped(2.0, found_messages=True)
    assert pacer.busy
    pacer.stepped(2.1, found_messages=False)
    pacer.stepped(7.0, found_messages=False)
    assert pacer.busy  # 4.9 s of nothing
    pacer.stepped(7.2, found_messages=False)
    assert not pacer.busy
    pacer.stepped(8.0, found_messages=True)
    assert pacer.busy


def test_a_key_has_a_step_timer_while_busy_and_at_most_one_pending() -> None:
    timers = StepTimers(10)
    assert timers.next("k", busy=False, now_ms=1_000) is None
    assert timers.next("k", busy=True, now_ms=1_000) == 1_050
    assert timers.next("k", busy=True, now_ms=1_010) is None  # pending
    assert timers.next("other", busy=True, now_ms=1_010) == 1_060  # each key its own chain
    assert timers.fired("k", 1_050)
    assert not timers.fired("k", 1_050)  # fired once
    assert timers.next("k", busy=True, now_ms=1_120) == 1_170
    assert timers.fired("k", 1_170)
    assert timers.next("k", busy=False, now_ms=1_200) is None  # quiet: the chain ends


def test_a_step_timer_restored_from_a_checkpoint_is_not_this_runs() -> None:
    timers = StepTimers(10)
    assert not timers.fired("k", 900)  # nothing pending in a fresh run
    assert timers.next("k", busy=True, now_ms=1_000) == 1_050
    assert not timers.fired("k", 1_040)  # the old run's timer, not the pending one
    assert timers.next("k", busy=True, now_ms=1_045) is None  # the chain still waits for its own


def test_a_step_timer_long_overdue_is_taken_as_lost_and_replaced() -> None:
    timers = StepTimers(10)
    assert timers.next("k", busy=True, now_ms=1_000) == 1_050
    assert timers.next("k", busy=True, now_ms=3_050) is None
    assert timers.next("k", busy=True, now_ms=3_051) == 3_101
    assert not timers.fired("k", 1_050)
    assert timers.fired("k", 3_101)


def test_each_split_of_a_key_goes_first_in_turn_and_keys_turn_apart() -> None:
    turns = Turns()
    members = ["a", "b", "c"]
    assert [turns.order("k", members) for _ in range(4)] == [
        ["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"], ["a", "b", "c"]]
    assert turns.order("other", members) == ["a", "b", "c"], "another key has its own turn"
    assert turns.order("k", ["a", "b"]) == ["b", "a"], "a key whose splits changed goes on from its turn"
    assert turns.order("k", ["only"]) == ["only"]
    assert turns.order("k", []) == []
    assert turns.order("k", ["a", "b"]) == ["a", "b"], "a call with one split due or none does not use up a turn"
