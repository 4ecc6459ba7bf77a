"""`keep_thread_state` against a real broker: a client thread's send callbacks share one Python thread state."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from connector.client_threads import keep_thread_state
from connector.clients import new_client
from devtools.pulsar_standalone import Broker

MESSAGES = 20


def callbacks_finding_their_thread_marked(broker: Broker, topic: str, before: Callable[[], None]) -> list[bool]:
    """Sends MESSAGES from a new client; per send callback (in order): did a mark an earlier callback left in
    the thread's `threading.local` survive? Each callback calls `before` first, then marks."""
    marks = threading.local()
    found: list[bool] = []

    def callback(_result: Any, _message_id: Any) -> None:
        before()
        found.append(getattr(marks, "marked", False))
        marks.marked = True

    client = new_client(broker.service_url)
    try:
        producer = client.create_producer(topic, batching_enabled=False)
        for n in range(MESSAGES):
            producer.send_async(b"%d" % n, callback)
        producer.flush()  # returns after the last message's callback
    finally:
        client.close()
    return found


def test_a_client_thread_keeps_its_thread_state_between_callbacks(broker: Broker, topic: str) -> None:
    # Without it the bindings give each callback a new thread state, so nothing a callback leaves survives (the
    # cost keep_thread_state removes).
    assert callbacks_finding_their_thread_marked(broker, topic, lambda: None) == [False] * MESSAGES
    found = callbacks_finding_their_thread_marked(broker, topic, keep_thread_state)
    assert len(found) == MESSAGES
    assert not found[0] and all(found[1:]), found
