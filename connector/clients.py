"""The Pulsar clients of this process: the one place they are made, and the registry of what each subtask holds open.

PyFlink does not close the functions of a failed attempt (in local loopback mode its Python workers live on in
the driver process): their clients would stay connected, and an EXACTLY_ONCE sink's producer names taken. So a
subtask registers what closes its clients under an owner that every attempt of it shares (`hold`), and holding
first closes what an earlier attempt of the same owner left open. A TaskManager that dies takes its workers'
clients with it (`connector.worker_watchdog`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable, Mapping
from typing import Any

import pulsar

from connector.errors import PulsarConnectorError
from connector.security import PulsarSecurity
from connector.worker_watchdog import close_when_taskmanager_dies

log = logging.getLogger(__name__)

_lock = threading.Lock()
_held: dict[Hashable, Callable[[], None]] = {}


def new_client(service_url: str, security: PulsarSecurity | None = None,
               client_config: Mapping[str, Any] | None = None) -> pulsar.Client:
    """A client with the connector's logging, `security` and `client_config` (the client's own keyword arguments)."""
    return pulsar.Client(service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Warn),
                         **(security.client_kwargs() if security else {}), **(client_config or {}))


class ClientCalls:
    """Closes a client only once none of its owner's calls into it is in flight.

    pulsar-client 3.13's `create_producer` and `create_reader` never return when their client is closed or shut down
    while they run, and a process that exits with one blocked aborts (`connector.daemon_pool`); closing a client while
    another thread creates producers on it crashed the process (SIGSEGV in `close`, 3 of 3 scratch runs of 40 writers
    closed 0-20 ms into their first sends, 2026-12-08; `tests/integration/test_sink_closing.py`). An owner's thread
    makes such calls inside `with calls:`, and anything that closes the owner's client from another thread (`hold`
    for a later attempt) calls `close()`: at once when no call runs, else in the thread of the last call to return.
    A call that would start after `close()` raises `PulsarConnectorError`. Does not wait.
    """

    def __init__(self, close: Callable[[], None], owner: str) -> None:
        self._close = close
        self._owner = owner
        self._lock = threading.Lock()
        self._running = 0
        self._closing = False
        self._closed = False

    def __enter__(self) -> None:
        with self._lock:
            if self._closing:
                raise PulsarConnectorError(f"{self._owner}: its client was closed (a later attempt took over, or the "
                                           "job is ending)")
            self._running += 1

    def __exit__(self, *_: object) -> None:
        with self._lock:
            self._running -= 1
            closes = self._closing and not self._running and not self._closed
            self._closed = self._closed or closes
        if closes:
            self._close()

    def close(self) -> None:
        with self._lock:
            self._closing = True
            closes = not self._running and not self._closed
            self._closed = self._closed or closes
        if closes:
            self._close()


def hold(owner: Hashable, close: Callable[[], None]) -> None:
    """Record `close` (a bound method) as what closes `owner`'s clients; first call the one an earlier attempt of
    `owner` recorded and never released. `close` also runs if this worker's TaskManager dies."""
    with _lock:
        left_open = _held.pop(owner, None)
        _held[owner] = close
    if left_open is not None:
        log.info("%s: closing the clients a failed attempt left open", owner)
        left_open()
    close_when_taskmanager_dies(close)


def release(owner: Hashable, close: Callable[[], None]) -> None:
    """Forget `close` for `owner` (after calling it yourself); a later attempt's record is kept."""
    with _lock:
        if _held.get(owner) == close:
            del _held[owner]


def held_owners() -> list[Hashable]:
    """The owners whose clients are recorded open in this process."""
    with _lock:
        return list(_held)


def close_all() -> list[Hashable]:
    """Close every client recorded open in this process and forget it; the owners closed. For a driver that ran jobs
    in local loopback mode: PyFlink closes no function of a cancelled job there, so its clients stay connected."""
    with _lock:
        held = list(_held.items())
        _held.clear()
    for owner, close in held:
        try:
            close()
        except Exception as error:  # one that fails to close must not keep the others open
            log.warning("%s: closing its clients failed: %r", owner, error)
    return [owner for owner, _ in held]


def reset() -> None:
    """Forget every record without closing anything (tests)."""
    with _lock:
        _held.clear()
