"""The source's PyFlink glue without a cluster: what split discovery does with a timer restored from a savepoint.

PyFlink calls `on_timer` for every timer that fires and iterates what it returns. The version whose discovery ran
the step timer chain (069ebf5) left such timers in its savepoints; whether one fires after a restore depends on
timing, so the upgrade test (tests/integration/test_source_upgrade.py) cannot show this every time.
"""

from __future__ import annotations

from pyflink.datastream import KeyedProcessFunction

from connector.source.flink import _DiscoverSplits


def test_a_restored_discovery_timer_emits_nothing() -> None:
    discovery = _DiscoverSplits(source=None, instance="i")
    assert list(discovery.on_timer(1_700_000_000_000, None)) == []


def test_pyflink_default_on_timer_is_not_iterable() -> None:
    """Why discovery defines `on_timer`: PyFlink's default returns None, which fails the task when such a timer fires
    (`'NoneType' object is not iterable`)."""
    assert KeyedProcessFunction.on_timer(_DiscoverSplits(source=None, instance="i"), 0, None) is None
