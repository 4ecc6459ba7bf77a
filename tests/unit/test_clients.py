import threading

import pytest

from connector import clients
from connector.errors import PulsarConnectorError


class Resource:
    def __init__(self) -> None:
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


@pytest.fixture(autouse=True)
def empty_registry():
    clients.reset()
    yield
    clients.reset()


def test_holding_closes_what_an_earlier_attempt_of_the_same_owner_left_open() -> None:
    failed_attempt, next_attempt, other_subtask = Resource(), Resource(), Resource()
    clients.hold(("sink", "s", "1a2b", 0), failed_attempt.close)
    clients.hold(("sink", "s", "1a2b", 1), other_subtask.close)
    clients.hold(("sink", "s", "1a2b", 0), next_attempt.close)
    assert (failed_attempt.closed, next_attempt.closed, other_subtask.closed) == (1, 0, 0)


def test_a_released_owner_is_not_closed_again_and_a_late_release_keeps_the_newer_record() -> None:
    first, second = Resource(), Resource()
    clients.hold("owner", first.close)
    first.close()
    clients.release("owner", first.close)
    assert clients.held_owners() == []
    clients.hold("owner", second.close)
    clients.release("owner", first.close)  # an old attempt closing late
    assert clients.held_owners() == ["owner"] and first.closed == 1


def test_close_all_closes_and_forgets_every_record_even_when_one_fails_to_close() -> None:
    def broken() -> None:
        raise RuntimeError("already gone")

    first, second = Resource(), Resource()
    clients.hold("first", first.close)
    clients.hold("broken", broken)
    clients.hold("second", second.close)
    assert clients.close_all() == ["first", "broken", "second"]
    assert (first.closed, second.closed) == (1, 1) and clients.held_owners() == []


def test_client_calls_close_at_once_when_no_call_runs_and_only_once() -> None:
    client = Resource()
    calls = clients.ClientCalls(client.close, "sink s")
    with calls:
        pass
    calls.close()
    calls.close()
    assert client.closed == 1


def test_a_close_during_a_call_waits_for_it_and_runs_in_its_thread() -> None:
    client, closed_in = Resource(), []
    calls = clients.ClientCalls(lambda: (client.close(), closed_in.append(threading.current_thread().name)), "sink s")
    inside, release = threading.Event(), threading.Event()

    def create_producer() -> None:
        with calls:
            inside.set()
            release.wait(5)

    caller = threading.Thread(target=create_producer, name="operator")
    caller.start()
    assert inside.wait(5)
    calls.close()  # another attempt takes over while the operator's thread is inside a call
    assert client.closed == 0
    release.set()
    caller.join(5)
    assert (client.closed, closed_in) == (1, ["operator"])


def test_a_call_after_close_is_refused_naming_the_owner() -> None:
    calls = clients.ClientCalls(Resource().close, "sink region-totals")
    calls.close()
    with pytest.raises(PulsarConnectorError, match="sink region-totals: its client was closed"):
        with calls:
            pass
