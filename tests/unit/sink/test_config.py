"""The batch limits the sink's producers work with, which its round robin of keyless messages follows."""

from __future__ import annotations

import pytest

from connector.sink.config import batch_limits


def test_unset_limits_are_the_clients_defaults() -> None:
    assert batch_limits({}) == (1000, 128 * 1024)


def test_set_limits_are_used() -> None:
    config = {"batching_max_messages": 50, "batching_max_allowed_size_in_bytes": 4096}
    assert batch_limits(config) == (50, 4096)


def test_producers_that_do_not_batch_have_no_limits() -> None:
    assert batch_limits({"batching_enabled": False}) is None


def test_a_limit_below_one_is_named() -> None:
    with pytest.raises(ValueError, match="batching_max_messages must be a positive integer, not -1"):
        batch_limits({"batching_max_messages": -1})
