import pytest

from checkpoint import sink_sequence
from checkpoint.sink_sequence import SinkSequence


def test_sink_sequence_round_trips_and_steps() -> None:
    sequence = SinkSequence("orders-sink-1a2b3c4d-persistent://public/default/in-partition-0", 41)
    assert sink_sequence.decode(sink_sequence.encode(sequence)) == sequence
    odd_key = SinkSequence("sink-1a2b3c4d-a key\twith a tab", 0)  # a user's sequence key may hold anything
    assert sink_sequence.decode(sink_sequence.encode(odd_key)) == odd_key
    assert sequence.next() == SinkSequence(sequence.producer_name, 42)


def test_format_1_a_pickled_tuple_restores() -> None:
    assert sink_sequence.decode(("sink-1a2b3c4d-key", 7)) == SinkSequence("sink-1a2b3c4d-key", 7)


@pytest.mark.parametrize("value", ["3\t1\tp", "2\tx\tp", "not a sequence", ("only one",), 5])
def test_an_unknown_format_is_refused_naming_what_it_expects(value) -> None:
    with pytest.raises(ValueError, match="expects format 2 or 1"):
        sink_sequence.decode(value)
