"""Which ticks a split reader acts on, so checkpoint barriers never queue behind a backlog of reads.

Every tick of the source's driver asks each split for one step (one `poll` of up to maxRecordsPerPoll records).
When the job is slower than the ticks (a backlog under backpressure), ticks pile up in Flink's buffers ahead of
the next checkpoint barrier, and each would be a full step: the barrier would wait for all of them. A tick that
has waited longer than `stale_after_ms` since its discovery step stamped it is stale and is passed over (it
costs microseconds), so what stands between a barrier and the reader is at most `stale_after_ms` of ticks plus
one step. When nothing is backed up, ticks arrive young and every one is a step.

Clocks of different hosts may disagree, so a tick's age is its delay (reader's clock minus stamp) less the
smallest delay the split has seen: a constant skew in either direction cancels out, and the smallest delay comes
from ticks that met no backlog (a job starts with empty buffers; a split added during a backlog steps more often
until its first young tick). A clock that steps forward during the run would make every tick look stale; so that
it can slow a split down but never stop it, a tick is acted on anyway once the split has made no step for
`starved_after_ms` of the reader's own (monotonic) clock. That fallback is long on purpose: under a steady backlog
every tick is stale, and each fallback step puts a full step into a pipeline with no room for it, which the next
checkpoint barrier waits behind.

A split whose last step found nothing is not stepped again until its idle gap has passed: ticks reach the readers
in bursts (a Python bundle of the discovery step at a time), and polling an idle partition again microseconds after
it had nothing only costs CPU (an empty poll is a client time-out raised as an exception: 31 µs of CPU, measured).
The gap starts at `idle_gap_ms` and doubles with each further empty step up to `max_idle_gap_ms` (ten polls a
second). A split that has found nothing for `quiet_after_ms` is quiet and waits `quiet_gap_ms` between polls: it is
polled on the driver's once-a-second burst, so the polls of 1,000 quiet partitions cost about 3% of a core instead of
30%. The price is latency on a partition that was silent for seconds: its next record waits for the next burst. A
split that gets a record is back to every due step at once.

How often steps are offered: the driver ticks once per poll interval, 1 to 10 times a second (`ticks_per_second`),
and datagen emits a second's ticks in one burst. Between bursts, a reader key with a busy split (one that is not
quiet) runs a timer chain: a step every `step_ms` (50 ms, or the poll interval if longer), which stops once all the
key's splits are quiet, so idle partitions cost the driver's burst and nothing between. A step timer is judged as a
tick is (`due_on_timer`), its lateness standing for the tick's age: timers fire late when the reader is backed up.

How long a step lasts: up to maxRecordsPerPoll records, and the steps of one tick or timer of a reader key share
`STEP_BUDGET_MS`: a split's step ends once it is spent (checked every chunk of messages, the records' way through the
user's chained map and sink included; one chunk is always read), and the key's splits take turns at going first. Each
step of a busy split comes at the end of a round trip through the JVM (a timer or a tick reaches the Python worker at a
bundle's end), and the worker idles while it waits: over a backlog or a topic being written, fewer, longer steps read
faster. A checkpoint barrier waits for the steps in flight, so the budget, not the record count, bounds what it waits
for, whatever a record costs downstream and however many splits a key holds.

No Flink and no broker here.
"""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")

_TIMER_STEP_MS = 50  # a reader key's timer chain period (or the poll interval, if longer): 20 extra steps a second
_LOST_TIMER_MS = 2000  # a step timer this overdue is taken as lost and a new one registered
STEP_BUDGET_MS = 200
"""How long the steps of one tick or timer of a reader key may read together, in ms. Measured in turns (2026-12-06,
the bench's tail and backlog runs: 1M records of 100 B, 4 partitions, parallelism 2, so one split a key): steps of
2,000 records (~70 ms) read a topic being written at 19,000-24,000 records/s and an EXACTLY_ONCE backlog at
21,000-38,000 with checkpoint p99 1.0-2.5 s; steps of up to 10,000 records and 200 ms at 25,000-32,000 and
34,000-44,000, p99 1.3-2.0 s; and 350 ms at 33,000-35,000 and 34,000-41,000, p99 1.5-1.9 s."""
# The driver's ticks a second, at most. Datagen emits a second's ticks in one burst, and each tick is one element per
# reader key, so more ticks add CPU, not steps that matter: 1,000 idle partitions cost 27.5% of a core at 10 a second
# against 108% at 100 (the bench's idle run), and an EXACTLY_ONCE backlog read as fast (3,469 against 3,451 records/s).
_MAX_TICKS_PER_SECOND = 10


def ticks_per_second(poll_interval_ms: int) -> int:
    """The driver's ticks a second for a source polling every `poll_interval_ms`: one per interval, 1 to 10."""
    return max(1, min(_MAX_TICKS_PER_SECOND, round(1000 / poll_interval_ms)))


def step_ms(poll_interval_ms: int) -> int:
    """The period of a reader key's timer chain for a source polling every `poll_interval_ms`."""
    return max(_TIMER_STEP_MS, poll_interval_ms)


class TickPacer:
    """One split's pacing at `poll_interval_ms`: `due(stamp_ms, now_ms, now_monotonic_s)` for each tick,
    `due_on_timer(late_ms, now_monotonic_s)` for each step timer of its reader key, `stepped(now_monotonic_s,
    found_messages)` after each step either allowed; `busy` while its key's timer chain should run. A stamp of 0 (a
    tick without a stamp) is always due."""

    def __init__(self, poll_interval_ms: int) -> None:
        self.stale_after_ms = max(500, 10 * poll_interval_ms)
        """How old a tick may be and still be a step: ten poll intervals, and never under 500 ms. Ticks that met no
        backlog arrived up to ~450 ms later than the earliest (measured with Python bundles of 100 ms on the way, and
        the step before them); a floor of 200 ms passed those over and stalled live splits for the 5 s starvation
        fallback."""
        self.idle_gap_ms = 2 * poll_interval_ms
        """How long a split whose last step found nothing waits before its next poll: two poll intervals."""
        self.max_idle_gap_ms = max(100, self.idle_gap_ms)
        """The longest wait between polls of a split that keeps finding nothing, until it is quiet: 100 ms (or the
        idle gap)."""
        self.quiet_after_ms = 5_000
        """How long a split finds nothing before it is quiet: 5 s."""
        self.quiet_gap_ms = max(900, self.max_idle_gap_ms)
        """The wait between polls of a quiet split: 900 ms (or the longest idle gap), just under the driver's burst
        period, so that a quiet split polls on every burst even when one comes a little early."""
        self.starved_after_ms = max(5_000, 5 * self.stale_after_ms)
        """How long a split goes without a step before it acts on a stale tick anyway: 5 s (or 5 stale ages)."""
        self._smallest_delay_ms: int | None = None
        self._last_step_end: float | None = None
        self._gap_ms = 0.0  # the wait before the next poll: 0 after a step that found messages
        self._empty_since: float | None = None  # when the steps began to find nothing (monotonic s)
        self._quiet = True  # not stepped yet, or found nothing for quiet_after_ms

    def due(self, stamp_ms: int, now_ms: int, now_monotonic_s: float) -> bool:
        if stamp_ms == 0:
            return True
        since_step_ms = self._since_step_ms(now_monotonic_s)
        if since_step_ms is not None and since_step_ms < self._gap_ms:
            return False
        delay_ms = now_ms - stamp_ms
        if self._smallest_delay_ms is None or delay_ms < self._smallest_delay_ms:
            self._smallest_delay_ms = delay_ms
        return delay_ms - self._smallest_delay_ms <= self.stale_after_ms or self._starved(since_step_ms)

    def due_on_timer(self, late_ms: int, now_monotonic_s: float) -> bool:
        """Whether a step timer that fired `late_ms` after its time is a step: as a tick whose age is `late_ms` (a
        timer fires on the reader's own clock: no skew to cancel)."""
        since_step_ms = self._since_step_ms(now_monotonic_s)
        if since_step_ms is not None and since_step_ms < self._gap_ms:
            return False
        return late_ms <= self.stale_after_ms or self._starved(since_step_ms)

    @property
    def busy(self) -> bool:
        """Whether the split has been stepped and found a message within `quiet_after_ms`."""
        return not self._quiet

    def _since_step_ms(self, now_monotonic_s: float) -> float | None:
        return None if self._last_step_end is None else (now_monotonic_s - self._last_step_end) * 1000

    def _starved(self, since_step_ms: float | None) -> bool:
        return since_step_ms is None or since_step_ms >= self.starved_after_ms

    def stepped(self, now_monotonic_s: float, found_messages: bool = True) -> None:
        self._last_step_end = now_monotonic_s
        if found_messages:
            self._gap_ms, self._empty_since, self._quiet = 0.0, None, False
            return
        if self._empty_since is None:
            self._empty_since = now_monotonic_s
        if (now_monotonic_s - self._empty_since) * 1000 >= self.quiet_after_ms:
            self._gap_ms, self._quiet = self.quiet_gap_ms, True
        else:
            self._gap_ms = min(self.max_idle_gap_ms, max(self.idle_gap_ms, 2 * self._gap_ms))


class StepTimers:
    """The timer chains of one reader subtask's keys: at most one pending step timer per key, and one only while the
    key has a busy split. Times are processing-time ms of the subtask's clock."""

    def __init__(self, poll_interval_ms: int) -> None:
        self.step_ms = step_ms(poll_interval_ms)
        self._pending: dict[str, int] = {}  # per key: the time of this run's pending timer

    def fired(self, key: str, timestamp: int) -> bool:
        """Whether a timer of `key` at `timestamp` is this run's pending one (then it no longer is); a timer restored
        from a checkpoint is not."""
        if self._pending.get(key) != timestamp:
            return False
        del self._pending[key]
        return True

    def next(self, key: str, busy: bool, now_ms: int) -> int | None:
        """The time of the step timer to register for `key` at `now_ms`, or None: none while no split of the key is
        `busy`, or while one is pending (unless it is `_LOST_TIMER_MS` overdue: then it was lost)."""
        pending = self._pending.get(key)
        if not busy or (pending is not None and now_ms - pending <= _LOST_TIMER_MS):
            return None
        at = self._pending[key] = now_ms + self.step_ms
        return at


class Turns:
    """Which of a reader key's due splits steps first: the splits of one tick or timer share `STEP_BUDGET_MS`, so the
    first can spend it, and each goes first in turn."""

    def __init__(self) -> None:
        self._first: dict[str, int] = {}  # per key: the index of the split that went first last time

    def order(self, key: str, members: list[T]) -> list[T]:
        """`members` of `key` (the splits due now) in the order to step them: starting one further on than at the key's
        last call with two or more."""
        if len(members) < 2:
            return members
        first = self._first[key] = (self._first.get(key, -1) + 1) % len(members)
        return members[first:] + members[:first]
