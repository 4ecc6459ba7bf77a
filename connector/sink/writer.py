"""Sends messages to Pulsar for one sink subtask: topic and partition choice, producers, acknowledgements, errors.

Engine-agnostic: the Flink glue calls `write` per record and `flush` before each checkpoint.

Contracts:
- Every failure (producer creation, a rejected or unacknowledged send) raises `PulsarSinkError` naming the topic
  and the cause, from the next `write`, `check` or `flush` at the latest. Nothing is dropped silently.
- `flush` returns only when the broker acknowledged every message written so far.
- At most `max_pending_messages` messages of at most `max_pending_bytes` payload bytes in all await acknowledgement:
  `write` waits for room (a message larger than the byte bound goes once nothing is pending).
- Batching producers take one send callback per client batch, on its first message: a batch completes as one, and a
  callback per message cost a quarter of a pipeline's records/s (README, the sink). The writer predicts where the
  client ends each batch (`connector.sink.client_batches`); for that the client's publish-delay timer is off, and the
  writer sends what waits in open batches at every `check` and `flush` (the Flink glue calls one at each bundle end)
  and before it waits for acknowledgements. Each batch's result names its size, and a size other than predicted
  raises: a batch without a callback never goes unseen. A message sent with a delay (`deliver_after_ms`; the client
  sends those alone) keeps a callback of its own. So does every message of a writer whose caller does not `check` or
  `flush` regularly (`caller_checks` False) and of producers set up otherwise (`batching_max_publish_delay_ms` or
  `batching_type` in the producer config): their client's timer ends batches (EXACTLY_ONCE: they do not batch).
- The client never gives up on a message by itself (its send timeout is off): a producer's messages are
  persisted in order with no gaps, which broker deduplication relies on. The sink applies the send timeout
  itself: no acknowledgement for that long while messages wait raises.
- EXACTLY_ONCE: a message whose sequence id is at or below the last one the broker has under its producer's name
  when the producer opened (a replay after a restore) is not sent again; broker deduplication drops whatever else
  comes twice. Its producers batch only where the writer predicts the batches, and then the writer holds each batch
  until it ends and sends it with the batch's last sequence id on its first message: pulsar-client tells the broker
  only a batch's first id (measured: ids 1..10 in one batch, then the name reopened reports 1), and the broker takes
  it for the batch's highest. So the id the broker reports is the last message it has, whatever batches a replay
  makes. Where the writer cannot predict batches, EXACTLY_ONCE producers do not batch.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pulsar
from pyflink.datastream.connectors.base import DeliveryGuarantee

from connector.admin import PulsarAdmin
from connector.client_threads import keep_thread_state
from connector.clients import ClientCalls, new_client
from connector.errors import PulsarSinkError
from connector.sink.client_batches import BatchBoundary, batch_position
from connector.sink.client_send import Send, sender
from connector.sink.config import SinkConfig, batch_limits
from connector.sink.dedup import deduplication_problem
from connector.sink.message import PulsarMessage
from connector.sink.router import BatchRotation, KeyHashTopicRouter, RoundRobinTopicRouter
from connector.topics import full_name, split_partition

log = logging.getLogger(__name__)

_NO_METADATA = PulsarMessage(value=None)
"""What routers and send arguments see of a plain value (`write` passes it to the built-in routers)."""

# The result code of a send that succeeded. The bindings make a new `pulsar.Result` object for each callback, and
# comparing two with `==` costs about 1 µs (pybind11's enum equality, measured 0.7-1.8 µs): as much as the rest of
# the callback. Their `int()` costs a quarter of that.
_OK = int(pulsar.Result.Ok)

# Producers whose batches the writer predicts keep a batch open until it is full or the writer sends it: their
# publish-delay timer is set beyond any bundle's length.
_NO_BATCH_TIMER_MS = 24 * 3600 * 1000
_TIMER_SETTINGS = ("batching_max_publish_delay_ms", "batching_type")
"""Producer settings under which the client may end a batch where the writer cannot predict it."""

# A producer name stays taken until the broker drops its old connection (a lost attempt whose worker has not
# closed it yet: see worker_watchdog.py; a host gone from the network until the broker's keepalive notices).
PRODUCER_BUSY_RETRY_S = 90.0


class _Batch:
    """One client batch as the writer filled it: its topic, messages and payload bytes; under EXACTLY_ONCE also the
    messages it holds back until the batch ends (`held`: payloads and send arguments; None once sent)."""

    __slots__ = ("topic", "messages", "size", "held")

    def __init__(self, topic: str, first_size: int,
                 held: list[tuple[bytes | None, dict[str, Any]]] | None = None) -> None:
        self.topic, self.messages, self.size, self.held = topic, 1, first_size, held


class _Output:
    """A producer the writer opened, with what the writer keeps for it: its send (`connector.sink.client_send`), the
    last sequence id the broker had under its name when it opened (EXACTLY_ONCE; -1 for a name never used), and for
    producers whose batches the writer predicts, where the open batch ends, the batch it fills (or filled last), and
    the non-blocking flush (the bindings' `flush_async`; the public `flush` waits, without a time-out)."""

    __slots__ = ("send", "topic", "persisted", "boundary", "batch", "send_batch")

    def __init__(self, producer: pulsar.Producer, topic: str, persisted: int) -> None:
        self.send: Send = sender(producer)  # it keeps the producer; the client closes it (`close`)
        self.topic, self.persisted = topic, persisted
        self.boundary: BatchBoundary | None = None
        self.batch: _Batch | None = None
        self.send_batch: Any = None


@dataclass(frozen=True)
class Sequenced:
    """EXACTLY_ONCE identity of a message: a stable producer name and its sequence id for that producer."""

    producer_name: str
    sequence_id: int


class PulsarWriter:
    """One sink subtask's writer. Call it from one thread; the client's threads only report acknowledgements."""

    def __init__(self, config: SinkConfig, caller_checks: bool = True) -> None:
        """`caller_checks`: whether the caller calls `check` or `flush` regularly (in Flink, at every bundle end),
        which batches predicted by the writer need (module docstring)."""
        self._config = config
        self._exactly_once = config.delivery_guarantee == DeliveryGuarantee.EXACTLY_ONCE
        self._client = new_client(config.service_url, config.security, config.client_config)
        self._calls = ClientCalls(self._close_client, f"sink {config.sink_name}")
        self._partitions: dict[str, list[str]] = {}
        self._candidates_of: dict[tuple[str, ...], list[str]] = {}
        self._outputs: dict[tuple[str, str | None], _Output] = {}  # per (topic, producer name or None)
        self._deduplicating: set[str] = set()
        # The caller's thread alone counts what it sends; acknowledgement callbacks (the client's threads) count
        # what completed, under a lock the caller never takes. Waiting for acknowledgements takes `_cond`, and a
        # callback notifies only while someone waits.
        self._written = 0
        self._written_bytes = 0
        self._sent_to: dict[str, int] = {}
        self._completed = 0  # acknowledged or rejected
        self._completed_bytes = 0
        self._completed_to: dict[str, int] = {}
        self._acknowledged = 0
        self._acknowledged_bytes = 0
        self._completion_lock = threading.Lock()
        self._cond = threading.Condition()
        self._waiting = False
        self._error: PulsarSinkError | None = None
        self._acknowledge = self._on_acknowledgement  # bound once, not per message
        self._acknowledge_batch = self._on_batch_acknowledgement
        # Plain values skip building a PulsarMessage each when the router is one of ours, which reads a message's
        # key only: 1 µs of this class's ~3.4 µs a record, and 16% more records/s alone (benchmarks.sink_writer,
        # AT_LEAST_ONCE, three rounds alternating with the message built: 73,338-77,928 against 63,490-66,509).
        self._router_reads_keys_only = type(config.router) in (RoundRobinTopicRouter, KeyHashTopicRouter)
        # EXACTLY_ONCE batches only where the writer predicts batches (module docstring).
        limits = batch_limits(config.producer_config)
        predictable = limits is not None and caller_checks and \
            not any(name in config.producer_config for name in _TIMER_SETTINGS)
        self._batching = predictable if self._exactly_once else limits is not None
        self._batch_limits = limits if predictable else None
        # What the built-in routers send round robin (ROUND_ROBIN every message, MESSAGE_KEY_HASH the keyless ones)
        # goes, with batching producers, a batch's worth at a time to each partition; not under EXACTLY_ONCE, where
        # a replay must route each record as before.
        self._rotation = BatchRotation(*limits) \
            if self._batching and not self._exactly_once and self._router_reads_keys_only else None
        self._hashes_keys = type(config.router) is KeyHashTopicRouter

    def write(self, element: Any, sequenced: Sequenced | None = None) -> None:
        """Send `element` (a `PulsarMessage` or a plain value) asynchronously.

        Under EXACTLY_ONCE `sequenced` is required: the message goes out from the producer of that name with that
        sequence id (the first of a batch with the batch's last), so the broker drops it when it has it already.
        """
        if self._exactly_once != (sequenced is not None):
            raise ValueError("a Sequenced identity is required under EXACTLY_ONCE and only there")
        if self._error is not None:
            raise self._error
        if isinstance(element, PulsarMessage):
            message, value, tombstone = element, element.value, element.value is None
        else:  # a plain value: no metadata, and the built-in routers read nothing else of a message
            message = _NO_METADATA if self._router_reads_keys_only else PulsarMessage(value=element)
            value, tombstone = element, False
        payload = None if tombstone else self._config.schema.serialize(value)
        size = 0 if tombstone else len(payload)
        candidates = self._candidates(self._target_topics(element, message))
        if self._rotation is not None and not (self._hashes_keys and message.key is not None):
            topic = self._rotation.choose(candidates, size)
        else:
            sequence = sequenced.sequence_id if sequenced else self._written
            topic = self._config.router.route(message, candidates, sequence)
            if topic not in candidates:
                raise PulsarSinkError(f"the topic router chose {topic!r}, which is none of {candidates}")
        key = (topic, sequenced.producer_name if sequenced else None)
        output = self._outputs.get(key) or self._open(key)
        if sequenced is not None and sequenced.sequence_id <= output.persisted:
            return  # a replay of a message the broker has: sent again, it would only be dropped
        if (self._written - self._completed >= self._config.max_pending_messages
                or self._written_bytes - self._completed_bytes + size > self._config.max_pending_bytes):
            self._wait_until_pending_at_most(self._config.max_pending_messages - 1,
                                             max(0, self._config.max_pending_bytes - size))
        arguments = _send_arguments(message, sequenced)
        boundary = output.boundary
        try:
            if boundary is None or message.deliver_after_ms is not None:
                if boundary is not None and self._exactly_once:
                    self._end_batch(output)  # the batch it holds goes first: the broker must see the ids in order
                output.send(payload, functools.partial(self._acknowledge, topic, size), arguments)
            elif self._exactly_once:
                self._hold(output, payload, size, arguments)
            elif boundary.add(size):
                batch = output.batch = _Batch(topic, size)
                output.send(payload, functools.partial(self._acknowledge_batch, batch), arguments)
            else:  # counted in before the send, which may complete the batch
                batch = output.batch
                batch.messages += 1
                batch.size += size
                output.send(payload, None, arguments)
        except PulsarSinkError:
            raise
        except Exception as error:
            raise PulsarSinkError(f"sending to {topic} failed: {error}") from error
        self._written += 1
        self._written_bytes += size
        self._sent_to[topic] = self._sent_to.get(topic, 0) + 1
        if self._error is not None:  # the client reports some rejections (MessageTooBig) synchronously
            raise self._error

    def _hold(self, output: _Output, payload: bytes | None, size: int, arguments: dict[str, Any]) -> None:
        """EXACTLY_ONCE: keep a message in its producer's open batch, and send the batch once it is full."""
        if output.boundary.add(size):
            self._release(output)  # the batch before, which this message does not fit in (if still held)
            output.batch = _Batch(output.topic, size, [(payload, arguments)])
        else:
            batch = output.batch
            batch.messages += 1
            batch.size += size
            batch.held.append((payload, arguments))
        if not output.boundary.is_open:  # full: the client sends it as its last message arrives
            self._release(output, full=True)

    def _release(self, output: _Output, full: bool = False) -> None:
        """EXACTLY_ONCE: send the batch the writer holds for `output`, if any, its first message under the batch's last
        sequence id (module docstring). The client sends it at once, or by itself when it is `full`."""
        batch = output.batch
        if batch is None or batch.held is None:
            return
        held, batch.held = batch.held, None
        payload, arguments = held[0]
        send = output.send
        try:
            send(payload, functools.partial(self._acknowledge_batch, batch),
                 {**arguments, "sequence_id": held[-1][1]["sequence_id"]})
            for payload, arguments in held[1:]:
                send(payload, None, arguments)
        except Exception as error:
            raise PulsarSinkError(f"sending to {batch.topic} failed: {error}") from error
        if not full:
            output.send_batch(None)

    def flush(self) -> int:
        """Send what waits in open batches and wait until the broker acknowledged every message written so far; the
        count acknowledged in total."""
        self._wait_until_pending_at_most(0)
        return self._acknowledged

    def check(self) -> int:
        """Send what waits in open batches without waiting for it, then raise the first send failure, if any; the
        count acknowledged in total."""
        self._send_open_batches()
        if self._error is not None:
            raise self._error
        return self._acknowledged

    @property
    def acknowledged_bytes(self) -> int:
        """The payload bytes (serialized values; no keys or properties) of the messages acknowledged in total."""
        return self._acknowledged_bytes

    @property
    def pending_messages(self) -> int:
        """The messages sent and not acknowledged yet."""
        return self._written - self._completed

    def close(self) -> None:
        """Release the producers and the client; unacknowledged messages are abandoned (call `flush` first). Called
        from another thread while the writer's thread creates a producer, the client closes once that returns
        (`connector.clients.ClientCalls`)."""
        self._calls.close()

    def _close_client(self) -> None:
        try:
            self._client.close()
        except pulsar.PulsarException:
            pass  # closing after a failure: the failure was reported already

    # -- topics and producers -------------------------------------------------------------------------

    def _target_topics(self, element: Any, message: PulsarMessage) -> tuple[str, ...]:
        if message.topic is not None:
            return (message.topic,)
        if self._config.topic_selector is not None:
            return (self._config.topic_selector(element),)
        return self._config.topics

    def _candidates(self, topics: tuple[str, ...]) -> list[str]:
        """Every partition of each topic, in order; a non-partitioned topic stands for itself."""
        known = self._candidates_of.get(topics)
        if known is not None:
            return known
        candidates: list[str] = []
        for topic in topics:
            if topic not in self._partitions:
                try:
                    with self._calls:
                        names = self._client.get_topic_partitions(full_name(topic))
                except pulsar.PulsarException as error:
                    raise PulsarSinkError(f"cannot look up the partitions of topic {topic}: {error}"
                                          f"{self._explain()}") from error
                self._partitions[topic] = sorted(names, key=lambda name: split_partition(name)[1])
            candidates.extend(self._partitions[topic])
        self._candidates_of[topics] = candidates
        return candidates

    def _open(self, key: tuple[str, str | None]) -> _Output:
        """Create the producer of `key`, (topic, producer name or None)."""
        topic, producer_name = key
        if self._exactly_once:
            self._require_deduplication(topic)
        producer = self._create_producer(topic, producer_name)
        send_batch = None
        if self._batch_limits is not None:
            send_batch = getattr(getattr(producer, "_producer", None), "flush_async", None)
            if send_batch is None:
                log.warning("this pulsar-client's producers have no non-blocking flush (Producer._producer."
                            "flush_async): the sink takes a send callback per message%s, which is slower",
                            " and EXACTLY_ONCE does not batch" if self._exactly_once else "")
                producer.close()
                self._batch_limits = None
                self._batching = self._batching and not self._exactly_once
                producer = self._create_producer(topic, producer_name)
        output = self._outputs[key] = _Output(producer, topic, producer.last_sequence_id())
        if send_batch is not None:
            output.boundary, output.send_batch = BatchBoundary(*self._batch_limits), send_batch
        if output.persisted >= 0:
            log.info("producer %s on %s resumes after sequence id %d, the last the broker has: replayed "
                     "messages up to it are not sent again", producer_name, topic, output.persisted)
        return output

    def _require_deduplication(self, topic: str) -> None:
        base = split_partition(topic)[0]
        if base not in self._deduplicating:
            problem = deduplication_problem(self._config.admin_url, base, self._config.security)
            if problem:
                raise PulsarSinkError(problem)
            self._deduplicating.add(base)

    def _create_producer(self, topic: str, producer_name: str | None) -> pulsar.Producer:
        settings = {**self._config.producer_config, "batching_enabled": self._batching,
                    "send_timeout_millis": 0, "block_if_queue_full": False,
                    "max_pending_messages": self._config.max_pending_messages}
        if self._batch_limits is not None:
            settings["batching_max_publish_delay_ms"] = _NO_BATCH_TIMER_MS
        deadline = time.monotonic() + PRODUCER_BUSY_RETRY_S
        attempt = 0
        while True:
            try:
                with self._calls:
                    return self._client.create_producer(topic, producer_name=producer_name, **settings)
            except pulsar.ProducerBusy as error:
                if time.monotonic() > deadline:
                    raise PulsarSinkError(f"cannot create producer {producer_name!r} on topic {topic}: the name is "
                                          f"still in use after {PRODUCER_BUSY_RETRY_S:.0f} s ({error})") from error
                if attempt % 10 == 0:
                    log.warning("producer name %r on topic %s is still held by an earlier connection (a lost "
                                "attempt's); retrying for up to %.0f s", producer_name, topic, PRODUCER_BUSY_RETRY_S)
                attempt += 1
                time.sleep(1)
            except pulsar.PulsarException as error:
                raise PulsarSinkError(f"cannot create a producer on topic {topic}: {type(error).__name__}: "
                                      f"{error}{self._explain()}") from error

    def _explain(self) -> str:
        """The admin API's word on a failed connection (e.g. authentication failed), when an admin URL is set."""
        if not self._config.admin_url:
            return ""
        return PulsarAdmin(self._config.admin_url, security=self._config.security).explain_connection_failure()

    # -- acknowledgements -------------------------------------------------------------------------------

    def _send_open_batches(self) -> None:
        """Hand every open batch to the client to send now (its results arrive through the batches' callbacks)."""
        for output in self._outputs.values():
            if output.boundary is not None and output.boundary.is_open:
                self._end_batch(output)

    def _end_batch(self, output: _Output) -> None:
        """Send `output`'s open batch now (under EXACTLY_ONCE, the one the writer holds)."""
        output.boundary.close()
        if self._exactly_once:
            self._release(output)
        else:
            output.send_batch(None)

    def _on_acknowledgement(self, topic: str, size: int, result: pulsar.Result, _message_id: Any) -> None:
        """The client's callback for one message of `size` payload bytes sent to `topic`, bound to both in `write`
        (a partial is one object a message, where a closure was five the cyclic GC tracks: 6-8% faster alone)."""
        keep_thread_state()
        failure = None if int(result) == _OK else f"sending a message of {size} bytes to {topic} failed: {result.name}"
        self._complete(topic, 1, size, failure)

    def _on_batch_acknowledgement(self, batch: _Batch, result: pulsar.Result, message_id: Any) -> None:
        """The client's callback for the first message of `batch`, which completes with it."""
        keep_thread_state()
        what = (f"a message of {batch.size} bytes" if batch.messages == 1 else
                f"a batch of {batch.messages} messages ({batch.size} bytes)")
        if int(result) != _OK:
            failure = f"sending {what} to {batch.topic} failed: {result.name}"
        else:
            failure = _misprediction(batch, what, message_id)
        self._complete(batch.topic, batch.messages, batch.size, failure)

    def _complete(self, topic: str, messages: int, size: int, failure: str | None) -> None:
        """Count `messages` (of `size` payload bytes in all) to `topic` as acknowledged, or as failed by `failure`."""
        with self._completion_lock:  # uncontended unless the client runs several I/O threads
            if failure is None:
                self._acknowledged += messages
                self._acknowledged_bytes += size
            elif self._error is None:
                self._error = PulsarSinkError(failure)
            self._completed_to[topic] = self._completed_to.get(topic, 0) + messages
            self._completed += messages
            self._completed_bytes += size
        if self._waiting:
            with self._cond:
                self._cond.notify_all()

    def _wait_until_pending_at_most(self, limit: int, byte_limit: int = 0) -> None:
        """Wait until at most `limit` messages of at most `byte_limit` payload bytes in all await acknowledgement;
        raise the first failure, or a send timeout when no acknowledgement arrived for send_timeout_ms while
        messages waited."""
        self._send_open_batches()
        timeout_s = self._config.send_timeout_ms / 1000
        completed, last_progress = self._completed, time.monotonic()
        with self._cond:
            self._waiting = True
            try:
                while self._error is None and (self._written - self._completed > limit
                                               or self._written_bytes - self._completed_bytes > byte_limit):
                    now = time.monotonic()
                    if self._completed != completed:
                        completed, last_progress = self._completed, now
                    elif now - last_progress >= timeout_s:
                        waiting = {topic: sent - self._completed_to.get(topic, 0)
                                   for topic, sent in self._sent_to.items() if sent > self._completed_to.get(topic, 0)}
                        self._error = PulsarSinkError(
                            f"no acknowledgement from the broker for {timeout_s:g} s (send timeout) while messages "
                            f"wait for topics {waiting}: is the broker at {self._config.service_url} reachable?")
                        break
                    self._cond.wait(min(1.0, timeout_s - (now - last_progress)))
            finally:
                self._waiting = False
        self.check()


def _misprediction(batch: _Batch, what: str, message_id: Any) -> str | None:
    """Why the client's batch, as `message_id` (the first message's) places it, is not `batch`; None when it is."""
    known = "so the results of some messages are unknown (a bug of pyflink-pulsar with this pulsar-client; " \
            "batching_type or batching_max_publish_delay_ms in the producer config turns the prediction off)"
    try:
        index, size = batch_position(message_id.serialize())
    except ValueError as error:
        return f"the result of sending {what} to {batch.topic} came with a message id the writer cannot read " \
               f"({error}), {known}"
    if (index, size) == (0, batch.messages):
        return None
    return f"the client batched the messages to {batch.topic} otherwise than this writer predicted: a batch of " \
           f"{size} messages holds the first of {what} at index {index}, {known}"


def _send_arguments(message: PulsarMessage, sequenced: Sequenced | None) -> dict[str, Any]:
    if message is _NO_METADATA:  # a plain value's, on the hot path: no metadata to look at
        return {"sequence_id": sequenced.sequence_id} if sequenced else {}
    arguments: dict[str, Any] = {}
    if message.properties:
        arguments["properties"] = dict(message.properties)
    if message.key is not None:
        arguments["partition_key"] = message.key
    if message.ordering_key is not None:
        arguments["ordering_key"] = message.ordering_key
    if message.event_time is not None:
        arguments["event_timestamp"] = message.event_time
    if message.deliver_after_ms is not None:
        arguments["deliver_after"] = timedelta(milliseconds=message.deliver_after_ms)
    if sequenced is not None:
        arguments["sequence_id"] = sequenced.sequence_id
    return arguments
