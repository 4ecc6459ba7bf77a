"""What a source split keeps in Flink state, and its stable encoding.

A split is one topic partition (a non-partitioned topic is one split), named by its full topic name.
Its state is snapshotted by Flink together with the records emitted before the barrier, so after a restore
the reader seeks to just after `last_emitted`: the record there was emitted, the next one was not.

`lineage` and `read_count` number the split's messages: the n-th message read since the state was created is
message n of sequence `lineage`, on every replay, so an EXACTLY_ONCE sink chained behind the source can derive
stable sequence ids from it (`connector.in_flight`).

The encoding is JSON with a version number, so a savepoint stays readable when this code changes. Format 2 added
`lineage` and `read_count`; a format-1 state decodes with no lineage and a count of 0 (the reader gives it a new
lineage, so its numbering starts afresh under a new name).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, replace

FORMAT_VERSION = 2
_READABLE = (1, FORMAT_VERSION)


@dataclass(frozen=True)
class SplitState:
    split: str
    """Full topic name of the partition, e.g. persistent://public/default/orders-partition-0."""
    last_emitted: bytes | None = None
    """Serialized MessageId of the last record emitted downstream; None before the first one."""
    stop_at: bytes | None = None
    """A stop boundary resolved when the split started (stop cursor `latest`), kept so a restore reuses it."""
    finished: bool = False
    """The split reached its stop cursor; nothing more is read from it."""
    lineage: str | None = None
    """Names the numbering of this state's messages: the source instance that created the state (None: not yet
    given one)."""
    read_count: int = 0
    """Messages read since the state was created (up to and including `last_emitted`)."""

    def advanced_to(self, message_id: bytes, messages: int) -> SplitState:
        """The state after `messages` more messages were read, the last at `message_id`."""
        return replace(self, last_emitted=message_id, read_count=self.read_count + messages)

    def to_json(self) -> str:
        return json.dumps({
            "v": FORMAT_VERSION,
            "split": self.split,
            "last_emitted": _b64(self.last_emitted),
            "stop_at": _b64(self.stop_at),
            "finished": self.finished,
            "lineage": self.lineage,
            "read_count": self.read_count,
        })

    @classmethod
    def from_json(cls, text: str) -> SplitState:
        data = json.loads(text)
        if data.get("v") not in _READABLE:
            raise ValueError(f"split state of format {data.get('v')!r} is not readable by this connector "
                             f"(reads formats {', '.join(map(str, _READABLE))}): {text[:200]}")
        return cls(data["split"], _unb64(data["last_emitted"]), _unb64(data["stop_at"]), bool(data["finished"]),
                   data.get("lineage"), int(data.get("read_count", 0)))


def _b64(raw: bytes | None) -> str | None:
    return None if raw is None else base64.b64encode(raw).decode("ascii")


def _unb64(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text)
