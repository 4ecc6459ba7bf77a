"""Entries behind the end of a partition, from its ledger list."""

from checkpoint.position import Position
from connector.source.lag import entries_behind, ledger_entries


def test_ledger_entries_take_the_open_ledgers_live_count() -> None:
    stats = {"ledgers": [{"ledgerId": 3, "entries": 100}, {"ledgerId": 7, "entries": 0}],
             "currentLedgerEntries": 42}
    assert ledger_entries(stats) == [(3, 100), (7, 42)]
    assert ledger_entries({"ledgers": []}) == []


def test_entries_behind_count_the_rest_of_the_ledger_and_every_later_one() -> None:
    ledgers = [(3, 100), (7, 42)]
    assert entries_behind(ledgers, None) == 142
    assert entries_behind(ledgers, Position(3, 89, -1)) == 10 + 42
    assert entries_behind(ledgers, Position(3, 99, 5)) == 42  # inside a batch: its entry counts as read
    assert entries_behind(ledgers, Position(7, 41)) == 0
    assert entries_behind(ledgers, Position(1, 0)) == 142  # a ledger already trimmed away
