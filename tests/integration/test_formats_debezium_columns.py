"""`change_topic_columns` on a real broker: the latest change event's columns, behind a tombstone and across
partitions, and clear errors for a topic with no event or events without a schema. (`test_cdc.py` reads the topics a
real Debezium Server writes.)"""

from __future__ import annotations

import json
import time

import pulsar
import pytest
from pyflink.common import Types

from connector import change_topic_columns
from connector.admin import PulsarAdmin
from connector.errors import PulsarConfigError
from devtools.pulsar_standalone import Broker


def change_event(*columns: str) -> bytes:
    """An insert in Debezium's {schema, payload} wrapper whose table has string `columns`."""
    image = {"type": "struct", "optional": True, "fields": [{"type": "string", "field": c} for c in columns]}
    schema = {"type": "struct", "fields": [{**image, "field": "before"}, {**image, "field": "after"}]}
    payload = {"before": None, "after": {c: "x" for c in columns}, "op": "c", "ts_ms": 1}
    return json.dumps({"schema": schema, "payload": payload}).encode()


def names(service_url: str, topic: str) -> list[str]:
    return change_topic_columns(service_url, topic).get_field_names()


def test_the_latest_event_gives_the_columns_also_behind_tombstones(broker: Broker, pulsar_client: pulsar.Client,
                                                                   topic: str) -> None:
    producer = pulsar_client.create_producer(topic)  # default batching: the tail is one batched entry
    for message in (change_event("id"), change_event("id", "name"), b"", b""):
        producer.send_async(message, None)
    producer.flush()
    assert names(broker.service_url, topic) == ["id", "name"]


def test_of_all_partitions_the_newest_event_wins(broker: Broker, admin: PulsarAdmin,
                                                 pulsar_client: pulsar.Client, topic: str) -> None:
    admin.create_partitioned_topic(topic, 3)
    pulsar_client.create_producer(f"{topic}-partition-1").send(change_event("id", "name"))
    time.sleep(0.05)  # later publish time
    pulsar_client.create_producer(f"{topic}-partition-0").send(change_event("id", "name", "region"))
    assert names(broker.service_url, topic) == ["id", "name", "region"]


def test_a_topic_without_events_or_without_a_schema_is_refused_naming_it(broker: Broker, admin: PulsarAdmin,
                                                                         pulsar_client: pulsar.Client,
                                                                         topic: str) -> None:
    admin.create_partitioned_topic(topic, 2)
    with pytest.raises(PulsarConfigError, match=f"topic {topic} holds no change event"):
        change_topic_columns(broker.service_url, topic)
    pulsar_client.create_producer(topic).send(b"")  # a tombstone alone
    with pytest.raises(PulsarConfigError, match="holds no change event"):
        change_topic_columns(broker.service_url, topic)
    bare = f"{topic}-bare"
    pulsar_client.create_producer(bare).send(json.dumps({"op": "c", "after": {"id": 1}}).encode())
    with pytest.raises(PulsarConfigError, match=f"the change events of {bare} carry no schema"):
        change_topic_columns(broker.service_url, bare)


def test_the_columns_are_typed(broker: Broker, pulsar_client: pulsar.Client, topic: str) -> None:
    pulsar_client.create_producer(topic).send(change_event("id"))
    assert change_topic_columns(broker.service_url, topic).get_field_types() == [Types.STRING()]
