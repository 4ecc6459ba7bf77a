"""What a split keeps in Flink state, and its versioned encoding (format 1 is the only one so far)."""

from __future__ import annotations

import pulsar
import pytest

from checkpoint.split_state import SplitState


def mid(ledger: int, entry: int, batch: int = -1) -> bytes:
    return pulsar.MessageId(0, ledger, entry, batch).serialize()


def test_split_state_round_trips_and_refuses_unknown_formats() -> None:
    state = SplitState("persistent://public/default/t-partition-0", mid(1, 2, 3), mid(1, 9), False)
    assert SplitState.from_json(state.to_json()) == state
    assert SplitState.from_json(SplitState("s").to_json()) == SplitState("s")
    with pytest.raises(ValueError, match="format 99"):
        SplitState.from_json('{"v": 99}')
