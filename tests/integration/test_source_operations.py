"""Operating the source: per-split metrics and lag in Flink's metric system; a broker restart mid-read;
an outage longer than the configured timeout; a deleted topic under a running job."""

from __future__ import annotations

import time
from pathlib import Path

import pulsar
import pytest
from pyflink.common import Configuration
from pyflink.datastream import StreamExecutionEnvironment

from connector import PulsarSource, SimpleStringSchema
from connector.admin import PulsarAdmin
from connector.topics import TopicName
from tests.conftest import unique_topic
from tests.sequenced import create_sequenced_topic, read_results
from tools.flink_cluster import FlinkCluster
from tools.pulsar_standalone import Broker, start, stop

METRICS_JOB = Path(__file__).resolve().parent.parent / "jobs" / "metrics_job.py"
JOB = Path(__file__).resolve().parent.parent / "jobs" / "exactly_once_source_job.py"


def split_metrics(cluster: FlinkCluster, job_id: str) -> dict[str, float]:
    """{"<split>.<metric>": value summed over subtasks} of the source's split readers."""
    vertex = next(v for v in cluster.job(job_id)["vertices"] if "split readers" in v["name"])
    path = f"/jobs/{job_id}/vertices/{vertex['id']}/metrics"
    wanted = [m["id"] for m in cluster.rest(path) if ".split." in m["id"]]
    values: dict[str, float] = {}
    if wanted:
        for metric in cluster.rest(f"{path}?get={','.join(wanted)}"):
            name = metric["id"].split(".split.", 1)[1]
            values[name] = values.get(name, 0) + float(metric["value"])
    return values


@pytest.mark.cluster
def test_split_metrics_count_records_bytes_and_lag(flink_cluster: FlinkCluster, broker, admin: PulsarAdmin,
                                                   pulsar_client: pulsar.Client, topic: str) -> None:
    admin.create_partitioned_topic(topic, 2)
    first = TopicName.parse(topic).partition(0).removeprefix("persistent://")
    producer = pulsar_client.create_producer(TopicName.parse(topic).partition(0))
    for i in range(500):
        producer.send(b"x" * 10)
    job_id = flink_cluster.submit(METRICS_JOB, [broker.service_url, broker.admin_url, topic])
    try:
        deadline = time.monotonic() + 90
        metrics: dict[str, float] = {}
        while metrics.get(f"{first}.numRecordsIn") != 500 or metrics.get(f"{first}.lag") != 0:
            assert time.monotonic() < deadline, f"metrics never showed the 500 records read: {metrics}"
            time.sleep(1)
            metrics = split_metrics(flink_cluster, job_id)
        assert metrics[f"{first}.numBytesIn"] == 5000
        assert metrics[f"{first}.lastPublishTime"] > time.time() * 1000 - 120_000
        second = TopicName.parse(topic).partition(1).removeprefix("persistent://")
        assert metrics.get(f"{second}.numRecordsIn", 0) == 0  # PyFlink reports a counter once it moved
        assert metrics[f"{second}.lag"] == 0 and metrics[f"{second}.lastPublishTime"] == 0
    finally:
        flink_cluster.cancel(job_id)


@pytest.fixture()
def restartable_broker() -> Broker:
    """A broker of this test's own, which it may stop and start (same data dir)."""
    # Ports below the ephemeral range (32768+): a client retrying against a stopped broker can otherwise
    # connect to itself on the broker's port and keep the restart from binding it.
    own = Broker(name="restartable", port=20650, web_port=20080)
    start(own)
    yield own
    stop(own)


def run_sequenced(cluster: FlinkCluster, restartable: Broker, results: Broker, tmp_path: Path, outage_s: float,
                  outage_timeout_ms: int) -> tuple[dict, list[str]]:
    """Reads a sequenced topic of `restartable` on the standalone cluster while that broker stops for
    `outage_s`; the checker reports to `results` (another broker, so reporting never stalls the pipeline).
    Returns the checker's results and the stack traces of the job's failures."""
    admin = PulsarAdmin(restartable.admin_url)
    client = pulsar.Client(restartable.service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Error))
    topic, results_topic = unique_topic("outage"), unique_topic("outage-results")
    create_sequenced_topic(admin, client, topic, partitions=2, per_partition=10_000)
    client.close()
    job_id = cluster.submit(JOB, [
        "--service-url", restartable.service_url, "--admin-url", restartable.admin_url, "--topic", topic,
        "--results-topic", results_topic, "--results-service-url", results.service_url,
        "--marker-dir", str(tmp_path), "--per-partition", "10000", "--parallelism", "2", "--checkpoint-ms", "500",
        "--max-records-per-poll", "3", "--broker-outage-timeout-ms", str(outage_timeout_ms)])
    results_client = pulsar.Client(results.service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Error))
    try:
        deadline = time.monotonic() + 120
        while not admin.partitioned_stats(topic)["subscriptions"]:  # the readers are open (counters lag)
            assert time.monotonic() < deadline, "the job never started reading"
            time.sleep(0.5)
        time.sleep(3)  # at 300 records/s a split, a tenth of the topic is read when the broker stops
        stop(restartable)
        time.sleep(outage_s)
        start(restartable)
        outcome = read_results(results_client, results_topic, partitions=2, timeout_s=240)
        failures = [entry["stacktrace"] for entry in cluster.exceptions(job_id)["exceptionHistory"]["entries"]]
        return outcome, failures
    finally:
        cluster.cancel(job_id)
        results_client.close()


@pytest.mark.cluster
def test_broker_restart_mid_read_keeps_exactly_once(flink_cluster: FlinkCluster, restartable_broker: Broker,
                                                    broker: Broker, tmp_path: Path) -> None:
    results, failures = run_sequenced(flink_cluster, restartable_broker, broker, tmp_path, outage_s=3,
                                      outage_timeout_ms=60_000)
    assert results["violations"] == []
    assert results["done"] == [(0, 10_000), (1, 10_000)]
    assert failures == [], "a short outage is ridden out by reconnecting"


@pytest.mark.cluster
def test_outage_past_the_timeout_fails_and_restarts_from_the_checkpoint(
        flink_cluster: FlinkCluster, restartable_broker: Broker, broker: Broker, tmp_path: Path) -> None:
    results, failures = run_sequenced(flink_cluster, restartable_broker, broker, tmp_path, outage_s=12,
                                      outage_timeout_ms=3_000)
    assert results["violations"] == []
    assert results["done"] == [(0, 10_000), (1, 10_000)]
    assert any("no broker connection for" in failure and "brokerOutageTimeoutMs 3000" in failure
               for failure in failures), [failure[:300] for failure in failures]


def test_deleted_topic_fails_the_job_clearly_when_asked(broker, admin: PulsarAdmin, pulsar_client: pulsar.Client,
                                                        topic: str) -> None:
    admin.create_topic(topic)
    pulsar_client.create_producer(topic).send(b"one")
    config = Configuration()
    config.set_string("restart-strategy.type", "none")
    env = StreamExecutionEnvironment.get_execution_environment(config)
    env.set_parallelism(1)
    source = (PulsarSource.builder().set_service_url(broker.service_url).set_admin_url(broker.admin_url)
              .set_topics(topic).set_deserialization_schema(SimpleStringSchema())
              .set_partition_discovery_interval_ms(1000).set_fail_on_split_removal().build())
    with pytest.raises(Exception) as raised:
        with source.create_stream(env).execute_and_collect() as records:
            assert next(records) == "one"
            admin.delete_topic(topic)
            for _ in records:
                pass
    assert "is gone (its topic or partition was deleted)" in str(raised.value)
