"""PyFlink glue: the process functions that drive a `PulsarWriter` and the call that attaches them to a stream.

The only Python-visible point before a checkpoint snapshot is the end of a bundle: the Python operator finishes
its bundle when the barrier arrives, and a metric gauge registered in `open()` is evaluated then, before keyed
state is committed. The sink registers its flush as that gauge; a flush that fails fails the bundle, the
checkpoint and the job. Gauges are only evaluated this way in the process execution mode with Python metrics
on, so AT_LEAST_ONCE and EXACTLY_ONCE refuse to open otherwise.

A subtask's writer closes the writer an earlier attempt of the same subtask left open in this process
(`connector.clients.hold`).

Metrics, per writer subtask in its group `pulsarSink` (a subgroup: the operator's own numRecordsOut counts records
passed downstream): `numRecordsOut` and `numBytesOut` (payload bytes) count messages the broker acknowledged, and
`pendingMessages` is how many messages awaited acknowledgement at the last bundle end (after its flush, so always 0
under AT_LEAST_ONCE and EXACTLY_ONCE). They are updated at bundle ends from the writer's own counts, so recording
costs nothing per record. Under NONE the counts trail until the next bundle ends; under EXACTLY_ONCE a replayed
message the broker already had is not sent again and not counted. A failed send fails the job at once
(logged at ERROR with the sink, topic and cause), so there is no send-error counter: the job's exception history
counts the failures.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from pyflink.common import Types
from pyflink.datastream import DataStream, KeyedProcessFunction, ProcessFunction, RuntimeContext
from pyflink.datastream.connectors.base import DeliveryGuarantee
from pyflink.datastream.functions import KeySelector
from pyflink.datastream.state import ValueStateDescriptor
from pyflink.fn_execution.metrics.process.metric_impl import GenericMetricGroup

from checkpoint import sink_sequence
from checkpoint.sink_sequence import SinkSequence
from connector import clients
from connector.errors import PulsarSinkError
from connector.in_flight import IN_FLIGHT
from connector.python_runtime import set_bundle_time_unless_set
from connector.sink.chain import chained_to_source_readers
from connector.sink.config import SinkConfig
from connector.sink.message import to_message
from connector.sink.sequencing import MessageSequencer
from connector.sink.writer import PulsarWriter, Sequenced

log = logging.getLogger(__name__)

GAUGE = "pulsarSinkAcknowledgedMessages"
METRIC_GROUP = "pulsarSink"

def attach(config: SinkConfig, stream: DataStream) -> DataStream:
    """Write every element of `stream` to Pulsar; the (empty) stream of the writer operator.

    EXACTLY_ONCE fused behind a Pulsar source in one Python operator (`connector.sink.chain`) numbers records by
    their source message; otherwise it keys them by sequence key (`_ExactlyOnceWriter`, whose operator's uid
    `<sink name>-writer` holds its state: keep the sink name to restore it from a savepoint; a fused writer's
    operator takes the source readers' uid). The job's Python bundle time is set if unset
    (`connector.python_runtime`).
    """
    set_bundle_time_unless_set(stream._j_data_stream.getExecutionEnvironment())
    name = config.sink_name
    # Fresh per submission, the same in every attempt. EXACTLY_ONCE producer names of sequence keys without
    # restored state contain it, so they never collide with names an earlier job used; restored keys keep the
    # name kept in their state.
    instance = uuid.uuid4().hex[:8]
    if config.delivery_guarantee == DeliveryGuarantee.EXACTLY_ONCE and not chained_to_source_readers(stream):
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
                "deliveryGuarantee EXACTLY_ONCE needs a sequence key on every record (PulsarMessage.sequence_key; "
                "for records of the Pulsar source, the `topic` of its metadata row, which names the split); this one "
                f"has none: {value!r:.200}")
        return key


def _open_writer(config: SinkConfig, instance: str, runtime_context: RuntimeContext) -> tuple[PulsarWriter, tuple]:
    """A writer for this subtask and its owner in `connector.clients`; the writer an earlier attempt of the subtask
    left open in this process is closed first."""
    index = runtime_context.get_index_of_this_subtask()
    at_bundle_ends = isinstance(runtime_context.get_metrics_group(), GenericMetricGroup)  # see `_on_bundle_end`
    writer, owner = PulsarWriter(config, caller_checks=at_bundle_ends), ("sink", config.sink_name, instance, index)
    clients.hold(owner, writer.close)
    log.info("sink %s subtask %d: writer opened (%s, topics %s)", config.sink_name, index,
             config.delivery_guarantee.name, ", ".join(config.topics) or "chosen per record")
    return writer, owner


def _close_writer(writer: PulsarWriter, owner: tuple) -> None:
    writer.close()
    clients.release(owner, writer.close)


def _log_failure(config: SinkConfig, error: PulsarSinkError) -> None:
    log.error("sink %s (%s) fails the job: %s", config.sink_name, config.delivery_guarantee.name, error)


def _on_bundle_end(config: SinkConfig, runtime_context: RuntimeContext, writer: PulsarWriter,
                   action: Callable[[], int]) -> None:
    """Run `action` (the writer's flush or check) at every bundle end and update the sink's metrics after it."""
    group = runtime_context.get_metrics_group()
    if isinstance(group, GenericMetricGroup):
        metrics = _SinkMetrics(group.add_group(METRIC_GROUP), writer)

        def at_bundle_end() -> int:
            try:
                return metrics.measure(action)
            except PulsarSinkError as error:
                _log_failure(config, error)
                raise

        group.gauge(GAUGE, at_bundle_end)
    elif config.delivery_guarantee != DeliveryGuarantee.NONE:
        raise PulsarSinkError(
            f"deliveryGuarantee {config.delivery_guarantee.name} flushes before each checkpoint at the end of a "
            "Python bundle, which needs python.execution-mode=process and python.metric.enabled=true")


class _Writer(ProcessFunction):
    """One writer per subtask, fed in the order elements arrive: NONE, AT_LEAST_ONCE, and EXACTLY_ONCE fused behind
    the source's readers in their Python operator. Fused, a record's identity comes from the source message it came
    from (`connector.in_flight`, `connector.sink.sequencing`), so the writer keeps no state: a replay reads the same
    messages under the same numbers, the deterministic operators between make the same records from them, and they
    go out under the same identities, which the broker drops when it has them."""

    def __init__(self, config: SinkConfig, instance: str) -> None:
        self._config = config
        self._instance = instance
        self._writer: PulsarWriter | None = None

    def open(self, runtime_context: RuntimeContext) -> None:
        self._writer, self._owner = _open_writer(self._config, self._instance, runtime_context)
        guarantee = self._config.delivery_guarantee
        self._sequencer = MessageSequencer(self._config.sink_name) \
            if guarantee == DeliveryGuarantee.EXACTLY_ONCE else None
        _on_bundle_end(self._config, runtime_context, self._writer,
                       self._writer.check if guarantee == DeliveryGuarantee.NONE else self._writer.flush)

    def process_element(self, value: Any, ctx: ProcessFunction.Context) -> None:
        try:
            self._writer.write(value, None if self._sequencer is None else self._identity(value))
        except PulsarSinkError as error:
            _log_failure(self._config, error)
            raise

    def _identity(self, value: Any) -> Sequenced:
        stream = IN_FLIGHT.stream
        if stream is None:
            raise PulsarSinkError(
                f"sink {self._config.sink_name} (EXACTLY_ONCE) got a record outside a Pulsar source read in its own "
                "Python operator: the path from the source to the sink stopped being fused after `sink_to` (another "
                "consumer of a stream on the way, or chaining disabled). Keep that path one-to-one and read by "
                "nothing else, or set those up before `sink_to`, which then keys records by their sequence key: "
                f"{value!r:.200}")
        return self._sequencer.identity(stream, IN_FLIGHT.ordinal)

    def close(self) -> None:
        if self._writer is not None:
            try:
                if self._config.delivery_guarantee == DeliveryGuarantee.NONE:
                    self._writer.flush()  # the end of a bounded input: deliver what is still in flight
            finally:
                _close_writer(self._writer, self._owner)


class _ExactlyOnceWriter(KeyedProcessFunction):
    """EXACTLY_ONCE, keyed by sequence key. Per key, state holds the producer name and the last sequence id used
    (`checkpoint.sink_sequence`), so a replay after restore sends each record again under the same (name, id) and
    the broker drops it."""

    def __init__(self, config: SinkConfig, instance: str) -> None:
        self._config = config
        self._instance = instance
        self._writer: PulsarWriter | None = None
        self._state = None

    def open(self, runtime_context: RuntimeContext) -> None:
        self._writer, self._owner = _open_writer(self._config, self._instance, runtime_context)
        _on_bundle_end(self._config, runtime_context, self._writer, self._writer.flush)
        # Pickled, as format 1 was: the state's type stays the same, so savepoints of format 1 restore.
        self._state = runtime_context.get_state(
            ValueStateDescriptor("pulsar-sink-sequence", Types.PICKLED_BYTE_ARRAY()))

    def process_element(self, value: Any, ctx: KeyedProcessFunction.Context) -> None:
        stored = self._state.value()
        sequence = (sink_sequence.decode(stored) if stored is not None else
                    SinkSequence(f"{self._config.sink_name}-{self._instance}-{ctx.get_current_key()}", 0)).next()
        try:
            self._writer.write(value, Sequenced(sequence.producer_name, sequence.last_sequence_id))
        except PulsarSinkError as error:
            _log_failure(self._config, error)
            raise
        self._state.update(sink_sequence.encode(sequence))

    def close(self) -> None:
        if self._writer is not None:
            _close_writer(self._writer, self._owner)


class _SinkMetrics:
    """numRecordsOut, numBytesOut (counters of acknowledged messages and their payload bytes), brought up to date by
    `measure` at each bundle end, and pendingMessages (gauge; PyFlink evaluates a subgroup's gauges after its parent's,
    so after `measure`)."""

    def __init__(self, group: GenericMetricGroup, writer: PulsarWriter) -> None:
        self._writer = writer
        self._records = group.counter("numRecordsOut")
        self._bytes = group.counter("numBytesOut")
        self._counted_records = 0
        self._counted_bytes = 0
        group.gauge("pendingMessages", lambda: writer.pending_messages)

    def measure(self, action: Callable[[], int]) -> int:
        """Run `action` (it returns the count acknowledged in total), then add what was acknowledged since the last
        call to the counters; `action`'s result."""
        acknowledged = action()
        acknowledged_bytes = self._writer.acknowledged_bytes
        self._records.inc(acknowledged - self._counted_records)
        self._bytes.inc(acknowledged_bytes - self._counted_bytes)
        self._counted_records, self._counted_bytes = acknowledged, acknowledged_bytes
        return acknowledged
