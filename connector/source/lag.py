"""How far a split's reader is behind the end of its partition, from the broker's ledger list.

Pure logic over the admin API's `internalStats`: the ledgers of a partition with their entry counts (the
last, open ledger counted by `currentLedgerEntries`). The unit is entries: one per message when producers do
not batch, one per batch when they do.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from checkpoint.position import Position
from connector.admin import PulsarAdmin, PulsarAdminError

log = logging.getLogger(__name__)


def ledger_entries(internal_stats: dict[str, Any]) -> list[tuple[int, int]]:
    """(ledger id, entries) of every ledger, in order, with the open ledger's live count."""
    ledgers = [(int(ledger["ledgerId"]), int(ledger["entries"])) for ledger in internal_stats.get("ledgers", [])]
    if ledgers:
        ledgers[-1] = (ledgers[-1][0], int(internal_stats.get("currentLedgerEntries", ledgers[-1][1])))
    return ledgers


def entries_behind(ledgers: list[tuple[int, int]], last_emitted: Position | None) -> int:
    """Entries after `last_emitted` (all of them when nothing was emitted yet)."""
    if last_emitted is None:
        return sum(entries for _, entries in ledgers)
    behind = 0
    for ledger_id, entries in ledgers:
        if ledger_id > last_emitted.ledger_id:
            behind += entries
        elif ledger_id == last_emitted.ledger_id:
            behind += max(0, entries - last_emitted.entry_id - 1)
    return behind


class LagSampler:
    """Samples, every `interval_s` in a daemon thread, how many entries each tracked split is behind.

    `lag(split)` is the newest sample, or -1 before the first one (or while the admin API is unreachable).
    """

    def __init__(self, admin: PulsarAdmin, interval_s: float) -> None:
        self._admin = admin
        self._interval_s = interval_s
        self._positions: dict[str, Callable[[], Position | None]] = {}
        self._lags: dict[str, int] = {}
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pulsar-lag-sampler", daemon=True)
        self._thread.start()

    def track(self, split: str, position: Callable[[], Position | None]) -> None:
        self._positions[split] = position

    def untrack(self, split: str) -> None:
        self._positions.pop(split, None)
        self._lags.pop(split, None)

    def lag(self, split: str) -> int:
        return self._lags.get(split, -1)

    def close(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=self._admin.timeout_s + 1)

    def _run(self) -> None:
        while not self._stopped.wait(self._interval_s):
            for split, position in list(self._positions.items()):
                try:
                    ledgers = ledger_entries(self._admin.internal_stats(split))
                    self._lags[split] = entries_behind(ledgers, position())
                except PulsarAdminError as error:
                    self._lags[split] = -1
                    log.warning("lag of split %s not sampled: %s", split, error)
