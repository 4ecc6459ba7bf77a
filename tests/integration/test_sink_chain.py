"""Which EXACTLY_ONCE writer a job gets: chained behind the source's readers in one Python operator (records
numbered by their source message), or keyed by sequence key when the path from the source cannot be chained.
The jobs are built against the real broker and printed, not run (the end-to-end runs are in
test_sink_pulsar_to_pulsar.py and test_sink_guarantees.py)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from pyflink.common import Configuration, Types
from pyflink.datastream import DataStream, StreamExecutionEnvironment

from connector import PulsarSource, SimpleStringSchema, StartCursor
from connector.admin import PulsarAdmin
from connector.sink import DeliveryGuarantee, PulsarSink
from connector.sink.chain import chained_to_source_readers
from devtools.pulsar_standalone import Broker
from tests.integration.sink_helpers import DEDUP_NAMESPACE, namespace, new_topic


def _upper(value: str) -> str:
    return value.upper()


SHAPES: dict[str, tuple[Callable[[DataStream], DataStream], bool]] = {
    "source": (lambda stream: stream, True),
    "map, filter, flat_map": (lambda stream: stream.map(_upper, Types.STRING()).filter(bool)
                              .flat_map(lambda v: [v, v], Types.STRING()), True),
    "map at another parallelism": (lambda stream: stream.map(_upper, Types.STRING()).set_parallelism(1), False),
    "rebalance": (lambda stream: stream.rebalance().map(_upper, Types.STRING()), False),
    "key_by": (lambda stream: stream.key_by(lambda v: v, Types.STRING()).map(_upper, Types.STRING()), False),
    "map that starts a new chain": (lambda stream: stream.map(_upper, Types.STRING()).start_new_chain(), False),
    "a stream with another consumer": (lambda stream: _also_printed(stream.map(_upper, Types.STRING())), False),
}


def _also_printed(stream: DataStream) -> DataStream:
    stream.print()
    return stream


def _env(python_chaining: bool = True) -> StreamExecutionEnvironment:
    config = Configuration()
    config.set_string("python.operator-chaining.enabled", str(python_chaining).lower())
    env = StreamExecutionEnvironment.get_execution_environment(config)
    env.set_parallelism(2)
    env.enable_checkpointing(1000)
    return env


def _source(broker: Broker, topic: str) -> PulsarSource:
    return (PulsarSource.builder().set_service_url(broker.service_url).set_admin_url(broker.admin_url)
            .set_topics(topic).set_start_cursor(StartCursor.earliest())
            .set_deserialization_schema(SimpleStringSchema()).build())


def _sink(broker: Broker, target: str) -> PulsarSink:
    return (PulsarSink.builder().set_service_url(broker.service_url).set_admin_url(broker.admin_url)
            .set_topics(target).set_serialization_schema(SimpleStringSchema())
            .set_delivery_guarantee(DeliveryGuarantee.EXACTLY_ONCE).set_sink_name("chain").build())


def _operators(env: StreamExecutionEnvironment) -> list[str]:
    return [node["contents"] for node in json.loads(env.get_execution_plan())["nodes"]]


@pytest.fixture(scope="module")
def topics(broker: Broker, admin: PulsarAdmin) -> tuple[str, str]:
    source_topic = new_topic("public/default", "chain-in")
    admin.create_partitioned_topic(source_topic, 2)
    return source_topic, new_topic(namespace(admin, DEDUP_NAMESPACE, deduplication=True), "chain-out")


@pytest.mark.parametrize("shape", list(SHAPES))
def test_exactly_once_writer_chains_behind_the_source_when_pyflink_fuses_the_path(
        broker: Broker, topics: tuple[str, str], shape: str) -> None:
    make, chained = SHAPES[shape]
    env = _env()
    stream = make(_source(broker, topics[0]).create_stream(env))
    assert chained_to_source_readers(stream) is chained
    _sink(broker, topics[1]).sink_to(stream)
    writer_operator = next(name for name in _operators(env) if "chain: Pulsar writer" in name)
    # Chained: the writer is fused into the readers' Python operator; keyed: it is an operator of its own.
    assert ("split readers" in writer_operator) is chained, _operators(env)


def test_without_python_chaining_the_writer_is_keyed(broker: Broker, topics: tuple[str, str]) -> None:
    env = _env(python_chaining=False)
    stream = _source(broker, topics[0]).create_stream(env).map(_upper, Types.STRING())
    assert not chained_to_source_readers(stream)


def test_a_stream_of_another_source_gets_the_keyed_writer() -> None:
    env = _env()
    assert not chained_to_source_readers(env.from_collection(["a"], Types.STRING()).map(_upper, Types.STRING()))
