"""Shared by the format tests: Pulsar Record classes, bounded sources, and one job that reads several of them."""

from __future__ import annotations

from enum import Enum
from typing import Any

from pulsar.schema import Array, Bytes, CustomEnum, Integer, Long, Map, Record, String
from pyflink.common import Types
from pyflink.datastream import RuntimeExecutionMode, StreamExecutionEnvironment

from connector import PulsarSource, StartCursor, StopCursor
from connector.serde import DeserializationSchema
from connector.source.bad_message import BadMessagePolicy


class Address(Record):
    city = String()


class Color(Enum):
    RED = 0
    GREEN = 1


class User(Record):
    """What a pulsar-client user writes with `AvroSchema(User)` / `JsonSchema(User)`."""

    name = String()
    age = Integer()
    tags = Array(String())
    scores = Map(Long())
    address = Address()
    color = CustomEnum(Color)
    photo = Bytes()


class Person(Record):
    """For `JsonSchema(Person)`: pulsar-client writes enums as their int value and bytes as raw text in JSON, which
    no JSON reader with the registered (Avro-defined) schema maps back, so JSON cases leave them out."""

    name = String()
    age = Integer()
    tags = Array(String())
    scores = Map(Long())
    address = Address()


def bounded_source(broker, topic: str, name: str, schema: DeserializationSchema | None = None,
                   policy: BadMessagePolicy | None = None, dead_letter_topic: str | None = None) -> PulsarSource:
    """A source over all of `topic` now, checked against the broker; with no `schema`, the deserializer comes from
    the topic's registry."""
    builder = (PulsarSource.builder().set_service_url(broker.service_url).set_admin_url(broker.admin_url)
               .set_topics(topic).set_source_name(name)
               .set_start_cursor(StartCursor.earliest()).set_bounded_stop_cursor(StopCursor.latest()))
    if schema is None:
        builder.set_deserialization_schema_from_registry()
    else:
        builder.set_deserialization_schema(schema)
    if policy is not None:
        builder.set_bad_message_policy(policy, dead_letter_topic)
    return builder.build().check_broker()


def collect(*sources: PulsarSource) -> dict[str, list[Any]]:
    """Runs one BATCH job reading every source; per source name, its values as a downstream operator gets them.

    Each source's records cross a rebalance, so they pass Flink's coders for the source's declared output type,
    as they would on their way to any operator that is not chained to the source.
    """
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_runtime_mode(RuntimeExecutionMode.BATCH)
    env.set_parallelism(2)
    streams = [source.create_stream(env).rebalance()
               .map(lambda value, name=source.name: (name, value), output_type=Types.PICKLED_BYTE_ARRAY())
               for source in sources]
    union = streams[0].union(*streams[1:]) if len(streams) > 1 else streams[0]
    values: dict[str, list[Any]] = {source.name: [] for source in sources}
    with union.execute_and_collect() as records:
        for name, value in records:
            values[name].append(value)
    return values
