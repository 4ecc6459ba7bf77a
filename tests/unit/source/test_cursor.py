"""Start and stop cursors, without a broker or Flink."""

from __future__ import annotations

import pulsar
import pytest

from checkpoint.position import Position
from connector.source.cursor import StartCursor, StartKind, StopCursor


def mid(ledger: int, entry: int, batch: int = -1) -> bytes:
    return pulsar.MessageId(0, ledger, entry, batch).serialize()


def test_message_id_stops_exclusive_and_inclusive() -> None:
    at, after = StopCursor.at_message_id(mid(2, 5, 1)), StopCursor.after_message_id(mid(2, 5, 1))
    assert not at.excludes(Position(2, 5, 0), 0, 0)
    assert at.excludes(Position(2, 5, 1), 0, 0)
    assert not after.excludes(Position(2, 5, 1), 0, 0)
    assert after.excludes(Position(2, 5, 2), 0, 0)
    assert after.reached_at(Position(2, 5, 1), None) and not after.reached_at(Position(2, 5, 0), None)
    assert not at.reached_at(Position(2, 5, 1), None)


def test_a_stop_after_a_whole_entry_is_reached_only_past_a_batched_message_of_it() -> None:
    """A batched message of the entry does not tell whether it is the entry's last: the split ends on a message
    past the entry, or once the partition is drained."""
    for stop, latest in ((StopCursor.after_message_id(mid(2, 5)), None), (StopCursor.latest(), Position(2, 5))):
        assert not stop.reached_at(Position(2, 5, 0), latest) and not stop.excludes(Position(2, 5, 7), 0, 0, latest)
        assert stop.reached_at(Position(2, 5, -1), latest), "a message not batched is the whole entry"
        assert stop.ends_when_drained(Position(2, 5, 3), latest)
        assert not stop.ends_when_drained(Position(2, 4, 3), latest) and not stop.ends_when_drained(
            Position(2, 5, -1), latest)
    assert not StopCursor.after_message_id(mid(2, 5, 1)).ends_when_drained(Position(2, 5, 1), None)
    assert not StopCursor.at_message_id(mid(2, 5)).ends_when_drained(Position(2, 5, 0), None)


def test_time_stops_at_and_after() -> None:
    assert StopCursor.at_publish_time(100).excludes(Position(1, 1), 100, 0)
    assert not StopCursor.after_publish_time(100).excludes(Position(1, 1), 100, 0)
    assert StopCursor.after_publish_time(100).excludes(Position(1, 1), 101, 0)
    assert StopCursor.at_event_time(50).excludes(Position(1, 1), 0, 50)
    assert not StopCursor.after_event_time(50).excludes(Position(1, 1), 0, 50)


def test_latest_stop_uses_the_position_resolved_at_split_start() -> None:
    latest = StopCursor.latest()
    last = Position(4, 2, 7)
    assert not latest.excludes(Position(4, 2, 7), 0, 0, last)
    assert latest.excludes(Position(4, 3, 0), 0, 0, last)
    assert latest.reached_at(Position(4, 2, 7), last)
    assert not latest.reached_at(None, last)
    assert latest.reached_at(None, Position(-1, -1)), "an empty partition is done at once"
    with pytest.raises(ValueError, match="resolved"):
        latest.excludes(Position(1, 1), 0, 0)


@pytest.mark.parametrize("stop, latest", [
    (StopCursor.latest(), Position(2, 2, -1)), (StopCursor.latest(), Position(2, 2, 1)),
    (StopCursor.at_message_id(mid(2, 2)), None), (StopCursor.at_message_id(mid(2, 2, 1)), None),
    (StopCursor.after_message_id(mid(2, 2)), None), (StopCursor.after_message_id(mid(2, 2, 1)), None)])
def test_a_message_below_checks_from_is_neither_past_the_stop_nor_at_it(stop: StopCursor, latest) -> None:
    bound = stop.checks_from(latest)
    assert bound == (2, 2)
    keys = [(ledger, entry, batch) for ledger in (1, 2, 3) for entry in (0, 1, 2, 3) for batch in (-1, 0, 1, 2)]
    for key in keys:
        if key < bound:
            assert not stop.excludes(Position(*key), 0, 0, latest), key
            assert not stop.reached_at(Position(*key), latest), key
    assert any(stop.excludes(Position(*key), 0, 0, latest) or stop.reached_at(Position(*key), latest)
               for key in keys if key[:2] == bound), "the stop's own entry still needs the checks"


def test_time_stops_and_an_empty_topics_latest_check_every_message() -> None:
    assert StopCursor.at_publish_time(100).checks_from(None) == ()
    assert StopCursor.after_event_time(100).checks_from(None) == ()
    assert StopCursor.latest().checks_from(Position(-1, -1)) == ()
    assert not (0, 0, -1) < (), "no key compares below ()"


def test_publish_time_stop_in_the_past_ends_an_idle_partition_event_time_never_does() -> None:
    assert StopCursor.at_publish_time(1_000).idle_past(now_ms=1_000)
    assert not StopCursor.at_publish_time(5_000).idle_past(now_ms=1_000)
    assert not StopCursor.at_event_time(1_000).idle_past(now_ms=9_000)
    assert not StopCursor.never().is_bounded and StopCursor.latest().is_bounded


def test_cursors_reject_bad_arguments_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="epoch milliseconds"):
        StopCursor.at_publish_time(-1)
    with pytest.raises(TypeError, match="pulsar.MessageId"):
        StartCursor.from_message_id("not an id")
    cursor = StartCursor.from_message_id(pulsar.MessageId(0, 1, 2, -1), inclusive=False)
    assert cursor.kind is StartKind.MESSAGE_ID and not cursor.inclusive
