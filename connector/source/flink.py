"""The PyFlink glue of the source: a tick driver, split discovery, and keyed split readers.

PyFlink has no Python source API, so the source is built from parts PyFlink has:

  unbounded:  datagen ticks (parallelism 1) -> key_by(0) -> _DiscoverSplits -> key_by(split) -> _ReadSplit
  bounded:    the splits found at build time (a bounded collection) -> key_by(split) -> _ReadSplit

Readers are keyed by a routing key per split (`assignment.py`) that spreads splits evenly over the subtasks;
discovery keeps each split's ordinal in its state so the key never changes. `_ReadSplit` keeps one `SplitState`
per split in keyed ValueState. In unbounded mode each element is one step of a split (a poll of up to
maxRecordsPerPoll records); elements that queued behind a backlog are passed over (`pacing.py`), so checkpoint
barriers do not wait behind them. Records it yields during a bundle and the
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
import time
from typing import Any, Iterable

from pyflink.common import Types
from pyflink.common.typeinfo import TypeInformation
from pyflink.datastream import DataStream, KeyedProcessFunction, RuntimeContext, StreamExecutionEnvironment
from pyflink.datastream.state import ValueStateDescriptor
from pyflink.table import DataTypes, Schema, StreamTableEnvironment, TableDescriptor

from checkpoint.split_state import SplitState
from connector.python_runtime import set_bundle_time_unless_set
from connector.source.assignment import MAX_PARALLELISM, routing_key
from connector.source.bad_message import BadMessageHandler, BadMessagePolicy, DeadLetterWriter
from connector.source.cursor import StartCursor
from connector.source.discovery import DiscoveryThread, diff
from connector.source.emitter import METADATA_FIELDS, RecordEmitter
from connector.source.lag import LagSampler
from connector.source.pacing import TickPacer
from connector.source.reader import SplitReader, SplitReadError
from connector.source.split_metrics import SplitMetrics
from connector.source.stall import StallWatch

log = logging.getLogger(__name__)

INITIAL = "initial"  # split known when the job first ran: starts at the configured start cursor
NEW = "new"          # split discovered later: starts at earliest, so nothing written to it is missed
REMOVE = "remove"    # split whose topic or partition is gone: reader closed, state dropped

# (split, action, routing key, stamp): readers are keyed by the routing key, which places splits evenly
# (assignment.py); the stamp (epoch ms when discovery emitted the element, 0 in bounded mode) paces them (pacing.py).
_SPLIT_ELEMENT = Types.TUPLE([Types.STRING(), Types.STRING(), Types.STRING(), Types.LONG()])

def metadata_type(value_type: TypeInformation) -> TypeInformation:
    """The Row a source with record metadata emits (the Java connector's message fields)."""
    return Types.ROW_NAMED(METADATA_FIELDS, [
        value_type, Types.STRING(), Types.INT(), Types.PRIMITIVE_ARRAY(Types.BYTE()), Types.STRING(),
        Types.MAP(Types.STRING(), Types.STRING()), Types.LONG(), Types.LONG()])


def build_stream(env: StreamExecutionEnvironment, source: Any, initial_splits: frozenset[str]) -> DataStream:
    """The DataStream of `source` (a built `PulsarSource`) in `env` (whose bundle time it sets if unset)."""
    set_bundle_time_unless_set(env._j_stream_execution_environment)
    if source.stop_cursor.is_bounded:
        elements = [(split, INITIAL, routing_key(split, ordinal), 0) for ordinal, split in enumerate(sorted(initial_splits))]
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
        self._parsed: tuple[str, dict[str, list]] | None = None  # (stored text, its parse)
        # The discovery result and stored text last reconciled: while neither changes, a tick only emits.
        self._settled: tuple[frozenset[str] | None, str | None] = (None, None)
        self._thread = DiscoveryThread(self._source.subscription, self._source.new_admin(),
                                       self._source.discovery_interval_ms / 1000)
        self._thread.start()

    def close(self) -> None:
        if self._thread is not None:
            self._thread.close()

    def process_element(self, tick: Any, ctx: KeyedProcessFunction.Context) -> Iterable[tuple[str, str, str, int]]:
        stamp = int(time.time() * 1000)
        stored = self._known.value()
        known = self._known_splits(stored)  # split -> [origin, ordinal]; shared, replaced rather than changed
        found = self._thread.latest()
        if found is not None and (found is not self._settled[0] or stored != self._settled[1]):
            known = dict(known)
            added, removed = diff(frozenset(known), found)
            for split in removed:
                log.info("split %s is gone; its reader stops and its state is dropped", split)
                yield split, REMOVE, self._key(split, known.pop(split)[1]), stamp
            origin = INITIAL if stored is None else NEW
            used = {ordinal for _, ordinal in known.values()}
            free = (n for n in itertools.count() if n not in used)  # the lowest ordinals no live split holds
            for split, ordinal in zip(added, free):
                known[split] = [origin, ordinal]
                log.info("split %s discovered (%s)", split, origin)
            if stored is None or added or removed:
                log.info("split discovery: %d splits (%d added, %d removed)", len(known), len(added), len(removed))
                stored = json.dumps(known, sort_keys=True)
                self._known.update(stored)
                self._parsed = (stored, known)
            self._settled = (found, stored)
        for split, (origin, ordinal) in known.items():
            yield split, origin, self._key(split, ordinal), stamp

    def _known_splits(self, stored: str | None) -> dict[str, list]:
        """The parse of the stored known splits, parsed again only when the stored text changes (a restore)."""
        if not stored:
            return {}
        if self._parsed is None or self._parsed[0] != stored:
            self._parsed = (stored, json.loads(stored))
        return self._parsed[1]

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
        self._subtask = runtime_context.get_index_of_this_subtask()
        self._metrics = runtime_context.get_metrics_group()
        self._split_metrics: dict[str, SplitMetrics] = {}
        self._emitters: dict[str, RecordEmitter] = {}
        self._pacers: dict[str, TickPacer] = {}
        self._stored: dict[str, SplitState] = {}  # the state last written to Flink state, per split
        self._lag = LagSampler(self._admin, self._source.lag_sample_interval_ms / 1000)
        self._dead_letter = DeadLetterWriter(self._client, self._source.dead_letter_topic) \
            if self._source.bad_message_policy is BadMessagePolicy.DEAD_LETTER else None

    def close(self) -> None:
        """Drops the readers without a round trip to the broker: after a failure it may be frozen, and each
        graceful close would then wait for the client's operation timeout (30 s) before the job could restart."""
        self._lag.close()
        self._readers.clear()
        self._client.shutdown()

    def process_element(self, element: tuple[str, str, str, int], ctx: KeyedProcessFunction.Context) -> Iterable[Any]:
        split, action, _, stamp = element
        if action == REMOVE:
            if self._source.fail_on_split_removal:
                raise SplitReadError(f"split {split} is gone (its topic or partition was deleted) and the source "
                                     "is set to fail on split removal")
            reader = self._readers.pop(split, None)
            if reader is not None:
                reader.close()
            self._pacers.pop(split, None)
            self._stored.pop(split, None)
            log.info("split %s removed from reader subtask %d; its state is dropped", split, self._subtask)
            self._lag.untrack(split)
            self._state.clear()
            return
        reader = self._readers.get(split)
        if reader is None:
            reader = self._open_reader(split, action)
        elif not self._pacers[split].due(stamp, int(time.time() * 1000), time.monotonic()):
            return
        source = self._source
        metrics, emitter = self._split_metrics[split], self._emitters[split]
        messages: list = []  # a split that is finished already (nothing to read) polls nothing
        if source.stop_cursor.is_bounded:
            while not reader.state.finished:
                messages = reader.poll(source.max_records_per_poll, source.bounded_wait_ms)
                metrics.record(messages)
                yield from emitter.records(messages)
        else:
            messages = reader.poll(source.max_records_per_poll, 0)
            metrics.record(messages)
            yield from emitter.records(messages)
        self._pacers[split].stepped(time.monotonic(), bool(messages))
        if reader.state is not self._stored.get(split):  # states are immutable: a new one is a change
            self._state.update(reader.state.to_json())
            self._stored[split] = reader.state

    def _open_reader(self, split: str, origin: str) -> SplitReader:
        stored = self._state.value()
        state = SplitState.from_json(stored) if stored else SplitState(split)
        if stored:
            self._stored[split] = state
        source = self._source
        start = source.start_cursor if origin == INITIAL else StartCursor.earliest()
        log.info("split %s (%s) added to reader subtask %d", split, origin, self._subtask)
        stall_s = source.split_stall_timeout_ms / 1000
        stall = StallWatch(split, lambda: self._lag.sample(split), warn_after_s=stall_s / 4, fail_after_s=stall_s)
        reader = SplitReader(self._client, self._admin, state, start, source.stop_cursor,
                             source.receiver_queue_size, source.broker_outage_timeout_ms / 1000, stall,
                             source.service_url)
        self._readers[split] = reader
        self._pacers[split] = TickPacer(source.poll_interval_ms)
        self._lag.track(split, reader.last_position)
        if split not in self._split_metrics:
            label = split.removeprefix("persistent://")  # tenant/namespace/topic-partition-N
            metrics = self._split_metrics[split] = SplitMetrics(self._metrics.add_group("split", label),
                                                                lambda: self._lag.lag(split))
            schema = source.deserialization_schema
            bad_messages = BadMessageHandler(source.bad_message_policy, type(schema).__name__, metrics.skipped,
                                             metrics.dead_lettered, self._dead_letter)
            self._emitters[split] = RecordEmitter(schema.deserialize_message, source.emit_metadata, bad_messages,
                                                  metrics.decode_errors)
        return reader
