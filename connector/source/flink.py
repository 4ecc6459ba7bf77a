"""The PyFlink glue of the source: a tick driver, split discovery, and keyed split readers.

PyFlink has no Python source API, so the source is built from parts PyFlink has:

  unbounded:  datagen ticks (parallelism 1) -> key_by(0) -> _DiscoverSplits -> key_by(reader key) -> _ReadSplits
  bounded:    the splits found at build time (a bounded collection) -> key_by(reader key) -> _ReadSplits

Readers run under at most READER_KEYS reader keys (`assignment.py`) that spread evenly over the subtasks; splits
beyond that share keys, so a tick costs one element per key however many splits there are. Discovery keeps each
split's ordinal and key in its state so the key never changes. Each element names its key's splits;
`_ReadSplits` keeps one `SplitState` per split in the key's MapState. In unbounded mode an element is one step of
each of its splits (a poll of up to maxRecordsPerPoll records; the splits share a time budget, `STEP_BUDGET_MS`), and
so is each timer of the chain a reader key runs while one of its splits is busy; a split passes over steps that queued
behind a backlog (`pacing.py`), so checkpoint barriers do not wait behind them. Records it yields during a bundle and
the state it writes in that bundle enter the same checkpoint (a barrier ends the bundle first), so on restore a split
resumes right after the last record that reached the checkpoint. Keyed state also moves with its key on rescale,
which makes stop-with-savepoint and restart at another parallelism continue exactly once.

In bounded mode each split is read to its stop cursor while handling its key's one element; checkpoints wait for
that. A failure before the next completed checkpoint replays the element, and the split starts again from
the state that checkpoint holds.
"""

from __future__ import annotations

import itertools
import logging
import time
import uuid
from collections.abc import Generator, Iterable
from dataclasses import replace
from typing import Any

from pyflink.common import Types
from pyflink.common.typeinfo import TypeInformation
from pyflink.datastream import DataStream, KeyedProcessFunction, RuntimeContext, StreamExecutionEnvironment
from pyflink.datastream.state import MapStateDescriptor, ValueStateDescriptor
from pyflink.table import DataTypes, Schema, StreamTableEnvironment, TableDescriptor

from checkpoint import known_splits
from checkpoint.known_splits import KnownSplit
from checkpoint.split_state import SplitState
from connector.errors import SplitReadError
from connector import clients
from connector.in_flight import IN_FLIGHT, READERS_UID_SUFFIX
from connector.python_runtime import set_bundle_time_unless_set
from connector.source.assignment import decode_members, encode_members, keys_of_subtask, routing_key, shared_key
from connector.source.bad_message import BadMessageHandler, BadMessagePolicy, DeadLetterWriter
from connector.source.cursor import StartCursor
from connector.source.discovery import DiscoveryThread, diff
from connector.source.emitter import METADATA_FIELDS, RecordEmitter
from connector.source.lag import LagSampler
from connector.source.opening import ReaderOpener
from connector.source.pacing import STEP_BUDGET_MS, StepTimers, TickPacer, Turns, ticks_per_second
from connector.source.reader import SplitReader
from connector.source.split_metrics import SplitMetrics
from connector.source.stall import StallWatch
from connector.source.watermarks import SplitWatermarks

log = logging.getLogger(__name__)

INITIAL = "initial"  # split known when the job first ran: starts at the configured start cursor
NEW = "new"          # split discovered later: starts at earliest, so nothing written to it is missed

# (reader key, members, stamp): the members text (`encode_members`) names the key's splits and their origins; the
# stamp (epoch ms when discovery emitted the element, 0 in bounded mode) paces the splits (pacing.py).
_READER_ELEMENT = Types.TUPLE([Types.STRING(), Types.STRING(), Types.LONG()])


def metadata_type(value_type: TypeInformation) -> TypeInformation:
    """The Row a source with record metadata emits (the Java connector's message fields)."""
    return Types.ROW_NAMED(METADATA_FIELDS, [
        value_type, Types.STRING(), Types.INT(), Types.PRIMITIVE_ARRAY(Types.BYTE()), Types.STRING(),
        Types.MAP(Types.STRING(), Types.STRING()), Types.LONG(), Types.LONG()])


def build_stream(env: StreamExecutionEnvironment, source: Any, initial_splits: frozenset[str]) -> DataStream:
    """The DataStream of `source` (a built `PulsarSource`) in `env` (whose bundle time it sets if unset)."""
    set_bundle_time_unless_set(env._j_stream_execution_environment)
    instance = uuid.uuid4().hex[:8]  # fresh per submission, the same in every attempt
    if source.bounded:
        known = {split: KnownSplit(INITIAL, ordinal, shared_key(ordinal))
                 for ordinal, split in enumerate(sorted(initial_splits))}
        elements = [(key, members, 0) for key, members in encode_members(known).items()]
        splits = env.from_collection(elements, _READER_ELEMENT)
        splits = splits.name(f"{source.name}: splits").set_parallelism(1)
        readers = _ReadSplits(source, instance, elements)
    else:
        splits = (_ticks(env, source)
                  .key_by(lambda _: 0, key_type=Types.INT())
                  .process(_DiscoverSplits(source, instance), output_type=_READER_ELEMENT)
                  .name(f"{source.name}: split discovery").uid(f"{source.name}-split-discovery")
                  .set_parallelism(1))
        readers = _ReadSplits(source, instance)
    records = (splits
               .key_by(lambda element: element[0], key_type=Types.STRING())
               .process(readers, output_type=source.output_type())
               .name(f"{source.name}: split readers").uid(f"{source.name}{READERS_UID_SUFFIX}"))
    return records


def _ticks(env: StreamExecutionEnvironment, source: Any) -> DataStream:
    """An endless stream of cheap elements, `ticks_per_second` of them (pacing.py): the clock the readers poll on
    (with their keys' timer chains while a split is busy)."""
    table_env = StreamTableEnvironment.create(env)
    ticks = table_env.from_descriptor(
        TableDescriptor.for_connector("datagen")
        .schema(Schema.new_builder().column("tick", DataTypes.TINYINT()).build())
        .option("rows-per-second", str(ticks_per_second(source.poll_interval_ms)))
        .option("scan.parallelism", "1")
        .build())
    return table_env.to_data_stream(ticks)


class _DiscoverSplits(KeyedProcessFunction):
    """On each tick emits one element per reader key naming the key's splits (and one naming none for each key whose
    last split disappeared).

    The known splits live in keyed state (one key), so a restore remembers which splits were initial and which
    disappeared while the job was down. Discovery itself runs in a background thread. A timer an earlier version's
    discovery registered, restored from a checkpoint, does nothing.
    """

    def __init__(self, source: Any, instance: str) -> None:
        self._source = source
        self._instance = instance  # fresh per submission, the same in every attempt
        self._thread: DiscoveryThread | None = None

    def open(self, runtime_context: RuntimeContext) -> None:
        self._known = runtime_context.get_state(ValueStateDescriptor("known-splits", Types.STRING()))
        # (stored text, its decoded splits, their members per reader key), decoded again only when the text changes
        self._view: tuple[str, dict[str, KnownSplit], dict[str, str]] | None = None
        # The discovery result and stored text last reconciled: while neither changes, a tick only emits.
        self._settled: tuple[frozenset[str] | None, str | None] = (None, None)
        self._thread = DiscoveryThread(self._source.subscription, self._source.new_admin(),
                                       self._source.discovery_interval_ms / 1000)
        self._thread.start()
        # A failed attempt's thread would go on asking the admin API for partitions: the next attempt stops it.
        self._owner = ("split-discovery", self._source.name, self._instance)
        clients.hold(self._owner, self.close)

    def close(self) -> None:
        """Stops the discovery thread. Also called by `connector.clients` for an attempt PyFlink never closed."""
        if self._thread is not None:
            self._thread.close()
            clients.release(self._owner, self.close)

    def process_element(self, tick: Any, ctx: KeyedProcessFunction.Context) -> Iterable[tuple[str, str, int]]:
        """One element per reader key naming its splits, after reconciling the known splits with discovery."""
        stamp = int(time.time() * 1000)
        stored = self._known.value()
        known, members = self._decoded(stored)
        found = self._thread.latest()
        if found is not None and (found is not self._settled[0] or stored != self._settled[1]):
            added, removed = diff(frozenset(known), found)
            if stored is None or added or removed:
                known = dict(known)
                for split in removed:
                    log.info("split %s is gone; its reader stops and its state is dropped", split)
                    del known[split]
                origin = INITIAL if stored is None else NEW
                used = {split.ordinal for split in known.values()}
                free = (n for n in itertools.count() if n not in used)  # the lowest ordinals no live split holds
                for split, ordinal in zip(added, free):
                    known[split] = KnownSplit(origin, ordinal, shared_key(ordinal))
                    log.info("split %s discovered (%s)", split, origin)
                log.info("split discovery: %d splits (%d added, %d removed)", len(known), len(added), len(removed))
                stored = known_splits.encode(known)
                self._known.update(stored)
                emptied = members.keys()
                known, members = self._decoded(stored)
                for key in emptied - members.keys():
                    yield key, "", stamp
            self._settled = (found, stored)
        for key, text in members.items():
            yield key, text, stamp

    def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext) -> Iterable[tuple[str, str, int]]:
        """Nothing: the only timers here are an earlier version's step chain, restored from its savepoint (PyFlink's
        default `on_timer` returns None, which fails the task when such a timer fires)."""
        return ()

    def _decoded(self, stored: str | None) -> tuple[dict[str, KnownSplit], dict[str, str]]:
        if not stored:
            return {}, {}
        if self._view is None or self._view[0] != stored:
            known = known_splits.decode(stored, routing_key)
            self._view = (stored, known, encode_members(known))
        return self._view[1], self._view[2]


class _ReadSplits(KeyedProcessFunction):
    """Keyed by reader key: each element steps the splits it names, whose states live in the key's MapState.

    A split a key held that its element no longer names is gone: its reader closes and its state is dropped. While
    one of a key's splits is busy (`TickPacer.busy`), the key runs a chain of processing-time timers (`StepTimers`),
    each a step of the key's splits between the driver's bursts (a Python timer reaches the JVM at a bundle end): a
    record on a busy topic does not wait for the next second, and quiet keys cost nothing between bursts. A timer
    restored from a checkpoint is not this run's and does nothing; the key's chain starts again at its first element
    that finds a message.

    Readers open in a small pool of threads (`connector.source.opening`). A bounded source's elements are known when
    the job is built (`elements`): each subtask works out which keys it gets and in which order, and opens the next
    key's readers while it reads this key's.
    """

    def __init__(self, source: Any, instance: str, elements: Iterable[tuple[str, str, int]] = ()) -> None:
        self._source = source
        self._instance = instance  # fresh per submission, the same in every attempt
        self._elements = list(elements)

    def open(self, runtime_context: RuntimeContext) -> None:
        self._states = runtime_context.get_map_state(
            MapStateDescriptor("split-states", Types.STRING(), Types.STRING()))
        # Where known-splits format 1 kept a split's state: one split per key. Moved to `_states` on first use.
        self._format1_state = runtime_context.get_state(ValueStateDescriptor("split-state", Types.STRING()))
        self._client = clients.new_client(self._source.service_url, self._source.security, self._source.client_config)
        self._subtask = runtime_context.get_index_of_this_subtask()
        self._owner = ("source", self._source.name, self._instance, self._subtask)
        self._client_calls = clients.ClientCalls(self._client.shutdown, f"{self._source.name} reader subtask "
                                                                        f"{self._subtask}")
        self._admin = self._source.new_admin()
        self._members: dict[str, tuple[str, list[tuple[str, str]]]] = {}  # per key: members text, its decode
        self._readers: dict[str, SplitReader] = {}
        self._metrics = runtime_context.get_metrics_group()
        self._split_metrics: dict[str, SplitMetrics] = {}
        self._emitters: dict[str, RecordEmitter] = {}
        self._pacers: dict[str, TickPacer] = {}
        self._timers = StepTimers(self._source.poll_interval_ms)
        self._turns = Turns()
        self._stored: dict[str, SplitState] = {}  # the state last written to Flink state, per split
        self._lag = LagSampler(self._admin, self._source.lag_sample_interval_ms / 1000)
        self._opener = ReaderOpener(self._new_reader)
        columns = self._source.watermark_columns
        self._watermarks = SplitWatermarks(columns.max_out_of_orderness_ms, columns.idle_timeout_ms) \
            if columns else None
        self._closed = False
        clients.hold(self._owner, self.close)  # the client and the lag sampler's thread
        self._dead_letter = DeadLetterWriter(self._client, self._source.dead_letter_topic, self._client_calls) \
            if self._source.bad_message_policy is BadMessagePolicy.DEAD_LETTER else None
        # Bounded: the keys this subtask gets, in the order they come. The first key's readers open now, and each
        # key's element opens the next key's (`process_element`).
        mine = keys_of_subtask([key for key, _, _ in self._elements], self._subtask,
                               runtime_context.get_number_of_parallel_subtasks(),
                               runtime_context.get_max_number_of_parallel_subtasks())
        members = {key: text for key, text, _ in self._elements}
        self._next_members = {key: members[following] for key, following in zip(mine, mine[1:])}
        if mine:
            self._prefetch(members[mine[0]])

    def close(self) -> None:
        """Drops the readers without a round trip to the broker: after a failure it may be frozen, and each
        graceful close would then wait for the client's operation timeout (30 s) before the job could restart.
        Also called by `connector.clients` for an attempt PyFlink never closed; a second call does nothing new."""
        self._closed = True
        self._lag.close()
        self._readers.clear()
        self._opener.shutdown(release_client=self._client_calls.close)  # at once unless an open or close is running
        clients.release(self._owner, self.close)

    def process_element(self, element: tuple[str, str, int], ctx: KeyedProcessFunction.Context) -> Iterable[Any]:
        self._check_open()
        key, text, stamp = element
        if self._watermarks is not None:
            self._watermarks.round(stamp)
        members = self._members_of(key, text)  # may open readers (broker round trips): before the budget starts
        if key in self._next_members:  # bounded: open the readers of the key this subtask reads next
            self._prefetch(self._next_members.pop(key))
        if self._watermarks is not None and not self._source.bounded and not self._watermarks.ready:
            return  # rows read now could carry no watermark (`connector.source.watermarks`): read from the next tick
        now_ms, now_monotonic_s = int(time.time() * 1000), time.monotonic()
        # most ticks of an idle split end at its pacer
        yield from self._steps(key, [split for split, _ in members
                                     if self._pacers[split].due(stamp, now_ms, now_monotonic_s)], now_monotonic_s)
        if not self._source.bounded:
            self._keep_stepping(key, members, ctx.timer_service())

    def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext) -> Iterable[Any]:
        self._check_open()
        key = ctx.get_current_key()
        if not self._timers.fired(key, timestamp):
            return  # a timer of an earlier run restored from a checkpoint: only this run's chains step
        late_ms, now_monotonic_s = int(time.time() * 1000) - timestamp, time.monotonic()
        members = self._members[key][1]
        yield from self._steps(key, [split for split, _ in members
                                     if self._pacers[split].due_on_timer(late_ms, now_monotonic_s)], now_monotonic_s)
        self._keep_stepping(key, members, ctx.timer_service())

    def _steps(self, key: str, due: list[str], started_s: float) -> Iterable[Any]:
        """A step of each split of `key` in `due`, each going first in turn; unbounded, they share STEP_BUDGET_MS from
        `started_s` (monotonic)."""
        deadline = None if self._source.bounded else started_s + STEP_BUDGET_MS / 1000
        for split in self._turns.order(key, due):
            yield from self._step(split, deadline)

    def _keep_stepping(self, key: str, members: list[tuple[str, str]], timers: Any) -> None:
        """Registers the key's next step timer if `StepTimers` says so (while one of its splits is busy)."""
        pacers = self._pacers
        busy = any(pacers[split].busy for split, _ in members)
        at = self._timers.next(key, busy, timers.current_processing_time())
        if at is not None:
            timers.register_processing_time_timer(at)

    def _check_open(self) -> None:
        if self._closed:  # a later attempt of this subtask opened in this process while this one still ran
            raise SplitReadError(f"reader subtask {self._subtask} of an earlier attempt was closed: a later attempt "
                                 "took over its clients")

    def _members_of(self, key: str, text: str) -> list[tuple[str, str]]:
        """The (split, origin) pairs `text` names; on a change (and on a key's first element) drops the splits
        the key held that it no longer names."""
        seen = self._members.get(key)
        if seen is not None and seen[0] == text:
            return seen[1]
        members = decode_members(text)
        names = {split for split, _ in members}
        held = set(self._states.keys()) | {split for split, _ in (seen[1] if seen else ())}
        if seen is None:
            held |= self._adopt_format1_state()
        for split in sorted(held - names):
            self._remove(split)
        self._open_readers([(split, origin) for split, origin in members if split not in self._readers])
        self._members[key] = (text, members)
        return members

    def _remove(self, split: str) -> None:
        if self._source.fail_on_split_removal:
            raise SplitReadError(f"split {split} is gone (its topic or partition was deleted) and the source "
                                 "is set to fail on split removal")
        reader = self._readers.pop(split, None)
        if reader is not None:
            reader.close()
        self._pacers.pop(split, None)
        self._stored.pop(split, None)
        self._states.remove(split)
        self._lag.untrack(split)
        if self._watermarks:
            self._watermarks.untrack(split)
        log.info("split %s removed from reader subtask %d; its state is dropped", split, self._subtask)

    def _step(self, split: str, deadline: float | None) -> Iterable[Any]:
        """One step of `split` (its pacer said it is due): its next poll, ending once `time.monotonic()` passes
        `deadline` (after one chunk at least), or, with no deadline (bounded), all of it."""
        reader = self._readers[split]
        read = 0  # a split that is finished already (nothing to read) polls nothing
        IN_FLIGHT.stream = f"{reader.state.lineage}-{split}"
        try:
            if deadline is None:
                while not reader.state.finished:
                    read = yield from self._poll(split, self._source.bounded_wait_ms, None)
            else:
                read = yield from self._poll(split, 0, deadline)
        finally:
            IN_FLIGHT.stream = None
        self._pacers[split].stepped(time.monotonic(), bool(read))
        if reader.state is not self._stored.get(split):  # states are immutable: a new one is a change
            self._states.put(split, reader.state.to_json())
            self._stored[split] = reader.state

    def _poll(self, split: str, timeout_ms: int, deadline: float | None) -> Generator[Any, None, int]:
        """Yields the records of one poll of `split` (`SplitReader.poll`), numbered on from its state's read count;
        returns how many messages it read."""
        reader = self._readers[split]
        first = reader.state.read_count + 1
        messages = self._split_metrics[split].counted(
            reader.poll(self._source.max_records_per_poll, timeout_ms, deadline))
        records = self._emitters[split].records(messages, first)
        if self._watermarks is not None:
            records = self._with_watermarks(split, records)
        yield from records
        read = reader.state.read_count + 1 - first
        if self._watermarks is not None and not read:
            self._watermarks.found_nothing(split, time.monotonic())
        return read

    def _with_watermarks(self, split: str, rows: Iterable[Any]) -> Iterable[Any]:
        """`rows` of one poll of `split`, each with the watermark it allows written in
        (`connector.source.watermarks`)."""
        columns = self._source.watermark_columns
        time_index, watermark_index = columns.time_index, columns.watermark_index
        stamp = None
        for row in rows:
            if stamp is None:  # made at the poll's first row: making one tells the split is not idle
                stamp = self._watermarks.stamper(split, time.monotonic())
            row[watermark_index] = columns.value(stamp(columns.millis(row[time_index])))
            yield row

    def _adopt_format1_state(self) -> set[str]:
        """Moves a state known-splits format 1 left under this key (its only split) into the MapState; returns the
        split it belongs to, if any."""
        stored = self._format1_state.value()
        if stored is None:
            return set()
        split = SplitState.from_json(stored).split
        self._states.put(split, stored)
        self._format1_state.clear()
        log.info("split %s: state of known-splits format 1 moved into the reader key's split states", split)
        return {split}

    def _open_readers(self, splits: list[tuple[str, str]]) -> None:
        """Opens a reader for each (split, origin) from the split's stored state, if any (`ReaderOpener.open`).
        Raises the first split's error, in order."""
        opening = []
        for split, origin in splits:
            stored = self._states.get(split)  # Flink state: this thread only
            if stored:
                self._stored[split] = SplitState.from_json(stored)
            state = self._stored.get(split) or self._fresh_state(split)
            if state.lineage is None:  # a state of format 1: its messages are numbered from here
                state = replace(state, lineage=self._instance, read_count=0)
            opening.append((split, origin, state))
        for (split, _, _), reader in zip(opening, self._opener.open(opening)):
            self._register(split, reader)

    def _prefetch(self, text: str) -> None:
        """Starts opening the readers of the splits `text` names, from fresh states (`ReaderOpener.prefetch`): a
        split whose state turns out to be stored (a restore) opens again from it."""
        self._opener.prefetch([(split, origin, self._fresh_state(split)) for split, origin in decode_members(text)])

    def _fresh_state(self, split: str) -> SplitState:
        """The state of a split that has none stored: its messages are numbered from this source instance on."""
        return SplitState(split, lineage=self._instance)

    def _new_reader(self, split: str, origin: str, state: SplitState) -> SplitReader:
        source = self._source
        start = source.start_cursor if origin == INITIAL else StartCursor.earliest()
        log.info("split %s (%s) added to reader subtask %d", split, origin, self._subtask)
        stall_s = source.split_stall_timeout_ms / 1000
        stall = StallWatch(split, lambda: self._lag.sample(split), warn_after_s=stall_s / 4, fail_after_s=stall_s)
        return SplitReader(self._client, self._admin, state, start, source.stop_cursor, source.receiver_queue_size,
                           source.broker_outage_timeout_ms / 1000, stall, source.service_url, self._opener.close_later)

    def _register(self, split: str, reader: SplitReader) -> None:
        source = self._source
        self._readers[split] = reader
        self._pacers[split] = TickPacer(source.poll_interval_ms)
        self._lag.track(split, reader.last_position)
        if self._watermarks:
            self._watermarks.track(split)
        if split not in self._split_metrics:
            label = split.removeprefix("persistent://")  # tenant/namespace/topic-partition-N
            metrics = self._split_metrics[split] = SplitMetrics(self._metrics.add_group("split", label),
                                                                lambda: self._lag.lag(split))
            schema = source.deserialization_schema
            bad_messages = BadMessageHandler(source.bad_message_policy, type(schema).__name__, metrics.skipped,
                                             metrics.dead_lettered, self._dead_letter)
            self._emitters[split] = RecordEmitter(schema.deserialize_message, source.emit_metadata, bad_messages,
                                                  metrics.decode_errors)
