"""EXACTLY_ONCE identities for records numbered by the source message they came from.

Engine-agnostic: the writer fused behind the Pulsar source (`connector.sink.flink`) asks, per record, for the
`Sequenced` identity of the record made from message `ordinal` of numbered sequence `stream`
(`connector.in_flight`). Records of one message arrive one after another (PyFlink runs a fused chain depth-first),
and a replay brings the same messages with the same numbers, so the identities repeat exactly.
"""

from __future__ import annotations

from connector.errors import PulsarSinkError
from connector.sink.writer import Sequenced

OUTPUTS_PER_MESSAGE = 65_537
"""How many records one source message may turn into: sequence id = ordinal x OUTPUTS_PER_MESSAGE + output index.
A prime, so that the ids of consecutive messages taken modulo any partition count below it cycle through every
partition (keyless records are routed round robin by sequence id)."""


class MessageSequencer:
    """Producer `<sink name>-<stream>`; the n-th record (from 0) of message `ordinal` gets sequence id
    `ordinal * OUTPUTS_PER_MESSAGE + n`, so ids grow with every record of a stream."""

    def __init__(self, sink_name: str) -> None:
        self._sink_name = sink_name
        self._producer_names: dict[str, str] = {}
        self._stream: str | None = None  # the message of the last record, and how many records it made before
        self._ordinal = 0
        self._output = 0

    def identity(self, stream: str, ordinal: int) -> Sequenced:
        if ordinal == self._ordinal and stream == self._stream:
            self._output += 1
            if self._output >= OUTPUTS_PER_MESSAGE:
                raise PulsarSinkError(f"sink {self._sink_name} (EXACTLY_ONCE): message {ordinal} of {stream} made "
                                      f"more than {OUTPUTS_PER_MESSAGE} records, more than its sequence ids allow")
        else:
            self._stream, self._ordinal, self._output = stream, ordinal, 0
        name = self._producer_names.get(stream)
        if name is None:
            name = self._producer_names[stream] = f"{self._sink_name}-{stream}"
        return Sequenced(name, ordinal * OUTPUTS_PER_MESSAGE + self._output)
