"""The sink's end-to-end acceptance job: a sequenced Pulsar topic -> PulsarSource -> Python map -> PulsarSink.

Runs in-process (tests call `build` on a `checkpointed_env`) or on a standalone cluster:

    flink run -py tests/jobs/pulsar_to_pulsar_job.py --service-url U --admin-url A --topic IN --target OUT \
        --guarantee EXACTLY_ONCE --marker-dir DIR [--fail-at 4000,11000] [--parallelism 2] [--checkpoint-ms 500] \
        [--max-records-per-poll N] [--outage-timeout-ms 60000] [--restart-delay "1 s"]

The input is a sequenced topic (tests/sequenced.py: partition p holds "p:0", "p:1", ...). The unbounded source
emits metadata rows; `ToMessage` turns each into a `PulsarMessage` with value "<p>:<seq>" and key "p<p>-k<seq % 4>",
and the sink writes it to --target, routed by key hash. Source readers, `ToMessage` and the writer run as one Python
operator: under EXACTLY_ONCE the writer numbers records by their source message (no sequence key). The job runs
until cancelled (built with `bounded=True`, in-process only, it ends once every split reached its latest message).

Markers in --marker-dir show what happened: "failed-at-<seq>" when `ToMessage` raised its one injected failure
at partition 0's record <seq> (or `fail_partition`'s), and "first-<p>-<seq>-<instance>" for the first record of
partition p each `ToMessage` instance saw: after a restore, <seq> > 0 is where the source resumed from checkpointed
state.
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from collections import defaultdict
from pathlib import Path

from pyflink.common import Row, Types
from pyflink.datastream import MapFunction, RuntimeContext, StreamExecutionEnvironment
from pyflink.datastream.connectors.base import DeliveryGuarantee

from connector import PulsarSource, SimpleStringSchema, StartCursor, StopCursor
from connector.sink import PulsarMessage, PulsarSink, TopicRoutingMode

if not __package__:  # run as a script (`flink run -py`): the project root holds the `tests` package
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.jobs.exactly_once_source_job import checkpointed_env  # noqa: E402

KEYS_PER_PARTITION = 4


def message_key(partition: int, seq: int) -> str:
    return f"p{partition}-k{seq % KEYS_PER_PARTITION}"


class ToMessage(MapFunction):
    """The Python transform, with an injected failure at each `fail_at` sequence of partition `fail_partition` (once
    each)."""

    def __init__(self, fail_at: list[int], marker_dir: str, fail_partition: int = 0) -> None:
        self._fail_at = set(fail_at)
        self._marker_dir = marker_dir
        self._fail_partition = fail_partition

    def open(self, runtime_context: RuntimeContext) -> None:
        self._instance = uuid.uuid4().hex[:8]
        self._seen: set[int] = set()

    def map(self, row: Row) -> PulsarMessage:
        partition, seq = (int(part) for part in row.value.split(":"))
        if partition not in self._seen:
            self._seen.add(partition)
            self._mark(f"first-{partition}-{seq}-{self._instance}")
        if partition == self._fail_partition and seq in self._fail_at and self._mark(f"failed-at-{seq}"):
            raise RuntimeError(f"injected failure at partition {partition} sequence {seq}")
        return PulsarMessage(value=row.value, key=message_key(partition, seq))

    def _mark(self, name: str) -> bool:
        """Create marker file `name`; False when it existed already."""
        try:
            open(os.path.join(self._marker_dir, name), "x").close()
        except FileExistsError:
            return False
        return True


def first_positions_after(marker_dir: Path, marker: str) -> dict[int, list[int]]:
    """Partition -> the positions where the map instances that started after `marker` was made (the attempts after
    that failure) saw their first record of that partition. An instance started when its first marker was made: the
    failed attempt's other subtask runs on for a moment after the failure and may see a partition for the first time
    then, and that is no restart (seen in a CI run: two partitions 0.2 and 0.7 s after the failure)."""
    since = (marker_dir / marker).stat().st_mtime_ns
    per_instance: dict[str, list[tuple[int, int, int]]] = defaultdict(list)  # (made, partition, seq)
    for first in marker_dir.glob("first-*"):
        _, partition, seq, instance = first.name.split("-")
        per_instance[instance].append((first.stat().st_mtime_ns, int(partition), int(seq)))
    positions: dict[int, list[int]] = defaultdict(list)
    for firsts in per_instance.values():
        if min(made for made, _, _ in firsts) > since:
            for _, partition, seq in firsts:
                positions[partition].append(seq)
    return positions


def build(env: StreamExecutionEnvironment, service_url: str, admin_url: str, topic: str, target: str,
          guarantee: DeliveryGuarantee, fail_at: list[int], marker_dir: str, max_records_per_poll: int | None = None,
          outage_timeout_ms: int = 60_000, bounded: bool = False, fail_partition: int = 0) -> None:
    """The job in `env`, at full speed with the source's defaults unless `max_records_per_poll` slows the source
    down (for tests that need the read to last). `outage_timeout_ms` is both the source's broker outage timeout
    and the sink's send timeout. `bounded` stops each split at its latest message (the job then ends by itself);
    `fail_partition` is the partition whose `fail_at` sequences fail."""
    builder = (PulsarSource.builder()
               .set_service_url(service_url)
               .set_admin_url(admin_url)
               .set_topics(topic)
               .set_start_cursor(StartCursor.earliest())
               .set_deserialization_schema(SimpleStringSchema())
               .set_emit_metadata()
               .set_broker_outage_timeout_ms(outage_timeout_ms))
    if max_records_per_poll is not None:
        builder.set_max_records_per_poll(max_records_per_poll)
    if bounded:
        builder.set_bounded_stop_cursor(StopCursor.latest())
    source = builder.build()
    sink = (PulsarSink.builder()
            .set_service_url(service_url)
            .set_admin_url(admin_url)
            .set_topics(target)
            .set_serialization_schema(SimpleStringSchema())
            .set_delivery_guarantee(guarantee)
            .set_topic_routing_mode(TopicRoutingMode.MESSAGE_KEY_HASH)
            .set_sink_name("pulsar-to-pulsar")
            .set_producer_config({"send_timeout_millis": outage_timeout_ms})
            .build())
    messages = (source.create_stream(env)
                .map(ToMessage(fail_at, marker_dir, fail_partition), output_type=Types.PICKLED_BYTE_ARRAY())
                .name("to-message").uid("to-message"))
    sink.sink_to(messages)


def main() -> None:
    parser = argparse.ArgumentParser()
    for flag in ("--service-url", "--admin-url", "--topic", "--target", "--marker-dir"):
        parser.add_argument(flag, required=True)
    parser.add_argument("--guarantee", required=True, choices=[g.name for g in DeliveryGuarantee])
    parser.add_argument("--fail-at", default="")
    parser.add_argument("--parallelism", type=int, default=2)
    parser.add_argument("--checkpoint-ms", type=int, default=500)
    parser.add_argument("--max-records-per-poll", type=int, default=None)
    parser.add_argument("--outage-timeout-ms", type=int, default=60_000)
    parser.add_argument("--restart-delay", default="1 s")
    args = parser.parse_args()
    env = checkpointed_env(args.parallelism, args.checkpoint_ms, restart_delay=args.restart_delay)
    build(env, args.service_url, args.admin_url, args.topic, args.target, DeliveryGuarantee[args.guarantee],
          [int(n) for n in args.fail_at.split(",") if n], args.marker_dir, args.max_records_per_poll,
          args.outage_timeout_ms)
    env.execute(f"pulsar-to-pulsar {args.guarantee}")


if __name__ == "__main__":
    main()
