"""The prediction of pulsar-client's batch boundaries and the reading of a send callback's message id."""

from __future__ import annotations

import pytest

from connector.sink.client_batches import BatchBoundary, batch_position


def firsts(boundary: BatchBoundary, sizes: list[int]) -> list[int]:
    return [n for n, size in enumerate(sizes) if boundary.add(size)]


def test_a_batch_ends_at_max_messages() -> None:
    assert firsts(BatchBoundary(max_messages=3, max_bytes=1000), [10] * 8) == [0, 3, 6]


def test_a_batch_ends_before_a_message_that_would_pass_max_bytes_and_when_it_reaches_them() -> None:
    # 40+40, then 30 would pass 100; 30+70 reaches 100 and is sent; 0 starts anew; 250 alone passes the limit
    assert firsts(BatchBoundary(max_messages=1000, max_bytes=100), [40, 40, 30, 70, 0, 5, 250, 1]) == [0, 2, 4, 6, 7]


def test_close_starts_a_new_batch_and_is_open_says_whether_messages_wait() -> None:
    boundary = BatchBoundary(max_messages=10, max_bytes=1000)
    assert not boundary.is_open
    assert firsts(boundary, [1, 1]) == [0]
    assert boundary.is_open
    boundary.close()
    assert not boundary.is_open
    assert boundary.add(1)


def test_a_full_batch_is_not_open() -> None:
    boundary = BatchBoundary(max_messages=2, max_bytes=1000)
    boundary.add(1)
    boundary.add(1)
    assert not boundary.is_open


# MessageIdData{ledgerId 12, entryId 300, partition 2, batch_index 5, batch_size 7}, as protobuf writes it
SERIALIZED = bytes([0x08, 12, 0x10, 0xAC, 0x02, 0x18, 2, 0x20, 5, 0x30, 7])


def test_batch_position_reads_index_and_size() -> None:
    assert batch_position(SERIALIZED) == (5, 7)


def test_batch_position_of_a_message_outside_a_batch() -> None:
    assert batch_position(SERIALIZED[:5]) == (-1, 0)


def test_batch_position_skips_nested_ids() -> None:
    nested = bytes([0x3A, 4, 0x08, 1, 0x10, 2])  # first_chunk_message_id{ledgerId 1, entryId 2}
    assert batch_position(SERIALIZED + nested) == (5, 7)


@pytest.mark.parametrize("broken", [SERIALIZED[:4], bytes([0x0F, 1]), bytes([0x3A, 9, 1])])
def test_batch_position_refuses_what_is_not_a_message_id(broken: bytes) -> None:
    with pytest.raises(ValueError, match="not a serialized message id"):
        batch_position(broken)
