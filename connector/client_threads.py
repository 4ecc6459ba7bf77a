"""Python thread states for the pulsar-client threads that call back into Python.

pulsar-client's bindings (pybind11) take the GIL for each call of a Python callback from one of the client's own
threads. A client thread has no Python thread state of its own, so each call creates one and deletes it afterwards.
For a send callback per message that is most of what the callback costs: raw `send_async` loops over 4 partitions
sent 22,842 and 18,687 messages/s with a one-line Python callback, 45,847 and 37,020 with the callback's thread
keeping its thread state, 59,660 and 48,263 with no callback (two rounds, 200k messages of 100 B, 2 cores).

`keep_thread_state()` at the start of a callback gives the calling thread, the first time, a thread state it keeps:
the bindings then reuse it for every later callback on that thread. What it costs: one thread state (a few KB) per
client thread that ever called back, until the process exits, including threads of clients closed since.
"""

from __future__ import annotations

import ctypes
import threading

_ensure = ctypes.pythonapi.PyGILState_Ensure
_ensure.restype = ctypes.c_int
_kept = threading.local()


def keep_thread_state() -> None:
    """Called with the GIL held (from a callback): make the calling thread keep its current Python thread state.

    A second call on the same thread does nothing. On a thread Python started itself it only raises a counter
    Python ignores when the thread ends.
    """
    if not getattr(_kept, "kept", False):
        _ensure()  # one more holder of this thread's state, never released: the bindings' release no longer deletes it
        _kept.kept = True
