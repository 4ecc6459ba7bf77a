"""A stalled split (nothing arrives, the partition holds more) fails; an idle, caught-up one never does."""

from __future__ import annotations

import logging

import pytest

from connector.errors import SplitStalledError
from connector.source.stall import LagSample, StallWatch


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def watch(clock: Clock, samples: list[LagSample | None]) -> StallWatch:
    return StallWatch("persistent://public/default/t-partition-0", lambda: samples[-1], warn_after_s=15,
                      fail_after_s=60, clock=clock)


def test_a_backlog_that_does_not_arrive_warns_then_fails_naming_split_position_and_backlog(caplog) -> None:
    clock, samples = Clock(), [None]
    stalls = watch(clock, samples)
    clock.now += 14
    samples.append(LagSample(480, clock.now))
    stalls.idle(lambda: "(7,41,-1,0)")  # before the warning time: nothing
    clock.now += 2
    with caplog.at_level(logging.WARNING):
        stalls.idle(lambda: "(7,41,-1,0)")
    assert "t-partition-0 receives nothing at position (7,41,-1,0) for 16 s, 480 entries after it" in caplog.text
    clock.now += 44
    with pytest.raises(SplitStalledError, match=r"split persistent://public/default/t-partition-0 stalled: no "
                       r"message for 60 s at position \(7,41,-1,0\), 480 entries after it on the broker"):
        stalls.idle(lambda: "(7,41,-1,0)")


def test_a_caught_up_partition_is_idle_forever() -> None:
    clock, samples = Clock(), [None]
    stalls = watch(clock, samples)
    for _ in range(100):
        clock.now += 10
        samples.append(LagSample(0, clock.now - 1))
        stalls.idle(lambda: "(7,41,-1,0)")


def test_only_samples_taken_after_the_last_message_count() -> None:
    clock, samples = Clock(), [LagSample(500, 1000.0)]
    stalls = watch(clock, samples)
    clock.now += 30
    stalls.received()  # it read the backlog the sample saw
    clock.now += 100
    stalls.idle(lambda: "(9,0,-1,0)")  # the old sample says nothing about now


def test_messages_arriving_reset_the_stall_clock() -> None:
    clock, samples = Clock(), [None]
    stalls = watch(clock, samples)
    for _ in range(10):
        clock.now += 50
        samples.append(LagSample(10, clock.now - 1))
        stalls.idle(lambda: "(1,1,-1,0)")
        stalls.received()


def test_a_broker_that_answers_nothing_counts_as_stalled() -> None:
    clock, samples = Clock(), [None]
    stalls = watch(clock, samples)
    clock.now += 61
    samples.append(LagSample(None, clock.now - 5, "http://127.0.0.1:8080 not reachable: timed out"))
    with pytest.raises(SplitStalledError, match="backlog unknown: the admin API did not answer"):
        stalls.idle(lambda: "its start (nothing read yet)")
