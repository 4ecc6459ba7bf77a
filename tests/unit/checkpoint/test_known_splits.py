"""Discovery's checkpointed known splits: the current format round-trips, and format 1 still restores."""

import json

import pytest

from checkpoint import known_splits
from checkpoint.known_splits import KnownSplit


def test_known_splits_round_trip() -> None:
    splits = {"persistent://public/default/t-partition-0": KnownSplit("initial", 0, "readers-0#3"),
              "persistent://public/default/t-partition-1": KnownSplit("new", 1, "readers-1#0")}
    text = known_splits.encode(splits)
    assert json.loads(text)["v"] == known_splits.FORMAT_VERSION
    assert known_splits.decode(text, lambda split, ordinal: "unused") == splits


def test_format_1_restores_with_each_split_under_its_own_key() -> None:
    # What discovery stored before readers shared keys (json.dumps of split -> [origin, ordinal]).
    format1 = json.dumps({"persistent://public/default/t-partition-0": ["initial", 0],
                          "persistent://public/default/u": ["new", 5]}, sort_keys=True)
    decoded = known_splits.decode(format1, lambda split, ordinal: f"{split.rsplit('/', 1)[1]}#{ordinal}")
    assert decoded == {"persistent://public/default/t-partition-0": KnownSplit("initial", 0, "t-partition-0#0"),
                       "persistent://public/default/u": KnownSplit("new", 5, "u#5")}
    assert known_splits.decode("{}", lambda split, ordinal: "unused") == {}


def test_an_unknown_format_is_refused_with_what_it_expects() -> None:
    with pytest.raises(ValueError, match="format 3 is not readable.*expects 2 or 1"):
        known_splits.decode('{"v": 3, "splits": {}}', lambda split, ordinal: "unused")
