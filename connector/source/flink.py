"""The PyFlink glue of the source: a tick driver, split discovery, and keyed split readers.

PyFlink has no Python source API, so the source is built from parts PyFlink has:

  unbounded:  datagen ticks (parallelism 1) -> key_by(0) -> _DiscoverSplits -> key_by(split) -> _ReadSplit
  bounded:    the splits found at build time (a bounded collection) -> key_by(split) -> _ReadSplit

Readers are keyed by a routing key per split (`assignment.py`) that spreads splits evenly over the subtasks;
discovery keeps each split's ordinal in its state so the key never changes. `_ReadSplit` keeps one `SplitState`
per split in keyed ValueState. Records it yields during a bundle and the
state it writes in that bundle enter the same checkpoint (a barrier ends the bundle first), so on restore a
split resumes right after the last record that reached the checkpoint. Keyed state also moves with its key
on rescale, which makes stop-with-savepoint and restart at another parallelism continue exactly once.

In bounded mode each split is read to its stop cursor while handling its one element; checkpoints wait for
that. A failure before the next completed checkpoint replays the element, and the split starts again from
the state that checkpoint holds.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable
from typing import Any, Iterable

import pulsar
from pyflink.common import Row, Types
from pyflink.common.typeinfo import TypeInformation
from pyflink.datastream import DataStream, KeyedProcessFunction, RuntimeContext, StreamExecutionEnvironment
from pyflink.datastream.state import ValueStateDescriptor
from pyflink.table import DataTypes, Schema, StreamTableEnvironment, TableDescriptor

from checkpoint.position import Position
from checkpoint.split_state import SplitState
from connector.source.assignment import MAX_PARALLELISM, routing_key
from connector.source.bad_message import BadMessageHandler, BadMessagePolicy, Counter, DeadLetterWriter
from connector.source.cursor import StartCursor
from connector.source.discovery import DiscoveryThread, diff
from connector.source.lag import LagSampler
from connector.source.reader import SplitReader, SplitReadError
from connector.source.stall import StallWatch

log = logging.getLogger(__name__)

INITIAL = "initial"  # split known when the job first ran: starts at the configured start cursor
NEW = "new"          # split discovered later: starts at earliest, so nothing written to it is missed
REMOVE = "remove"    # split whose topic or partition is gone: reader closed, state dropped

# (split, action, routing key): readers are keyed by the routing key, which places splits evenly (assignment.py).
_SPLIT_ELEMENT = Types.TUPLE([Types.STRING(), Types.STRING(), Types.STRING()])

METADATA_FIELDS = ["value", "topic", "partition", "message_id", "key", "properties", "publish_time",
                   "event_time"]
_MetadataRow = Row(*METADATA_FIELDS)  # a Row "class": rows it makes carry the field names


def metadata_type(value_type: TypeInformation) -> TypeInformation:
    """The Row a source with record metadata emits (the Java connector's message fields)."""
    return Types.ROW_NAMED(METADATA_FIELDS, [
        value_type, Types.STRING(), Types.INT(), Types.PRIMITIVE_ARRAY(Types.BYTE()), Types.STRING(),
        Types.MAP(Types.STRING(), Types.STRING()), Types.LONG(), Types.LONG()])


def build_stream(env: StreamExecutionEnvironment, source: Any, initial_splits: frozenset[str]) -> DataStream:
    """The DataStream of `source` (a built `PulsarSource`) in `env`."""
    if source.stop_cursor.is_bounded:
        elements = [(split, INITIAL, routing_key(split, ordinal)) for ordinal, split in enumerate(sorted(initial_splits))]
        splits = env.from_collection(elements, _SPLIT_ELEMENT)
        splits = splits.name(f"{source.name}: splits").set_parallelism(1)
    else:
        splits = (_ticks(env, source)
                  .key_by(lambda _: 0, key_type=Types.INT())
                  .process(_DiscoverSplits(source), output_type=_SPLIT_ELEMENT)
                  .name(f"{source.name}: split discovery").uid(f"{source.name}-split-discovery")
                  .set_parallelism(1))
    records = (splits
               .key_by(lambda element: element[2], key_type=Types.STRING())
               .process(_ReadSplit(source), output_type=source.output_type())
               .name(f"{source.name}: split readers").uid(f"{source.name}-split-readers")
               .set_max_parallelism(MAX_PARALLELISM))
    return records


def _ticks(env: StreamExecutionEnvironment, source: Any) -> DataStream:
    """An endless stream of cheap elements at one per poll interval: the clock the readers poll on."""
    table_env = StreamTableEnvironment.create(env)
    ticks = table_env.from_descriptor(
        TableDescriptor.for_connector("datagen")
        .schema(Schema.new_builder().column("tick", DataTypes.TINYINT()).build())
        .option("rows-per-second", str(max(1, round(1000 / source.poll_interval_ms))))
        .option("scan.parallelism", "1")
        .build())
    return table_env.to_data_stream(ticks)


class _DiscoverSplits(KeyedProcessFunction):
    """On each tick, emits one element per known split (and one REMOVE per split that disappeared).

    The known splits live in keyed state (one key), so a restore remembers which splits were initial and
    which disappeared while the job was down. Discovery itself runs in a background thread.
    """

    def __init__(self, source: Any) -> None:
        self._source = source
        self._thread: DiscoveryThread | None = None

    def open(self, runtime_context: RuntimeContext) -> None:
        self._known = runtime_context.get_state(ValueStateDescriptor("known-splits", Types.STRING()))
        self._keys: dict[tuple[str, int], str] = {}
        self._thread = DiscoveryThread(self._source.subscription, self._source.new_admin(),
                                       self._source.discovery_interval_ms / 1000)
        self._thread.start()

    def close(self) -> None:
        if self._thread is not None:
            self._thread.close()

    def process_element(self, tick: Any, ctx: KeyedProcessFunction.Context) -> Iterable[tuple[str, str, str]]:
        stored = self._known.value()
        known: dict[str, list] = json.loads(stored) if stored else {}  # split -> [origin, ordinal]
        found = self._thread.latest()
        if found is not None:
            added, removed = diff(frozenset(known), found)
            for split in removed:
                log.info("split %s is gone; its reader stops and its state is dropped", split)
                yield split, REMOVE, self._key(split, known.pop(split)[1])
            origin = INITIAL if stored is None else NEW
            used = {ordinal for _, ordinal in known.values()}
            free = (n for n in itertools.count() if n not in used)  # the lowest ordinals no live split holds
            for split, ordinal in zip(added, free):
                known[split] = [origin, ordinal]
                log.info("split %s discovered (%s)", split, origin)
            if stored is None or added or removed:
                log.info("split discovery: %d splits (%d added, %d removed)", len(known), len(added), len(removed))
                self._known.update(json.dumps(known, sort_keys=True))
        for split, (origin, ordinal) in known.items():
            yield split, origin, self._key(split, ordinal)

    def _key(self, split: str, ordinal: int) -> str:
        key = self._keys.get((split, ordinal))
        if key is None:
            key = self._keys[(split, ordinal)] = routing_key(split, ordinal)
        return key


class _ReadSplit(KeyedProcessFunction):
    """Keyed by split: reads the split's next batch per element and keeps its position in keyed state."""

    def __init__(self, source: Any) -> None:
        self._source = source

    def open(self, runtime_context: RuntimeContext) -> None:
        self._state = runtime_context.get_state(ValueStateDescriptor("split-state", Types.STRING()))
        self._client = self._source.new_client()
        self._admin = self._source.new_admin()
        self._readers: dict[str, SplitReader] = {}
        self._deserialize = self._source.deserialization_schema.deserialize_message
        self._metadata = self._source.emit_metadata
        self._subtask = runtime_context.get_index_of_this_subtask()
        self._metrics = runtime_context.get_metrics_group()
        self._split_metrics: dict[str, _SplitMetrics] = {}
        self._lag = LagSampler(self._admin, self._source.lag_sample_interval_ms / 1000)
        self._dead_letter = DeadLetterWriter(self._client, self._source.dead_letter_topic) \
            if self._source.bad_message_policy is BadMessagePolicy.DEAD_LETTER else None

    def close(self) -> None:
        self._lag.close()
        for reader in self._readers.values():
            reader.close()
        self._readers.clear()
        self._client.close()

    def process_element(self, element: tuple[str, str, str], ctx: KeyedProcessFunction.Context) -> Iterable[Any]:
        split, action, _ = element
        if action == REMOVE:
            if self._source.fail_on_split_removal:
                raise SplitReadError(f"split {split} is gone (its topic or partition was deleted) and the source "
                                     "is set to fail on split removal")
            reader = self._readers.pop(split, None)
            if reader is not None:
                reader.close()
            log.info("split %s removed from reader subtask %d; its state is dropped", split, self._subtask)
            self._lag.untrack(split)
            self._state.clear()
            return
        reader = self._readers.get(split)
        if reader is None:
            reader = self._open_reader(split, action)
        source = self._source
        metrics = self._split_metrics[split]
        if source.stop_cursor.is_bounded:
            while not reader.state.finished:
                messages = reader.poll(source.max_records_per_poll, source.bounded_wait_ms)
                metrics.record(messages)
                yield from self._records(messages, metrics)
        else:
            messages = reader.poll(source.max_records_per_poll, 0)
            metrics.record(messages)
            yield from self._records(messages, metrics)
        self._state.update(reader.state.to_json())

    def _open_reader(self, split: str, origin: str) -> SplitReader:
        stored = self._state.value()
        state = SplitState.from_json(stored) if stored else SplitState(split)
        source = self._source
        start = source.start_cursor if origin == INITIAL else StartCursor.earliest()
        log.info("split %s (%s) added to reader subtask %d", split, origin, self._subtask)
        stall_s = source.split_stall_timeout_ms / 1000
        stall = StallWatch(split, lambda: self._lag.sample(split), warn_after_s=stall_s / 4, fail_after_s=stall_s)
        reader = SplitReader(self._client, self._admin, state, start, source.stop_cursor,
                             source.receiver_queue_size, source.broker_outage_timeout_ms / 1000, stall,
                             source.service_url)
        self._readers[split] = reader
        self._lag.track(split, lambda: Position.from_bytes(reader.state.last_emitted)
                        if reader.state.last_emitted else None)
        if split not in self._split_metrics:
            label = split.removeprefix("persistent://")  # tenant/namespace/topic-partition-N
            self._split_metrics[split] = _SplitMetrics(
                self._metrics.add_group("split", label), lambda: self._lag.lag(split),
                lambda skipped, dead_lettered: BadMessageHandler(
                    source.bad_message_policy, type(source.deserialization_schema).__name__, skipped, dead_lettered,
                    self._dead_letter))
        return reader

    def _records(self, messages: list[pulsar.Message], metrics: _SplitMetrics) -> Iterable[Any]:
        deserialize = self._deserialize
        for message in messages:
            try:
                value = deserialize(message)
            except Exception as error:
                metrics.decode_errors.inc()
                metrics.bad_messages.handle(message, error)  # raises under FAIL
                continue
            if not self._metadata:
                yield value
                continue
            message_id = message.message_id()
            yield _MetadataRow(value, message.topic_name(), message_id.partition(), message_id.serialize(),
                      message.partition_key() or None, dict(message.properties()), message.publish_timestamp(),
                      message.event_timestamp())


class _SplitMetrics:
    """A split's metrics, in the metric group `split=<tenant/namespace/topic-partition-N>` of its reader subtask,
    and the handler of its undecodable messages, which counts into them.

    Counters: numRecordsIn, numBytesIn (every message read, decodable or not); decodeErrors (every message that
    did not decode, whatever the policy); skippedMessages and deadLetteredMessages (SKIP and DEAD_LETTER).
    Gauges: lastPublishTime (ms) and lag (entries behind the partition's end, sampled every lagSampleIntervalMs;
    -1 until known).
    """

    def __init__(self, group: Any, lag: Callable[[], int],
                 bad_message_handler: Callable[[Counter, Counter], BadMessageHandler]) -> None:
        """`bad_message_handler(skipped, dead_lettered)` makes the split's handler counting into those counters."""
        self._records = group.counter("numRecordsIn")
        self._bytes = group.counter("numBytesIn")
        self.decode_errors = group.counter("decodeErrors")
        self.bad_messages = bad_message_handler(group.counter("skippedMessages"), group.counter("deadLetteredMessages"))
        self._last_publish_time = 0
        group.gauge("lastPublishTime", lambda: self._last_publish_time)
        group.gauge("lag", lag)

    def record(self, messages: list[pulsar.Message]) -> None:
        if messages:
            self._records.inc(len(messages))
            self._bytes.inc(sum(len(message.data()) for message in messages))
            self._last_publish_time = messages[-1].publish_timestamp()
