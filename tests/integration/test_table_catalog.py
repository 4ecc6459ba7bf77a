"""`PulsarCatalog` on a real broker: a namespace as a database, its topics as tables with their registered columns and
the metadata columns, topics created later after `refresh()`, and what it leaves out or refuses."""

from __future__ import annotations

import uuid

import pulsar
import pytest
from pulsar.schema import AvroSchema, Double, Record, String
from pyflink.datastream import RuntimeExecutionMode, StreamExecutionEnvironment
from pyflink.table import StreamTableEnvironment

from connector import PulsarConfigError, PulsarSource, StopCursor
from connector.admin import PulsarAdmin
from connector.table import PulsarCatalog
from connector.table.metadata import METADATA
from devtools.pulsar_standalone import Broker


class Payment(Record):
    account = String()
    amount = Double()


def rows_of(t_env: StreamTableEnvironment, sql: str) -> list[tuple]:
    with t_env.execute_sql(sql).collect() as rows:
        return [tuple(row) for row in rows]


@pytest.fixture()
def namespace(broker: Broker) -> str:
    name = f"public/catalog-{uuid.uuid4().hex[:8]}"
    PulsarAdmin(broker.admin_url).create_namespace(name)
    return name


def test_a_namespace_is_a_database_and_its_topics_are_tables(broker: Broker, namespace: str) -> None:
    admin = PulsarAdmin(broker.admin_url)
    client = pulsar.Client(broker.service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Warn))
    try:
        admin.create_partitioned_topic(f"persistent://{namespace}/payments", 2)
        producer = client.create_producer(f"persistent://{namespace}/payments", schema=AvroSchema(Payment))
        for i in range(10):
            producer.send(Payment(account=f"acc-{i % 3}", amount=float(i)))
        producer.close()
        admin.create_topic(f"persistent://{namespace}/raw-bytes")  # no schema: no table, and refresh() says why
        env = StreamExecutionEnvironment.get_execution_environment()
        env.set_runtime_mode(RuntimeExecutionMode.BATCH)
        t_env = StreamTableEnvironment.create(env)
        source = (PulsarSource.builder().set_service_url(broker.service_url).set_admin_url(broker.admin_url)
                  .set_bounded_stop_cursor(StopCursor.latest()))
        catalog = PulsarCatalog(t_env, source, [namespace], name="pulsar")

        t_env.execute_sql("USE CATALOG pulsar")
        assert (namespace,) in rows_of(t_env, "SHOW DATABASES")
        t_env.execute_sql(f"USE `{namespace}`")
        assert rows_of(t_env, "SHOW TABLES") == [("payments",)]
        described = {row[0]: row[1] for row in rows_of(t_env, "DESCRIBE payments")}
        assert described == {"account": "STRING", "amount": "DOUBLE",
                             **{key: column.sql_type for key, column in METADATA.items()}}
        totals = rows_of(t_env, f"SELECT account, SUM(amount), COUNT(*) FROM pulsar.`{namespace}`.payments "
                                "GROUP BY account")
        assert sorted(totals) == [("acc-0", 18.0, 4), ("acc-1", 12.0, 3), ("acc-2", 15.0, 3)]
        topics = {row[0] for row in rows_of(t_env, "SELECT DISTINCT topic FROM payments")}
        assert topics and topics <= {f"persistent://{namespace}/payments-partition-{i}" for i in range(2)}

        client.create_producer(f"persistent://{namespace}/refunds", schema=AvroSchema(Payment)).close()
        refreshed = catalog.refresh()
        assert refreshed.added == [f"`pulsar`.`{namespace}`.`refunds`"]
        assert list(refreshed.skipped) == [f"persistent://{namespace}/raw-bytes"]
        assert "has no registered schema" in refreshed.skipped[f"persistent://{namespace}/raw-bytes"]
        assert rows_of(t_env, "SHOW TABLES") == [("payments",), ("refunds",)]
        admin.delete_topic(f"persistent://{namespace}/refunds")
        assert catalog.refresh().dropped == [f"`pulsar`.`{namespace}`.`refunds`"]
        assert rows_of(t_env, "SHOW TABLES") == [("payments",)]
    finally:
        client.close()


def test_a_namespace_that_does_not_exist_is_refused_naming_it(broker: Broker) -> None:
    t_env = StreamTableEnvironment.create(StreamExecutionEnvironment.get_execution_environment())
    source = PulsarSource.builder().set_service_url(broker.service_url).set_admin_url(broker.admin_url)
    with pytest.raises(PulsarConfigError, match="could not list the topics of public/no-such-namespace"):
        PulsarCatalog(t_env, source, ["public/no-such-namespace"])
