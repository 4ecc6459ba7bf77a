"""The sink, behind the source, through broker outages: Pulsar -> PulsarSource -> map -> PulsarSink -> Pulsar with
the input and the target on a broker this test stops and starts again (same data dir) while the job runs on the
standalone cluster.

- A short restart (within the timeouts) is ridden out: the job does not fail and AT_LEAST_ONCE loses nothing.
- An outage longer than the timeouts fails the job with an error naming the timeout; the job restarts from its
  last checkpoint by itself once the broker is back, and EXACTLY_ONCE still writes every record once, in order.
"""

from __future__ import annotations

import time
from pathlib import Path

import pulsar
import pytest
from pyflink.datastream.connectors.base import DeliveryGuarantee

from connector.admin import PulsarAdmin
from devtools.flink_cluster import TERMINAL_STATES, FlinkCluster
from devtools.pulsar_standalone import Broker, start, stop
from tests.integration.sink_helpers import DEDUP_NAMESPACE, TargetTail, check_target, namespace, new_topic, sequenced
from tests.jobs import pulsar_to_pulsar_job as job
from tests.sequenced import create_sequenced_topic

PARTITIONS = 2
PER_PARTITION = 10_000
TIMEOUT_MESSAGES = ("no broker connection for", "no acknowledgement from the broker for")


@pytest.mark.cluster
@pytest.mark.parametrize("guarantee, outage_s, timeout_ms", [
    pytest.param(DeliveryGuarantee.AT_LEAST_ONCE, 3, 60_000, id="AT_LEAST_ONCE-restart-within-timeouts"),
    pytest.param(DeliveryGuarantee.EXACTLY_ONCE, 12, 3_000, id="EXACTLY_ONCE-outage-past-timeouts"),
])
def test_broker_outage_mid_run(guarantee: DeliveryGuarantee, outage_s: float, timeout_ms: int,
                               flink_cluster: FlinkCluster, restartable_broker: Broker, tmp_path: Path) -> None:
    admin = PulsarAdmin(restartable_broker.admin_url)
    client = pulsar.Client(restartable_broker.service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Error))
    source_topic = new_topic("public/default", "outage-in")
    create_sequenced_topic(admin, client, source_topic, PARTITIONS, PER_PARTITION)
    target = new_topic(namespace(admin, DEDUP_NAMESPACE, deduplication=True), "outage-out")
    admin.create_partitioned_topic(target, PARTITIONS)
    tail = TargetTail(client, target, PARTITIONS)
    # 2 splits x ~20 steps/s x 20 records: the input takes about 25 s to read, the outage starts a few seconds in.
    job_id = flink_cluster.submit(Path(job.__file__), [
        "--service-url", restartable_broker.service_url, "--admin-url", restartable_broker.admin_url,
        "--topic", source_topic, "--target", target, "--guarantee", guarantee.name, "--marker-dir", str(tmp_path),
        "--checkpoint-ms", "1000", "--max-records-per-poll", "20", "--outage-timeout-ms", str(timeout_ms),
        "--restart-delay", "5 s"])  # 20 restarts outlast the outage and a slow broker start
    try:
        flink_cluster.wait_for_checkpoints(job_id, 2, timeout_s=210)
        tail.drain()
        written_before = len(tail.records())
        stop(restartable_broker)
        time.sleep(outage_s)
        start(restartable_broker)
        assert written_before < PARTITIONS * PER_PARTITION, "the job had written everything before the outage"
        # As a resource manager would: PyFlink 2.3 sometimes takes down a TaskManager while it cancels its Python
        # tasks after a failure (Beam's "Reference count must not be negative", a fatal error).
        tail.wait_for_all(sequenced(PARTITIONS, PER_PARTITION), timeout_s=300,
                          job_ended=lambda: flink_cluster.job_status(job_id) in TERMINAL_STATES,
                          each_second=flink_cluster.replace_lost_taskmanagers)
        failures = [entry["stacktrace"] for entry in flink_cluster.exceptions(job_id)["exceptionHistory"]["entries"]]
    finally:
        flink_cluster.cancel(job_id)
        tail.drain()
        tail.close()
        client.close()
    if timeout_ms > outage_s * 1000:
        assert failures == [], "a restart within the timeouts is ridden out by reconnecting"
        check_target(tail, guarantee, PARTITIONS, PER_PARTITION, replayed=False)
    else:
        assert any(message in failure for failure in failures for message in TIMEOUT_MESSAGES), \
            [failure[:300] for failure in failures]
        assert flink_cluster.checkpoints(job_id)["latest"]["restored"] is not None, "restarted from a checkpoint"
        check_target(tail, guarantee, PARTITIONS, PER_PARTITION)
