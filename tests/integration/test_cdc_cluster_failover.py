"""The change-data-capture SQL job of `cdc_helpers` on a standalone cluster: a TaskManager killed with -9 once the job
has answered and checkpointed, more changes streaming in while it recovers, and the job's answer still equal to the
database's, row for row."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.admin import PulsarAdmin
from devtools.flink_cluster import TERMINAL_STATES, FlinkCluster
from devtools.pulsar_standalone import Broker
from tests.conftest import unique_topic
from tests.integration.cdc_helpers import (CATCH_UP_S, cdc_database, changes_before_the_job,
                                           changes_while_the_job_runs, database_answer,
                                           wait_for_the_answer, wait_for_the_last_change)

JOB = Path(__file__).resolve().parent.parent / "jobs" / "cdc_job.py"


@pytest.mark.cluster
def test_the_job_answers_as_the_database_through_a_killed_taskmanager(flink_cluster: FlinkCluster,
                                                                      broker: Broker) -> None:
    with cdc_database(broker) as (postgres, debezium):
        changes_before_the_job(postgres)
        results = unique_topic("cluster-region-totals")
        PulsarAdmin(broker.admin_url).create_partitioned_topic(results, 2)
        job_id = flink_cluster.submit(JOB, [
            "--service-url", broker.service_url, "--admin-url", broker.admin_url,
            "--customers-topic", debezium.topic("public.customers"), "--orders-topic", debezium.topic("public.orders"),
            "--results-topic", results, "--checkpoint-ms", "1000"])

        def supervise() -> None:
            status = flink_cluster.job_status(job_id)
            assert status not in TERMINAL_STATES, \
                f"the job ended {status}; latest failure:\n{flink_cluster.latest_failure(job_id)}"
            flink_cluster.replace_lost_taskmanagers()  # as a resource manager would

        try:
            # Killed once the job has state worth restoring: it answered the backlog as the database does, and two
            # checkpoints completed after that.
            backlog_answer = database_answer(postgres)
            assert wait_for_the_answer(broker, results, backlog_answer, supervise) == backlog_answer, \
                f"the job did not answer the backlog in {CATCH_UP_S} s"
            completed = flink_cluster.checkpoints(job_id)["counts"]["completed"]
            flink_cluster.wait_for_checkpoints(job_id, completed + 2, timeout_s=120)
            flink_cluster.kill_taskmanager(flink_cluster.taskmanager_pids()[0])
            flink_cluster.start_taskmanager()
            changes_while_the_job_runs(postgres, debezium)
            wait_for_the_last_change(broker, debezium.topic("public.orders"))
            expected = database_answer(postgres)
            table = wait_for_the_answer(broker, results, expected, supervise)
        finally:
            if flink_cluster.job_status(job_id) not in TERMINAL_STATES:
                flink_cluster.cancel(job_id)
                flink_cluster.wait_for_job(job_id, {"CANCELED"}, timeout_s=60)
        assert flink_cluster.checkpoints(job_id)["latest"]["restored"] is not None, "the job restored a checkpoint"
        assert table == expected, f"after {CATCH_UP_S} s the job's answer is {table}, the database's {expected}"
