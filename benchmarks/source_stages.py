"""CPU microseconds per record of each stage of the source, without Flink, next to the raw client's read loop.

    .venv/bin/python -m benchmarks.source_stages [--records 200000] [--size 100]

Starts (and stops) its own broker, `micro-bench` on 24650/24080 (benchmarks/micro.py), unless one is running
there. Writes `--records` records of `--size` bytes to a fresh one-partition topic with the
client's default batching, then reads them back four ways, each from the start. The figure is the CPU time of the
reading thread (`time.thread_time`): what a Flink reader subtask's thread spends per record, without the client's
I/O thread and without waiting for the broker.

  raw read_next             a `Reader.read_next` loop
  SplitReader.poll          our reader (redelivery check, position kept), polls of 2,000
  + RecordEmitter (value)   each message of a poll decoded as it is handed on, with SimpleStringSchema
  + RecordEmitter (Row)     the same, decoded into the metadata Row (set_emit_metadata)
"""

from __future__ import annotations

import time
import uuid

import pulsar

from benchmarks.micro import BROKER, arguments, micro_broker
from checkpoint.split_state import SplitState
from connector.admin import PulsarAdmin
from connector.serde import SimpleStringSchema
from connector.source.bad_message import BadMessageHandler, BadMessagePolicy
from connector.source.cursor import StartCursor, StopCursor
from connector.source.emitter import RecordEmitter
from connector.source.reader import SplitReader
POLL = 2000


class _Count:
    def inc(self, n: int = 1) -> None:
        pass


def raw_read(client: pulsar.Client, topic: str, records: int) -> float:
    reader = client.create_reader(topic, pulsar.MessageId.earliest, receiver_queue_size=1000)
    began = time.thread_time()
    for _ in range(records):
        reader.read_next(5000)
    elapsed = time.thread_time() - began
    reader.close()
    return elapsed / records * 1e6


def ours(client: pulsar.Client, admin: PulsarAdmin, topic: str, records: int, emit: str | None) -> float:
    reader = SplitReader(client, admin, SplitState(topic), StartCursor.earliest(), StopCursor.never())
    emitter = None
    if emit is not None:
        schema = SimpleStringSchema()
        emitter = RecordEmitter(schema.deserialize_message, emit == "row",
                                BadMessageHandler(BadMessagePolicy.FAIL, "SimpleStringSchema", _Count(), _Count(),
                                                  None), _Count())
    began = time.thread_time()
    while reader.state.read_count < records:
        messages = reader.poll(POLL, 5000)
        for _ in (messages if emitter is None else emitter.records(messages)):
            pass
    elapsed = time.thread_time() - began
    reader.close()
    return elapsed / reader.state.read_count * 1e6


def main() -> None:
    args = arguments(__doc__)
    with micro_broker() as admin:
        client = pulsar.Client(BROKER.service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Error))
        try:
            topic = f"persistent://public/default/stages-{uuid.uuid4().hex[:8]}"
            producer = client.create_producer(topic, block_if_queue_full=True)
            payload = b"x" * args.size
            for _ in range(args.records):
                producer.send_async(payload, None)
            producer.flush()
            producer.close()
            figures = {"raw read_next": raw_read(client, topic, args.records),
                       "SplitReader.poll": ours(client, admin, topic, args.records, None),
                       "+ RecordEmitter (value)": ours(client, admin, topic, args.records, "value"),
                       "+ RecordEmitter (Row)": ours(client, admin, topic, args.records, "row")}
        finally:
            client.close()
    print(f"{args.records:,} records of {args.size} B, one partition, read from the start:")
    for label, micros in figures.items():
        print(f"  {label:<26} {micros:6.2f} µs/record of the reading thread's CPU")


if __name__ == "__main__":
    main()
