"""Acceptance 1: every record of a stored backlog reaches the checker exactly once, through injected failures.

The input (200k records of 200 B, written before the job by default-batching producers) sits on the broker with
no entry cache, so every read comes from the bookie, as a real backlog's does. The source runs with its defaults,
at full speed.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pulsar

from connector.admin import PulsarAdmin
from devtools.pulsar_standalone import Broker
from tests.conftest import unique_topic
from tests.jobs import exactly_once_source_job as job
from tests.sequenced import create_sequenced_topic, read_results

PARTITIONS = 4
PER_PARTITION = 50_000  # 200k records in all


def test_exactly_once_from_storage_through_injected_python_failures(storage_broker: Broker, topic: str,
                                                                    tmp_path: Path) -> None:
    admin = PulsarAdmin(storage_broker.admin_url)
    client = pulsar.Client(storage_broker.service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Warn))
    try:
        create_sequenced_topic(admin, client, topic, PARTITIONS, PER_PARTITION)
        results_topic = unique_topic("results")
        fail_at = [10_000, 25_000, 40_000]  # of the fastest partition: checkpoints (every 500 ms) complete in between
        env = job.checkpointed_env(parallelism=2, checkpoint_ms=500)
        job.build(env, storage_broker.service_url, storage_broker.admin_url, topic, results_topic, PER_PARTITION,
                  fail_at, str(tmp_path))
        job_client = env.execute_async("exactly-once source from storage under injected failures")
        try:
            results = read_results(client, results_topic, PARTITIONS, timeout_s=400)
            # The job's Python runs in this process (loopback mode): each attempt stopped its failed one's discovery.
            discovery = [thread for thread in threading.enumerate() if thread.name == "pulsar-split-discovery"]
        finally:
            job_client.cancel().result()
    finally:
        client.close()
    assert results["violations"] == []
    resumed_partitions = {partition for partition, last in results["resumed"] if last > 0}
    assert resumed_partitions == set(range(PARTITIONS)), "the restarts resumed from checkpointed state"
    assert results["done"] == [(p, PER_PARTITION) for p in range(PARTITIONS)]
    assert {marker.name for marker in tmp_path.iterdir()} == {f"failed-at-{n}" for n in fail_at}
    assert len(discovery) == 1, f"{len(discovery)} split discovery threads run: failed attempts' were not stopped"
