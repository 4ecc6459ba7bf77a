"""What a source split keeps in Flink state, and its stable encoding.

A split is one topic partition (a non-partitioned topic is one split), named by its full topic name.
Its state is snapshotted by Flink together with the records emitted before the barrier, so after a restore
the reader seeks to just after `last_emitted`: the record there was emitted, the next one was not.

The encoding is JSON with a version number, so a savepoint stays readable when this code changes.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, replace

FORMAT_VERSION = 1


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

    def advanced_to(self, message_id: bytes) -> SplitState:
        return replace(self, last_emitted=message_id)

    def to_json(self) -> str:
        return json.dumps({
            "v": FORMAT_VERSION,
            "split": self.split,
            "last_emitted": _b64(self.last_emitted),
            "stop_at": _b64(self.stop_at),
            "finished": self.finished,
        })

    @classmethod
    def from_json(cls, text: str) -> SplitState:
        data = json.loads(text)
        if data.get("v") != FORMAT_VERSION:
            raise ValueError(f"split state of format {data.get('v')!r} is not readable by this connector "
                             f"(expects {FORMAT_VERSION}): {text[:200]}")
        return cls(data["split"], _unb64(data["last_emitted"]), _unb64(data["stop_at"]), bool(data["finished"]))


def _b64(raw: bytes | None) -> str | None:
    return None if raw is None else base64.b64encode(raw).decode("ascii")


def _unb64(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text)
