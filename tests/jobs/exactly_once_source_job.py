"""A checkpointed job that reads a sequenced topic with PulsarSource and checks every record arrives once.

Runs in-process (tests call `build`) or on a standalone cluster (`flink run -py` this file with the flags below).
The checker reports to a results topic: "done:<partition>:<count>" once a partition's last record arrived with no
gap and no repeat, "violation:<partition>:<detail>" on any gap or repeat, "resumed:<partition>:<last sequence>"
when it starts from restored state, and "progress:<partition>:<sequence>" at each sequence that is a multiple of
PROGRESS_EVERY.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Iterable

import pulsar
from pyflink.common import Configuration, Types
from pyflink.datastream import KeyedProcessFunction, MapFunction, RuntimeContext, StreamExecutionEnvironment
from pyflink.datastream.state import ValueStateDescriptor

from connector import PulsarSource, SimpleStringSchema, StartCursor, clients

if not __package__:  # run as a script: the project root holds the `tests` package
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.jobs.mini_cluster import with_spare_taskmanager  # noqa: E402
from tests.sequenced import PROGRESS_EVERY, read_results  # noqa: E402


class FailOnce(MapFunction):
    """Raises once (per marker file) when the first partition to get there reaches a `seq` in `fail_at`: an injected
    failure. The fastest partition triggers it, so every partition still has records to read after each restart
    (a trigger on one partition let a partition read alone on a subtask finish before the later failures)."""

    def __init__(self, fail_at: list[int], marker_dir: str) -> None:
        self._fail_at = set(fail_at)
        self._marker_dir = marker_dir

    def map(self, value: tuple[int, int]) -> tuple[int, int]:
        partition, seq = value
        if seq in self._fail_at:
            try:  # "x": of two subtasks reaching `seq` at once, only the one that creates the marker raises
                open(os.path.join(self._marker_dir, f"failed-at-{seq}"), "x").close()
            except FileExistsError:
                return value
            raise RuntimeError(f"injected failure at partition {partition} sequence {seq}")
        return value


class SequenceChecker(KeyedProcessFunction):
    """Keyed by partition; keeps the last sequence in state and reports gaps, repeats and completion."""

    def __init__(self, service_url: str, results_topic: str, per_partition: int) -> None:
        self._service_url = service_url
        self._results_topic = results_topic
        self._per_partition = per_partition

    def open(self, runtime_context: RuntimeContext) -> None:
        self._last = runtime_context.get_state(ValueStateDescriptor("last-seq", Types.LONG()))
        self._client = clients.new_client(self._service_url)
        # Closed by the next attempt if this one fails (PyFlink does not close a failed attempt's functions).
        self._owner = ("sequence-checker", self._results_topic, runtime_context.get_index_of_this_subtask())
        clients.hold(self._owner, self._client.shutdown)
        self._results = self._client.create_producer(self._results_topic)
        self._seen_partitions: set[int] = set()

    def close(self) -> None:
        self._client.close()
        clients.release(self._owner, self._client.shutdown)

    def process_element(self, value: tuple[int, int], ctx: KeyedProcessFunction.Context) -> Iterable[int]:
        partition, seq = value
        last = self._last.value()
        if partition not in self._seen_partitions:
            self._seen_partitions.add(partition)
            if last is not None:
                self._results.send(f"resumed:{partition}:{last}".encode())
        expected = 0 if last is None else last + 1
        if seq != expected:
            kind = "repeat" if seq < expected else "gap"
            self._results.send(f"violation:{partition}:{kind} expected {expected} got {seq}".encode())
        self._last.update(seq)
        if seq == self._per_partition - 1 and seq == expected:
            self._results.send(f"done:{partition}:{seq + 1}".encode())
        if seq > 0 and seq % PROGRESS_EVERY == 0:
            self._results.send(f"progress:{partition}:{seq}".encode())
        yield seq


def build(env: StreamExecutionEnvironment, service_url: str, admin_url: str, topic: str, results_topic: str,
          per_partition: int, fail_at: list[int], marker_dir: str, max_records_per_poll: int = 2000,
          broker_outage_timeout_ms: int = 60_000, results_service_url: str | None = None) -> None:
    """The checked pipeline; results go to `results_service_url` (default: the source's broker)."""
    source = (PulsarSource.builder()
              .set_service_url(service_url)
              .set_admin_url(admin_url)
              .set_topics(topic)
              .set_start_cursor(StartCursor.earliest())
              .set_deserialization_schema(SimpleStringSchema())
              .set_partition_discovery_interval_ms(2000)
              .set_max_records_per_poll(max_records_per_poll)
              .set_broker_outage_timeout_ms(broker_outage_timeout_ms)
              .build())
    pair = Types.TUPLE([Types.INT(), Types.LONG()])
    (source.create_stream(env)
     .map(lambda text: tuple(int(part) for part in text.split(":")), output_type=pair).uid("parse")
     .map(FailOnce(fail_at, marker_dir), output_type=pair).uid("fail-once")
     .key_by(lambda value: value[0], key_type=Types.INT())
     .process(SequenceChecker(results_service_url or service_url, results_topic, per_partition),
              output_type=Types.LONG())
     .uid("sequence-checker")
     .filter(lambda _: False)
     .print())


def checkpointed_env(parallelism: int, checkpoint_ms: int, savepoint: str | None = None,
                     restart_delay: str = "1 s") -> StreamExecutionEnvironment:
    """A streaming env with checkpoints, a spare TaskManager, optionally a savepoint to resume, and up to 20 restarts in
    a row, the first `restart_delay` after the failure and each next one twice as long (at most 10 s; a run of 30 s
    starts the count again): about 160 s of restarts, which outlast a broker outage and a lost TaskManager's replacement
    on a loaded machine (every restart that finds no slot counts as one). The Python bundle time is left to the
    connector, as in a user's job."""
    config = Configuration()
    if savepoint:
        config.set_string("execution.state-recovery.path", savepoint)
    config.set_string("restart-strategy.type", "exponential-delay")
    config.set_string("restart-strategy.exponential-delay.initial-backoff", restart_delay)
    config.set_string("restart-strategy.exponential-delay.max-backoff", "10 s")
    config.set_string("restart-strategy.exponential-delay.backoff-multiplier", "2.0")
    config.set_string("restart-strategy.exponential-delay.reset-backoff-threshold", "30 s")
    config.set_string("restart-strategy.exponential-delay.attempts-before-reset-backoff", "20")
    env = StreamExecutionEnvironment.get_execution_environment(with_spare_taskmanager(config, parallelism))
    env.set_parallelism(parallelism)
    env.enable_checkpointing(checkpoint_ms)
    return env


def resume_to_end(savepoint: str, parallelism: int, service_url: str, admin_url: str, topic: str, results_topic: str,
                  partitions: int, per_partition: int, marker_dir: str, results_client: pulsar.Client) -> dict:
    """Runs the checked pipeline from `savepoint` at `parallelism` until every partition is done, cancels it, and
    returns the checker's results (`tests.sequenced.read_results`). Fails naming the job's status when the job ends
    first or 300 s pass without every partition done and no violation."""
    env = checkpointed_env(parallelism, checkpoint_ms=1000, savepoint=savepoint)
    build(env, service_url, admin_url, topic, results_topic, per_partition, [], marker_dir)
    client = env.execute_async(f"resume from a savepoint at parallelism {parallelism}")

    def still_running() -> None:
        status = client.get_job_status().result()
        assert not status.is_globally_terminal_state(), f"the resumed job ended {status} before its results"

    try:
        results = read_results(results_client, results_topic, partitions, timeout_s=300, each_second=still_running)
        assert results["violations"] or len(results["done"]) == partitions, (
            f"the resumed job ({client.get_job_status().result()}) finished {len(results['done'])} of {partitions} "
            f"partitions in 300 s: {results}")
        return results
    finally:
        client.cancel().result()


def main() -> None:
    parser = argparse.ArgumentParser()
    for flag in ("--service-url", "--admin-url", "--topic", "--results-topic", "--marker-dir"):
        parser.add_argument(flag, required=True)
    parser.add_argument("--per-partition", type=int, required=True)
    parser.add_argument("--fail-at", default="")
    parser.add_argument("--parallelism", type=int, default=2)
    parser.add_argument("--checkpoint-ms", type=int, default=1000)
    parser.add_argument("--max-records-per-poll", type=int, default=2000)
    parser.add_argument("--broker-outage-timeout-ms", type=int, default=60_000)
    parser.add_argument("--restart-delay", default="1 s")
    parser.add_argument("--results-service-url")
    args = parser.parse_args()
    env = checkpointed_env(args.parallelism, args.checkpoint_ms, restart_delay=args.restart_delay)
    fail_at = [int(x) for x in args.fail_at.split(",") if x]
    build(env, args.service_url, args.admin_url, args.topic, args.results_topic, args.per_partition, fail_at,
          args.marker_dir, args.max_records_per_poll, args.broker_outage_timeout_ms, args.results_service_url)
    env.execute("exactly-once source check")


if __name__ == "__main__":
    main()
