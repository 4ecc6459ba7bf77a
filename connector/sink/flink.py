"""PyFlink glue: the process functions that drive a `PulsarWriter` and the call that attaches them to a stream.

The only Python-visible point before a checkpoint snapshot is the end of a bundle: the Python operator finishes
its bundle when the barrier arrives, and a metric gauge registered in `open()` is evaluated then, before keyed
state is committed. The sink registers its flush as that gauge; a flush that fails fails the bundle, the
checkpoint and the job. Gauges are only evaluated this way in the process execution mode with Python metrics
on, so AT_LEAST_ONCE and EXACTLY_ONCE refuse to open otherwise.

PyFlink does not close the functions of a failed attempt (in local loopback mode its Python workers live on in
the driver process): their clients would stay connected and keep EXACTLY_ONCE producer names taken. So a
subtask's writer closes the writer an earlier attempt of the same subtask left open in this process.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from pyflink.common import Types
from pyflink.datastream import DataStream, KeyedProcessFunction, ProcessFunction, RuntimeContext
from pyflink.datastream.connectors.base import DeliveryGuarantee
from pyflink.datastream.functions import KeySelector
from pyflink.datastream.state import ValueStateDescriptor
from pyflink.fn_execution.metrics.process.metric_impl import GenericMetricGroup

from connector.sink.config import SinkConfig
from connector.sink.message import to_message
from connector.sink.writer import PulsarSinkError, PulsarWriter, Sequenced

GAUGE = "pulsarSinkAcknowledgedMessages"

# (sink instance, subtask index) -> the writer of the latest attempt opened in this process.
_OPEN_WRITERS: dict[tuple[str, int], PulsarWriter] = {}


def attach(config: SinkConfig, stream: DataStream) -> DataStream:
    """Write every element of `stream` to Pulsar; the (empty) stream of the writer operator.

    The writer operator's uid is `<sink name>-writer`: keep the sink name to restore its state from a savepoint.
    """
    name = config.sink_name
    # Fresh per submission, the same in every attempt. EXACTLY_ONCE producer names of sequence keys without
    # restored state contain it, so they never collide with names an earlier job used; restored keys keep the
    # name kept in their state.
    instance = uuid.uuid4().hex[:8]
    if config.delivery_guarantee == DeliveryGuarantee.EXACTLY_ONCE:
        writer = _ExactlyOnceWriter(config, instance)
        out = stream.key_by(_SequenceKey(), key_type=Types.STRING()).process(writer)
    else:
        out = stream.process(_Writer(config, instance))
    return out.name(f"{name}: Pulsar writer").uid(f"{name}-writer")


class _SequenceKey(KeySelector):
    def get_key(self, value: Any) -> str:
        key = to_message(value).sequence_key
        if key is None:
            raise PulsarSinkError(
                "deliveryGuarantee EXACTLY_ONCE needs a sequence key on every record (PulsarMessage.sequence_key, "
                f"or a `split` attribute as records of the Pulsar source have); this one has none: {value!r:.200}")
        return key


def _open_writer(config: SinkConfig, instance: str, runtime_context: RuntimeContext) -> PulsarWriter:
    subtask = (instance, runtime_context.get_index_of_this_subtask())
    left_open = _OPEN_WRITERS.pop(subtask, None)
    if left_open is not None:
        left_open.close()
    writer = _OPEN_WRITERS[subtask] = PulsarWriter(config)
    return writer


def _close_writer(writer: PulsarWriter | None) -> None:
    if writer is not None:
        writer.close()
        for subtask, open_writer in list(_OPEN_WRITERS.items()):
            if open_writer is writer:
                del _OPEN_WRITERS[subtask]


def _on_bundle_end(config: SinkConfig, runtime_context: RuntimeContext, action: Callable[[], int]) -> None:
    group = runtime_context.get_metrics_group()
    if isinstance(group, GenericMetricGroup):
        group.gauge(GAUGE, action)
    elif config.delivery_guarantee != DeliveryGuarantee.NONE:
        raise PulsarSinkError(
            f"deliveryGuarantee {config.delivery_guarantee.name} flushes before each checkpoint at the end of a "
            "Python bundle, which needs python.execution-mode=process and python.metric.enabled=true")


class _Writer(ProcessFunction):
    """NONE and AT_LEAST_ONCE: one writer per subtask, fed in the order elements arrive."""

    def __init__(self, config: SinkConfig, instance: str) -> None:
        self._config = config
        self._instance = instance
        self._writer: PulsarWriter | None = None

    def open(self, runtime_context: RuntimeContext) -> None:
        self._writer = _open_writer(self._config, self._instance, runtime_context)
        at_least_once = self._config.delivery_guarantee == DeliveryGuarantee.AT_LEAST_ONCE
        _on_bundle_end(self._config, runtime_context, self._writer.flush if at_least_once else self._writer.check)

    def process_element(self, value: Any, ctx: ProcessFunction.Context) -> None:
        self._writer.write(value)

    def close(self) -> None:
        if self._writer is not None:
            try:
                if self._config.delivery_guarantee == DeliveryGuarantee.NONE:
                    self._writer.flush()  # the end of a bounded input: deliver what is still in flight
            finally:
                _close_writer(self._writer)


class _ExactlyOnceWriter(KeyedProcessFunction):
    """EXACTLY_ONCE, keyed by sequence key. Per key, state holds the producer name and the last sequence id used,
    so a replay after restore sends each record again under the same (name, id) and the broker drops it."""

    def __init__(self, config: SinkConfig, instance: str) -> None:
        self._config = config
        self._instance = instance
        self._writer: PulsarWriter | None = None
        self._state = None

    def open(self, runtime_context: RuntimeContext) -> None:
        self._writer = _open_writer(self._config, self._instance, runtime_context)
        _on_bundle_end(self._config, runtime_context, self._writer.flush)
        self._state = runtime_context.get_state(
            ValueStateDescriptor("pulsar-sink-sequence", Types.PICKLED_BYTE_ARRAY()))

    def process_element(self, value: Any, ctx: KeyedProcessFunction.Context) -> None:
        producer_name, last = self._state.value() or (
            f"{self._config.sink_name}-{self._instance}-{ctx.get_current_key()}", 0)
        self._writer.write(value, Sequenced(producer_name, last + 1))
        self._state.update((producer_name, last + 1))

    def close(self) -> None:
        _close_writer(self._writer)
