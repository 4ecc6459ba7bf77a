"""Operating the source: a broker restart mid-read; an outage longer than the configured timeout; a deleted topic
under a running job. (Its metrics: test_metrics.py.)"""

from __future__ import annotations

import time
from pathlib import Path

import pulsar
import pytest
from pyflink.common import Configuration
from pyflink.datastream import StreamExecutionEnvironment

from connector import PulsarSource, SimpleStringSchema
from connector.admin import PulsarAdmin
from devtools.flink_cluster import FlinkCluster
from devtools.pulsar_standalone import Broker, start, stop
from tests.conftest import unique_topic
from tests.integration.sink_helpers import NO_AUTO_CREATE_NAMESPACE, namespace, new_topic
from tests.sequenced import create_sequenced_topic, read_results

JOB = Path(__file__).resolve().parent.parent / "jobs" / "exactly_once_source_job.py"


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
        "--max-records-per-poll", "15", "--broker-outage-timeout-ms", str(outage_timeout_ms),
        "--restart-delay", "5 s"])  # 20 restarts outlast the outage and a slow broker start
    results_client = pulsar.Client(results.service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Error))
    try:
        deadline = time.monotonic() + 120
        while not admin.partitioned_stats(topic)["subscriptions"]:  # the readers are open (counters lag)
            assert time.monotonic() < deadline, "the job never started reading"
            time.sleep(0.5)
        time.sleep(3)  # at ~20 steps a second of 15 records, about a tenth of the topic is read when the broker stops
        stop(restartable)
        time.sleep(outage_s)
        start(restartable)
        # As a resource manager would: PyFlink 2.3 sometimes takes down a TaskManager while it cancels its Python
        # tasks after a failure (Beam's "Reference count must not be negative", a fatal error).
        outcome = read_results(results_client, results_topic, partitions=2, timeout_s=240,
                               each_second=cluster.replace_lost_taskmanagers)
        failures = [entry["stacktrace"] for entry in cluster.exceptions(job_id)["exceptionHistory"]["entries"]]
        if len(outcome["done"]) < 2:  # say what the job was doing, not only that results are missing
            outcome["job"] = (f"job {cluster.job_status(job_id)} after {len(failures)} failures; the latest: "
                              f"{cluster.latest_failure(job_id)}")
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
    assert results["done"] == [(0, 10_000), (1, 10_000)], results.get("job")
    assert failures == [], "a short outage is ridden out by reconnecting"


@pytest.mark.cluster
def test_outage_past_the_timeout_fails_and_restarts_from_the_checkpoint(
        flink_cluster: FlinkCluster, restartable_broker: Broker, broker: Broker, tmp_path: Path) -> None:
    results, failures = run_sequenced(flink_cluster, restartable_broker, broker, tmp_path, outage_s=12,
                                      outage_timeout_ms=3_000)
    assert results["violations"] == []
    assert results["done"] == [(0, 10_000), (1, 10_000)], results.get("job")
    assert any("no broker connection for" in failure and "brokerOutageTimeoutMs 3000" in failure
               for failure in failures), [failure[:300] for failure in failures]


def test_deleted_topic_fails_the_job_clearly_when_asked(broker, admin: PulsarAdmin,
                                                        pulsar_client: pulsar.Client) -> None:
    # Without auto topic creation: the reader reconnecting after the deletion would otherwise recreate the topic.
    topic = new_topic(namespace(admin, NO_AUTO_CREATE_NAMESPACE, auto_create=False), "deleted")
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
