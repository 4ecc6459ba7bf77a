"""SplitReader.poll over a fake client reader: no broker, no Flink."""

from __future__ import annotations

import pulsar
import pytest

from checkpoint.split_state import SplitState
from connector.source.cursor import StartCursor, StopCursor
from connector.errors import SplitReadError
from connector.source import reader as reader_module
from connector.source.reader import SplitReader

SPLIT = "persistent://public/default/orders-partition-0"


class Message:
    def __init__(self, entry: int, batch: int) -> None:
        # the client's own id type, as `pulsar.Message.message_id()` returns it (not the `pulsar.MessageId` wrapper)
        self._id = pulsar.MessageId.deserialize(pulsar.MessageId(0, 5, entry, batch).serialize())

    def message_id(self) -> pulsar.MessageId:
        return self._id


class Reader:
    """Delivers the given (entry, batch) messages in order, then times out."""

    def __init__(self, ids: list[tuple[int, int]]) -> None:
        self._messages = [Message(entry, batch) for entry, batch in ids]
        self.connected = True
        self.closed = False

    def has_message_available(self) -> bool:
        return bool(self._messages)

    def read_next(self, timeout_ms: int) -> Message:
        if not self._messages:
            raise pulsar.Timeout("nothing")
        return self._messages.pop(0)

    def is_connected(self) -> bool:
        return self.connected

    def close(self) -> None:
        self.closed = True


class Client:
    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.opened_at: list[tuple[pulsar.MessageId, bool]] = []

    def create_reader(self, topic: str, start: pulsar.MessageId, start_message_id_inclusive: bool,
                      receiver_queue_size: int) -> Reader:
        self.opened_at.append((start, start_message_id_inclusive))
        return self.reader


def ids(messages: list) -> list[tuple[int, int]]:
    return [(m.message_id().entry_id(), m.message_id().batch_index()) for m in messages]


def test_messages_the_client_delivers_again_after_a_reconnect_are_dropped() -> None:
    # As seen after a broker restart: the last messages of entry 3 came again.
    reader = Reader([(2, 0), (2, 1), (3, 0), (3, 1), (3, 0), (3, 1), (4, 0)])
    split = SplitReader(Client(reader), None, SplitState(SPLIT), StartCursor.earliest(), StopCursor.never())
    assert ids(split.poll(100, 0)) == [(2, 0), (2, 1), (3, 0), (3, 1), (4, 0)]
    assert pulsar.MessageId.deserialize(split.state.last_emitted).entry_id() == 4
    assert split.state.read_count == 5  # what it returned: message numbers stay the same on a replay


def test_a_restored_split_drops_what_it_emitted_before_the_checkpoint() -> None:
    emitted = pulsar.MessageId(0, 5, 3, 1).serialize()
    reader = Reader([(3, 1), (4, 0), (4, 1)])
    client = Client(reader)
    split = SplitReader(client, None, SplitState(SPLIT, last_emitted=emitted, read_count=40), StartCursor.earliest(),
                        StopCursor.never())
    assert client.opened_at[0][1] is False  # opened after the stored position
    assert ids(split.poll(100, 0)) == [(4, 0), (4, 1)]
    assert split.state.read_count == 42  # numbering goes on from the restored count


def test_poll_returns_at_most_max_records_and_goes_on_from_there() -> None:
    reader = Reader([(1, n) for n in range(5)])
    split = SplitReader(Client(reader), None, SplitState(SPLIT), StartCursor.earliest(), StopCursor.never())
    assert ids(split.poll(3, 0)) == [(1, 0), (1, 1), (1, 2)]
    assert ids(split.poll(3, 0)) == [(1, 3), (1, 4)]
    assert list(split.poll(3, 0)) == []


def test_poll_reads_a_chunk_at_a_time_and_its_state_covers_what_was_yielded(monkeypatch) -> None:
    monkeypatch.setattr(reader_module, "CHUNK", 2)
    reader = Reader([(1, n) for n in range(5)])
    split = SplitReader(Client(reader), None, SplitState(SPLIT), StartCursor.earliest(), StopCursor.never())
    messages = split.poll(5, 0)
    assert len(reader._messages) == 5, "nothing is read before it is asked for"
    assert ids([next(messages), next(messages)]) == [(1, 0), (1, 1)]
    assert len(reader._messages) == 3, "one chunk read"
    assert ids([next(messages)]) == [(1, 2)]
    assert len(reader._messages) == 1, "the next chunk read once the first was taken"
    assert split.state.read_count == 0, "the state advances when the poll ends"
    messages.close()
    assert split.state.read_count == 3
    assert pulsar.MessageId.deserialize(split.state.last_emitted).batch_index() == 2, "the last message yielded"


def test_a_poll_ends_after_the_chunk_during_which_its_deadline_passed(monkeypatch) -> None:
    monkeypatch.setattr(reader_module, "CHUNK", 2)
    clock = [10.0]
    monkeypatch.setattr(reader_module.time, "monotonic", lambda: clock[0])
    reader = Reader([(1, n) for n in range(8)])
    split = SplitReader(Client(reader), None, SplitState(SPLIT), StartCursor.earliest(), StopCursor.never())
    messages = split.poll(100, 0, deadline=11.0)
    assert ids([next(messages), next(messages), next(messages)]) == [(1, 0), (1, 1), (1, 2)]
    clock[0] = 11.0  # the deadline passes while the second chunk is being taken (downstream work counts)
    assert ids(list(messages)) == [(1, 3)], "the chunk in hand is finished, no further one is read"
    assert split.state.read_count == 4
    assert ids(split.poll(100, 0, deadline=5.0)) == [(1, 4), (1, 5)], "a poll past its deadline reads one chunk"
    assert ids(split.poll(100, 0)) == [(1, 6), (1, 7)], "no deadline: to max_records or nothing more"


class Stall:
    """Records what the reader tells its stall watch."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def received(self) -> None:
        self.calls.append("received")

    def idle(self, position) -> None:
        self.calls.append(f"idle at {position()}")


def test_the_stall_watch_hears_of_a_poll_that_timed_out_with_nothing_read_and_of_no_other() -> None:
    stall = Stall()
    split = SplitReader(Client(Reader([(7, 0), (7, 1)])), None, SplitState(SPLIT), StartCursor.earliest(),
                        StopCursor.never(), stall=stall)
    assert ids(split.poll(1, 0)) == [(7, 0)]
    assert ids(split.poll(100, 0)) == [(7, 1)]
    assert stall.calls == ["received"] * 2, "a full poll, then messages and a time-out: not idle"
    assert list(split.poll(100, 0)) == []
    assert list(split.poll(100, 0)) == []
    assert stall.calls == ["received"] * 2 + ["idle at (5,7,0,1)"] * 2

    stall = Stall()
    split = SplitReader(Client(Reader([(2, 0), (2, 1)])), None, SplitState(SPLIT), StartCursor.earliest(),
                        StopCursor.after_message_id(pulsar.MessageId(0, 5, 2, -1)), stall=stall)
    assert ids(split.poll(2, 0)) == [(2, 0), (2, 1)]
    assert not split.state.finished, "entry 2 may hold more messages"
    assert list(split.poll(100, 0)) == []
    assert split.state.finished
    assert stall.calls == ["received"], "a time-out with nothing read that finishes the split: not idle"


@pytest.mark.parametrize("stop, last", [
    (StopCursor.at_message_id(pulsar.MessageId(0, 5, 3, 1)), (3, 0)),
    (StopCursor.after_message_id(pulsar.MessageId(0, 5, 3, 1)), (3, 1)),
    (StopCursor.at_message_id(pulsar.MessageId(0, 5, 3, -1)), (2, 2)),  # a whole entry: none of entry 3
    (StopCursor.after_message_id(pulsar.MessageId(0, 5, 3, -1)), (3, 2)),  # all of entry 3
])
def test_a_message_id_stop_inside_a_batched_entry_ends_at_the_right_message(stop: StopCursor,
                                                                             last: tuple[int, int]) -> None:
    reader = Reader([(entry, batch) for entry in (2, 3, 4) for batch in range(3)])
    split = SplitReader(Client(reader), None, SplitState(SPLIT), StartCursor.earliest(), stop)
    read = ids(split.poll(100, 0))
    assert read == [(entry, batch) for entry in (2, 3, 4) for batch in range(3)][:read.index(last) + 1]
    assert split.state.finished


def test_a_stop_after_a_whole_batched_entry_that_ends_the_partition_ends_once_it_is_drained() -> None:
    reader = Reader([(entry, batch) for entry in (2, 3) for batch in range(3)])
    split = SplitReader(Client(reader), None, SplitState(SPLIT), StartCursor.earliest(),
                        StopCursor.after_message_id(pulsar.MessageId(0, 5, 3, -1)))
    assert ids(split.poll(4, 0)) == [(2, 0), (2, 1), (2, 2), (3, 0)]
    assert not split.state.finished, "entry 3 may hold more messages"
    assert ids(split.poll(100, 0)) == [(3, 1), (3, 2)]
    assert split.state.finished, "nothing after entry 3: the stop is reached"


def disconnected_split(monkeypatch) -> tuple[SplitReader, Reader, list[float]]:
    """A split with ten messages prefetched whose reader has just lost its connection, an outage timeout of 3 s,
    and the clock its outage is measured on (advance `clock[0]`)."""
    clock = [100.0]
    monkeypatch.setattr(reader_module.time, "monotonic", lambda: clock[0])
    reader = Reader([(1, n) for n in range(10)])
    split = SplitReader(Client(reader), None, SplitState(SPLIT), StartCursor.earliest(), StopCursor.never(),
                        outage_timeout_s=3.0)
    reader.connected = False
    return split, reader, clock


def test_an_outage_past_the_timeout_fails_a_poll_even_while_prefetched_messages_remain(monkeypatch) -> None:
    split, _, clock = disconnected_split(monkeypatch)
    assert ids(split.poll(2, 0)) == [(1, 0), (1, 1)]  # the outage starts: messages the client holds still come
    clock[0] += 3.0
    assert ids(split.poll(2, 0)) == [(1, 2), (1, 3)]  # not past the timeout yet
    clock[0] += 0.1
    with pytest.raises(SplitReadError, match="no broker connection for 3 s .brokerOutageTimeoutMs 3000"):
        split.poll(2, 0)


def test_a_reconnect_within_the_timeout_starts_the_next_outage_afresh(monkeypatch) -> None:
    split, reader, clock = disconnected_split(monkeypatch)
    list(split.poll(1, 0))
    clock[0] += 2.0
    reader.connected = True
    list(split.poll(1, 0))
    reader.connected = False
    clock[0] += 2.0
    list(split.poll(1, 0))  # down again, 4 s after the first outage began: a new outage, not past its timeout
    clock[0] += 2.0
    assert ids(split.poll(1, 0)) == [(1, 3)]


@pytest.mark.parametrize("later", [False, True])
def test_a_split_that_reaches_its_stop_closes_its_reader_at_once_or_through_close_later(later: bool) -> None:
    reader = Reader([(2, 0), (2, 1), (2, 2)])
    closes: list = []
    split = SplitReader(Client(reader), None, SplitState(SPLIT), StartCursor.earliest(),
                        StopCursor.at_message_id(pulsar.MessageId(0, 5, 2, 1)),
                        close_later=closes.append if later else None)
    assert ids(split.poll(100, 0)) == [(2, 0)]
    assert split.state.finished
    assert reader.closed is not later and len(closes) == later
    if later:
        closes[0]()
        assert reader.closed
    assert list(split.poll(100, 0)) == [] and len(reader._messages) == 1, "a finished split reads nothing more"
