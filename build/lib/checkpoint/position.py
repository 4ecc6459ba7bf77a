"""Positions inside one Pulsar topic partition, and how they order.

A position is a MessageId reduced to what orders messages within one partition: (ledger, entry, batch index).
`batch_index == -1` means "the whole entry": a non-batched message, or a boundary given per entry (the admin
API's last message id of a batched entry). Comparisons against such a boundary ignore the batch index, so
"up to and including entry E" covers every message batched into E.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulsar


@dataclass(frozen=True, order=True)
class Position:
    ledger_id: int
    entry_id: int
    batch_index: int = -1

    @classmethod
    def of(cls, message_id: pulsar.MessageId) -> Position:
        return cls(message_id.ledger_id(), message_id.entry_id(), message_id.batch_index())

    @classmethod
    def from_bytes(cls, serialized: bytes) -> Position:
        return cls.of(pulsar.MessageId.deserialize(serialized))

    def is_after(self, boundary: Position) -> bool:
        """True when a message at `self` comes strictly after `boundary`."""
        if boundary.batch_index < 0 or self.batch_index < 0:
            return (self.ledger_id, self.entry_id) > (boundary.ledger_id, boundary.entry_id)
        return self > boundary

    def is_at_or_after(self, boundary: Position) -> bool:
        """True when a message at `self` is `boundary` itself or comes after it."""
        if boundary.batch_index < 0 or self.batch_index < 0:
            return (self.ledger_id, self.entry_id) >= (boundary.ledger_id, boundary.entry_id)
        return self >= boundary

    @property
    def is_empty_topic_marker(self) -> bool:
        """The admin API reports (-1, -1) as the last message id of a partition that never had a message."""
        return self.ledger_id < 0 or self.entry_id < 0
