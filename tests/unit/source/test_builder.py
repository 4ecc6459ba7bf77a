import pytest
from pyflink.common import Types

from connector import DebeziumJsonSchema, PulsarConfigError, PulsarSource, SimpleStringSchema, StartCursor, StopCursor
from connector.formats.from_registry import FromRegistry


def valid():
    # Port 1 of the loopback: nothing listens there, so any I/O would fail.
    return (PulsarSource.builder().set_service_url("pulsar://127.0.0.1:1").set_admin_url("http://127.0.0.1:1")
            .set_topics("orders").set_deserialization_schema(SimpleStringSchema()))


@pytest.mark.parametrize("change, message", [
    (lambda b: b.set_service_url("http://127.0.0.1:6650"), "serviceUrl"),
    (lambda b: b.set_admin_url(None), "adminUrl is not set"),
    (lambda b: b.set_topic_pattern("persistent://public/default/o.*"), "topics and topicPattern are both set"),
    (lambda b: b.set_max_records_per_poll(0), "maxRecordsPerPoll must be a positive int"),
    (lambda b: b.set_start_cursor("earliest"), "startCursor must be a StartCursor, not 'earliest'"),
    (lambda b: b.set_deserialization_schema(str), "deserializationSchema must be a DeserializationSchema"),
    (lambda b: b.set_client_config({"authentication": None}), "set_client_config must not carry authentication"),
    (lambda b: b.set_client_config({"io_thread": 2}), "'io_thread', not a pulsar.Client keyword"),
    (lambda b: b.set_split_stall_timeout_ms(5000), "splitStallTimeoutMs .* must exceed lagSampleIntervalMs"),
    (lambda b: b.set_topics().set_topic_pattern("persistent://public/default/o.*")
     .set_deserialization_schema_from_registry(), "from the registry needs fixed topics"),
    (lambda b: b.set_emit_metadata().set_deserialization_schema(
        DebeziumJsonSchema(Types.ROW_NAMED(["id"], [Types.INT()]))), "emitMetadata: a changelog deserializer"),
])
def test_bad_option_is_named(change, message: str) -> None:
    with pytest.raises(PulsarConfigError, match=message):
        change(valid()).build()


def test_build_does_no_io_and_leaves_the_builder_as_it_was() -> None:
    builder = valid().set_deserialization_schema_from_registry().set_start_cursor(StartCursor.earliest()) \
        .set_bounded_stop_cursor(StopCursor.latest())
    first, second = builder.build(), builder.build()
    assert first == second and isinstance(first.deserialization_schema, FromRegistry)


def test_the_broker_check_names_the_admin_url_it_could_not_reach() -> None:
    with pytest.raises(PulsarConfigError, match="adminUrl: could not check the topics: .*127.0.0.1:1"):
        valid().build().check_broker()
