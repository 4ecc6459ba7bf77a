"""Bad input under each policy on a real broker: corrupt Avro, invalid JSON, not UTF-8.

Each topic holds good, bad, good. FAIL ends the job with an error naming topic, partition, MessageId and cause;
SKIP emits the good ones only; DEAD_LETTER emits the good ones and the dead-letter topic holds each bad payload as
it was, with the error and the source message in its properties.
"""

from __future__ import annotations

import pulsar
import pytest
from pyflink.common import Types

from connector import SimpleStringSchema
from connector.formats import AvroRowSchema, JsonRowSchema
from connector.source.bad_message import ERROR_PROPERTY, MESSAGE_ID_PROPERTY, TOPIC_PROPERTY, BadMessagePolicy
from tests.conftest import unique_topic
from tests.integration.formats_helpers import bounded_source, collect

EVENT = {"type": "record", "name": "Event", "fields": [{"name": "id", "type": "long"}]}
AVRO = AvroRowSchema(EVENT)
JSON = JsonRowSchema(Types.ROW_NAMED(["id"], [Types.LONG()]))

# case -> (deserializer, good payloads, bad payload, the error the cause names)
CASES = {
    # A varint cut short: fastavro 1.13's compiled reader raises IndexError.
    "corrupt-avro": (AVRO, [AVRO.serialize({"id": 1}), AVRO.serialize({"id": 2})], b"\x80", "IndexError"),
    "invalid-json": (JSON, [b'{"id": 1}', b'{"id": 2}'], b'{"id": ', "JSONDecodeError"),
    "not-utf8": (SimpleStringSchema(), [b"one", b"two"], b"\xff\xfe\x00", "UnicodeDecodeError"),
}


@pytest.fixture(scope="module")
def bad_topics(broker) -> dict[str, tuple[str, pulsar.MessageId]]:
    """Per case: its topic (good, bad, good) and the bad message's id."""
    client = pulsar.Client(broker.service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Warn))
    topics = {}
    for case, (_, good, bad, _) in CASES.items():
        topic = unique_topic(case)
        producer = client.create_producer(topic, batching_enabled=False)
        producer.send(good[0])
        bad_id = producer.send(bad, properties={"origin": case}, partition_key="k")
        producer.send(good[1])
        topics[case] = (topic, bad_id)
    client.close()
    return topics


def good_values(values: list) -> list:
    return sorted(value if isinstance(value, str) else value.id for value in values)


EXPECTED = {"corrupt-avro": [1, 2], "invalid-json": [1, 2], "not-utf8": ["one", "two"]}


@pytest.mark.parametrize("case", sorted(CASES))
def test_fail_names_topic_partition_message_id_and_cause(broker, bad_topics, case: str) -> None:
    topic, bad_id = bad_topics[case]
    source = bounded_source(broker, topic, case, CASES[case][0])
    with pytest.raises(Exception) as raised:
        collect(source)
    text = str(raised.value)
    assert f"message {bad_id} (partition {bad_id.partition()}) of topic {topic}" in text
    assert f"does not decode with {type(CASES[case][0]).__name__}: {CASES[case][3]}" in text


def test_skip_emits_the_good_messages_only(broker, bad_topics) -> None:
    sources = [bounded_source(broker, bad_topics[case][0], case, CASES[case][0], BadMessagePolicy.SKIP)
               for case in sorted(CASES)]
    values = collect(*sources)
    assert {case: good_values(found) for case, found in values.items()} == EXPECTED


def test_dead_letter_keeps_every_bad_message_with_its_error(broker, bad_topics, pulsar_client) -> None:
    dead_letter = unique_topic("dead-letter")
    sources = [bounded_source(broker, bad_topics[case][0], case, CASES[case][0], BadMessagePolicy.DEAD_LETTER,
                              dead_letter) for case in sorted(CASES)]
    values = collect(*sources)
    assert {case: good_values(found) for case, found in values.items()} == EXPECTED
    reader = pulsar_client.create_reader(dead_letter, pulsar.MessageId.earliest)
    letters = []
    while reader.has_message_available():
        letters.append(reader.read_next(5000))
    assert len(letters) == len(CASES)
    by_case = {letter.properties()["origin"]: letter for letter in letters}
    for case, (_, _, bad, cause) in CASES.items():
        letter = by_case[case]
        topic, bad_id = bad_topics[case]
        assert letter.data() == bad
        assert letter.partition_key() == "k"
        assert letter.properties()[TOPIC_PROPERTY] == topic
        assert letter.properties()[MESSAGE_ID_PROPERTY] == str(bad_id)
        assert letter.properties()[ERROR_PROPERTY].startswith(cause)
