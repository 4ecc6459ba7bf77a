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
    fail_at = [3_000, 9_000, 16_000]
    env = job.checkpointed_env(parallelism=2, checkpoint_ms=500)
    job.build(env, broker.service_url, broker.admin_url, topic, results_topic, PER_PARTITION, fail_at, str(tmp_path))
    client = env.execute_async("exactly-once source under injected failures")
    try:
        results = read_results(pulsar_client, results_topic, PARTITIONS, timeout_s=400)
    finally:
        client.cancel().result()
    assert results["violations"] == []
    assert results["done"] == [(p, PER_PARTITION) for p in range(PARTITIONS)]
    assert {marker.name for marker in tmp_path.iterdir()} == {f"failed-at-{n}" for n in fail_at}
