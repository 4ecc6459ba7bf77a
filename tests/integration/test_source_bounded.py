"""Acceptance 4 and 5: bounded reads end by themselves, in BATCH and STREAMING; every cursor's edges."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pulsar
import pytest
from pyflink.datastream import MapFunction, RuntimeContext, RuntimeExecutionMode, StreamExecutionEnvironment
from pyflink.datastream.connectors.base import DeliveryGuarantee

from checkpoint.split_state import SplitState
from connector import PulsarSource, SimpleStringSchema, StartCursor, StopCursor
from connector.admin import PulsarAdmin
from connector.source.reader import SplitReader
from tests.conftest import unique_topic
from tests.integration.sink_helpers import DEDUP_NAMESPACE, TargetTail, check_target, namespace, new_topic
from tests.jobs import pulsar_to_pulsar_job as p2p_job
from tests.jobs.pulsar_to_pulsar_job import first_positions_after
from tests.sequenced import create_sequenced_topic


def read_bounded(broker, topic: str, start: StartCursor, stop: StopCursor,
                 mode: RuntimeExecutionMode = RuntimeExecutionMode.BATCH) -> list[str]:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_runtime_mode(mode)
    env.set_parallelism(2)
    if mode is RuntimeExecutionMode.STREAMING:
        env.enable_checkpointing(500)
    source = (PulsarSource.builder().set_service_url(broker.service_url).set_admin_url(broker.admin_url)
              .set_topics(topic).set_deserialization_schema(SimpleStringSchema())
              .set_start_cursor(start).set_bounded_stop_cursor(stop).build())
    with source.create_stream(env).execute_and_collect() as records:
        return list(records)


@pytest.mark.parametrize("mode", [pytest.param(RuntimeExecutionMode.BATCH, marks=pytest.mark.smoke),
                                  RuntimeExecutionMode.STREAMING])
def test_stop_at_latest_reads_exactly_what_was_there_and_ends(broker, admin: PulsarAdmin,
                                                              pulsar_client: pulsar.Client, topic: str,
                                                              mode: RuntimeExecutionMode) -> None:
    create_sequenced_topic(admin, pulsar_client, topic, partitions=3, per_partition=2_000)
    records = read_bounded(broker, topic, StartCursor.earliest(), StopCursor.latest(), mode)
    assert sorted(record.rstrip() for record in records) == sorted(f"{p}:{s}" for p in range(3) for s in range(2_000))


def test_stop_at_latest_ends_while_producers_keep_writing(broker, admin: PulsarAdmin,
                                                          pulsar_client: pulsar.Client, topic: str) -> None:
    create_sequenced_topic(admin, pulsar_client, topic, partitions=2, per_partition=1_000)
    stop_writing = threading.Event()

    def keep_writing() -> None:
        producer = pulsar_client.create_producer(topic)
        while not stop_writing.is_set():
            producer.send(b"late")
            time.sleep(0.005)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        records = read_bounded(broker, topic, StartCursor.earliest(), StopCursor.latest(),
                               RuntimeExecutionMode.STREAMING)
    finally:
        stop_writing.set()
        writer.join()
    early = sorted(r.rstrip() for r in records if r != "late")
    assert early == sorted(f"{p}:{s}" for p in range(2) for s in range(1_000))


def test_an_unbounded_stop_cursor_stops_every_split_and_the_job_runs_on(broker, admin: PulsarAdmin,
                                                                        pulsar_client: pulsar.Client,
                                                                        topic: str) -> None:
    create_sequenced_topic(admin, pulsar_client, topic, partitions=2, per_partition=1_000)
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    env.enable_checkpointing(500)
    source = (PulsarSource.builder().set_service_url(broker.service_url).set_admin_url(broker.admin_url)
              .set_topics(topic).set_deserialization_schema(SimpleStringSchema())
              .set_unbounded_stop_cursor(StopCursor.latest()).build())
    assert not source.bounded
    records = source.create_stream(env).execute_and_collect()
    try:
        read = [next(records).rstrip() for _ in range(2_000)]
        producer = pulsar_client.create_producer(topic)
        producer.send(b"late")  # after every split resolved its stop: never read
        producer.close()
        more: list = []
        waiting = threading.Thread(target=lambda: more.append(next(records, "the job ended")), daemon=True)
        waiting.start()
        waiting.join(5)  # a bounded source's job ends within a second or two of its last record
        assert waiting.is_alive() and more == [], f"after its splits stopped the job went on with {more}"
    finally:
        records.close()
    assert sorted(read) == sorted(f"{p}:{s}" for p in range(2) for s in range(1_000))


def test_an_unbounded_publish_time_stop_reads_the_whole_stored_backlog(broker, admin: PulsarAdmin,
                                                                      pulsar_client: pulsar.Client,
                                                                      topic: str) -> None:
    """A publish-time stop already past ends a split once its partition is idle, not at the first empty poll: an
    unbounded source polls without waiting, and a new reader has nothing in its queue until the broker sends."""
    create_sequenced_topic(admin, pulsar_client, topic, partitions=2, per_partition=1_000)
    stop_ms = int(time.time() * 1000)
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    env.enable_checkpointing(500)
    source = (PulsarSource.builder().set_service_url(broker.service_url).set_admin_url(broker.admin_url)
              .set_topics(topic).set_deserialization_schema(SimpleStringSchema())
              .set_unbounded_stop_cursor(StopCursor.at_publish_time(stop_ms)).build())
    records = source.create_stream(env).execute_and_collect()
    read: list = []
    try:
        reading = threading.Thread(target=lambda: read.extend(next(records).rstrip() for _ in range(2_000)),
                                   daemon=True)
        reading.start()
        reading.join(60)
    finally:
        records.close()
    assert sorted(read) == sorted(f"{p}:{s}" for p in range(2) for s in range(1_000)), \
        f"{len(read)} of 2,000 stored records read before the stop"


@pytest.fixture(scope="module")
def ten_messages(broker, admin: PulsarAdmin) -> tuple[str, list[pulsar.MessageId], list[int]]:
    """A non-partitioned topic: m0..m4 batched into one entry, then m5..m9 one entry each, 30 ms apart.

    Event time of m<i> is 1000*i. Returns the topic, the message ids and publish times in order.
    """
    from tests.conftest import unique_topic

    topic = unique_topic("ten-messages")
    client = pulsar.Client(broker.service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Warn))
    batched = client.create_producer(topic, batching_enabled=True, batching_max_publish_delay_ms=100)
    for i in range(5):
        batched.send_async(f"m{i}".encode(), None, event_timestamp=1000 * i)
    batched.flush()
    single = client.create_producer(topic)
    for i in range(5, 10):
        time.sleep(0.03)
        single.send(f"m{i}".encode(), event_timestamp=1000 * i)
    reader = client.create_reader(topic, pulsar.MessageId.earliest)
    messages = [reader.read_next(5000) for _ in range(10)]
    client.close()
    assert [m.data() for m in messages] == [f"m{i}".encode() for i in range(10)]
    assert len({m.message_id().entry_id() for m in messages[:5]}) == 1, "m0..m4 share one batched entry"
    return topic, [m.message_id() for m in messages], [m.publish_timestamp() for m in messages]


def whole_entry(message_id: pulsar.MessageId) -> pulsar.MessageId:
    """The id of `message_id`'s entry as a whole (batch index -1), as the admin API gives an entry."""
    return pulsar.MessageId(message_id.partition(), message_id.ledger_id(), message_id.entry_id(), -1)


def names(*indexes: int) -> list[str]:
    return [f"m{i}" for i in indexes]


CASES = {
    "earliest-latest": (lambda ids, pts: (StartCursor.earliest(), StopCursor.latest()), range(10)),
    "latest-latest": (lambda ids, pts: (StartCursor.latest(), StopCursor.latest()), []),
    "id-inclusive-inside-batch": (lambda ids, pts: (StartCursor.from_message_id(ids[2]), StopCursor.latest()),
                                  range(2, 10)),
    "id-exclusive-inside-batch": (lambda ids, pts: (StartCursor.from_message_id(ids[2], inclusive=False),
                                                    StopCursor.latest()), range(3, 10)),
    "id-exclusive-last-of-batch": (lambda ids, pts: (StartCursor.from_message_id(ids[4], inclusive=False),
                                                     StopCursor.latest()), range(5, 10)),
    "stop-at-id-inside-batch": (lambda ids, pts: (StartCursor.earliest(), StopCursor.at_message_id(ids[3])),
                                range(3)),
    "stop-after-id-inside-batch": (lambda ids, pts: (StartCursor.earliest(),
                                                     StopCursor.after_message_id(ids[3])), range(4)),
    "stop-after-whole-batched-entry": (lambda ids, pts: (StartCursor.earliest(),
                                                         StopCursor.after_message_id(whole_entry(ids[0]))), range(5)),
    "stop-after-id-single": (lambda ids, pts: (StartCursor.from_message_id(ids[6]),
                                               StopCursor.after_message_id(ids[7])), [6, 7]),
    "publish-time-start-and-stop": (lambda ids, pts: (StartCursor.from_publish_time(pts[6]),
                                                      StopCursor.at_publish_time(pts[8])), [6, 7]),
    "stop-after-publish-time": (lambda ids, pts: (StartCursor.from_publish_time(pts[6]),
                                                  StopCursor.after_publish_time(pts[8])), [6, 7, 8]),
    "stop-at-event-time": (lambda ids, pts: (StartCursor.earliest(), StopCursor.at_event_time(5000)), range(5)),
    "stop-after-event-time": (lambda ids, pts: (StartCursor.earliest(), StopCursor.after_event_time(5000)),
                              range(6)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_cursor_edges(broker, ten_messages, case: str) -> None:
    topic, ids, publish_times = ten_messages
    cursors, expected = CASES[case]
    start, stop = cursors(ids, publish_times)
    assert read_bounded(broker, topic, start, stop) == names(*expected)


def test_metadata_rows_carry_key_properties_times_and_position(broker, pulsar_client: pulsar.Client,
                                                               topic: str) -> None:
    producer = pulsar_client.create_producer(topic)
    sent_id = producer.send(b"payload", partition_key="k1", properties={"a": "1"}, event_timestamp=1234)
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_runtime_mode(RuntimeExecutionMode.BATCH)
    source = (PulsarSource.builder().set_service_url(broker.service_url).set_admin_url(broker.admin_url)
              .set_topics(topic).set_deserialization_schema(SimpleStringSchema())
              .set_bounded_stop_cursor(StopCursor.latest()).set_emit_metadata().build())
    # A Python map downstream reads the fields by name.
    rows = source.create_stream(env).map(lambda row: (row.value, row.topic, row.partition, bytes(row.message_id),
                                                      row.key, dict(row.properties), row.event_time,
                                                      row.publish_time > 0))
    with rows.execute_and_collect() as results:
        (result,) = list(results)
    assert result == ("payload", topic, -1, sent_id.serialize(), "k1", {"a": "1"}, 1234, True)


class _WithSubtask(MapFunction):
    def open(self, runtime_context: RuntimeContext) -> None:
        self._subtask = runtime_context.get_index_of_this_subtask()

    def map(self, row):
        return row.topic, self._subtask


@pytest.mark.parametrize("bounded", [True, False])
def test_splits_spread_evenly_over_reader_subtasks(broker, admin: PulsarAdmin, pulsar_client: pulsar.Client,
                                                   topic: str, bounded: bool) -> None:
    create_sequenced_topic(admin, pulsar_client, topic, partitions=4, per_partition=10)
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    builder = (PulsarSource.builder().set_service_url(broker.service_url).set_admin_url(broker.admin_url)
               .set_topics(topic).set_deserialization_schema(SimpleStringSchema()).set_emit_metadata())
    if bounded:
        builder.set_bounded_stop_cursor(StopCursor.latest())
    placed: dict[str, int] = {}
    stream = builder.build().create_stream(env).map(_WithSubtask())  # chained: runs in the reader's subtask
    with stream.execute_and_collect() as records:
        for split, subtask in records:
            placed[split] = subtask
            if len(placed) == 4:
                break
    assert sorted(Counter(placed.values()).values()) == [2, 2], placed


def test_a_stop_after_a_whole_batched_entry_at_the_partitions_end_reads_all_of_it(
        broker, admin: PulsarAdmin, pulsar_client: pulsar.Client) -> None:
    """The entry's last message is not known from its id: the reader ends once the partition holds nothing more."""
    topic = unique_topic("whole-entry-stop")
    producer = pulsar_client.create_producer(topic, batching_enabled=True, batching_max_publish_delay_ms=100)
    for i in range(5):
        producer.send_async(f"m{i}".encode(), None)
    producer.flush()
    last = admin.last_message_id(topic)
    stop = StopCursor.after_message_id(pulsar.MessageId(-1, last.ledger_id, last.entry_id, -1))
    reader = SplitReader(pulsar_client, admin, SplitState(topic), StartCursor.earliest(), stop)
    read: list[bytes] = []
    deadline = time.monotonic() + 10
    while not reader.state.finished and time.monotonic() < deadline:
        read += [message.data() for message in reader.poll(100, 200)]
    assert read == [f"m{i}".encode() for i in range(5)]
    assert reader.state.finished, "nothing after the entry: the stop is reached"


def test_a_bounded_read_through_an_injected_failure_writes_every_record_exactly_once(
        broker, admin: PulsarAdmin, pulsar_client: pulsar.Client, topic: str, tmp_path: Path) -> None:
    """64 partitions, so each of the 32 reader keys holds two splits and opens the next key's readers ahead. The
    failure comes in the split its subtask reads last. A bounded read's checkpoints can complete only between reader
    keys, and seldom do before the end (README, Reading): the restart reads every split again from its start, but for
    those a completed checkpoint holds as finished, and the EXACTLY_ONCE sink fused behind the readers, which numbers
    records by their source message, writes none of them twice."""
    partitions, per_partition = 64, 2_000
    create_sequenced_topic(admin, pulsar_client, topic, partitions, per_partition)
    target = new_topic(namespace(admin, DEDUP_NAMESPACE, deduplication=True), "bounded-target")
    admin.create_partitioned_topic(target, 4)
    # Splits take ordinals in name order, and the last ordinal is the last split of the last reader key.
    last_read = max(range(partitions), key=lambda p: f"{topic}-partition-{p}")
    env = p2p_job.checkpointed_env(parallelism=2, checkpoint_ms=200)
    p2p_job.build(env, broker.service_url, broker.admin_url, topic, target, DeliveryGuarantee.EXACTLY_ONCE,
                  [per_partition // 2], str(tmp_path), bounded=True, fail_partition=last_read)
    env.execute("bounded pulsar-to-pulsar through an injected failure")
    assert (tmp_path / f"failed-at-{per_partition // 2}").exists()
    read_again = first_positions_after(tmp_path, f"failed-at-{per_partition // 2}")
    assert last_read in read_again and all(starts == [0] for starts in read_again.values()), \
        str(sorted(read_again.items()))
    tail = TargetTail(pulsar_client, target, 4)
    tail.drain()
    tail.close()
    check_target(tail, DeliveryGuarantee.EXACTLY_ONCE, partitions, per_partition)
