"""One benchmark job, the same for every connector and engine: Pulsar -> `BenchMap` (Python) -> Pulsar or discard.

    python benchmarks/pipeline_job.py SPEC.json

Runs under PyFlink 2.3 (this project's venv) or PyFlink 1.18 (the benchmark's second venv), with either this
project's connector (`"connector": "ours"`) or Apache's Java connector 4.1.0-1.18 (`"connector": "java"`, its jars
listed in `"jars"`), or no connector reading (`"connector": "pyflink"`: the idle-CPU floors, `"shape": "floor"` and
`"driver-floor"`, or the throughput ceilings, `"shape": "source"`, and `"shape": "pipeline"` into our sink), or the
raw client reading in the ceilings' shape (`"connector": "raw"`).
`benchmarks/compare.py` writes the spec, starts this script and measures from outside.

`BenchMap` is the Python map both pipelines share: upper-cases the string value, and records what the harness
needs without costing more than a clock read per record: per subtask the first and last record time and the
count (written at close), an injected failure when the harness creates `fail-now`, and the time of the first
record after the restore. In latency runs (`"map_latency": true`) it also appends, about once a second, each
record's send time (the 19-digit ns stamp its payload starts with) and the time the map saw it to
`map-latency-<subtask>-<attempt>.txt`.
"""

from __future__ import annotations

import glob
import json
import os
import sys
import time
import uuid

from pyflink.common import Configuration, Types
from pyflink.datastream import KeyedProcessFunction, MapFunction, RuntimeContext, StreamExecutionEnvironment


class InjectedFailure(RuntimeError):
    pass


class BenchMap(MapFunction):
    """Upper-cases each string (every variant, our EXACTLY_ONCE sink included: it runs fused behind our source and
    needs no sequence key)."""

    def __init__(self, probe_dir: str, map_latency: bool = False) -> None:
        self.probe_dir = probe_dir
        self.map_latency = map_latency

    def open(self, runtime_context: RuntimeContext) -> None:
        self.subtask = runtime_context.get_index_of_this_subtask()
        self.attempt = uuid.uuid4().hex[:6]
        self.count = 0
        self.first = self.last = 0.0
        self.next_check = self.next_flush = 0.0
        failed_before = bool(glob.glob(os.path.join(self.probe_dir, "failed-*")))
        self.armed = not failed_before
        self.awaiting_restore = failed_before
        self.seen: list[str] = []  # "send_ns seen_ns" lines, map_latency only

    def map(self, value):
        now = time.time()
        if not self.count:
            self.first = now
            if self.awaiting_restore:
                self._mark(f"restored-{self.subtask}-{self.attempt}", now)
        self.count += 1
        self.last = now
        if self.map_latency:
            self.seen.append(f"{value[:19]} {time.time_ns()}")
        if now >= self.next_check:
            self.next_check = now + 0.1
            if self.seen and now >= self.next_flush:
                self.next_flush = now + 1
                with open(os.path.join(self.probe_dir, f"map-latency-{self.subtask}-{self.attempt}.txt"), "a") as out:
                    out.write("\n".join(self.seen) + "\n")
                self.seen.clear()
            if self.armed and os.path.exists(os.path.join(self.probe_dir, "fail-now")):
                self.armed = False
                self._mark(f"failed-{self.subtask}-{self.attempt}", now)
                raise InjectedFailure("benchmark: injected failure")
        return value.upper()

    def close(self) -> None:
        self._mark(f"stats-{self.subtask}-{self.attempt}.json",
                   json.dumps({"count": self.count, "first": self.first, "last": self.last}))

    def _mark(self, name: str, content: object) -> None:
        with open(os.path.join(self.probe_dir, name), "w") as out:
            out.write(str(content))


def environment(spec: dict) -> StreamExecutionEnvironment:
    conf = Configuration()
    conf.set_string("rest.port", str(spec["rest_port"]))
    conf.set_string("restart-strategy.type", "fixed-delay")
    conf.set_string("restart-strategy.fixed-delay.attempts", "3")
    conf.set_string("restart-strategy.fixed-delay.delay", "1 s")
    conf.set_string("python.execution-mode", spec.get("execution_mode", "process"))
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    env.set_parallelism(spec["parallelism"])
    env.enable_checkpointing(spec["checkpoint_ms"])
    env.set_python_executable(sys.executable)
    if spec.get("jars"):
        env.add_jars(*(f"file://{jar}" for jar in spec["jars"]))
    return env


def ours(env: StreamExecutionEnvironment, spec: dict):
    from connector import PulsarSource, SimpleStringSchema, StartCursor, StopCursor

    builder = (PulsarSource.builder().set_service_url(spec["service_url"]).set_admin_url(spec["admin_url"])
               .set_topics(spec["input"]).set_deserialization_schema(SimpleStringSchema())
               .set_start_cursor(StartCursor.earliest()))
    if spec["bounded"]:
        builder = builder.set_bounded_stop_cursor(StopCursor.latest())
    return builder.build().create_stream(env), our_sink(spec)


def our_sink(spec: dict):
    """What writes `ours` pipelines' (and the PyFlink pipeline ceiling's) mapped records to `spec["output"]`."""
    from pyflink.datastream.connectors.base import DeliveryGuarantee

    from connector import SimpleStringSchema
    from connector.sink import PulsarSink

    def sink(mapped):
        (PulsarSink.builder().set_service_url(spec["service_url"]).set_admin_url(spec["admin_url"])
         .set_topics(spec["output"]).set_serialization_schema(SimpleStringSchema())
         .set_delivery_guarantee(DeliveryGuarantee[spec["guarantee"]]).build().sink_to(mapped))

    return sink


def java(env: StreamExecutionEnvironment, spec: dict):
    from pyflink.common import WatermarkStrategy
    from pyflink.common.serialization import SimpleStringSchema
    from pyflink.datastream.connectors.base import DeliveryGuarantee
    from pyflink.datastream.connectors.pulsar import PulsarSink, PulsarSource, StartCursor, StopCursor

    builder = (PulsarSource.builder().set_service_url(spec["service_url"]).set_admin_url(spec["admin_url"])
               .set_topics(spec["input"]).set_subscription_name(f"bench-{uuid.uuid4().hex[:8]}")
               .set_deserialization_schema(SimpleStringSchema()).set_start_cursor(StartCursor.earliest()))
    if spec["bounded"]:
        builder = builder.set_bounded_stop_cursor(StopCursor.latest())
    stream = env.from_source(builder.build(), WatermarkStrategy.no_watermarks(), "java pulsar source")

    def sink(mapped):
        mapped.sink_to(PulsarSink.builder().set_service_url(spec["service_url"]).set_admin_url(spec["admin_url"])
                       .set_topics(spec["output"]).set_serialization_schema(SimpleStringSchema())
                       .set_delivery_guarantee(DeliveryGuarantee[spec["guarantee"]]).build())

    return stream, sink


class Nothing(KeyedProcessFunction):
    """An idle Python keyed step: emits nothing."""

    def process_element(self, value, ctx):
        return []


class Steps(KeyedProcessFunction):
    """On each element, one element per key of `keys`, as our source's discovery step emits them to its readers."""

    def __init__(self, keys: int) -> None:
        self.keys = keys

    def process_element(self, value, ctx):
        for key in range(self.keys):
            yield str(key)


def idle_readers(env: StreamExecutionEnvironment, ticks_per_second: int, driver: KeyedProcessFunction):
    """Datagen ticks (parallelism 1) -> `driver` (a Python keyed step, parallelism 1) -> keyed into the idle Python
    operator `BenchMap` fuses with: the shape of our unbounded source without Pulsar."""
    from pyflink.table import DataTypes, Schema, StreamTableEnvironment, TableDescriptor

    table_env = StreamTableEnvironment.create(env)
    ticks = table_env.to_data_stream(table_env.from_descriptor(
        TableDescriptor.for_connector("datagen")
        .schema(Schema.new_builder().column("tick", DataTypes.TINYINT()).build())
        .option("rows-per-second", str(ticks_per_second)).option("scan.parallelism", "1").build()))
    return (ticks.key_by(lambda _: 0, key_type=Types.INT()).process(driver, output_type=Types.STRING())
            .set_parallelism(1).key_by(lambda value: value, key_type=Types.STRING())
            .process(Nothing(), output_type=Types.STRING()))


def floor(env: StreamExecutionEnvironment, spec: dict):
    """PyFlink alone, shaped like our unbounded source without Pulsar, at its least: a datagen tick a second into a
    Python keyed step that emits nothing, PyFlink's default bundle time. What an idle Python-driven source costs
    before it reads anything (`compare.idle_run`)."""
    return idle_readers(env, 1, Nothing()), None


def driver_floor(env: StreamExecutionEnvironment, spec: dict):
    """PyFlink alone in the shape of our unbounded source's driver, no Pulsar: datagen ticks at the rate the source
    uses with its default poll interval, a step per tick emitting one element per reader key (READER_KEYS, as over
    32 or more partitions), and the bundle time the connector sets; idle readers run no timer chain. What the drive
    alone costs an idle source before any reader polls (`compare.idle_run`)."""
    from connector.python_runtime import set_bundle_time_unless_set
    from connector.source.assignment import READER_KEYS
    from connector.source.builder import PulsarSource
    from connector.source.pacing import ticks_per_second

    poll_interval_ms = PulsarSource.poll_interval_ms  # the default
    set_bundle_time_unless_set(env._j_stream_execution_environment)
    return idle_readers(env, ticks_per_second(poll_interval_ms), Steps(READER_KEYS)), None


def ceiling(env: StreamExecutionEnvironment, spec: dict):
    """PyFlink alone, shaped like our bounded source without Pulsar: one datagen row per partition, read by a Python
    step that emits that partition's share of the records (one prepared string of the records' size, so nothing is
    read, decoded or built), into the Python operator `BenchMap` fuses with. The most records a second any source
    written in Python can hand to a user's map on this engine (`compare.throughput_run`). As a pipeline
    (`"shape": "pipeline"`) the map's output goes to our sink: the most records a second any pipeline with that sink
    can write, since it reads nothing."""
    partitions, records = spec["partitions"], spec["records"]
    payload = "x" * spec["size"]

    def emit(split):
        share = records // partitions + (1 if split < records % partitions else 0)
        for _ in range(share):
            yield payload

    stream = partition_rows(env, partitions).flat_map(lambda row: emit(row[0]), output_type=Types.STRING())
    return stream, our_sink(spec) if spec["shape"] == "pipeline" else None


def partition_rows(env: StreamExecutionEnvironment, partitions: int):
    """A bounded datagen stream of one row per partition, its number (0 to `partitions` - 1) in field 0."""
    from pyflink.table import DataTypes, Schema, StreamTableEnvironment, TableDescriptor

    table_env = StreamTableEnvironment.create(env)
    return table_env.to_data_stream(table_env.from_descriptor(
        TableDescriptor.for_connector("datagen").schema(Schema.new_builder().column("split", DataTypes.INT()).build())
        .option("fields.split.kind", "sequence").option("fields.split.start", "0")
        .option("fields.split.end", str(partitions - 1)).build()))


def raw_reads(env: StreamExecutionEnvironment, spec: dict):
    """The ceiling's shape (`ceiling`), but each partition's step reads its partition of the input with the raw
    client: a `Reader.read_next` loop (the receiver queue our source uses by default) that decodes each payload as
    `SimpleStringSchema` does and keeps nothing: no position, no redelivery or stop check, no metrics. What a Python
    source that does nothing but read with this client's public API hands to a user's map on this engine: the
    reference for ours. As a pipeline, into our sink: what a pipeline with such a source and our sink writes."""
    service_url, topic = spec["service_url"], spec["input"]

    def read(split: int):
        import pulsar

        client = pulsar.Client(service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Error))
        reader = client.create_reader(f"{topic}-partition-{split}", pulsar.MessageId.earliest,
                                      receiver_queue_size=1000)
        try:
            while True:
                try:
                    yield reader.read_next(1000).data().decode()
                except pulsar.Timeout:
                    if not reader.has_message_available():
                        return
        finally:
            client.close()

    stream = partition_rows(env, spec["partitions"]).flat_map(lambda row: read(row[0]), output_type=Types.STRING())
    return stream, our_sink(spec) if spec["shape"] == "pipeline" else None


def main() -> None:
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    env = environment(spec)
    pyflink = {"floor": floor, "driver-floor": driver_floor}.get(spec["shape"], ceiling)
    build = {"ours": ours, "java": java, "pyflink": pyflink, "raw": raw_reads}[spec["connector"]]
    stream, sink = build(env, spec)
    mapped = stream.map(BenchMap(spec["probe_dir"], spec.get("map_latency", False)),
                        output_type=Types.STRING()).name("bench map")
    if spec["shape"] == "pipeline":
        sink(mapped)
    else:  # source only: nothing leaves the Python operator
        mapped.filter(lambda _: False).print()
    env.execute(f"bench {spec['connector']} {spec['shape']}")


if __name__ == "__main__":
    main()
