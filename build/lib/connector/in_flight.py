"""Which source message the record being processed on this thread came from, for a sink chained behind the source.

PyFlink runs the Python operators of one chain depth-first: a downstream operator handles a record before the
upstream one makes its next. The Pulsar source's reader sets `IN_FLIGHT` before it yields the records of each
message and clears `stream` when its step ends, so an EXACTLY_ONCE writer in the same Python operator chain reads
here the identity of the message its input came from, and derives stable sequence ids from it
(`connector.sink.flink`). Outside a reader's step `stream` is None.

A sink tells that its input is chained to the source's readers by the readers' uid suffix (`READERS_UID_SUFFIX`).
"""

from __future__ import annotations

import threading

READERS_UID_SUFFIX = "-split-readers"
"""The source's reader operator has uid `<source name>-split-readers`."""


class InFlight(threading.local):
    stream: str | None = None
    """`<lineage>-<split>` (`checkpoint.split_state`): the numbered message sequence being emitted; None outside a
    reader's step."""
    ordinal: int = 0
    """The number of the message being emitted in `stream` (1 for its first message); replays repeat it."""


IN_FLIGHT = InFlight()
