"""What an EXACTLY_ONCE sink keeps in Flink state per sequence key: its producer name and the last sequence id used.

A replay after a restore sends each record again under the same (producer name, sequence id), and the broker's
deduplication drops what it has persisted already.

Format 2 (text, read and written for every record, so cheap to parse): `"2\t<last sequence id>\t<producer name>"`.
Format 1 (a pickled tuple `(producer name, last sequence id)`, written before this module existed) still decodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FORMAT_VERSION = 2


@dataclass(frozen=True)
class SinkSequence:
    producer_name: str
    last_sequence_id: int
    """0 before the first message: the first one goes out with sequence id 1."""

    def next(self) -> SinkSequence:
        return SinkSequence(self.producer_name, self.last_sequence_id + 1)


def encode(sequence: SinkSequence) -> str:
    return f"{FORMAT_VERSION}\t{sequence.last_sequence_id}\t{sequence.producer_name}"


def decode(value: Any) -> SinkSequence:
    """The sequence in `value`: format 2 text, or format 1's tuple as PyFlink unpickles it."""
    if isinstance(value, tuple) and len(value) == 2:
        producer_name, last = value
        return SinkSequence(str(producer_name), int(last))
    parts = value.split("\t", 2) if isinstance(value, str) else []
    if len(parts) != 3 or parts[0] != str(FORMAT_VERSION) or not parts[1].isdigit():
        raise ValueError(f"sink sequence state {value!r:.200} is not readable by this connector "
                         f"(expects format {FORMAT_VERSION} or 1)")
    return SinkSequence(parts[2], int(parts[1]))
