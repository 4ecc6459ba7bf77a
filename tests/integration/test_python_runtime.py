"""The Python bundle time the source and the sink choose for a job that leaves it unset (connector/python_runtime.py),
read back from the job's Java environment (no job runs)."""

from __future__ import annotations

from pyflink.common import Configuration
from pyflink.datastream import StreamExecutionEnvironment

from connector import PulsarSink, PulsarSource, SimpleStringSchema
from connector.admin import PulsarAdmin
from connector.python_runtime import BUNDLE_TIME, BUNDLE_TIME_MS
from devtools.pulsar_standalone import Broker


def _bundle_time(env: StreamExecutionEnvironment) -> str | None:
    return env._j_stream_execution_environment.getConfiguration().toMap().get(BUNDLE_TIME)


def _source(broker: Broker, topic: str) -> PulsarSource:
    return (PulsarSource.builder().set_service_url(broker.service_url).set_admin_url(broker.admin_url)
            .set_topics(topic).set_deserialization_schema(SimpleStringSchema()).build())


def test_the_source_sets_the_bundle_time_when_the_job_does_not(broker: Broker, admin: PulsarAdmin, topic: str) -> None:
    admin.create_partitioned_topic(topic, 1)
    env = StreamExecutionEnvironment.get_execution_environment()
    assert _bundle_time(env) is None
    _source(broker, topic).create_stream(env)
    assert _bundle_time(env) == str(BUNDLE_TIME_MS)


def test_the_sink_sets_it_too_and_a_value_the_job_sets_is_kept(broker: Broker, admin: PulsarAdmin,
                                                                topic: str) -> None:
    admin.create_partitioned_topic(topic, 1)
    env = StreamExecutionEnvironment.get_execution_environment()
    stream = env.from_collection(["a"])
    (PulsarSink.builder().set_service_url(broker.service_url).set_topics(topic)
     .set_serialization_schema(SimpleStringSchema()).build().sink_to(stream))
    assert _bundle_time(env) == str(BUNDLE_TIME_MS)

    configuration = Configuration()
    configuration.set_string(BUNDLE_TIME, "250")
    own = StreamExecutionEnvironment.get_execution_environment(configuration)
    _source(broker, topic).create_stream(own)
    assert _bundle_time(own) == "250"
