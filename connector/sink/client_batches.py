"""Where pulsar-client's default batch container ends a producer's batches, predicted from the messages' sizes, and
where a send callback's message id says its message landed.

The writer asks for one send callback per client batch, on the batch's first message: pulsar-client-cpp completes a
batch with one call that fans out to each message's own callback (`MessageAndCallbackBatch::createSendCallback`), so
that first message's callback sees the whole batch's result. The prediction mirrors the container as read in
pulsar-client-cpp (`BatchMessageContainerBase`, 2026-12-05): before a message is added, the open batch is sent unless
it has fewer than `max_messages` messages and the message's payload still fits in `max_bytes`; after it is added, the
batch is sent when it holds `max_messages` messages or `max_bytes` bytes. The client's publish-delay timer and flushes
also end a batch; the writer turns the timer off and flushes itself (`close`). Each callback's message id then
carries the batch's size, so a wrong prediction is noticed instead of leaving a batch without a result.
"""

from __future__ import annotations


class BatchBoundary:
    """The open batch of one producer as pulsar-client's default batch container sees it: message count and payload
    bytes. `add` says whether a message starts a new batch."""

    def __init__(self, max_messages: int, max_bytes: int) -> None:
        self._max_messages, self._max_bytes = max_messages, max_bytes
        self._messages = self._bytes = 0

    def add(self, size: int) -> bool:
        """Count in a message of `size` payload bytes; whether it is the first of a batch."""
        first = self._messages == 0 or self._bytes + size > self._max_bytes  # the count is below max: see below
        if first:
            self._messages = self._bytes = 0
        self._messages += 1
        self._bytes += size
        if self._messages >= self._max_messages or self._bytes >= self._max_bytes:
            self._messages = self._bytes = 0  # full: sent at once, so the count never stays at max
        return first

    def close(self) -> None:
        """The batch was sent (a flush): the next message starts a new one."""
        self._messages = self._bytes = 0

    @property
    def is_open(self) -> bool:
        """Whether messages wait in a batch that is not sent yet."""
        return self._messages > 0


def batch_position(serialized_id: bytes) -> tuple[int, int]:
    """(index in its batch, the batch's message count) of a serialized message id (Pulsar's `MessageIdData`, as
    `MessageId.serialize()` gives it); (-1, 0) for a message sent outside a batch. Raises ValueError on bytes that are
    not a message id."""
    index, size, at = -1, 0, 0
    while at < len(serialized_id):
        key, at = _varint(serialized_id, at)
        field, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, at = _varint(serialized_id, at)
            if field == _BATCH_INDEX:
                index = value
            elif field == _BATCH_SIZE:
                size = value
        elif wire_type == 2:
            length, at = _varint(serialized_id, at)
            at += length
        elif wire_type in _FIXED_SIZES:
            at += _FIXED_SIZES[wire_type]
        else:
            raise ValueError(f"not a serialized message id: wire type {wire_type} at byte {at}")
    if at != len(serialized_id):
        raise ValueError("not a serialized message id: it ends inside a field")
    return index, size


_BATCH_INDEX, _BATCH_SIZE = 4, 6  # MessageIdData's field numbers (PulsarApi.proto)
_FIXED_SIZES = {1: 8, 5: 4}


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if at >= len(data):
            raise ValueError("not a serialized message id: it ends inside a number")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7
