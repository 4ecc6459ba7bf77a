"""Where a split starts reading and where it stops: the Java connector's StartCursor and StopCursor.

Pure logic, no broker and no Flink. Times are epoch milliseconds. Message ids are `pulsar.MessageId`
objects or their `serialize()` bytes.

Start (applies to splits known when the job starts; splits discovered later always start at earliest,
so nothing produced to a new partition is missed):
  earliest(), latest(), from_message_id(id, inclusive=True), from_publish_time(ms)
Stop (anything but `never()` makes the source bounded):
  never(), latest()                  - the partition's last message when the split starts, inclusive
  at_message_id(id)                  - stop before `id`;          after_message_id(id) - stop after it
  at_publish_time(ms) / at_event_time(ms)       - stop before the first message with time >= ms
  after_publish_time(ms) / after_event_time(ms) - stop before the first message with time >  ms
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import _pulsar
import pulsar

from checkpoint.position import Position
from connector.errors import PulsarConfigError


def _id_bytes(message_id: pulsar.MessageId | bytes) -> bytes:
    if isinstance(message_id, (pulsar.MessageId, _pulsar.MessageId)):  # ids of received messages are the latter
        return message_id.serialize()
    if isinstance(message_id, (bytes, bytearray)):
        pulsar.MessageId.deserialize(bytes(message_id))  # fail now on bytes that are no message id
        return bytes(message_id)
    raise TypeError(f"a message id must be a pulsar.MessageId or its serialize() bytes, not {type(message_id)}")


def _time(ms: int, what: str) -> int:
    if isinstance(ms, bool) or not isinstance(ms, int) or ms < 0:
        raise PulsarConfigError(f"{what} must be epoch milliseconds (an int >= 0), got {ms!r}")
    return ms


def _in_whole_entry(position: Position, boundary: Position) -> bool:
    """Whether `position` is a batched message of the entry `boundary` gives as a whole (batch index -1): such a
    message is not known to be its entry's last (see `StopCursor.ends_when_drained`)."""
    return boundary.batch_index < 0 <= position.batch_index and \
        (position.ledger_id, position.entry_id) == (boundary.ledger_id, boundary.entry_id)


def _reached(last_emitted: Position, boundary: Position) -> bool:
    """Whether a split that emitted up to `last_emitted` has emitted every message up to and including `boundary`."""
    return last_emitted.is_at_or_after(boundary) and not _in_whole_entry(last_emitted, boundary)


def _resolved(resolved_latest: Position | None) -> Position:
    """The split's last position taken when it started, which a latest() stop needs."""
    if resolved_latest is None:
        raise ValueError("stop cursor latest() needs the split's last position resolved at start")
    return resolved_latest


class StartKind(Enum):
    EARLIEST = "earliest"
    LATEST = "latest"
    MESSAGE_ID = "message_id"
    PUBLISH_TIME = "publish_time"


@dataclass(frozen=True)
class StartCursor:
    kind: StartKind
    message_id: bytes | None = None
    inclusive: bool = True
    publish_time_ms: int | None = None

    @classmethod
    def earliest(cls) -> StartCursor:
        return cls(StartKind.EARLIEST)

    @classmethod
    def latest(cls) -> StartCursor:
        return cls(StartKind.LATEST)

    @classmethod
    def from_message_id(cls, message_id: pulsar.MessageId | bytes, inclusive: bool = True) -> StartCursor:
        return cls(StartKind.MESSAGE_ID, message_id=_id_bytes(message_id), inclusive=inclusive)

    @classmethod
    def from_publish_time(cls, publish_time_ms: int) -> StartCursor:
        return cls(StartKind.PUBLISH_TIME, publish_time_ms=_time(publish_time_ms, "start publish time"))


class StopKind(Enum):
    NEVER = "never"
    LATEST = "latest"
    AT_MESSAGE_ID = "at_message_id"
    AFTER_MESSAGE_ID = "after_message_id"
    AT_PUBLISH_TIME = "at_publish_time"
    AFTER_PUBLISH_TIME = "after_publish_time"
    AT_EVENT_TIME = "at_event_time"
    AFTER_EVENT_TIME = "after_event_time"


@dataclass(frozen=True)
class StopCursor:
    kind: StopKind
    message_id: bytes | None = None
    time_ms: int | None = None

    @classmethod
    def never(cls) -> StopCursor:
        return cls(StopKind.NEVER)

    @classmethod
    def latest(cls) -> StopCursor:
        return cls(StopKind.LATEST)

    @classmethod
    def at_message_id(cls, message_id: pulsar.MessageId | bytes) -> StopCursor:
        return cls(StopKind.AT_MESSAGE_ID, message_id=_id_bytes(message_id))

    @classmethod
    def after_message_id(cls, message_id: pulsar.MessageId | bytes) -> StopCursor:
        return cls(StopKind.AFTER_MESSAGE_ID, message_id=_id_bytes(message_id))

    @classmethod
    def at_publish_time(cls, ms: int) -> StopCursor:
        return cls(StopKind.AT_PUBLISH_TIME, time_ms=_time(ms, "stop publish time"))

    @classmethod
    def after_publish_time(cls, ms: int) -> StopCursor:
        return cls(StopKind.AFTER_PUBLISH_TIME, time_ms=_time(ms, "stop publish time"))

    @classmethod
    def at_event_time(cls, ms: int) -> StopCursor:
        return cls(StopKind.AT_EVENT_TIME, time_ms=_time(ms, "stop event time"))

    @classmethod
    def after_event_time(cls, ms: int) -> StopCursor:
        return cls(StopKind.AFTER_EVENT_TIME, time_ms=_time(ms, "stop event time"))

    @property
    def is_bounded(self) -> bool:
        return self.kind is not StopKind.NEVER

    def excludes(self, position: Position, publish_time_ms: int, event_time_ms: int,
                 resolved_latest: Position | None = None) -> bool:
        """True when the message at `position` lies past the stop: it is not emitted and the split ends.

        `resolved_latest` is the split's last position taken when it started (needed for `latest()`).
        """
        kind = self.kind
        if kind is StopKind.NEVER:
            return False
        if kind is StopKind.LATEST:
            latest = _resolved(resolved_latest)
            return latest.is_empty_topic_marker or position.is_after(latest)
        if kind is StopKind.AT_MESSAGE_ID:
            return position.is_at_or_after(Position.from_bytes(self.message_id))
        if kind is StopKind.AFTER_MESSAGE_ID:
            return position.is_after(Position.from_bytes(self.message_id))
        if kind is StopKind.AT_PUBLISH_TIME:
            return publish_time_ms >= self.time_ms
        if kind is StopKind.AFTER_PUBLISH_TIME:
            return publish_time_ms > self.time_ms
        if kind is StopKind.AT_EVENT_TIME:
            return event_time_ms >= self.time_ms
        return event_time_ms > self.time_ms

    def reached_at(self, last_emitted: Position | None, resolved_latest: Position | None) -> bool:
        """True when a split that has emitted up to `last_emitted` needs no further message to know it is done.

        Only boundaries given as positions can tell this; time boundaries end on the first message past them
        (or, for publish time, when the partition is idle past that time: see `idle_past`).
        """
        boundary = self._last_included(resolved_latest)
        if boundary is None:
            return False
        if self.kind is StopKind.LATEST and boundary.is_empty_topic_marker:
            return True
        return last_emitted is not None and _reached(last_emitted, boundary)

    def ends_when_drained(self, last_read: Position, resolved_latest: Position | None) -> bool:
        """True when the stop includes a whole entry (batch index -1) and `last_read` is a batched message of that
        entry: the split is done once the partition holds nothing after it, since a reader gets a batched entry's
        messages all at once and every later entry lies past the stop."""
        boundary = self._last_included(resolved_latest)
        return boundary is not None and _in_whole_entry(last_read, boundary)

    def _last_included(self, resolved_latest: Position | None) -> Position | None:
        """The last position a latest() or after_message_id() stop includes; None for the other stops."""
        if self.kind is StopKind.LATEST:
            return _resolved(resolved_latest)
        if self.kind is StopKind.AFTER_MESSAGE_ID:
            return Position.from_bytes(self.message_id)
        return None

    def checks_from(self, resolved_latest: Position | None) -> tuple[int, ...]:
        """The (ledger, entry) from which messages need `excludes` and `reached_at`: a message in an earlier entry
        is neither past the stop nor at it. A position stop bounds one entry; `()` means every message needs the
        checks (time stops; latest() of a topic that was empty)."""
        if self.kind is StopKind.LATEST:
            boundary = _resolved(resolved_latest)
            if boundary.is_empty_topic_marker:
                return ()
        elif self.kind in (StopKind.AT_MESSAGE_ID, StopKind.AFTER_MESSAGE_ID):
            boundary = Position.from_bytes(self.message_id)
        else:
            return ()
        return boundary.ledger_id, boundary.entry_id

    def idle_past(self, now_ms: int) -> bool:
        """True when a caught-up partition can end because no later message can fall before the stop.

        A message published from now on has a publish time >= now, so publish-time stops already in the
        past are reached once the partition has no message available. Event times are chosen by producers
        and can be anything, so event-time stops never end on idleness.
        """
        if self.kind is StopKind.AT_PUBLISH_TIME:
            return now_ms >= self.time_ms
        if self.kind is StopKind.AFTER_PUBLISH_TIME:
            return now_ms > self.time_ms
        return False
