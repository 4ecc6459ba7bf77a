"""SplitReader.poll over a fake client reader: no broker, no Flink."""

from __future__ import annotations

import pulsar
import pytest

from checkpoint.split_state import SplitState
from connector.errors import SplitReadError
from connector.source.cursor import StartCursor, StopCursor
from connector.source.reader import SplitReader

SPLIT = "persistent://public/default/orders-partition-0"


class Message:
    def __init__(self, entry: int, batch: int) -> None:
        self._id = pulsar.MessageId(0, 5, entry, batch)

    def message_id(self) -> pulsar.MessageId:
        return self._id


class Reader:
    """Delivers the given (entry, batch) messages in order, then times out; an asynchronous read_next waits for
    `arrive`. Counts the synchronous reads."""

    def __init__(self, ids: list[tuple[int, int]]) -> None:
        self._messages = [Message(entry, batch) for entry, batch in ids]
        self._reader = self  # where pulsar.Reader keeps the client's own reader
        self.reads = 0
        self.waiting_callback = None

    def read_next(self, timeout_ms: int) -> Message:
        self.reads += 1
        if not self._messages:
            raise pulsar.Timeout("nothing")
        return self._messages.pop(0)

    def read_next_async(self, callback) -> None:
        assert self.waiting_callback is None, "one asynchronous read at a time"
        self.waiting_callback = callback

    def arrive(self, ids: list[tuple[int, int]], result: pulsar.Result = pulsar.Result.Ok) -> None:
        """Messages reach the broker's end: the first answers the waiting read, the rest queue."""
        first, *rest = [Message(entry, batch) for entry, batch in ids]
        self._messages.extend(rest)
        callback, self.waiting_callback = self.waiting_callback, None
        callback(result, first)

    def is_connected(self) -> bool:
        return True

    def close(self) -> None:
        pass


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


def test_a_restored_split_drops_what_it_emitted_before_the_checkpoint() -> None:
    emitted = pulsar.MessageId(0, 5, 3, 1).serialize()
    reader = Reader([(3, 1), (4, 0), (4, 1)])
    client = Client(reader)
    split = SplitReader(client, None, SplitState(SPLIT, last_emitted=emitted), StartCursor.earliest(),
                        StopCursor.never())
    assert client.opened_at[0][1] is False  # opened after the stored position
    assert ids(split.poll(100, 0)) == [(4, 0), (4, 1)]


def test_poll_returns_at_most_max_records_and_goes_on_from_there() -> None:
    reader = Reader([(1, n) for n in range(5)])
    split = SplitReader(Client(reader), None, SplitState(SPLIT), StartCursor.earliest(), StopCursor.never())
    assert ids(split.poll(3, 0)) == [(1, 0), (1, 1), (1, 2)]
    assert ids(split.poll(3, 0)) == [(1, 3), (1, 4)]
    assert split.poll(3, 0) == []


def test_an_idle_split_waits_without_reading_until_the_next_message_arrives() -> None:
    reader = Reader([(1, 0)])
    arrivals: list[int] = []
    split = SplitReader(Client(reader), None, SplitState(SPLIT), StartCursor.earliest(), StopCursor.never(),
                        on_arrival=lambda: arrivals.append(1))
    assert ids(split.poll(100, 0)) == [(1, 0)] and not split.waiting
    assert split.poll(100, 0) == [] and split.waiting
    reads = reader.reads
    assert [split.poll(100, 0) for _ in range(5)] == [[]] * 5 and reader.reads == reads  # no client read
    reader.arrive([(2, 0), (2, 1), (3, 0)])
    assert arrivals == [1] and not split.waiting
    assert ids(split.poll(2, 0)) == [(2, 0), (2, 1)]  # the awaited message first, then the queue
    assert ids(split.poll(100, 0)) == [(3, 0)]


def test_a_failed_asynchronous_read_fails_the_next_poll_naming_the_split() -> None:
    reader = Reader([])
    split = SplitReader(Client(reader), None, SplitState(SPLIT), StartCursor.earliest(), StopCursor.never())
    assert split.poll(100, 0) == [] and split.waiting
    reader.arrive([(1, 0)], result=pulsar.Result.ConnectError)
    with pytest.raises(SplitReadError, match=f"reading split {SPLIT} failed: .*ConnectError"):
        split.poll(100, 0)


def test_a_waiting_poll_still_checks_the_connection_and_a_blocking_poll_never_waits() -> None:
    reader = Reader([])
    split = SplitReader(Client(reader), None, SplitState(SPLIT), StartCursor.earliest(), StopCursor.never())
    assert split.poll(100, 50) == [] and not split.waiting  # a bounded read's poll: it blocked, it does not wait
    split.poll(100, 0)
    reader.is_connected = lambda: False
    split._outage_timeout_s = 0.0
    split.poll(100, 0)  # the first disconnected poll notes the time
    with pytest.raises(SplitReadError, match="no broker connection"):
        split.poll(100, 0)
