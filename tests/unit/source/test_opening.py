"""Opening readers off the reading thread: order, errors, readers opened ahead and for which state, closes."""

from __future__ import annotations

import threading
import time

import pytest

from checkpoint.split_state import SplitState
from connector.source.opening import ReaderOpener


class FakeReader:
    def __init__(self, split: str, state: SplitState) -> None:
        self.split, self.state = split, state
        self.closed_by: str | None = None

    def close(self) -> None:
        self.closed_by = threading.current_thread().name


class Opens:
    """An `OpenReader` that records what it opened and fails for the splits in `failing`."""

    def __init__(self, failing: frozenset[str] = frozenset()) -> None:
        self.failing = failing
        self.opened: list[FakeReader] = []
        self.threads: set[str] = set()

    def __call__(self, split: str, origin: str, state: SplitState) -> FakeReader:
        self.threads.add(threading.current_thread().name)
        if split in self.failing:
            raise RuntimeError(f"cannot open {split}")
        reader = FakeReader(split, state)
        self.opened.append(reader)
        return reader


def wanted(*splits: str, read_count: int = 0) -> list[tuple[str, str, SplitState]]:
    return [(split, "initial", SplitState(split, lineage="i", read_count=read_count)) for split in splits]


@pytest.fixture
def opens() -> Opens:
    return Opens()


def test_readers_come_back_in_order_opened_in_the_pool(opens: Opens) -> None:
    opener = ReaderOpener(opens)
    readers = opener.open(wanted(*(f"s{n}" for n in range(20))))
    opener.shutdown(release_client=lambda: None)
    assert [reader.split for reader in readers] == [f"s{n}" for n in range(20)]
    assert threading.current_thread().name not in opens.threads
    assert all(name.startswith("pulsar-open") for name in opens.threads)


def test_the_first_failing_split_in_order_raises() -> None:
    opener = ReaderOpener(Opens(failing=frozenset({"s3", "s5"})))
    with pytest.raises(RuntimeError, match="cannot open s3"):
        opener.open(wanted("s1", "s2", "s3", "s4", "s5"))
    opener.shutdown(release_client=lambda: None)


def test_a_reader_opened_ahead_is_used_for_the_same_state(opens: Opens) -> None:
    opener = ReaderOpener(opens)
    opener.prefetch(wanted("s1", "s2"))
    opener.prefetch(wanted("s1"))  # already opening: not again
    readers = opener.open(wanted("s1", "s2", "s3"))
    opener.shutdown(release_client=lambda: None)
    assert sorted(reader.split for reader in opens.opened) == ["s1", "s2", "s3"]
    assert readers == sorted(opens.opened, key=lambda reader: reader.split)


def test_a_reader_opened_ahead_for_another_state_is_closed_and_the_split_opens_again(opens: Opens) -> None:
    opener = ReaderOpener(opens)
    opener.prefetch(wanted("s1"))
    [reader] = opener.open(wanted("s1", read_count=7))  # the stored state differs: a restore
    assert reader.state.read_count == 7
    deadline = time.monotonic() + 5  # the open ahead runs beside the new one, and closes once opened
    while not any(opened.closed_by for opened in opens.opened) and time.monotonic() < deadline:
        time.sleep(0.01)
    opener.shutdown(release_client=lambda: None)
    [ahead] = [opened for opened in opens.opened if opened is not reader]
    assert ahead.state.read_count == 0 and ahead.closed_by.startswith("pulsar-open") and reader.closed_by is None


def test_an_error_of_an_open_ahead_waits_for_the_open_that_takes_it() -> None:
    opener = ReaderOpener(Opens(failing=frozenset({"s1"})))
    opener.prefetch(wanted("s1"))
    with pytest.raises(RuntimeError, match="cannot open s1"):
        opener.open(wanted("s1"))
    opener.shutdown(release_client=lambda: None)


def test_closes_run_in_the_pool_and_at_once_after_shutdown(opens: Opens) -> None:
    opener = ReaderOpener(opens)
    done = threading.Event()
    threads: list[str] = []
    opener.close_later(lambda: (threads.append(threading.current_thread().name), done.set()))
    assert done.wait(5)
    opener.shutdown(release_client=lambda: None)
    opener.close_later(lambda: threads.append(threading.current_thread().name))
    assert threads[0].startswith("pulsar-open") and threads[1] == threading.current_thread().name


def test_the_client_is_released_only_once_the_open_in_flight_returned() -> None:
    started, release = threading.Event(), threading.Event()
    events: list[str] = []

    def slow_open(split: str, origin: str, state: SplitState) -> FakeReader:
        started.set()
        release.wait(5)
        events.append(f"opened {split}")
        return FakeReader(split, state)

    opener = ReaderOpener(slow_open, concurrency=1)
    opener.prefetch(wanted("s1", "s2"))
    assert started.wait(5)
    released = threading.Event()
    opener.shutdown(release_client=lambda: (events.append("client released"), released.set()))
    assert events == []  # s1 still opening: the client stays
    release.set()
    assert released.wait(5)
    assert events == ["opened s1", "client released"]  # s2 never started: cancelled at shutdown
