"""Acceptance 3: stop with a savepoint at parallelism 2, resume at 3, then at 1: still exactly once."""

from __future__ import annotations

import pulsar
from pyflink.common.job_client import JobClient
from pyflink.java_gateway import get_gateway

from connector.admin import PulsarAdmin
from tests.conftest import unique_topic
from tests.jobs import exactly_once_source_job as job
from tests.sequenced import create_sequenced_topic, read_results, wait_until_each_partition_emitted

PARTITIONS = 4
PER_PARTITION = 20_000


def stop_with_savepoint(client: JobClient, directory: str) -> str:
    """PyFlink 2.3's JobClient.stop_with_savepoint calls a Java overload that no longer exists; call Java's."""
    canonical = get_gateway().jvm.org.apache.flink.core.execution.SavepointFormatType.CANONICAL
    return client._j_job_client.stopWithSavepoint(False, directory, canonical).get()


def _ended(client: JobClient) -> str | None:
    status = client.get_job_status().result()
    return f"{status}" if status.is_globally_terminal_state() else None


def test_rescale_through_savepoints_keeps_exactly_once(broker, admin: PulsarAdmin, pulsar_client: pulsar.Client,
                                                       topic: str, tmp_path) -> None:
    create_sequenced_topic(admin, pulsar_client, topic, PARTITIONS, PER_PARTITION)
    results_topic = unique_topic("rescale-results")
    savepoint = None
    for parallelism in (2, 3):
        env = job.checkpointed_env(parallelism, checkpoint_ms=1000, savepoint=savepoint)
        # Small polls keep the read going long enough to stop it midway.
        job.build(env, broker.service_url, broker.admin_url, topic, results_topic, PER_PARTITION, [],
                  str(tmp_path), max_records_per_poll=5)
        client = env.execute_async(f"rescale phase at parallelism {parallelism}")
        wait_until_each_partition_emitted(pulsar_client, results_topic, PARTITIONS, timeout_s=180,
                                          job_ended=lambda: _ended(client))
        savepoint = stop_with_savepoint(client, f"file://{tmp_path}/savepoints")
        partial = read_results(pulsar_client, results_topic, PARTITIONS, timeout_s=2)
        assert partial["violations"] == [] and len(partial["done"]) < PARTITIONS, \
            f"the phase at parallelism {parallelism} must stop midway: {partial}"
    results = job.resume_to_end(savepoint, 1, broker.service_url, broker.admin_url, topic, results_topic, PARTITIONS,
                                PER_PARTITION, str(tmp_path), pulsar_client)
    assert results["violations"] == []
    resumed_partitions = {partition for partition, last in results["resumed"] if last > 0}
    assert resumed_partitions == set(range(PARTITIONS)), "each phase after the first resumes from the savepoint"
    assert results["done"] == [(p, PER_PARTITION) for p in range(PARTITIONS)]
