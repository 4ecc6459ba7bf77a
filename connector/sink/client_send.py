"""How the writer hands one message to a pulsar-client producer.

A message without metadata (a payload, and under EXACTLY_ONCE a sequence id) goes through the bindings' own send
(`Producer._producer.send_async` with a `_pulsar.MessageBuilder` message). The public `Producer.send_async` does the
same after checking ten arguments and building the message in Python: 1.5 µs a message against 1.0 (timeit, 100 B),
and about 4% of a pipeline's records/s in Flink (README, the sink). Every other message, and every message of a
client whose producers lack the bindings' send, goes through the public `send_async`, whose checks name a wrong
argument's type.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulsar
from _pulsar import MessageBuilder  # the bindings pulsar-client's own `Producer.send_async` builds messages with

Send = Callable[[Any, Any, dict[str, Any]], None]
"""send(payload, callback or None, arguments): `arguments` are the public `send_async`'s keyword arguments."""


def sender(producer: pulsar.Producer) -> Send:
    """The send function of `producer`; it raises what the client raises."""
    public = producer.send_async
    bindings_send = getattr(getattr(producer, "_producer", None), "send_async", None)
    if bindings_send is None:
        return lambda payload, callback, arguments: public(payload, callback, **arguments)

    def send(payload: Any, callback: Any, arguments: dict[str, Any]) -> None:
        if type(payload) is not bytes or (arguments and (len(arguments) > 1 or "sequence_id" not in arguments)):
            public(payload, callback, **arguments)
            return
        builder = MessageBuilder()
        builder.content(payload)
        if arguments:
            builder.sequence_id(arguments["sequence_id"])
        bindings_send(builder.build(), callback)

    return send
