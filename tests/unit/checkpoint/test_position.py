"""Positions inside a partition and their order."""

from __future__ import annotations

import pulsar

from checkpoint.position import Position


def mid(ledger: int, entry: int, batch: int = -1) -> bytes:
    return pulsar.MessageId(0, ledger, entry, batch).serialize()


def test_positions_order_by_ledger_entry_then_batch_index() -> None:
    assert Position(1, 5, 3) < Position(1, 5, 4) < Position(1, 6, 0) < Position(2, 0, -1)
    assert Position.from_bytes(mid(7, 8, 9)) == Position(7, 8, 9)


def test_an_entry_boundary_covers_every_message_batched_in_it() -> None:
    boundary = Position(3, 10, -1)
    assert not Position(3, 10, 0).is_after(boundary)
    assert not Position(3, 10, 99).is_after(boundary)
    assert Position(3, 11, 0).is_after(boundary)
    assert Position(3, 10, 0).is_at_or_after(boundary)
    assert not Position(3, 9, 99).is_at_or_after(boundary)
