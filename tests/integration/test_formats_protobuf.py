"""Protobuf through a real broker and a real PyFlink job: orders written by a pulsar-client producer with
`ProtobufNativeSchema` (default batching, before the job) are read as Rows through the topic's registered
PROTOBUF_NATIVE schema, changed in a Python map, written by the sink with `ProtobufRowSchema`, and read back by a
pulsar-client consumer with `ProtobufNativeSchema`."""

from __future__ import annotations

import datetime

import pulsar
from pulsar.schema import ProtobufNativeSchema
from pyflink.datastream import RuntimeExecutionMode, StreamExecutionEnvironment

from connector import ProtobufRowSchema
from connector.formats import schema_from_registry
from connector.sink import PulsarSink
from connector.admin import PulsarAdmin
from tests.conftest import unique_topic
from tests.integration.formats_helpers import bounded_source
from tests.protobuf_cases import order_class

ORDERS = 500


def order(order_type, n: int):
    message = order_type(id=n, customer=f"c{n % 7}", status=n % 3, big=2 ** 63 + n, blob=bytes([n % 256]),
                         tags=[f"t{n % 2}"])
    message.items.add(sku=f"sku-{n}", quantity=n % 5)
    message.totals["eur"] = n * 100
    message.placed_at.FromDatetime(datetime.datetime(2026, 12, 3) + datetime.timedelta(seconds=n))
    if n % 2:
        message.note.value = f"note {n}"
        message.priority = n
        message.gift.sku = "card"
    return message


def paid(row):
    row["status"] = "PAID"
    return row


def test_pulsar_client_protobuf_is_read_as_rows_and_what_the_sink_writes_reads_back(broker) -> None:
    order_type = order_class()
    source_topic, sink_topic = unique_topic("proto-in"), unique_topic("proto-out")
    client = pulsar.Client(broker.service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Warn))
    try:
        producer = client.create_producer(source_topic, schema=ProtobufNativeSchema(order_type))
        for n in range(ORDERS):
            producer.send_async(order(order_type, n), None)
        producer.flush()
        consumer = client.subscribe(sink_topic, "check", schema=ProtobufNativeSchema(order_type),
                                    initial_position=pulsar.InitialPosition.Earliest)
        registered = schema_from_registry(PulsarAdmin(broker.admin_url), source_topic)
        assert isinstance(registered, ProtobufRowSchema)

        env = StreamExecutionEnvironment.get_execution_environment()
        env.set_runtime_mode(RuntimeExecutionMode.BATCH)
        env.set_parallelism(1)
        rows = bounded_source(broker, source_topic, "protobuf-orders").create_stream(env)
        sink_schema = ProtobufRowSchema(order_type)
        (PulsarSink.builder().set_service_url(broker.service_url).set_admin_url(broker.admin_url)
         .set_topics(sink_topic).set_serialization_schema(sink_schema).set_sink_name("protobuf-orders").build()
         .sink_to(rows.map(paid, output_type=sink_schema.produced_type())))
        env.execute("formats: protobuf")

        got = sorted((consumer.receive(10_000).value() for _ in range(ORDERS)), key=lambda message: message.id)
    finally:
        client.close()
    expected = []
    for n in range(ORDERS):
        message = order(order_type, n)
        message.status = 1  # PAID
        expected.append(message)
    assert got == expected
    assert got[1].HasField("priority") and not got[0].HasField("priority") and not got[0].HasField("gift")
