from __future__ import annotations

from typing import Any

from connector.sink.client_send import sender


class RecordingBindings:
    """A producer's `_producer`: what the bindings' send received."""

    def __init__(self) -> None:
        self.sent: list[tuple[Any, Any]] = []

    def send_async(self, message: Any, callback: Any) -> None:
        self.sent.append((message, callback))


class RecordingProducer:
    """The public `send_async` of a producer, recorded; with the bindings' send when `bindings` is given."""

    def __init__(self, bindings: RecordingBindings | None) -> None:
        self.sent: list[tuple[Any, Any, dict[str, Any]]] = []
        if bindings is not None:
            self._producer = bindings

    def send_async(self, content: Any, callback: Any, **arguments: Any) -> None:
        self.sent.append((content, callback, arguments))


def callback(*_: Any) -> None:
    pass


def test_messages_without_metadata_go_through_the_bindings_as_built_messages() -> None:
    bindings = RecordingBindings()
    producer = RecordingProducer(bindings)
    send = sender(producer)
    send(b"plain", callback, {})
    send(b"sequenced", None, {"sequence_id": 7})
    assert [(message.data(), message.has_null_value(), given) for message, given in bindings.sent] == \
        [(b"plain", False, callback), (b"sequenced", False, None)]
    assert producer.sent == []


def test_metadata_tombstones_and_other_payload_types_go_through_the_public_send() -> None:
    bindings = RecordingBindings()
    producer = RecordingProducer(bindings)
    send = sender(producer)
    send(b"keyed", callback, {"partition_key": "k", "sequence_id": 3})
    send(None, None, {"sequence_id": 4})  # a tombstone: the public send marks its null value
    send("text", None, {})  # not bytes: the public send names the wrong type
    assert producer.sent == [(b"keyed", callback, {"partition_key": "k", "sequence_id": 3}),
                             (None, None, {"sequence_id": 4}), ("text", None, {})]
    assert bindings.sent == []


def test_a_producer_without_the_bindings_send_uses_the_public_one() -> None:
    producer = RecordingProducer(bindings=None)
    sender(producer)(b"plain", callback, {"sequence_id": 1})
    assert producer.sent == [(b"plain", callback, {"sequence_id": 1})]
