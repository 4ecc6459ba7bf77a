"""Reading one split with the Pulsar client: open at the right position, poll batches, end at the stop cursor.

No Flink here. The owner of a `SplitReader` emits the messages `poll` returns, in order, and then stores
`reader.state` in its checkpointed state; nothing else is needed for exactly-once reading.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import pulsar

from checkpoint.position import Position
from checkpoint.split_state import SplitState
from connector.admin import PulsarAdmin
from connector.errors import SplitReadError
from connector.source.cursor import StartCursor, StartKind, StopCursor, StopKind
from connector.source.stall import StallWatch
from connector.topics import split_partition

log = logging.getLogger(__name__)


CHUNK = 128
"""How many messages a poll reads from the client before it hands them on, one by one. Reading all of a poll first
(2,000) cost the reading thread ~1.5 µs a message more, its messages outgrowing the CPU's caches
(benchmarks/source_stages.py); handing each on as soon as it was read cost the Python workers ~10% more CPU in a job
whose records go on to the JVM (source -> map -> discard, 1M records of 100 B)."""

_TIME_STOPS = frozenset({StopKind.AT_PUBLISH_TIME, StopKind.AFTER_PUBLISH_TIME, StopKind.AT_EVENT_TIME,
                         StopKind.AFTER_EVENT_TIME})


class SplitReader:
    """A Pulsar reader over one split, positioned from its state (or its start cursor when it has none)."""

    def __init__(self, client: pulsar.Client, admin: PulsarAdmin, state: SplitState, start: StartCursor,
                 stop: StopCursor, receiver_queue_size: int = 1000, outage_timeout_s: float = 60.0,
                 stall: StallWatch | None = None, service_url: str = "",
                 close_later: Callable[[Callable[[], None]], None] | None = None) -> None:
        """`stall`, when given, hears of every poll, so a reader that gets nothing while its partition holds
        messages after its position fails (see `connector.source.stall`). `service_url` names the broker in errors.
        `close_later`, when given, runs the close of the client's reader once the stop is reached (a broker round
        trip), so the poll that reached it need not wait for it.

        Raises `SplitReadError` when the broker cannot be reached, also for a split that has nothing to read:
        an unreachable broker never looks like an empty topic."""
        self.state = state
        self._stall = stall
        self._stop = stop
        # Per message, `poll` asks the stop cursor only what it can answer: nothing for never() or before the stop's
        # entry, positions for message-id and latest stops, and the two timestamps (two client calls) only for time
        # stops.
        self._stop_checked = stop.is_bounded
        self._stop_by_time = stop.kind in _TIME_STOPS
        self._reader: pulsar.Reader | None = None
        self._close_later = close_later
        self._outage_timeout_s = outage_timeout_s
        self._disconnected_since: float | None = None
        if state.finished:
            return
        if state.last_emitted is not None:
            log.info("split %s restored at position %s: resumes after it", state.split,
                     pulsar.MessageId.deserialize(state.last_emitted))
        else:
            log.info("split %s has no stored position: starts at %s", state.split, start)
        if stop.kind is StopKind.LATEST and state.stop_at is None:
            self.state = replace(self.state, stop_at=_last_message_id(admin, state.split))
        if start.kind is StartKind.LATEST and state.last_emitted is None:
            # Pin "latest" to a concrete position now, so a restore before the first record cannot skip ahead.
            last = _last_message_id(admin, state.split)
            if not Position.from_bytes(last).is_empty_topic_marker:
                self.state = replace(self.state, last_emitted=last)
        self._latest = Position.from_bytes(self.state.stop_at) if self.state.stop_at else None
        # Per message, `poll` compares the client's own message ids with `<`, which orders them by (ledger, entry,
        # batch index) without a Python tuple of three calls (the client's `<=` and `==` also compare partitions).
        # A message before `_checks_from` (the first of the stop's entry) needs no stop check; none is before
        # `earliest`.
        checks_from = stop.checks_from(self._latest) if self._stop_checked else ()
        self._checks_from = _client_id(*checks_from, -1) if checks_from else pulsar.MessageId.earliest
        # The last message read (nothing is before `earliest`): a message not after it is a redelivery.
        self._last_read = pulsar.MessageId.deserialize(self.state.last_emitted) if self.state.last_emitted \
            else pulsar.MessageId.earliest
        last = self.last_position()
        if self._done(last):
            # Nothing to read, so no reader opens: look the split up anyway, so that an unreachable broker fails
            # here instead of passing for an empty partition.
            _check_reachable(client, admin, self.state.split, service_url)
            self.state = replace(self.state, finished=True)
            return
        self._reader = _open(client, admin, self.state, start, receiver_queue_size, service_url)

    def poll(self, max_records: int, timeout_ms: int, deadline: float | None = None) -> Iterator[pulsar.Message]:
        """Up to `max_records` messages after the last polled one, waiting at most `timeout_ms` for each, read from
        the client `CHUNK` at a time and yielded one by one. `state` covers the messages yielded once the poll ends;
        read a poll to its end before the next. A poll closed early (its caller failed) leaves `state` at the last
        message yielded while the reader has read past it: the owner restores from that state, not polls again.

        Ends early when the partition has nothing more right now, when `time.monotonic()` has passed `deadline` at
        the end of a chunk (the first chunk is always read), or when the stop cursor is reached (then
        `state.finished` is True and the reader is closed, or its close handed to `close_later`). Messages at or past
        the stop are never yielded, nor is a message at or before one already yielded: the client can deliver some
        again when it reconnects.
        Raises `SplitReadError` here, not on iteration, once the reader has had no broker connection for longer than
        the outage timeout, checked at every poll, so the messages the client prefetched before the outage do not
        hide it.
        """
        if self._reader is None:
            return iter(())
        self._check_connected()
        return self._read(max_records, timeout_ms, deadline)

    def _read(self, max_records: int, timeout_ms: int, deadline: float | None) -> Iterator[pulsar.Message]:
        taken = 0
        last = None
        try:
            while taken < max_records:
                chunk, ended, finished = self._read_chunk(min(CHUNK, max_records - taken), timeout_ms)
                for last in chunk:
                    taken += 1  # before the yield: a message the caller was given is taken, even if it closes here
                    yield last
                if finished:
                    self._finish()
                elif not taken and self._stall is not None:
                    self._stall.idle(self._position_text)  # a read timed out before any message: caught up, or stalled
                if ended or (deadline is not None and time.monotonic() >= deadline):
                    break
        finally:
            if taken:
                self.state = self.state.advanced_to(last.message_id().serialize(), taken)
                if self._stall is not None:
                    self._stall.received()

    def _read_chunk(self, count: int, timeout_ms: int) -> tuple[list[pulsar.Message], bool, bool]:
        """Up to `count` messages read from the client; whether the poll ends after them (a read timed out, or the
        stop) and whether the split is finished after them (the stop, or drained when the stop ends it so)."""
        messages: list[pulsar.Message] = []
        redelivered = 0
        ended = finished = False
        while len(messages) < count:
            try:
                message = self._reader.read_next(timeout_ms)
            except pulsar.Timeout:
                ended = True
                finished = self._ends_when_drained() and not self._has_more()
                break
            except pulsar.PulsarException as error:
                raise SplitReadError(f"reading split {self.state.split} failed: {error}") from error
            message_id = message.message_id()
            if not self._last_read < message_id:  # the client delivered it again (seen after a broker restart)
                redelivered += 1
                continue
            self._last_read = message_id
            if not self._stop_checked or message_id < self._checks_from:  # never(), or an entry before the stop's
                messages.append(message)
                continue
            position = Position.of(message_id)
            times = (message.publish_timestamp(), message.event_timestamp()) if self._stop_by_time else (0, 0)
            if self._stop.excludes(position, *times, self._latest):
                ended = finished = True
                break
            messages.append(message)
            if self._done(position):
                ended = finished = True
                break
        if redelivered:
            log.info("split %s: dropped %d messages the client delivered again (at or before %s)", self.state.split,
                     redelivered, self._position_text())
        return messages, ended, finished

    def _ends_when_drained(self) -> bool:
        """Whether the split is done once its partition holds nothing after the last message read (asked when a
        read times out)."""
        if not self._stop_checked:
            return False
        return self._stop.idle_past(int(time.time() * 1000)) or \
            self._stop.ends_when_drained(Position.of(self._last_read), self._latest)

    def _has_more(self) -> bool:
        """Whether the partition holds messages after the last one read (asks the broker when none is queued): an
        empty poll alone does not tell, since a reader's queue is empty until the broker sends what it stores."""
        try:
            return self._reader.has_message_available()
        except pulsar.PulsarException as error:
            raise SplitReadError(f"asking whether split {self.state.split} holds more messages failed: "
                                 f"{error}") from error

    def _position_text(self) -> str:
        last = self.state.last_emitted
        return str(pulsar.MessageId.deserialize(last)) if last is not None else "its start (nothing read yet)"

    def _check_connected(self) -> None:
        """Raises once the reader has had no broker connection for longer than the outage timeout."""
        if self._reader.is_connected():
            if self._disconnected_since is not None:
                log.info("split %s is connected to the broker again", self.state.split)
            self._disconnected_since = None
            return
        now = time.monotonic()
        if self._disconnected_since is None:
            self._disconnected_since = now
            log.warning("split %s lost its broker connection; the client reconnects (failing after %.0f s)",
                        self.state.split, self._outage_timeout_s)
        elif now - self._disconnected_since > self._outage_timeout_s:
            raise SplitReadError(f"split {self.state.split}: no broker connection for "
                                 f"{now - self._disconnected_since:.0f} s (brokerOutageTimeoutMs "
                                 f"{self._outage_timeout_s * 1000:.0f}); the job restarts from its last checkpoint")

    def close(self) -> None:
        if self._reader is not None:
            _close(self._reader, self.state.split)
            self._reader = None

    def last_position(self) -> Position | None:
        """The position of the last message `poll` returned (or the stored one), None before the first."""
        return Position.from_bytes(self.state.last_emitted) if self.state.last_emitted else None

    def _done(self, last: Position | None) -> bool:
        return self._stop.reached_at(last, self._latest)

    def _finish(self) -> None:
        self.state = replace(self.state, finished=True)
        log.info("split %s reached its stop cursor", self.state.split)
        if self._close_later is None:
            self.close()
        else:
            reader, split, self._reader = self._reader, self.state.split, None
            self._close_later(lambda: _close(reader, split))


def _close(reader: pulsar.Reader, split: str) -> None:
    try:
        reader.close()
    except pulsar.PulsarException as error:  # closing a reader of a deleted topic, or of a shut-down client
        log.debug("closing reader of %s: %s", split, error)


def _client_id(ledger_id: int, entry_id: int, batch_index: int) -> pulsar.MessageId:
    """The client's own message id (the type `Message.message_id()` returns, which compares with it) of a
    position."""
    return pulsar.MessageId.deserialize(pulsar.MessageId(-1, ledger_id, entry_id, batch_index).serialize())


def _last_message_id(admin: PulsarAdmin, split: str) -> bytes:
    last = admin.last_message_id(split)
    _, partition = split_partition(split)
    return pulsar.MessageId(partition, last.ledger_id, last.entry_id, last.batch_index).serialize()


def _connection_error(what: str, split: str, service_url: str, admin: PulsarAdmin,
                      error: pulsar.PulsarException) -> SplitReadError:
    """The error for a failed binary-protocol call on `split`, naming the URL; a time-out is explained by asking
    the admin API (which names a rejected credential that the C++ client reports as a time-out)."""
    prefix = f"{what} split {split} at {service_url or 'the service URL'} failed"
    if isinstance(error, (pulsar.AuthenticationError, pulsar.AuthorizationError)):
        return SplitReadError(f"{prefix}: authentication failed (credentials missing, wrong or not allowed to "
                              f"read): {error}")
    return SplitReadError(f"{prefix}: {error}{admin.explain_connection_failure()}")


def _check_reachable(client: pulsar.Client, admin: PulsarAdmin, split: str, service_url: str) -> None:
    """A topic lookup over the binary protocol: raises SplitReadError naming URL and split when it fails."""
    try:
        client.get_topic_partitions(split)
    except pulsar.PulsarException as error:
        raise _connection_error("looking up", split, service_url, admin, error) from error


def _open(client: pulsar.Client, admin: PulsarAdmin, state: SplitState, start: StartCursor,
          receiver_queue_size: int, service_url: str) -> pulsar.Reader:
    def reader(message_id: pulsar.MessageId, inclusive: bool) -> pulsar.Reader:
        try:
            return client.create_reader(state.split, message_id, start_message_id_inclusive=inclusive,
                                        receiver_queue_size=receiver_queue_size)
        except pulsar.PulsarException as error:
            raise _connection_error("opening a reader on", state.split, service_url, admin, error) from error

    if state.last_emitted is not None:
        return reader(pulsar.MessageId.deserialize(state.last_emitted), False)
    if start.kind in (StartKind.EARLIEST, StartKind.LATEST):  # latest on a partition still empty
        return reader(pulsar.MessageId.earliest, True)
    if start.kind is StartKind.MESSAGE_ID:
        return reader(pulsar.MessageId.deserialize(start.message_id), start.inclusive)
    opened = reader(pulsar.MessageId.earliest, True)
    opened.seek(start.publish_time_ms)
    return opened
