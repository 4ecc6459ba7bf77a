"""What split discovery keeps in Flink state: every split it knows, how the split started, and its reader key.

Format 2 (JSON): `{"v": 2, "splits": {split: [origin, ordinal, reader key]}}`.
Format 1 (JSON without a version, written before readers shared keys): `{split: [origin, ordinal]}`. Each split
was read under a key of its own, which only the caller can compute (`legacy_key(split, ordinal)`); decoding keeps
that key, so a split restored from format 1 finds its reader state where format 1 left it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable, Mapping

FORMAT_VERSION = 2


@dataclass(frozen=True)
class KnownSplit:
    origin: str
    """How the split started: "initial" (known at the job's first run) or "new" (discovered later)."""
    ordinal: int
    """A number no other live split holds; it places the split on a reader key."""
    key: str
    """The key its reader runs under."""


def encode(splits: Mapping[str, KnownSplit]) -> str:
    return json.dumps({"v": FORMAT_VERSION,
                       "splits": {split: [known.origin, known.ordinal, known.key] for split, known in splits.items()}},
                      sort_keys=True)


def decode(text: str, legacy_key: Callable[[str, int], str]) -> dict[str, KnownSplit]:
    """The splits in `text` (format 1 or 2); `legacy_key(split, ordinal)` is the key format 1 read a split under."""
    data = json.loads(text)
    version = data.get("v", 1)  # format 1 maps split names, which all start with persistent://, so has no "v"
    if version == 1:
        return {split: KnownSplit(origin, ordinal, legacy_key(split, ordinal)) for split, (origin, ordinal) in
                data.items()}
    if version != FORMAT_VERSION:
        raise ValueError(f"known-splits state of format {version!r} is not readable by this connector "
                         f"(expects {FORMAT_VERSION} or 1): {text[:200]}")
    return {split: KnownSplit(origin, ordinal, key) for split, (origin, ordinal, key) in data["splits"].items()}
