"""What this process's Python threads are doing in the connector, the Pulsar client or a bundle, for a test whose
in-process job stalled: in local mode the job's Python workers run in the test's own process, so their stacks say
what a stuck reader, writer or user function waits on.
"""

from __future__ import annotations

import sys
import threading
import traceback

# A thread is shown when its stack passes through one of these: the connector, the Pulsar client, or a Beam bundle
# (a Python operator at work).
_WATCHED = ("/connector/", "/pulsar/", "/bundle_processor.py")
_FRAMES = 12
_THREADS = 30


def busy_stacks() -> str:
    """The innermost frames of each thread whose stack passes through the connector, the client or a bundle (the
    first _THREADS of them)."""
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    shown = []
    for ident, frame in sys._current_frames().items():
        if ident == threading.get_ident():
            continue
        entries = traceback.extract_stack(frame)
        if any(part in entry.filename for entry in entries for part in _WATCHED):
            shown.append(f"thread {names.get(ident, ident)}:\n" + "".join(traceback.format_list(entries[-_FRAMES:])))
    if not shown:
        return "(no thread in the connector, the Pulsar client or a bundle)"
    left_out = f"\n({len(shown) - _THREADS} more threads left out)" if len(shown) > _THREADS else ""
    return "\n".join(shown[:_THREADS]) + left_out
