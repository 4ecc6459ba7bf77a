"""Topic subscriptions, split naming and diffs, without a broker."""

from __future__ import annotations

import pytest

from connector.source.discovery import TopicSubscription, diff
from connector.topics import TopicName, split_partition


def test_topic_names_parse_short_and_full_forms() -> None:
    assert TopicName.parse("orders").full == "persistent://public/default/orders"
    assert TopicName.parse("t/ns/orders").partition(2) == "persistent://t/ns/orders-partition-2"
    with pytest.raises(ValueError, match="only persistent"):
        TopicName.parse("non-persistent://public/default/x")
    assert split_partition("persistent://a/b/c-partition-12") == ("persistent://a/b/c", 12)
    assert split_partition("persistent://a/b/c") == ("persistent://a/b/c", -1)


def test_diff_reports_added_and_removed_splits_sorted() -> None:
    added, removed = diff(frozenset({"a", "b"}), frozenset({"b", "d", "c"}))
    assert added == ["c", "d"] and removed == ["a"]


def test_subscription_needs_exactly_one_of_topics_and_pattern() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        TopicSubscription()
    with pytest.raises(ValueError, match="exactly one"):
        TopicSubscription(topics=("a",), pattern="persistent://public/default/.*")
    with pytest.raises(ValueError, match="literal persistent://tenant/namespace/"):
        TopicSubscription(pattern=".*")
    with pytest.raises(ValueError, match="not a regular expression"):
        TopicSubscription(pattern="persistent://public/default/(")
    assert TopicSubscription(pattern="persistent://public/default/orders-.*").namespace == "public/default"
