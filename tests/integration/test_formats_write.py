"""What our serializers write through the PulsarSink, read by pulsar-client consumers with AvroSchema/JsonSchema.

The schema is registered first with `register_schema` (the sink's hook): a pulsar-client consumer with a schema
cannot subscribe to a topic without a compatible registered schema (the broker answers IncompatibleSchema).
"""

from __future__ import annotations

import json

import pulsar
from pulsar.schema import Array, AvroSchema, Integer, JsonSchema, Long, Map, Record, String
from pyflink.common import Row
from pyflink.datastream import RuntimeExecutionMode, StreamExecutionEnvironment

from connector.admin import PulsarAdmin
from connector.formats import AvroRowSchema, JsonRowSchema, register_schema
from connector.sink import PulsarSink
from tests.conftest import unique_topic
from tests.integration.formats_helpers import User


class Flat(Record):
    """pulsar-client's JsonSchema decodes with `Record(**json)`, which cannot rebuild a nested record."""

    name = String()
    age = Integer()
    tags = Array(String())
    scores = Map(Long())


def test_pulsar_client_consumers_read_what_the_sink_writes(broker, pulsar_client: pulsar.Client) -> None:
    avro, flat_json = AvroRowSchema(User.schema()), JsonRowSchema.from_avro(json.dumps(Flat.schema()))
    avro_topic, json_topic = unique_topic("sink-avro"), unique_topic("sink-json")
    register_schema(PulsarAdmin(broker.admin_url), [avro_topic], avro)
    register_schema(PulsarAdmin(broker.admin_url), [json_topic], flat_json)
    consumers = {name: pulsar_client.subscribe(topic, "check", schema=schema,
                                               initial_position=pulsar.InitialPosition.Earliest)
                 for name, topic, schema in (("avro", avro_topic, AvroSchema(User)),
                                             ("json", json_topic, JsonSchema(Flat)))}
    users = [Row("ann", 41, ["a"], {"x": 1}, Row("Oslo"), "GREEN", b"\x01"), Row("bob", *[None] * 6)]
    flats = [Row("ann", 41, ["a"], {"x": 1}), Row("bob", *[None] * 3)]

    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_runtime_mode(RuntimeExecutionMode.BATCH)
    env.set_parallelism(1)
    for rows, schema, topic in ((users, avro, avro_topic), (flats, flat_json, json_topic)):
        sink = (PulsarSink.builder().set_service_url(broker.service_url).set_admin_url(broker.admin_url)
                .set_topics(topic).set_serialization_schema(schema).set_sink_name(f"sink-{topic[-8:]}").build())
        sink.sink_to(env.from_collection(rows, schema.produced_type()))
    env.execute("formats: write")

    got = {name: sorted((consumer.receive(10_000).value() for _ in range(2)), key=lambda r: r.name)
           for name, consumer in consumers.items()}
    ann, bob = got["avro"]
    assert (ann.name, ann.age, ann.tags, ann.scores, ann.address.city, ann.color.name, ann.photo) == \
        ("ann", 41, ["a"], {"x": 1}, "Oslo", "GREEN", b"\x01")
    assert (bob.name, bob.age, bob.tags, bob.address, bob.color, bob.photo) == ("bob", None, None, None, None, None)
    ann, bob = got["json"]
    assert (ann.name, ann.age, ann.tags, ann.scores) == ("ann", 41, ["a"], {"x": 1})
    assert (bob.name, bob.age, bob.tags, bob.scores) == ("bob", None, None, None)
