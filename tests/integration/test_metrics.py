"""The connector's metrics as Flink reports them: jobs on a standalone cluster, metrics read over its REST API."""

from __future__ import annotations

import time
from pathlib import Path

import pulsar
import pytest

from connector.admin import PulsarAdmin
from connector.topics import TopicName
from devtools.flink_cluster import FlinkCluster
from tests.conftest import unique_topic
from tests.integration.sink_helpers import read_all

JOBS = Path(__file__).resolve().parent.parent / "jobs"
SPLIT = ".split."      # the group of a source split's metrics: split=<tenant/namespace/topic-partition-N>
SINK = ".pulsarSink."  # the group of a sink writer subtask's metrics


def job_metrics(cluster: FlinkCluster, job_id: str, group: str) -> dict[str, float]:
    """{"<what follows `group` in the metric id>": value summed over subtasks} over all the job's vertices."""
    values: dict[str, float] = {}
    for vertex in cluster.job(job_id)["vertices"]:
        path = f"/jobs/{job_id}/vertices/{vertex['id']}/metrics"
        wanted = [m["id"] for m in cluster.rest(path) if group in m["id"]]
        if wanted:
            for metric in cluster.rest(f"{path}?get={','.join(wanted)}"):
                name = metric["id"].split(group, 1)[1]
                values[name] = values.get(name, 0) + float(metric["value"])
    return values


def wait_for_metrics(cluster: FlinkCluster, job_id: str, group: str, expected: dict[str, float],
                     timeout_s: float = 120) -> dict[str, float]:
    """The job's metrics of `group` once they include `expected`; fails with what they showed after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    metrics = job_metrics(cluster, job_id, group)
    while any(metrics.get(name) != value for name, value in expected.items()):
        assert time.monotonic() < deadline, f"metrics never showed {expected}: {metrics}"
        time.sleep(1)
        metrics = job_metrics(cluster, job_id, group)
    return metrics


@pytest.mark.cluster
def test_split_metrics_count_records_bytes_and_lag(flink_cluster: FlinkCluster, broker, admin: PulsarAdmin,
                                                   pulsar_client: pulsar.Client, topic: str) -> None:
    admin.create_partitioned_topic(topic, 2)
    first = TopicName.parse(topic).partition(0).removeprefix("persistent://")
    producer = pulsar_client.create_producer(TopicName.parse(topic).partition(0))
    for i in range(500):
        producer.send(b"x" * 10)
    job_id = flink_cluster.submit(JOBS / "metrics_job.py", [broker.service_url, broker.admin_url, topic])
    try:
        metrics = wait_for_metrics(flink_cluster, job_id, SPLIT, {f"{first}.numRecordsIn": 500, f"{first}.lag": 0},
                                   timeout_s=90)
        assert metrics[f"{first}.numBytesIn"] == 5000
        assert metrics[f"{first}.lastPublishTime"] > time.time() * 1000 - 120_000
        second = TopicName.parse(topic).partition(1).removeprefix("persistent://")
        assert metrics.get(f"{second}.numRecordsIn", 0) == 0  # PyFlink reports a counter once it moved
        # An idle, caught-up split registers no gauges (PyFlink ships every gauge at every bundle end).
        assert f"{second}.lag" not in metrics and f"{second}.lastPublishTime" not in metrics
    finally:
        flink_cluster.cancel(job_id)


GOOD = 300  # good messages per input topic
BAD = 3     # undecodable messages (not UTF-8) per input topic, among the good ones


def fill(client: pulsar.Client, topic: str) -> list[bytes]:
    """Writes GOOD good and BAD bad messages to `topic`; the good payloads."""
    producer = client.create_producer(topic, batching_enabled=False)
    good = [f"{topic[-8:]}-{i}".encode() for i in range(GOOD)]
    for i, payload in enumerate(good):
        producer.send(payload)
        if i % (GOOD // BAD) == 0:
            producer.send(b"\xff\xfe-" + payload)
    producer.close()
    return good


@pytest.mark.cluster
def test_sink_and_bad_message_metrics(flink_cluster: FlinkCluster, broker, pulsar_client: pulsar.Client) -> None:
    skip_topic, dead_letter_in, dead_letter, target = (unique_topic(label) for label in (
        "metrics-skip", "metrics-dead-letter-in", "metrics-dead-letters", "metrics-target"))
    good = fill(pulsar_client, skip_topic) + fill(pulsar_client, dead_letter_in)
    job_id = flink_cluster.submit(JOBS / "sink_metrics_job.py", [
        broker.service_url, broker.admin_url, skip_topic, dead_letter_in, dead_letter, target])
    try:
        sink = wait_for_metrics(flink_cluster, job_id, SINK, {"numRecordsOut": 2 * GOOD})
        assert sink["numBytesOut"] == sum(len(payload) for payload in good)
        assert sink["pendingMessages"] == 0  # measured at a bundle end, after AT_LEAST_ONCE's flush
        skipping, dead_lettering = (name.removeprefix("persistent://") for name in (skip_topic, dead_letter_in))
        splits = wait_for_metrics(flink_cluster, job_id, SPLIT, {
            f"{skipping}.numRecordsIn": GOOD + BAD, f"{skipping}.decodeErrors": BAD,
            f"{skipping}.skippedMessages": BAD,
            f"{dead_lettering}.numRecordsIn": GOOD + BAD, f"{dead_lettering}.decodeErrors": BAD,
            f"{dead_lettering}.deadLetteredMessages": BAD}, timeout_s=30)
        assert splits.get(f"{skipping}.deadLetteredMessages", 0) == 0
        assert splits.get(f"{dead_lettering}.skippedMessages", 0) == 0
    finally:
        flink_cluster.cancel(job_id)
    assert sorted(message.data() for message in read_all(pulsar_client, target)) == sorted(good)
    assert len(read_all(pulsar_client, dead_letter)) == BAD
