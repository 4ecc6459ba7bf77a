"""Database changes through Pulsar into PyFlink SQL, end to end: a real PostgreSQL, a real Debezium Server writing its
change events to the broker, and a PyFlink SQL job over the change topics whose result, written as upserts through
an injected failure, equals the same query run in the database, row for row (`cdc_helpers` has the changes).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connector.admin import PulsarAdmin
from devtools.debezium_server import DebeziumServer
from devtools.postgres_server import Postgres
from devtools.pulsar_standalone import Broker
from tests import flink_log, python_threads
from tests.conftest import unique_topic
from tests.integration.cdc_helpers import (SNAPSHOT_ORDERS, TOTALS, CATCH_UP_S, cdc_database,
                                           changes_before_the_job, changes_while_the_job_runs, database_answer,
                                           register_change_tables, wait_for_the_answer, wait_for_the_last_change,
                                           write_region_totals)
from tests.integration.table_helpers import job_failing_once, read_upsert_table

FAIL_AT_ORDER = 6_000  # an order inserted while the job runs


@pytest.fixture()
def database(broker: Broker) -> Iterator[tuple[Postgres, DebeziumServer]]:
    with cdc_database(broker) as running:
        yield running


def test_a_sql_join_and_aggregate_over_change_topics_equals_the_database_through_a_failure(
        broker: Broker, database: tuple[Postgres, DebeziumServer], tmp_path) -> None:
    postgres, debezium = database
    changes_before_the_job(postgres)
    results = unique_topic("region-totals")
    PulsarAdmin(broker.admin_url).create_partitioned_topic(results, 2)
    marker = tmp_path / "failed"
    env, t_env = job_failing_once(marker, FAIL_AT_ORDER)
    register_change_tables(t_env, broker.service_url, broker.admin_url, debezium.topic("public.customers"),
                           debezium.topic("public.orders"))
    write_region_totals(t_env, broker.service_url, broker.admin_url, results, where="WHERE fail_once(o.id)")
    log = flink_log.mark()
    job = env.execute_async("region totals over change topics")

    def check_job() -> None:
        status = job.get_job_status().result()
        assert not status.is_globally_terminal_state(), f"the job ended {status}; {flink_log.events_since(log)}"
        flink_log.assert_taskmanager_lives(log)

    try:
        changes_while_the_job_runs(postgres, debezium)
        ops = wait_for_the_last_change(broker, debezium.topic("public.orders"))
        expected = database_answer(postgres)
        table = wait_for_the_answer(broker, results, expected, check_job)
        stalled = "" if table == expected else f"Python threads of the job then:\n{python_threads.busy_stacks()}"
    finally:
        job.cancel().result()
    assert marker.exists(), "the failure was injected"
    assert table == expected, (f"after {CATCH_UP_S} s the job's answer is {table}, the database's {expected}; "
                               f"{flink_log.events_since(log)}\n{stalled}")
    assert ops["r"] == SNAPSHOT_ORDERS, f"every order of the snapshot arrives once as a read: {ops}"
    assert ops["c"] > 0 and ops["u"] > 0 and ops["d"] > 0 and ops[None] > 0, ops

    assert read_upsert_table(broker, results, TOTALS, "region") == expected
