"""Placing splits evenly on reader subtasks through the keys they are keyed by.

Flink sends a key to key group `murmurHash(hash) % maxParallelism` and a key group to subtask
`keyGroup * parallelism // maxParallelism`. For a PyFlink `key_by(..., key_type=Types.STRING())` the Java key is a
one-field Row, whose hash is the Java String hash of the key plus 62 (measured against Flink's own
`KeyGroupRangeAssignment` in a JVM). The split with ordinal i gets a key whose key group is i's 7-bit reversal
(0, 64, 32, 96, 16, ...), so the first splits land spread out over the key-group range, and so over the subtasks,
at any parallelism. Pure logic.

MAX_PARALLELISM is Flink's default max parallelism for jobs of parallelism up to 85. The reader operator does not
set it: PyFlink chains Python operators only when their max parallelism is the same, and the user's operators after
the source leave it unset. A job with another max parallelism still reads every split, spread less evenly.

An unbounded source runs its readers under at most READER_KEYS keys: the split with ordinal i is read under
shared key i % READER_KEYS, and every tick of the source is one element per key, so what a tick costs follows the
number of keys, not of splits. Each element names the splits of its key (`encode_members`), so a reader learns
which splits joined or left its key from the element itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from checkpoint.known_splits import KnownSplit

MAX_PARALLELISM = 128
"""The max parallelism the spreading assumes: Flink's default for parallelism <= 85."""
READER_KEYS = 32
"""Keys an unbounded source's readers run under: up to 32 reader subtasks each get some, evenly."""
_ROW_HASH_OFFSET = 62  # Row.of(s).hashCode() - s.hashCode()
_MASK = 0xFFFFFFFF


def java_string_hash(text: str) -> int:
    """Java's String.hashCode() (over UTF-16 code units), as an unsigned 32-bit value."""
    value = 0
    data = text.encode("utf-16-be")
    for i in range(0, len(data), 2):
        value = (31 * value + int.from_bytes(data[i:i + 2], "big")) & _MASK
    return value


def _rotate_left(value: int, bits: int) -> int:
    return ((value << bits) | (value >> (32 - bits))) & _MASK


def flink_murmur_hash(code: int) -> int:
    """Flink's MathUtils.murmurHash(int): a non-negative int."""
    code = (code * 0xCC9E2D51) & _MASK
    code = _rotate_left(code, 15)
    code = (code * 0x1B873593) & _MASK
    code = _rotate_left(code, 13)
    code = (code * 5 + 0xE6546B64) & _MASK
    code ^= 4
    code ^= code >> 16
    code = (code * 0x85EBCA6B) & _MASK
    code ^= code >> 13
    code = (code * 0xC2B2AE35) & _MASK
    code ^= code >> 16
    signed = code - (1 << 32) if code & 0x80000000 else code
    if signed >= 0:
        return signed
    return -signed if signed != -(1 << 31) else 0


def key_group(key: str, max_parallelism: int = MAX_PARALLELISM) -> int:
    """The key group Flink gives `key` (a STRING key of a PyFlink key_by)."""
    return flink_murmur_hash((java_string_hash(key) + _ROW_HASH_OFFSET) & _MASK) % max_parallelism


def subtask_of(key: str, parallelism: int, max_parallelism: int = MAX_PARALLELISM) -> int:
    return key_group(key, max_parallelism) * parallelism // max_parallelism


def keys_of_subtask(keys: Iterable[str], subtask: int, parallelism: int, max_parallelism: int) -> list[str]:
    """Those of `keys` Flink sends to reader subtask `subtask`, in the order given: the order they reach it when they
    are sent in that order from one upstream subtask."""
    return [key for key in keys if subtask_of(key, parallelism, max_parallelism) == subtask]


def target_key_group(ordinal: int) -> int:
    """Bit reversal of `ordinal` within the key-group range: consecutive ordinals land far apart."""
    bits = MAX_PARALLELISM.bit_length() - 1
    index = ordinal % MAX_PARALLELISM
    return int(f"{index:0{bits}b}"[::-1], 2)


def routing_key(split: str, ordinal: int) -> str:
    """The key the split with `ordinal` is read under: `split#n`, the first n that hits its target key group."""
    target = target_key_group(ordinal)
    n = 0
    while key_group(f"{split}#{n}") != target:
        n += 1
    return f"{split}#{n}"


def shared_key(ordinal: int) -> str:
    """The reader key of the split with `ordinal` in an unbounded source: slot `ordinal % READER_KEYS`, whose key
    hits that slot's target key group, so slots spread like split routing keys do."""
    slot = ordinal % READER_KEYS
    return routing_key(f"readers-{slot}", slot)


def encode_members(splits: Mapping[str, KnownSplit]) -> dict[str, str]:
    """Per reader key, the text naming its splits and their origins, in ordinal order (stable while they are)."""
    members: dict[str, list[tuple[int, str]]] = {}
    for split, known in splits.items():
        members.setdefault(known.key, []).append((known.ordinal, f"{known.origin}\t{split}"))
    return {key: "\n".join(line for _, line in sorted(lines)) for key, lines in members.items()}


def decode_members(text: str) -> list[tuple[str, str]]:
    """(split, origin) pairs of a text `encode_members` wrote; "" names none (a key whose splits are all gone)."""
    pairs = []
    for line in text.splitlines():
        origin, split = line.split("\t", 1)
        pairs.append((split, origin))
    return pairs
