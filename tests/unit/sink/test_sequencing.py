"""Sequence ids of records numbered by their source message (the EXACTLY_ONCE writer fused behind the source)."""

from __future__ import annotations

import pytest

from connector.errors import PulsarSinkError
from connector.sink.router import RoundRobinTopicRouter
from connector.sink.sequencing import OUTPUTS_PER_MESSAGE, MessageSequencer
from connector.sink.writer import Sequenced

STREAM = "ab12cd34-persistent://public/default/in-partition-0"


def test_each_record_of_a_message_gets_the_next_id_and_a_new_message_starts_at_its_own_base() -> None:
    sequencer = MessageSequencer("out")
    ids = [sequencer.identity(STREAM, ordinal).sequence_id for ordinal in (1, 1, 1, 2, 5, 5)]
    base = OUTPUTS_PER_MESSAGE
    assert ids == [base, base + 1, base + 2, 2 * base, 5 * base, 5 * base + 1]
    assert sequencer.identity(STREAM, 6) == Sequenced(f"out-{STREAM}", 6 * base)


@pytest.mark.parametrize("partitions", [2, 3, 4, 7, 16])
def test_round_robin_on_the_ids_spreads_consecutive_messages_over_every_partition(partitions: int) -> None:
    """Keyless records are routed by sequence id: the ids of consecutive messages cycle through every residue."""
    sequencer, candidates = MessageSequencer("out"), [f"t-partition-{n}" for n in range(partitions)]
    chosen = [RoundRobinTopicRouter().route(None, candidates, sequencer.identity(STREAM, ordinal).sequence_id)
              for ordinal in range(1, partitions + 1)]
    assert set(chosen) == set(candidates)


def test_a_replay_repeats_the_identities() -> None:
    """A new attempt (a new sequencer) over the same messages: message 2 made two records, 3 none, 4 one."""
    records = [(STREAM, 2), (STREAM, 2), ("other-split", 1), (STREAM, 4)]
    first, replay = MessageSequencer("out"), MessageSequencer("out")
    assert [first.identity(*r) for r in records] == [replay.identity(*r) for r in records]
    assert first.identity("other-split", 2).producer_name == "out-other-split"


def test_streams_interleaved_message_by_message_keep_their_own_counts() -> None:
    sequencer = MessageSequencer("out")
    assert sequencer.identity("a", 1).sequence_id == OUTPUTS_PER_MESSAGE
    assert sequencer.identity("b", 1).sequence_id == OUTPUTS_PER_MESSAGE
    assert sequencer.identity("a", 2).sequence_id == 2 * OUTPUTS_PER_MESSAGE


def test_a_message_making_more_records_than_ids_allow_fails_naming_it() -> None:
    sequencer = MessageSequencer("out")
    for _ in range(OUTPUTS_PER_MESSAGE):
        sequencer.identity(STREAM, 7)
    with pytest.raises(PulsarSinkError, match=f"message 7 of {STREAM} made more than 65537 records"):
        sequencer.identity(STREAM, 7)
