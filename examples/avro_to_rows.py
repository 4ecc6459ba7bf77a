"""An Avro topic read into typed Rows: the schema comes from the topic's schema registry.

    .venv/bin/python examples/avro_to_rows.py [service_url] [admin_url]

Writes three `Order` records with pulsar-client's own `AvroSchema` producer, then reads them with a bounded
PulsarSource whose deserializer is taken from the registry; a downstream operator gets Rows with named fields.
"""

import sys
import uuid

import pulsar
from pulsar.schema import AvroSchema, Double, Record, String
from pyflink.common import Types
from pyflink.datastream import RuntimeExecutionMode, StreamExecutionEnvironment

from connector import PulsarSource, StartCursor, StopCursor
from connector.source.bad_message import BadMessagePolicy


class Order(Record):
    item = String()
    price = Double()


service_url, admin_url = (sys.argv[1:3] + ["pulsar://127.0.0.1:6650", "http://127.0.0.1:8080"][len(sys.argv[1:3]):])
topic = f"persistent://public/default/orders-{uuid.uuid4().hex[:8]}"
client = pulsar.Client(service_url)
producer = client.create_producer(topic, schema=AvroSchema(Order))
for item, price in (("tea", 3.5), ("cake", 4.0), ("jam", None)):
    producer.send(Order(item=item, price=price))
client.close()

env = StreamExecutionEnvironment.get_execution_environment()
env.set_runtime_mode(RuntimeExecutionMode.BATCH)
source = (PulsarSource.builder().set_service_url(service_url).set_admin_url(admin_url).set_topics(topic)
          .set_deserialization_schema_from_registry()                # AvroRowSchema of the registered Order
          .set_bad_message_policy(BadMessagePolicy.SKIP)             # or FAIL (default), DEAD_LETTER
          .set_start_cursor(StartCursor.earliest()).set_bounded_stop_cursor(StopCursor.latest()).build()
          .check_broker())                                           # binds the registry's schema (create_stream would)
print("output type:", source.output_type())
rows = source.create_stream(env).map(lambda order: f"{order.item}: {order.price}", output_type=Types.STRING())
with rows.execute_and_collect() as results:
    for line in results:
        print(line)
