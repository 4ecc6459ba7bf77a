"""What a split keeps in Flink state, and its versioned encoding (format 2; format 1 still restores)."""

from __future__ import annotations

import json

import pulsar
import pytest

from checkpoint.split_state import SplitState


def mid(ledger: int, entry: int, batch: int = -1) -> bytes:
    return pulsar.MessageId(0, ledger, entry, batch).serialize()


def test_split_state_round_trips_and_refuses_unknown_formats() -> None:
    state = SplitState("persistent://public/default/t-partition-0", mid(1, 2, 3), mid(1, 9), False, "ab12cd34", 42)
    assert SplitState.from_json(state.to_json()) == state
    assert SplitState.from_json(SplitState("s").to_json()) == SplitState("s")
    with pytest.raises(ValueError, match="format 99"):
        SplitState.from_json('{"v": 99}')


def test_advancing_counts_the_messages_read() -> None:
    state = SplitState("s", lineage="ab12cd34").advanced_to(mid(1, 2), 3).advanced_to(mid(1, 5), 2)
    assert (state.last_emitted, state.read_count, state.lineage) == (mid(1, 5), 5, "ab12cd34")


def test_a_format_1_state_restores_without_lineage_and_count() -> None:
    # Written by format 1's to_json (the encoding before lineage and read_count existed).
    format_1 = json.dumps({"v": 1, "split": "persistent://public/default/t-partition-1",
                           "last_emitted": "CAEQAhgDIAA=", "stop_at": None, "finished": True})
    state = SplitState.from_json(format_1)
    assert state == SplitState("persistent://public/default/t-partition-1", state.last_emitted, None, True, None, 0)
    assert state.last_emitted is not None and pulsar.MessageId.deserialize(state.last_emitted).entry_id() == 2
