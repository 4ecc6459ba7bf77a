"""Formats through a real broker into a real PyFlink job: every Avro type, JSON, string, bytes, and what
pulsar-client's own `AvroSchema` / `JsonSchema` producers write, read as typed Rows. One job reads all topics."""

from __future__ import annotations

import pulsar
import pytest
from pulsar.schema import AvroSchema, JsonSchema, StringSchema

from connector import BytesSchema
from connector.admin import PulsarAdmin
from connector.formats import AvroRowSchema, register_schema
from tests.avro_cases import ALL_TYPES, FULL, NULLS
from tests.conftest import unique_topic
from tests.integration.formats_helpers import Address, Color, Person, User, bounded_source, collect

V1 = {"type": "record", "name": "Event", "fields": [{"name": "id", "type": "long"}]}
V2 = {"type": "record", "name": "Event", "fields": [{"name": "id", "type": "long"},
                                                   {"name": "source", "type": "string", "default": "legacy"}]}

USERS = [User(name="ann", age=41, tags=["a", "b"], scores={"x": 1}, address=Address(city="Oslo"), color=Color.GREEN,
              photo=b"\x01\x02"),
         User(name="bob", age=None, tags=None, scores=None, address=None, color=None, photo=None)]
USER_DICTS = [{"name": "ann", "age": 41, "tags": ["a", "b"], "scores": {"x": 1}, "address": {"city": "Oslo"},
               "color": "GREEN", "photo": b"\x01\x02"},
              dict.fromkeys(["name", "age", "tags", "scores", "address", "color", "photo"]) | {"name": "bob"}]

PERSON_FIELDS = ("name", "age", "tags", "scores", "address")
PEOPLE = [Person(**{k: getattr(user, k) for k in PERSON_FIELDS}) for user in USERS]


@pytest.fixture(scope="module")
def read_back(broker) -> dict:
    """Writes one topic per case, then reads them all in one bounded job."""
    client = pulsar.Client(broker.service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Warn))
    topics = {case: unique_topic(case) for case in ("all-types", "pulsar-avro", "pulsar-json", "evolved", "string",
                                                    "bytes")}
    ours = AvroRowSchema(ALL_TYPES)
    register_schema(PulsarAdmin(broker.admin_url), [topics["all-types"]], ours)  # the sink's hook
    producer = client.create_producer(topics["all-types"])
    for row in (FULL, NULLS):
        producer.send(ours.serialize(row))
    producer = client.create_producer(topics["pulsar-avro"], schema=AvroSchema(User))
    for user in USERS:
        producer.send(user)
    producer = client.create_producer(topics["pulsar-json"], schema=JsonSchema(Person))
    for person in PEOPLE:
        producer.send(person)
    client.create_producer(topics["evolved"], schema=AvroSchema(None, schema_definition=V1)).send({"id": 1})
    client.create_producer(topics["evolved"], schema=AvroSchema(None, schema_definition=V2)).send(
        {"id": 2, "source": "new"})
    client.create_producer(topics["string"], schema=StringSchema()).send("héllo")
    client.create_producer(topics["bytes"]).send(b"\x00\xff")
    client.close()
    sources = [bounded_source(broker, topics["all-types"], "all-types", ours),
               bounded_source(broker, topics["pulsar-avro"], "pulsar-avro"),
               bounded_source(broker, topics["pulsar-json"], "pulsar-json"),
               bounded_source(broker, topics["evolved"], "evolved", AvroRowSchema(V2)),
               bounded_source(broker, topics["string"], "string"),
               bounded_source(broker, topics["bytes"], "bytes", BytesSchema())]
    return {"sources": {source.name: source for source in sources}, "values": collect(*sources)}


def test_every_avro_type_including_nulls_round_trips(read_back) -> None:
    rows = read_back["values"]["all-types"]
    assert sorted((row.as_dict(recursive=True) for row in rows), key=lambda d: d["flag"]) == \
        [NULLS.as_dict(recursive=True), FULL.as_dict(recursive=True)]
    assert read_back["sources"]["all-types"].output_type() == AvroRowSchema(ALL_TYPES).produced_type()


def test_pulsar_client_avro_producers_are_read_as_typed_rows(read_back) -> None:
    source = read_back["sources"]["pulsar-avro"]
    assert type(source.deserialization_schema).__name__ == "AvroRowSchema"
    assert source.output_type().get_field_names() == list(USER_DICTS[0])
    rows = sorted(read_back["values"]["pulsar-avro"], key=lambda row: row.name)
    assert [row.as_dict(recursive=True) for row in rows] == USER_DICTS


def test_pulsar_client_json_producers_are_read_as_typed_rows(read_back) -> None:
    source = read_back["sources"]["pulsar-json"]
    assert type(source.deserialization_schema).__name__ == "JsonRowSchema"
    rows = sorted(read_back["values"]["pulsar-json"], key=lambda row: row.name)
    assert [row.as_dict(recursive=True) for row in rows] == \
        [{k: v for k, v in user.items() if k in PERSON_FIELDS} for user in USER_DICTS]


def test_older_schema_versions_are_resolved_against_the_readers_schema(read_back) -> None:
    rows = sorted(read_back["values"]["evolved"], key=lambda row: row.id)
    assert [row.as_dict() for row in rows] == [{"id": 1, "source": "legacy"}, {"id": 2, "source": "new"}]


def test_string_and_bytes(read_back) -> None:
    assert read_back["values"]["string"] == ["héllo"]
    assert read_back["values"]["bytes"] == [b"\x00\xff"]


def test_a_schema_that_cannot_read_the_registered_one_is_refused_when_the_broker_is_checked(broker, admin: PulsarAdmin) -> None:
    topic = unique_topic("incompatible")
    client = pulsar.Client(broker.service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Warn))
    client.create_producer(topic, schema=AvroSchema(None, schema_definition=V1)).send({"id": 1})
    client.close()
    needs_more = {**V2, "fields": [V2["fields"][0], {"name": "source", "type": "string"}]}
    with pytest.raises(ValueError, match=r"registered schema version 0 cannot be read with the given Avro schema: "
                                         r"source: the reader's field is not written and has no default"):
        bounded_source(broker, topic, "incompatible", AvroRowSchema(needs_more))
