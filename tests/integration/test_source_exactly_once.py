"""Acceptance 1: every record of a sequenced topic reaches the checker exactly once, through injected failures."""

from __future__ import annotations

import pulsar

from connector.admin import PulsarAdmin
from tests.conftest import unique_topic
from tests.jobs import exactly_once_source_job as job
from tests.sequenced import create_sequenced_topic, read_results

PARTITIONS = 4
PER_PARTITION = 25_000  # 100k records in all


def test_exactly_once_through_injected_python_failures(broker, admin: PulsarAdmin, pulsar_client: pulsar.Client,
                                                         topic: str, tmp_path) -> None:
    create_sequenced_topic(admin, pulsar_client, topic, PARTITIONS, PER_PARTITION)
    results_topic = unique_topic("results")
    # Failures spaced so that checkpoints complete between them: each restart resumes from real state.
    fail_at = [5_000, 12_000, 20_000]
    env = job.checkpointed_env(parallelism=2, checkpoint_ms=500)
    job.build(env, broker.service_url, broker.admin_url, topic, results_topic, PER_PARTITION, fail_at, str(tmp_path),
              max_records_per_poll=20)
    client = env.execute_async("exactly-once source under injected failures")
    try:
        results = read_results(pulsar_client, results_topic, PARTITIONS, timeout_s=400)
    finally:
        client.cancel().result()
    assert results["violations"] == []
    resumed_partitions = {partition for partition, last in results["resumed"] if last > 0}
    assert resumed_partitions == set(range(PARTITIONS)), "the restarts resumed from checkpointed state"
    assert results["done"] == [(p, PER_PARTITION) for p in range(PARTITIONS)]
    assert {marker.name for marker in tmp_path.iterdir()} == {f"failed-at-{n}" for n in fail_at}
