"""Split placement: our key-group arithmetic matches Flink's, and splits spread evenly at any parallelism."""

from collections import Counter

from checkpoint.known_splits import KnownSplit
from connector.source.assignment import (MAX_PARALLELISM, READER_KEYS, decode_members, encode_members,
                                         java_string_hash, key_group, keys_of_subtask, routing_key, shared_key,
                                         subtask_of, target_key_group)


def test_hashes_match_values_computed_by_flink_in_a_jvm() -> None:
    # Row.of(k).hashCode() and KeyGroupRangeAssignment.assignKeyToParallelOperator(Row.of(k), 128, 3), run in Java.
    assert java_string_hash("a") == 97 and java_string_hash("hello") == 99162322
    assert java_string_hash("persistent://public/default/t-partition-2") == (-873340187) & 0xFFFFFFFF
    assert [subtask_of(k, 3) for k in ("a", "b", "hello", "persistent://public/default/t-partition-2")] == \
        [1, 1, 0, 2]


def test_routing_keys_hit_their_target_key_group() -> None:
    for ordinal in range(20):
        assert key_group(routing_key("persistent://public/default/x-partition-0", ordinal)) == \
            target_key_group(ordinal)
    assert [target_key_group(i) for i in range(4)] == [0, 64, 32, 96]


def test_splits_spread_evenly_over_subtasks() -> None:
    for splits, parallelism in ((4, 2), (4, 3), (4, 4), (8, 3), (6, 2), (16, 5)):
        keys = [routing_key(f"persistent://public/default/t-partition-{i}", i) for i in range(splits)]
        loads = Counter(subtask_of(key, parallelism) for key in keys)
        assert max(loads.values()) - min(loads.get(s, 0) for s in range(parallelism)) <= 1, (splits, parallelism, loads)


def test_shared_keys_bound_the_keys_and_spread_evenly_over_subtasks() -> None:
    keys = [shared_key(ordinal) for ordinal in range(1000)]
    assert len(set(keys)) == READER_KEYS and keys[:READER_KEYS] == keys[READER_KEYS:2 * READER_KEYS]
    for parallelism in (1, 2, 3, 4, 5, 8, 32):
        loads = Counter(subtask_of(key, parallelism) for key in set(keys))
        assert max(loads.values()) - min(loads.get(s, 0) for s in range(parallelism)) <= 1, (parallelism, loads)


def test_another_max_parallelism_takes_the_same_hash_modulo_it() -> None:
    keys = [shared_key(ordinal) for ordinal in range(READER_KEYS)]
    assert [key_group(key, 2 * MAX_PARALLELISM) % MAX_PARALLELISM for key in keys] == [key_group(key) for key in keys]
    assert {key_group(key, 2 * MAX_PARALLELISM) for key in keys} != {key_group(key) for key in keys}
    assert [subtask_of(key, 4, 256) for key in keys] == [key_group(key, 256) * 4 // 256 for key in keys]


def test_keys_of_a_subtask_are_its_share_in_the_given_order() -> None:
    keys = [shared_key(ordinal) for ordinal in range(READER_KEYS)]
    for parallelism, max_parallelism in ((2, 128), (3, 128), (2, 256), (5, 1024)):
        shares = [keys_of_subtask(keys, subtask, parallelism, max_parallelism) for subtask in range(parallelism)]
        assert sorted(key for share in shares for key in share) == sorted(keys)
        for subtask, share in enumerate(shares):
            assert share == [key for key in keys if subtask_of(key, parallelism, max_parallelism) == subtask]


def test_members_name_each_keys_splits_in_ordinal_order() -> None:
    known = {"persistent://p/d/t-partition-10": KnownSplit("new", 10, "k1"),
             "persistent://p/d/t-partition-2": KnownSplit("initial", 2, "k1"),
             "persistent://p/d/u": KnownSplit("initial", 3, "k2")}
    members = encode_members(known)
    assert decode_members(members["k1"]) == [("persistent://p/d/t-partition-2", "initial"),
                                             ("persistent://p/d/t-partition-10", "new")]
    assert decode_members(members["k2"]) == [("persistent://p/d/u", "initial")]
    assert decode_members("") == []
