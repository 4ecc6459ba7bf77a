"""Entries behind the end of a partition, from its ledger list."""

from checkpoint.position import Position
from connector.errors import PulsarAdminError
from connector.source.lag import LagSampler, entries_behind, ledger_entries


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


class Admin:
    """The two admin calls the sampler makes, answered from `stats` (split -> internal stats); counts calls."""

    def __init__(self, stats: dict[str, dict], failing: bool = False) -> None:
        self.stats, self.failing, self.calls = stats, failing, []

    def internal_stats(self, topic: str) -> dict:
        self.calls.append(topic)
        if self.failing:
            raise PulsarAdminError(f"admin call for {topic} failed")
        return self.stats[topic]

    def partitioned_internal_stats(self, topic: str) -> dict[str, dict]:
        self.calls.append(topic)
        if self.failing:
            raise PulsarAdminError(f"admin call for {topic} failed")
        return {split: stats for split, stats in self.stats.items() if split.startswith(f"{topic}-partition-")}


def stats_with(entries: int) -> dict:
    return {"ledgers": [{"ledgerId": 5, "entries": entries}], "currentLedgerEntries": entries}


TOPIC = "persistent://public/default/orders"
SINGLE = "persistent://public/default/single"


def test_one_admin_call_per_topic_samples_every_partition_of_it() -> None:
    admin = Admin({f"{TOPIC}-partition-{n}": stats_with(10 * (n + 1)) for n in range(3)} | {SINGLE: stats_with(4)})
    sampler = LagSampler(admin, interval_s=3600)
    try:
        for n in range(3):
            sampler.track(f"{TOPIC}-partition-{n}", lambda: Position(5, 4))
        sampler.track(SINGLE, lambda: None)
        sampler.sample_all()
        assert sorted(admin.calls) == [TOPIC, SINGLE]
        assert [sampler.lag(f"{TOPIC}-partition-{n}") for n in range(3)] == [5, 15, 25]
        assert sampler.lag(SINGLE) == 4
    finally:
        sampler.close()


def test_a_failed_call_marks_every_split_of_its_topic_unsampled_with_the_error() -> None:
    admin = Admin({}, failing=True)
    sampler = LagSampler(admin, interval_s=3600)
    try:
        sampler.track(f"{TOPIC}-partition-0", lambda: None)
        sampler.track(f"{TOPIC}-partition-1", lambda: None)
        sampler.sample_all()
        samples = [sampler.sample(f"{TOPIC}-partition-{n}") for n in range(2)]
        assert all(s is not None and s.entries_behind is None and TOPIC in s.error for s in samples)
        assert sampler.lag(f"{TOPIC}-partition-0") == -1 and admin.calls == [TOPIC]
    finally:
        sampler.close()
