"""A deterministic, replayable job for the sink's guarantees: sequenced records -> Python map -> PulsarSink.

    python tests/jobs/sink_sequence_job.py --service-url U --admin-url A --topic T --guarantee EXACTLY_ONCE \
        --records 100000 [--fail-at 20000,50000,80000 --marker-dir DIR] [--parallelism 2] [--restart-attempts 10]

Two `NumberSequenceSource`s (one split each, parallelism 1) emit [0, N/2) and [N/2, N). A map chained to each
turns number n into a `PulsarMessage` with value "<key>:<n>", key "s<split>-k<n % 8>" and sequence key
"split-<split>", and raises once at each --fail-at number (a marker file in --marker-dir remembers it already
did, since a restart re-creates the function). The sink (parallelism --parallelism) writes to --topic.
Checkpoints every second; fixed-delay restarts. Prints the job's wall time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from pyflink.common import Configuration, Types, WatermarkStrategy
from pyflink.datastream import MapFunction, StreamExecutionEnvironment
from pyflink.datastream.connectors.base import DeliveryGuarantee
from pyflink.datastream.connectors.number_seq import NumberSequenceSource

from connector.serde import SimpleStringSchema
from connector.sink import PulsarMessage, PulsarSink

if not __package__:  # run as a script: the project root holds the `tests` package
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.jobs.mini_cluster import with_spare_taskmanager  # noqa: E402

KEYS_PER_SPLIT = 8


class InjectedFailure(RuntimeError):
    pass


class ToMessage(MapFunction):
    def __init__(self, split: int, fail_at: set[int], marker_dir: str) -> None:
        self.split = split
        self.fail_at = fail_at
        self.marker_dir = marker_dir

    def map(self, n: int) -> PulsarMessage:
        if n in self.fail_at:
            marker = os.path.join(self.marker_dir, f"failed-at-{n}")
            if not os.path.exists(marker):
                open(marker, "w").close()
                raise InjectedFailure(f"injected failure at record {n}")
        key = f"s{self.split}-k{n % KEYS_PER_SPLIT}"
        return PulsarMessage(value=f"{key}:{n}", key=key, sequence_key=f"split-{self.split}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--service-url", required=True)
    parser.add_argument("--admin-url", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--guarantee", required=True, choices=[g.name for g in DeliveryGuarantee])
    parser.add_argument("--records", type=int, required=True)
    parser.add_argument("--fail-at", default="")
    parser.add_argument("--marker-dir", default="")
    parser.add_argument("--parallelism", type=int, default=2)
    parser.add_argument("--sink-name", default="sequence-sink")
    parser.add_argument("--restart-attempts", type=int, default=10)
    args = parser.parse_args()
    fail_at = {int(n) for n in args.fail_at.split(",") if n}

    conf = Configuration()
    conf.set_string("restart-strategy.type", "fixed-delay")
    conf.set_string("restart-strategy.fixed-delay.attempts", str(args.restart_attempts))
    conf.set_string("restart-strategy.fixed-delay.delay", "1 s")
    env = StreamExecutionEnvironment.get_execution_environment(with_spare_taskmanager(conf, args.parallelism))
    env.enable_checkpointing(1000)
    half = args.records // 2
    branches = []
    for split, (first, last) in enumerate([(0, half - 1), (half, args.records - 1)]):
        numbers = env.from_source(NumberSequenceSource(first, last), WatermarkStrategy.no_watermarks(),
                                  f"numbers-{split}").set_parallelism(1)
        branches.append(numbers.map(ToMessage(split, fail_at, args.marker_dir), Types.PICKLED_BYTE_ARRAY())
                        .set_parallelism(1).name(f"to-message-{split}"))
    sink = (PulsarSink.builder()
            .set_service_url(args.service_url)
            .set_admin_url(args.admin_url)
            .set_topics(args.topic)
            .set_serialization_schema(SimpleStringSchema())
            .set_delivery_guarantee(DeliveryGuarantee[args.guarantee])
            .set_sink_name(args.sink_name)
            .build())
    env.set_parallelism(args.parallelism)
    sink.sink_to(branches[0].union(branches[1]))
    began = time.monotonic()
    env.execute(f"sink-sequence-{args.guarantee}")
    print(f"job finished in {time.monotonic() - began:.1f} s")


if __name__ == "__main__":
    main()
