"""The main job: Pulsar -> Python transform -> Pulsar, exactly once, then checked record by record.

    ./dev demo [--records 20000] [--service-url pulsar://127.0.0.1:6650] [--admin-url http://127.0.0.1:8080]

Uses the local broker on 6650/8080 by default (`./dev demo` starts one if none runs). Writes sample orders to a new
4-partition input topic, runs a checkpointed PyFlink job that reads them with PulsarSource, transforms each in
Python and writes it with PulsarSink (EXACTLY_ONCE, routed by key), then reads the output topic back and prints
what it verified: every input record arrived exactly once, and each key's records kept their order.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from collections import defaultdict

import pulsar
from pyflink.common import Row
from pyflink.datastream import StreamExecutionEnvironment

from connector import PulsarSource, SimpleStringSchema, StartCursor, StopCursor
from connector.admin import PulsarAdmin
from connector.sink import DeliveryGuarantee, PulsarMessage, PulsarSink, TopicRoutingMode

SERVICE_URL = "pulsar://127.0.0.1:6650"
ADMIN_URL = "http://127.0.0.1:8080"
NAMESPACE = "public/pyflink-pulsar-demo"  # broker deduplication on: what EXACTLY_ONCE writes rely on
PARTITIONS = 4
CUSTOMERS = 50


def prepare(admin: PulsarAdmin, run: str) -> tuple[str, str]:
    admin.create_namespace(NAMESPACE, exist_ok=True)  # it may exist from an earlier run
    admin.set_deduplication(NAMESPACE, True)
    topics = (f"persistent://{NAMESPACE}/orders-{run}", f"persistent://{NAMESPACE}/enriched-{run}")
    for topic in topics:
        admin.create_partitioned_topic(topic, PARTITIONS)
    return topics


def produce_orders(client: pulsar.Client, topic: str, count: int) -> None:
    producer = client.create_producer(topic, batching_enabled=True, block_if_queue_full=True)
    for n in range(count):
        customer = f"customer-{n % CUSTOMERS}"
        order = {"order": n, "customer": customer, "amount_cents": 100 + (n * 37) % 10_000}
        producer.send_async(json.dumps(order).encode(), None, partition_key=customer)
    producer.flush()
    producer.close()


def enrich(record: Row) -> PulsarMessage:
    """The Python transform: adds a VAT-inclusive amount; keyed by customer. The EXACTLY_ONCE sink runs fused with
    the source and this map in one Python operator, so records need no sequence key."""
    order = json.loads(record.value)
    order["amount_with_vat_cents"] = round(order["amount_cents"] * 1.2)
    return PulsarMessage(value=json.dumps(order), key=order["customer"],
                         properties={"source-message-id": record.message_id.hex()})


def run_job(service_url: str, admin_url: str, input_topic: str, output_topic: str) -> float:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    env.enable_checkpointing(2_000)
    source = (PulsarSource.builder().set_service_url(service_url).set_admin_url(admin_url)
              .set_topics(input_topic).set_deserialization_schema(SimpleStringSchema())
              .set_start_cursor(StartCursor.earliest()).set_bounded_stop_cursor(StopCursor.latest())
              .set_emit_metadata().build())
    sink = (PulsarSink.builder().set_service_url(service_url).set_admin_url(admin_url)
            .set_topics(output_topic).set_serialization_schema(SimpleStringSchema())
            .set_delivery_guarantee(DeliveryGuarantee.EXACTLY_ONCE)
            .set_topic_routing_mode(TopicRoutingMode.MESSAGE_KEY_HASH)
            .set_sink_name("demo-enrich").build())
    sink.sink_to(source.create_stream(env).map(enrich))
    # The source's readers, `enrich` and the writer run as one Python operator: no record crosses to the JVM between.
    for node in json.loads(env.get_execution_plan())["nodes"]:
        print(f"operator: {node['contents']} (parallelism {node['parallelism']})")
    began = time.monotonic()
    env.execute("pyflink-pulsar demo: orders -> enrich -> enriched")
    return time.monotonic() - began


def verify(client: pulsar.Client, output_topic: str, expected: int) -> dict[str, int]:
    """Reads the whole output; counts records, duplicates, missing ones and per-key order breaks."""
    reader = client.create_reader(output_topic, pulsar.MessageId.earliest)
    seen: dict[int, int] = defaultdict(int)
    last_per_key: dict[str, int] = {}
    order_breaks = 0
    while True:
        try:
            message = reader.read_next(3000)
        except pulsar.Timeout:
            break
        order = json.loads(message.data())
        seen[order["order"]] += 1
        key = message.partition_key()
        order_breaks += last_per_key.get(key, -1) > order["order"]
        last_per_key[key] = order["order"]
    reader.close()
    return {"read": sum(seen.values()), "distinct": len(seen),
            "duplicates": sum(c - 1 for c in seen.values() if c > 1),
            "missing": len(set(range(expected)) - set(seen)), "per_key_order_breaks": order_breaks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--service-url", default=SERVICE_URL)
    parser.add_argument("--admin-url", default=ADMIN_URL)
    args = parser.parse_args()
    run = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:4]
    admin = PulsarAdmin(args.admin_url)
    client = pulsar.Client(args.service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Error))
    input_topic, output_topic = prepare(admin, run)
    produce_orders(client, input_topic, args.records)
    print(f"produced {args.records} orders to {input_topic} ({PARTITIONS} partitions, keyed by customer)")
    seconds = run_job(args.service_url, args.admin_url, input_topic, output_topic)
    print(f"PyFlink job (parallelism 2, checkpoints every 2 s, EXACTLY_ONCE sink) finished in {seconds:.1f} s")
    result = verify(client, output_topic, args.records)
    client.close()
    print(f"read back {output_topic}: {result}")
    ok = result["read"] == result["distinct"] == args.records and result["per_key_order_breaks"] == 0
    print(f"{'OK' if ok else 'FAILED'}: {result['distinct']} of {args.records} orders exactly once, "
          f"{result['duplicates']} duplicates, {result['missing']} missing, per-key order "
          f"{'kept' if not result['per_key_order_breaks'] else 'BROKEN'}")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
