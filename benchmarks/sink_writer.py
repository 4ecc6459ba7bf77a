"""Send rate of the sink's `PulsarWriter` alone (no Flink) next to raw pulsar-client loops on the same broker.

    .venv/bin/python -m benchmarks.sink_writer [--records 200000] [--size 100]

Starts (and stops) its own broker, `micro-bench` on 24650/24080 with deduplication on (benchmarks/micro.py), unless
one is running there. Every figure writes `--records` records of `--size` bytes to a fresh 4-partition topic, one producer per
partition, and ends when the broker acknowledged them all (after one raw run to warm the broker up). Each figure is
the median of ROUNDS rounds of all of them:

  raw, no callback         send_async(payload, None) over the partition producers, then flush; the producers batch
                           and take a batch's worth (the client's default limits) each in turn, as the sink's
                           AT_LEAST_ONCE ones
  raw, Python callback     the same with a one-line Python callback per message (what the sink needs at least)
  raw, callback keeping its thread state
                           the same callback calling `keep_thread_state()` first (connector/client_threads.py)
  PulsarWriter <guarantee> write() per record, then flush(); EXACTLY_ONCE with a Sequenced identity per record
                           (AT_LEAST_ONCE sends a batch's worth to each partition in turn, as the sink does)
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable

import pulsar
from pyflink.datastream.connectors.base import DeliveryGuarantee

from connector.client_threads import keep_thread_state
from connector.serde import BytesSchema
from connector.sink.config import MAX_PENDING_BYTES, MAX_PENDING_MESSAGES, SinkConfig, batch_limits
from connector.sink.router import RoundRobinTopicRouter
from connector.sink.writer import PulsarWriter, Sequenced
from benchmarks.micro import BROKER, arguments, micro_broker
PARTITIONS = 4
ROUNDS = 3
"""Rounds of all figures; each figure is its median. One round of 1M records gave the writer 0.63x the raw send in the
full run of 2026-12-07 01:28, where three rounds on their own broker just after gave 0.74x-1.00x."""


def raw(service_url: str, topic: str, records: int, payload: bytes, with_callback: bool,
        keeping_thread_state: bool = False) -> float:
    client = pulsar.Client(service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Error))  # its own I/O thread
    producers = [client.create_producer(f"{topic}-partition-{p}", batching_enabled=True, block_if_queue_full=True,
                                        max_pending_messages=10_000) for p in range(PARTITIONS)]
    acknowledged = [0]

    def callback(result: pulsar.Result, _message_id: object) -> None:
        if keeping_thread_state:
            keep_thread_state()
        acknowledged[0] += 1

    max_messages, max_bytes = batch_limits({})  # the client's defaults
    per_batch = max(1, min(max_messages, max_bytes // len(payload)))  # as the writer's BatchRotation moves on
    began = time.perf_counter()
    for i in range(records):
        producers[i // per_batch % PARTITIONS].send_async(payload, callback if with_callback else None)
    for producer in producers:
        producer.flush()
    elapsed = time.perf_counter() - began
    client.close()
    return records / elapsed


def writer(service_url: str, admin_url: str, topic: str, records: int, payload: bytes,
           guarantee: DeliveryGuarantee) -> float:
    config = SinkConfig(service_url=service_url, admin_url=admin_url, topics=(topic,),
                        topic_selector=None, schema=BytesSchema(), delivery_guarantee=guarantee,
                        router=RoundRobinTopicRouter(), producer_config={}, client_config={},
                        sink_name="writer-bench", send_timeout_ms=30_000,
                        max_pending_messages=MAX_PENDING_MESSAGES, max_pending_bytes=MAX_PENDING_BYTES)
    sink = PulsarWriter(config)
    name = f"writer-bench-{uuid.uuid4().hex[:6]}"
    exactly_once = guarantee == DeliveryGuarantee.EXACTLY_ONCE
    began = time.perf_counter()
    for i in range(records):
        sink.write(payload, Sequenced(name, i + 1) if exactly_once else None)
    sink.flush()
    elapsed = time.perf_counter() - began
    sink.close()
    return records / elapsed


def figures(service_url: str, admin_url: str, records: int, size: int,
            new_topic: Callable[[DeliveryGuarantee], str]) -> dict[str, float]:
    """The median records/s of each figure (see the module docstring) over ROUNDS rounds of all of them;
    `new_topic(guarantee)` makes a fresh 4-partition topic (on a deduplicating namespace for EXACTLY_ONCE)."""
    payload = b"x" * size
    raw(service_url, new_topic(DeliveryGuarantee.NONE), records, payload, False)  # warm-up: the broker's JIT, ledgers
    runs: dict[str, list[float]] = {}
    for _ in range(ROUNDS):
        for label, rate in _round(service_url, admin_url, records, payload, new_topic).items():
            runs.setdefault(label, []).append(rate)
    return {label: statistics.median(rates) for label, rates in runs.items()}


def _round(service_url: str, admin_url: str, records: int, payload: bytes,
           new_topic: Callable[[DeliveryGuarantee], str]) -> dict[str, float]:
    """Records/s of each figure, one run each."""
    rates = {"raw, no callback": raw(service_url, new_topic(DeliveryGuarantee.NONE), records, payload, False),
             "raw, Python callback": raw(service_url, new_topic(DeliveryGuarantee.NONE), records, payload, True),
             "raw, callback keeping its thread state": raw(service_url, new_topic(DeliveryGuarantee.NONE), records,
                                                           payload, True, keeping_thread_state=True)}
    for guarantee in (DeliveryGuarantee.NONE, DeliveryGuarantee.AT_LEAST_ONCE, DeliveryGuarantee.EXACTLY_ONCE):
        rates[f"PulsarWriter {guarantee.name}"] = writer(service_url, admin_url, new_topic(guarantee), records,
                                                         payload, guarantee)
    return rates


def main() -> None:
    args = arguments(__doc__)
    with micro_broker() as admin:
        def new_topic(_guarantee: DeliveryGuarantee) -> str:  # the broker deduplicates every topic
            name = f"persistent://public/default/writer-bench-{uuid.uuid4().hex[:8]}"
            admin.create_partitioned_topic(name, PARTITIONS)
            return name

        rates = figures(BROKER.service_url, BROKER.admin_url, args.records, args.size, new_topic)
    print(f"{args.records:,} records of {args.size} B, {PARTITIONS} partitions, one producer each, "
          f"medians of {ROUNDS} rounds:")
    for label, rate in rates.items():
        print(f"  {label:<40} {rate:>10,.0f} records/s")


if __name__ == "__main__":
    main()
