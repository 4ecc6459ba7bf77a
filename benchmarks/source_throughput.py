"""Source read rate vs the raw pulsar-client read rate, on the same broker and data. Prints a Markdown table.

    ./dev bench [--records 1000000] [--size 100] [--partitions 4] [--parallelism 2]

Both read every record of a partitioned topic once. The raw client is one Python loop of `Reader.read_next`
per partition; ours is a bounded PulsarSource job (STREAMING mode, checkpoints every 10 s) into a
discarding sink, timed from submission to the end, and again net of a same-shaped job over an empty topic
(job start-up and shutdown, which do not grow with the data).
"""

from __future__ import annotations

import argparse
import time
import uuid

import pulsar
from pyflink.datastream import StreamExecutionEnvironment

from connector import BytesSchema, PulsarSource, StartCursor, StopCursor
from connector.admin import PulsarAdmin
from tools.pulsar_standalone import Broker, start


def produce(client: pulsar.Client, topic: str, records: int, size: int) -> float:
    producer = client.create_producer(topic, batching_enabled=True, block_if_queue_full=True,
                                      max_pending_messages=20_000, batching_max_messages=1000)
    payload = b"x" * size
    began = time.perf_counter()
    for i in range(records):
        producer.send_async(payload, None, partition_key=str(i))
    producer.flush()
    producer.close()
    return records / (time.perf_counter() - began)


def raw_read(client: pulsar.Client, admin: PulsarAdmin, topic: str) -> float:
    partitions = admin.partition_count(topic)
    began = time.perf_counter()
    count = 0
    for p in range(partitions):
        reader = client.create_reader(f"{topic}-partition-{p}", pulsar.MessageId.earliest, receiver_queue_size=2000)
        while True:
            try:
                reader.read_next(200)
            except pulsar.Timeout:
                break
            count += 1
        reader.close()
    return count / (time.perf_counter() - began - 0.2 * partitions)


def flink_read(broker: Broker, topic: str, parallelism: int) -> float:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    env.enable_checkpointing(10_000)
    source = (PulsarSource.builder().set_service_url(broker.service_url).set_admin_url(broker.admin_url)
              .set_topics(topic).set_deserialization_schema(BytesSchema())
              .set_start_cursor(StartCursor.earliest()).set_bounded_stop_cursor(StopCursor.latest()).build())
    source.create_stream(env).filter(lambda _: False).print()
    began = time.perf_counter()
    env.execute("source throughput")
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--parallelism", type=int, default=2)
    args = parser.parse_args()
    broker = Broker(name="bench", port=26650, web_port=28080)
    start(broker)
    admin = PulsarAdmin(broker.admin_url)
    client = pulsar.Client(broker.service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Error))
    topic, empty = (f"persistent://public/default/bench-{uuid.uuid4().hex[:8]}-{n}" for n in ("data", "empty"))
    admin.create_partitioned_topic(topic, args.partitions)
    admin.create_partitioned_topic(empty, args.partitions)
    produce_rate = produce(client, topic, args.records, args.size)
    raw_rate = raw_read(client, admin, topic)
    overhead_s = flink_read(broker, empty, args.parallelism)
    total_s = flink_read(broker, topic, args.parallelism)
    client.close()
    ours_gross = args.records / total_s
    ours_net = args.records / max(total_s - overhead_s, 1e-9)
    mb = args.size / 1e6
    print(f"\n{args.records} records of {args.size} B, {args.partitions} partitions, parallelism {args.parallelism}\n")
    print("| what | records/s | MB/s | vs raw read |")
    print("|---|---:|---:|---:|")
    print(f"| raw pulsar-client produce (batching) | {produce_rate:,.0f} | {produce_rate * mb:.1f} | |")
    print(f"| raw pulsar-client read (1 loop) | {raw_rate:,.0f} | {raw_rate * mb:.1f} | 1.00 |")
    print(f"| PulsarSource job, wall ({total_s:.1f} s) | {ours_gross:,.0f} | {ours_gross * mb:.1f} | "
          f"{ours_gross / raw_rate:.2f} |")
    print(f"| PulsarSource job, net of {overhead_s:.1f} s start/stop | {ours_net:,.0f} | {ours_net * mb:.1f} | "
          f"{ours_net / raw_rate:.2f} |")


if __name__ == "__main__":
    main()
