"""SplitReader.poll over a fake client reader: no broker, no Flink."""

from __future__ import annotations

import pulsar

from checkpoint.split_state import SplitState
from connector.source.cursor import StartCursor, StopCursor
from connector.source.reader import SplitReader

SPLIT = "persistent://public/default/orders-partition-0"


class Message:
    def __init__(self, entry: int, batch: int) -> None:
        self._id = pulsar.MessageId(0, 5, entry, batch)

    def message_id(self) -> pulsar.MessageId:
        return self._id


class Reader:
    """Delivers the given (entry, batch) messages in order, then times out."""

    def __init__(self, ids: list[tuple[int, int]]) -> None:
        self._messages = [Message(entry, batch) for entry, batch in ids]

    def read_next(self, timeout_ms: int) -> Message:
        if not self._messages:
            raise pulsar.Timeout("nothing")
        return self._messages.pop(0)

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
    assert split.poll(3, 0) == []
