"""Benchmarks side by side: this connector vs Apache's Java Pulsar connector vs the raw Python client.

    ./dev bench            # full: 1M records of 100 B and of 1 KB, median of 3 runs, latency + failure runs
    ./dev bench --quick    # 100k records, 1 run, shorter latency window: to try it
    ./dev bench --soak     # also: our pipeline 10 minutes at full rate, RSS and JVM pools sampled (memory flat?)
    ./dev bench --profile  # instead: py-spy over the throughput runs of ours and of PyFlink alone on 2.3 (--only)

Everything runs on one separate local broker (`bench`, ports 26650/28080, started and stopped here), 4-partition
topics, parallelism 2, checkpoints every 10 s, restart strategy fixed-delay (1 s) for every job. Each job is
`benchmarks/pipeline_job.py` in its own process (PyFlink local mini cluster), with the same Python map. Its Python
operators run in a worker process per subtask, as on a cluster (`--python-workers process`, the default: PyFlink's
`_python_worker_execution_mode`); `--python-workers loopback` runs them all in the job script's process, as a local
`python job.py` does unless told otherwise (every subtask then shares one GIL). The jobs:

  ours-pipeline     PulsarSource -> map -> PulsarSink (AT_LEAST_ONCE), PyFlink 2.3
  ours-pipeline-eo  PulsarSource -> map -> PulsarSink (EXACTLY_ONCE, output on a deduplicating namespace), PyFlink 2.3
  java-pipeline     Java PulsarSource -> map -> Java PulsarSink (AT_LEAST_ONCE), connector 4.1.0-1.18, PyFlink 1.18
  ours118-pipeline  ours on PyFlink 1.18 (so the engine version is not the difference)
  ours-source       PulsarSource -> map -> discard, PyFlink 2.3
  java-source       Java PulsarSource -> map -> discard, PyFlink 1.18
  pyflink-source    no Pulsar: a Python step emits the same number of records of the same size from memory -> map
                    -> discard, PyFlink 2.3: the most any Python source can hand to a map on this engine (ceiling)
  pyflink-pipeline  the same from memory -> map -> PulsarSink (AT_LEAST_ONCE): the most a pipeline writing with our
                    sink can reach on this engine, since it reads nothing (ceiling)
  rawread-source    PyFlink and the raw client: the ceiling's Python step reads each partition instead (a
                    `Reader.read_next` loop that decodes each payload and keeps nothing: no position, no checks, no
                    metrics) -> map -> discard, PyFlink 2.3: what reading costs a Python source on this engine
  rawread-pipeline  the same -> map -> PulsarSink (AT_LEAST_ONCE)
  pyflink118-source, pyflink118-pipeline
                    the same two ceilings on PyFlink 1.18: how much of a gap between engines is PyFlink's own
  raw produce/read  pulsar-client: one batching producer loop; one `Reader.read_next` loop per partition, one
                    partition after the other, in one thread

Figures:
- records/s, MB/s: pipelines from the output topic (records / (last - first publish time)); source-only jobs from
  the map (records / (last - first record seen)). Both exclude job start-up and shut-down, the same way for all.
  The runs go in turns (every variant's first, then every variant's second, ...), so the machine's drift falls on all.
- latency p50/p99: an unbounded job, a producer at a fixed rate (--rate, and --low-rate) stamping the send time
  into the payload; to the output topic (a plain consumer's receive time - send time) and to the user's map (the
  time the map saw the record - send time).
- sink alone: `PulsarWriter` without Flink vs raw `send_async` loops, one producer per partition, medians of 3
  rounds of all (benchmarks/sink_writer.py).
- many partitions: source-only jobs and the raw read over the same records in 256 partitions (a key-routed
  producer batches per partition, so there they make smaller entries: records per entry is reported); idle
  partitions: CPU of a source-only job over 4, 256 and 1,000 partitions that never get a message, and of PyFlink
  alone: a datagen driver into two idle Python operators, and the same in our source's driver shape (the floors).
- peak RSS: sampled every 0.5 s from /proc over the job process and its descendants (JVM vs Python processes).
- CPU a record (throughput, tail and backlog runs): user + system seconds from /proc, sampled every 0.5 s, of the
  job's JVMs and Python processes, the broker, this harness (the tail runs' producer) and the machine's busy time,
  read off at the two ends of the span the rate was measured over, divided by its records.
- checkpoint duration: the REST API of the job's mini cluster (end-to-end duration, median and max).
- recovery: after the latency window the map raises once; time from the raise to the first record the map sees
  after the restore (from the last completed checkpoint).
- change events: Debezium JSON change events through the changelog decode into a SQL aggregate, next to plain JSON
  rows through the same aggregate, half as many messages as records, at most 200,000 (benchmarks/cdc.py).
- checkpoints under backpressure: our EXACTLY_ONCE pipeline (unbounded, source defaults) over a backlog written
  before it starts, checkpoints every second; end-to-end duration p50/p99/max (REST API) until the last record.
- tail reads: each pipeline of ours and Java's, unbounded, started on an empty topic that the raw produce loop then
  fills at full rate (the job reads what is being written, not a backlog); records/s as for the throughput runs.
Writes results/bench-<time>.{md,json,png} and results/latest.{md,json,png}; prints the table.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pulsar

from benchmarks import cdc, engines, sink_writer
from connector.admin import PulsarAdmin
from connector.source.lag import ledger_entries
from devtools.processes import await_group
from devtools.pulsar_standalone import Broker, scratch

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results"
JOB = Path(__file__).resolve().parent / "pipeline_job.py"
BROKER = Broker(name="bench", port=26650, web_port=28080)
PARTITIONS = 4
PARALLELISM = 2
CHECKPOINT_MS = 10_000
NAMESPACE = "public/default"
DEDUP_NAMESPACE = "public/bench-dedup"  # EXACTLY_ONCE output: the broker deduplicates here
BACKLOG_CHECKPOINT_MS = 1_000
IDLE_PARTITIONS = (4, 256, 1000)  # the idle-CPU runs; the Java source runs the last only
SCALING_PARTITIONS = 256
CALLBACK_EVERY = 1000  # produce(): the sends whose result it asks for
PYTHON_WORKERS = "_python_worker_execution_mode"  # PyFlink's switch: "process" or "loopback" (its local default)
PYTHON_WORKER_TEXT = {"process": "a process per subtask, as on a cluster",
                      "loopback": "all in the job script's process (PyFlink's local default)",
                      None: "all in the job script's process (reports before the option)"}


class BrokerFailed(RuntimeError):
    """The bench broker failed a send: it cannot store records (its log says why), so no later run would measure."""


@dataclass(frozen=True)
class Variant:
    key: str
    label: str
    connector: str  # ours | java | pyflink (no connector: the engine's own floor and ceiling) | raw (the raw client)
    engine: str     # 2.3 | 1.18
    shape: str      # pipeline | source | floor | driver-floor
    guarantee: str = "AT_LEAST_ONCE"


VARIANTS = [
    Variant("ours-pipeline", "ours, source -> map -> sink, PyFlink 2.3", "ours", "2.3", "pipeline"),
    Variant("ours-pipeline-eo", "ours, source -> map -> sink EXACTLY_ONCE, PyFlink 2.3", "ours", "2.3", "pipeline",
            "EXACTLY_ONCE"),
    Variant("java-pipeline", "Java connector 4.1.0-1.18, source -> map -> sink, PyFlink 1.18", "java", "1.18",
            "pipeline"),
    Variant("ours118-pipeline", "ours, source -> map -> sink, PyFlink 1.18", "ours", "1.18", "pipeline"),
    Variant("ours-source", "ours, source -> map -> discard, PyFlink 2.3", "ours", "2.3", "source"),
    Variant("java-source", "Java connector 4.1.0-1.18, source -> map -> discard, PyFlink 1.18", "java", "1.18",
            "source"),
    Variant("pyflink-source", "PyFlink alone: a Python step emits the records from memory -> map -> discard, 2.3",
            "pyflink", "2.3", "source"),
    Variant("pyflink-pipeline", "PyFlink alone: a Python step emits the records from memory -> map -> our sink, 2.3",
            "pyflink", "2.3", "pipeline"),
    Variant("rawread-source", "PyFlink and the raw client: a Python step reads each partition (read_next, decode) "
            "-> map -> discard, 2.3", "raw", "2.3", "source"),
    Variant("rawread-pipeline", "PyFlink and the raw client: a Python step reads each partition (read_next, decode) "
            "-> map -> our sink, 2.3", "raw", "2.3", "pipeline"),
    Variant("pyflink118-source", "PyFlink alone: a Python step emits the records from memory -> map -> discard, 1.18",
            "pyflink", "1.18", "source"),
    Variant("pyflink118-pipeline", "PyFlink alone: a Python step emits the records from memory -> map -> our sink, "
            "1.18", "pyflink", "1.18", "pipeline"),
]
IDLE_FLOOR = Variant("pyflink-floor", "PyFlink alone: datagen -> two idle Python operators, no Pulsar", "pyflink",
                     "2.3", "floor")
IDLE_DRIVER_FLOOR = Variant("pyflink-driver-floor", "PyFlink alone in our source's driver shape: ticks, an element per "
                            "reader key, the connector's bundle time; no Pulsar", "pyflink", "2.3", "driver-floor")
IDLE_FLOORS = (IDLE_FLOOR, IDLE_DRIVER_FLOOR)
EXACTLY_ONCE_PIPELINE = VARIANTS[1]  # also the backlog run's (checkpoints under backpressure)


@dataclass
class JobRun:
    """What one job process did, measured from outside."""

    variant: str
    ok: bool
    wall_s: float
    records: int = 0
    rate: float = 0.0
    peak_rss_mb: dict[str, float] = field(default_factory=dict)
    checkpoints: dict = field(default_factory=dict)
    cpu_us: dict[str, float] = field(default_factory=dict)  # `cpu_per_record` over the measured span
    error: str = ""


# -- the raw client ------------------------------------------------------------------------------------------

def client() -> pulsar.Client:
    return pulsar.Client(BROKER.service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Error))


def new_topic(admin: PulsarAdmin, what: str, namespace: str = NAMESPACE, partitions: int = PARTITIONS) -> str:
    """A fresh topic; `partitions` 0: not partitioned."""
    topic = f"persistent://{namespace}/bench-{uuid.uuid4().hex[:8]}-{what}"
    if partitions:
        admin.create_partitioned_topic(topic, partitions)
    else:
        admin.create_topic(topic)
    return topic


def output_namespace(admin: PulsarAdmin, guarantee: str) -> str:
    """Where a job writes under `guarantee`: EXACTLY_ONCE needs DEDUP_NAMESPACE (created, with deduplication on, if
    it is not there yet), the others NAMESPACE."""
    if guarantee != "EXACTLY_ONCE":
        return NAMESPACE
    admin.create_namespace(DEDUP_NAMESPACE, exist_ok=True)
    admin.set_deduplication(DEDUP_NAMESPACE, True)
    return DEDUP_NAMESPACE


def produce(topic: str, records: int, size: int, batching_delay_ms: int = 10) -> float:
    """The raw produce rate: one batching producer (the client's default delay unless given), send_async in a loop,
    then flush.

    Raises `BrokerFailed` once one of the sends it asks about failed: every CALLBACK_EVERY-th send has a callback
    (one each would slow the loop it measures). A broker that stores nothing fails them all after the client's send
    timeout (30 s): with the broker frozen, this raised 60 s later. Without it the loop went on at one queue of sends
    (20,000) per timeout, about 25 minutes for a run's million records."""
    c = client()
    producer = c.create_producer(topic, batching_enabled=True, block_if_queue_full=True,
                                 max_pending_messages=20_000, batching_max_messages=1000,
                                 batching_max_publish_delay_ms=batching_delay_ms)
    payload = b"x" * size
    failures: list[str] = []

    def sent(result: pulsar.Result, _message_id: object) -> None:
        if result != pulsar.Result.Ok:
            failures.append(str(result))

    try:
        began = time.perf_counter()
        for i in range(records):
            producer.send_async(payload, None if i % CALLBACK_EVERY else sent, partition_key=str(i))
            if failures:
                break
        else:
            producer.flush()
        rate = records / (time.perf_counter() - began)
    finally:
        c.close()
    if failures:
        raise BrokerFailed(f"the {BROKER.name} broker failed a send to {topic} ({failures[0]}); its log: "
                           f"{BROKER.log_file}")
    return rate


def raw_read(topic: str, partitions: int = PARTITIONS) -> tuple[int, float]:
    """The raw read rate: one `Reader.read_next` loop per partition, one after the other (timeouts excluded)."""
    c = client()
    count, began, idle_wait_s = 0, time.perf_counter(), 0.2
    for p in range(partitions):
        reader = c.create_reader(f"{topic}-partition-{p}", pulsar.MessageId.earliest, receiver_queue_size=2000)
        while True:
            try:
                reader.read_next(int(idle_wait_s * 1000))
            except pulsar.Timeout:
                break
            count += 1
        reader.close()
    elapsed = time.perf_counter() - began - idle_wait_s * partitions
    c.close()
    return count, count / elapsed


def records_per_entry(admin: PulsarAdmin, topic: str, records: int) -> float:
    """`records` over the entries stored in the partitions of `topic`: how full its producer's batches were.

    A key-routed producer batches per partition, so the same records in more partitions make more, smaller entries,
    and the broker and the client pay per entry."""
    stats = admin.partitioned_internal_stats(topic)
    entries = sum(sum(count for _, count in ledger_entries(partition)) for partition in stats.values())
    return records / entries if entries else 0.0


def output_span(topic: str) -> tuple[int, float, float]:
    """Records in `topic` and the publish times (epoch s) of its first and last."""
    c = client()
    count, first, last = 0, None, None
    for p in range(PARTITIONS):
        reader = c.create_reader(f"{topic}-partition-{p}", pulsar.MessageId.earliest, receiver_queue_size=5000)
        while True:
            try:
                published = reader.read_next(1000).publish_timestamp()
            except pulsar.Timeout:
                break
            count += 1
            first = published if first is None or published < first else first
            last = published if last is None or published > last else last
        reader.close()
    c.close()
    return count, (first or 0) / 1000, (last or 0) / 1000


def written_output(admin: PulsarAdmin, job: Job, topic: str, records: int, timeout_s: float,
                   each_poll: Callable[[], None]) -> dict[str, Any]:
    """Once the unbounded `job` has written `records` to its output `topic` (the broker's count; `each_poll` is
    called every half second meanwhile, and it raises after `timeout_s`): the output's rate (records / publish-time
    span), its records beyond `records` (duplicates) and the CPU a record over that span (`cpu_per_record`)."""
    deadline, written = time.monotonic() + timeout_s, 0
    while written < records and time.monotonic() < deadline:
        time.sleep(0.5)
        written = admin.partitioned_stats(topic).get("msgInCounter", 0)
        each_poll()
    if written < records:
        raise RuntimeError(f"only {written} of {records} records written in time:\n{job.log_tail()}")
    count, first, last = output_span(topic)
    return {"rate": round(count / (last - first)) if last > first else 0, "duplicates": count - records,
            "cpu_us": cpu_per_record(job.sampler.cpu, first, last, count)}


# -- a job process and what is sampled around it ------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _process_name(pid: int) -> str:
    """The name of process `pid` (/proc/<pid>/comm, the same as `Name` in its status), "" once it ended."""
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def _kind(process_name: str) -> str:
    """Which side of a job a process of the tree is: "jvm" (the mini cluster, a TaskManager) or "python"."""
    return "jvm" if process_name == "java" else "python"


def _process_cpu(pid: int | None) -> tuple[str, float] | None:
    """The name of process `pid` and its user + system CPU seconds so far (all its threads); None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            name, fields = f.read().split("(", 1)[1].rsplit(")", 1)
    except OSError:
        return None
    fields = fields.split()
    return name, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def _cpu_seconds(tree: list[int]) -> dict[str, float]:
    """User + system CPU seconds so far of the live processes of `tree` (`_descendants`): the JVM(s), the Python
    processes."""
    seconds = {"jvm": 0.0, "python": 0.0}
    for name, used in filter(None, map(_process_cpu, tree)):
        seconds[_kind(name)] += used
    return seconds


def _machine_busy_seconds() -> float:
    """CPU seconds the machine's cores spent busy (not idle, not waiting for I/O) since boot."""
    with open("/proc/stat") as f:
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in f.readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def cpu_totals(tree: list[int]) -> dict[str, float]:
    """CPU seconds so far of the job's JVMs and Python processes (`tree`, `_descendants` of the job's process), the
    broker, this harness (which runs the tail runs' producer) and the whole machine."""
    broker = _process_cpu(BROKER.pid())
    return {**_cpu_seconds(tree), "broker": broker[1] if broker else 0.0, "harness": sum(os.times()[:2]),
            "machine": _machine_busy_seconds()}


def cpu_per_record(series: list[tuple[float, dict[str, float]]], first: float, last: float,
                   records: int) -> dict[str, float]:
    """Microseconds of CPU a record of each kind in `series` ((epoch s, CPU seconds so far per kind), in time order)
    between `first` and `last` (epoch s, the span a rate was measured over), each total read off the series by
    linear interpolation, and `machine_busy_pct`: the machine's busy share of all its cores then. Empty when the
    span is not inside the series or holds no record."""
    if records <= 0 or last <= first or len(series) < 2 or not series[0][0] <= first < last <= series[-1][0]:
        return {}

    def at(moment: float) -> dict[str, float]:
        index = next(i for i in range(1, len(series)) if series[i][0] >= moment)
        (t0, v0), (t1, v1) = series[index - 1], series[index]
        share = (moment - t0) / (t1 - t0) if t1 > t0 else 1.0
        return {kind: v0[kind] + share * (v1[kind] - v0[kind]) for kind in v0}

    start, end = at(first), at(last)
    used = {kind: end[kind] - start[kind] for kind in start}
    result = {kind: round(seconds / records * 1e6, 1) for kind, seconds in used.items()}
    result["machine_busy_pct"] = round(used["machine"] / ((last - first) * (os.cpu_count() or 1)) * 100, 1)
    return result


def _rss_by_kind(tree: list[int]) -> dict[str, float]:
    """RSS in MB of the processes of `tree` (`_descendants`, its root first): the JVM(s) and the Python processes, and
    of those the driver alone (the root: the job script; a local run's Python operators run in it too, PyFlink's
    loopback mode)."""
    kinds = {"jvm": 0.0, "python": 0.0, "driver": 0.0}
    for pid in tree:
        try:
            with open(f"/proc/{pid}/status") as f:
                status = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        rss = int(status.get("VmRSS", "0 kB").split()[0]) / 1024
        kinds[_kind(status.get("Name", "").strip())] += rss
        if pid == tree[0]:
            kinds["driver"] = rss
    return kinds


class Rest:
    """The job's mini cluster REST API."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def get(self, path: str):
        with urllib.request.urlopen(self.base + path, timeout=2) as response:
            return json.loads(response.read())

    def job(self) -> tuple[str, str] | None:
        try:
            jobs = self.get("/jobs/overview")["jobs"]
        except Exception:
            return None
        return (jobs[0]["jid"], jobs[0]["state"]) if jobs else None

    def all_running(self, jid: str) -> bool:
        try:
            vertices = self.get(f"/jobs/{jid}")["vertices"]
        except Exception:
            return False
        return all(v["status"] == "RUNNING" for v in vertices)

    def cancel(self, jid: str) -> None:
        request = urllib.request.Request(f"{self.base}/jobs/{jid}?mode=cancel", method="PATCH")
        try:
            urllib.request.urlopen(request, timeout=5).read()
        except Exception:
            pass


class Sampler(threading.Thread):
    """Every `interval_s`: RSS of the job's process tree (peak kept, and a series per kind) and the CPU totals
    (`cpu_totals`, a series: `cpu_per_record` takes a span of it); every 4th time the
    checkpoint summary and the failures the job restarted from (the mini cluster's REST API ends with the job)."""

    def __init__(self, pid: int, rest: Rest, interval_s: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid, self.rest, self.interval_s = pid, rest, interval_s
        self.peak = {"jvm": 0.0, "python": 0.0, "driver": 0.0, "total": 0.0}
        self.series: list[tuple[float, dict[str, float]]] = []  # (seconds since start, MB per kind and total)
        self.checkpoints: dict = {}
        self.failures: list[str] = []  # "<task>: <first line of the exception>", oldest first
        self.cpu: list[tuple[float, dict[str, float]]] = []  # (epoch s, `cpu_totals`)
        self.jid: str | None = None
        self._halt = threading.Event()

    def run(self) -> None:
        began = time.monotonic()
        ticks = 0
        while not self._halt.wait(self.interval_s):
            tree = _descendants(self.pid)  # one scan of /proc a tick, for the RSS and the CPU alike
            rss = _rss_by_kind(tree)
            rss["total"] = rss["jvm"] + rss["python"]
            for kind, value in rss.items():
                self.peak[kind] = max(self.peak[kind], value)
            self.series.append((time.monotonic() - began, rss))
            self.cpu.append((time.time(), cpu_totals(tree)))
            ticks += 1
            if ticks % 4 == 0:
                job = self.rest.job()
                if job:
                    self.jid = job[0]
                    try:
                        self.checkpoints = self.rest.get(f"/jobs/{job[0]}/checkpoints")
                        self.failures = _failures(self.rest.get(f"/jobs/{job[0]}/exceptions?maxExceptions=20"))
                    except Exception:
                        pass

    def stop(self) -> None:
        self._halt.set()
        self.join()


def _failures(raw: dict) -> list[str]:
    """The job's exception history (the failures it restarted from), oldest first, one line each."""
    entries = raw.get("exceptionHistory", {}).get("entries", [])
    return [f"{e.get('taskName') or 'job'}: {(e.get('stacktrace') or e.get('exceptionName', '')).splitlines()[0]}"
            for e in reversed(entries)]


def checkpoint_summary(raw: dict) -> dict:
    counts = raw.get("counts", {})
    duration = raw.get("summary", {}).get("end_to_end_duration", {})
    summary = {"completed": counts.get("completed", 0), "failed": counts.get("failed", 0),
               "p50_ms": duration.get("p50", duration.get("avg")), "p99_ms": duration.get("p99"),
               "max_ms": duration.get("max")}
    failed = (raw.get("latest") or {}).get("failed") or {}
    if summary["failed"]:  # why the last one failed (the history keeps only the latest few)
        summary["latest_failure"] = (f"checkpoint {failed.get('id')}: {failed.get('failure_message')}" if failed else
                                     "none listed (one that failed to trigger, e.g. before every task ran, is only "
                                     "counted)")
    return summary


class Job:
    """One `pipeline_job.py` process for `variant`; stop what it started with `finish()`."""

    def __init__(self, variant: Variant, input_topic: str, output_topic: str, bounded: bool,
                 checkpoint_ms: int = CHECKPOINT_MS, map_latency: bool = False, records: int = 0,
                 size: int = 0, jvm_args: str = "") -> None:
        """`records` and `size` are what the PyFlink ceiling emits in place of reading `input_topic`; `jvm_args` are
        extra options of the job's JVM (PyFlink's gateway reads `JVM_ARGS`)."""
        self.variant = variant
        self.probe_dir = Path(tempfile.mkdtemp(prefix="bench-probe-"))
        self.rest = Rest(free_port())
        spec = {"connector": variant.connector, "shape": variant.shape, "guarantee": variant.guarantee,
                "service_url": BROKER.service_url, "admin_url": BROKER.admin_url, "input": input_topic,
                "output": output_topic, "bounded": bounded, "parallelism": PARALLELISM,
                "checkpoint_ms": checkpoint_ms, "rest_port": int(self.rest.base.rsplit(":", 1)[1]),
                "probe_dir": str(self.probe_dir), "map_latency": map_latency, "records": records, "size": size,
                "partitions": PARTITIONS,
                "jars": engines.java_connector_jars() if variant.connector == "java" else []}
        (self.probe_dir / "spec.json").write_text(json.dumps(spec))
        self.log = self.probe_dir / "job.log"
        self.began = time.monotonic()
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [str(engines.python_for(variant.engine)), str(JOB), str(self.probe_dir / "spec.json")],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT,
                env={**engines.job_environment(variant.engine), **({"JVM_ARGS": jvm_args} if jvm_args else {})},
                start_new_session=True)
        self.sampler = Sampler(self.process.pid, self.rest)
        self.sampler.start()

    def wait_running(self, timeout_s: float = 180) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.variant.key} job exited early:\n{self.log_tail()}")
            job = self.rest.job()
            if job and job[1] == "RUNNING" and self.rest.all_running(job[0]):
                return job[0]
            time.sleep(0.5)
        raise RuntimeError(f"{self.variant.key} job not running after {timeout_s} s:\n{self.log_tail()}")

    def wait(self, timeout_s: float) -> bool:
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            return False
        return self.process.returncode == 0

    def cancel(self) -> None:
        job = self.rest.job()
        if job:
            self.rest.cancel(job[0])
        if not self.wait(60):
            self.finish()

    def finish(self) -> None:
        """End the job process group this Job started (and nothing else). A job that ended by itself leaves its Python
        workers closing their operators (PyFlink closes them after the JVM's tasks finished): wait up to 20 s for them,
        so that what they write at close (the map's counts) is there when this returns."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            except ProcessLookupError:
                pass
        await_group(self.process.pid, timeout_s=20)
        if self.sampler.is_alive():
            self.sampler.stop()

    def probe(self, prefix: str) -> list[Path]:
        return sorted(self.probe_dir.glob(prefix + "*"))

    def map_latencies(self) -> list[tuple[int, int]]:
        """(send ns, ns from send to the map) of each record the map saw so far (latency runs; about 1 s behind)."""
        samples = []
        for path in self.probe("map-latency-"):
            for line in path.read_text().splitlines():
                sent, seen = line.split()
                if sent.isdigit():
                    samples.append((int(sent), int(seen) - int(sent)))
        return samples

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def cleanup(self) -> None:
        shutil.rmtree(self.probe_dir, ignore_errors=True)

    def end(self, admin: PulsarAdmin, *topics: str) -> None:
        """Cancel an unbounded job, end its processes, drop its probe files and its topics."""
        self.cancel()
        self.finish()
        self.cleanup()
        for topic in topics:
            admin.delete_topic(topic)


# -- throughput -----------------------------------------------------------------------------------------------

def throughput_run(admin: PulsarAdmin, variant: Variant, input_topic: str, records: int, size: int) -> JobRun:
    output = new_topic(admin, "out", output_namespace(admin, variant.guarantee))
    job = Job(variant, input_topic, output, bounded=True, records=records, size=size)
    ok = job.wait(timeout_s=max(600, records / 500))
    wall = time.monotonic() - job.began
    job.finish()
    run = JobRun(variant.key, ok, wall, peak_rss_mb={k: round(v) for k, v in job.sampler.peak.items()},
                 checkpoints=checkpoint_summary(job.sampler.checkpoints))
    if not ok:
        run.error = job.log_tail()
    else:
        if variant.shape == "pipeline":
            run.records, first, last = output_span(output)
        else:
            stats = [json.loads(p.read_text()) for p in job.probe("stats-")]
            run.records = sum(s["count"] for s in stats)
            busy = [s for s in stats if s["count"]]
            first, last = (min(s["first"] for s in busy), max(s["last"] for s in busy)) if busy else (0, 0)
        run.rate = run.records / (last - first) if last > first else 0.0
        run.cpu_us = cpu_per_record(job.sampler.cpu, first, last, run.records)
    if ok and run.records < records:
        run.ok, run.error = False, f"only {run.records} of {records} records arrived"
    if job.sampler.failures:  # a restart replays from a checkpoint: the counts and the rate measure something else
        run.ok = False
        run.error = (f"the job restarted {len(job.sampler.failures)} time(s), first after "
                     f"{job.sampler.failures[0]}; {run.error}")
    admin.delete_topic(output)
    job.cleanup()
    return run


# -- latency and recovery --------------------------------------------------------------------------------------

class LatencyConsumer(threading.Thread):
    """A plain consumer of the output topic: receive time - send time stamped in the payload's first 19 bytes."""

    def __init__(self, c: pulsar.Client, topic: str) -> None:
        super().__init__(daemon=True)
        self.consumer = c.subscribe(topic, f"latency-{uuid.uuid4().hex[:6]}",
                                    initial_position=pulsar.InitialPosition.Earliest, receiver_queue_size=5000)
        self.samples: list[tuple[int, int]] = []  # (send ns, latency ns)
        self.last_receive = 0.0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                message = self.consumer.receive(200)
            except pulsar.Timeout:
                continue
            now = time.time_ns()
            sent = int(message.data()[:19])
            self.samples.append((sent, now - sent))
            self.last_receive = time.monotonic()
            self.consumer.acknowledge(message)

    def stop(self) -> None:
        self._halt.set()
        self.join()
        self.consumer.close()


class PacedProducer(threading.Thread):
    """Sends `rate` records/s of `size` bytes, each starting with its send time in ns (19 digits)."""

    def __init__(self, c: pulsar.Client, topic: str, rate: int, size: int) -> None:
        super().__init__(daemon=True)
        self.producer = c.create_producer(topic, batching_enabled=True, batching_max_publish_delay_ms=1,
                                          block_if_queue_full=True)
        self.rate, self.padding = rate, b"x" * max(0, size - 19)
        self.sent = 0
        self._halt = threading.Event()

    def run(self) -> None:
        began = time.monotonic()
        while not self._halt.is_set():
            due = int((time.monotonic() - began) * self.rate)
            while self.sent < due:
                self.producer.send_async(b"%019d" % time.time_ns() + self.padding, None,
                                         partition_key=str(self.sent))
                self.sent += 1
            time.sleep(0.001)

    def stop(self) -> None:
        self._halt.set()
        self.join()
        self.producer.flush()
        self.producer.close()


def latency_run(admin: PulsarAdmin, variant: Variant, rate: int, size: int, window_s: float,
                recovery: bool = True) -> dict:
    """Latency from send to the output topic (p50_ms, p99_ms) and to the user's map (map_p50_ms, map_p99_ms) at a
    fixed `rate`, the job's checkpoints and RSS, and with `recovery` the time to the first record after a failure."""
    input_topic = new_topic(admin, "lat-in")
    output = new_topic(admin, "lat-out", output_namespace(admin, variant.guarantee))
    c = client()
    job = Job(variant, input_topic, output, bounded=False, map_latency=True)
    result: dict = {"variant": variant.key, "rate": rate, "size": size, "window_s": window_s}
    consumer = producer = None
    try:
        job.wait_running()
        consumer = LatencyConsumer(c, output)
        consumer.start()
        producer = PacedProducer(c, input_topic, rate, size)
        producer.start()
        deadline = time.monotonic() + 120
        while not consumer.samples and time.monotonic() < deadline:  # warm-up: the first records came through
            time.sleep(0.2)
        if not consumer.samples:
            raise RuntimeError(f"no record reached the output within 120 s:\n{job.log_tail()}")
        time.sleep(5)  # settle after the first records
        window_start = time.time_ns()
        time.sleep(window_s)
        window_end = time.time_ns()
        time.sleep(3)  # late arrivals of the window
        latencies = sorted(lat / 1e6 for sent, lat in list(consumer.samples) if window_start <= sent < window_end)
        result["received"] = len(latencies)
        result["p50_ms"] = round(percentile(latencies, 50), 1)
        result["p99_ms"] = round(percentile(latencies, 99), 1)
        to_map = sorted(lat / 1e6 for sent, lat in job.map_latencies() if window_start <= sent < window_end)
        result["map_received"] = len(to_map)
        result["map_p50_ms"] = round(percentile(to_map, 50), 1)
        result["map_p99_ms"] = round(percentile(to_map, 99), 1)
        result["checkpoints"] = checkpoint_summary(job.sampler.checkpoints)
        if recovery:
            # recovery: the map raises once; the job restores from the last completed checkpoint
            (job.probe_dir / "fail-now").touch()
            deadline = time.monotonic() + 180
            while not job.probe("restored-") and time.monotonic() < deadline:
                time.sleep(0.2)
            failed, restored = job.probe("failed-"), job.probe("restored-")
            if failed and restored:
                raised = min(float(p.read_text()) for p in failed)
                result["recovery_s"] = round(min(float(p.read_text()) for p in restored) - raised, 2)
            else:
                result["recovery_error"] = f"no record after the injected failure within 180 s:\n{job.log_tail()}"
        result["peak_rss_mb"] = {k: round(v) for k, v in job.sampler.peak.items()}
    except Exception as error:
        result["error"] = str(error)
    finally:
        if producer is not None:
            producer.stop()
        if consumer is not None:
            consumer.stop()
        c.close()
        job.end(admin, input_topic, output)
    return result


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


# -- tail reads ------------------------------------------------------------------------------------------------

def tail_run(admin: PulsarAdmin, variant: Variant, records: int, size: int) -> dict:
    """`variant` (a pipeline), unbounded, started on an empty topic that the raw produce loop then fills with
    `records` of `size` bytes at full rate: the job reads what is being written (the broker's tail) instead of a
    backlog. The rate is the output's, as in the throughput runs (records / publish-time span); `produce_rate` is
    the producer's, which bounds it while the producer runs."""
    input_topic = new_topic(admin, "tail-in")
    output = new_topic(admin, "tail-out", output_namespace(admin, variant.guarantee))
    job = Job(variant, input_topic, output, bounded=False)
    result: dict = {"variant": variant.key, "records": records, "size": size}
    try:
        job.wait_running()
        result["produce_rate"] = round(produce(input_topic, records, size))

        def no_restart() -> None:
            if job.sampler.failures:
                raise RuntimeError(f"the job restarted, first after {job.sampler.failures[0]}")

        result.update(written_output(admin, job, output, records, max(300, records / 500), no_restart))
    except Exception as error:
        result["error"] = str(error)
    finally:
        job.end(admin, input_topic, output)
    return result


# -- checkpoints under backpressure -----------------------------------------------------------------------------

def backlog_run(admin: PulsarAdmin, size: int, records: int) -> dict:
    """Our EXACTLY_ONCE pipeline, unbounded, at full speed over a backlog of `records` written before it started,
    checkpoints every BACKLOG_CHECKPOINT_MS: how long checkpoints take while the sink holds the source back."""
    input_topic = new_topic(admin, "backlog-in")
    output = new_topic(admin, "backlog-out", output_namespace(admin, EXACTLY_ONCE_PIPELINE.guarantee))
    produce(input_topic, records, size)
    job = Job(EXACTLY_ONCE_PIPELINE, input_topic, output, bounded=False, checkpoint_ms=BACKLOG_CHECKPOINT_MS)
    result: dict = {"variant": EXACTLY_ONCE_PIPELINE.key, "records": records, "size": size,
                    "checkpoint_interval_ms": BACKLOG_CHECKPOINT_MS}
    try:
        jid = job.wait_running()
        checkpoints: dict = {}
        failure_reasons: set[str] = set()

        def note_checkpoints() -> None:
            checkpoints.update(job.rest.get(f"/jobs/{jid}/checkpoints"))  # as of the backlog's end, not later
            failure_reasons.update(c.get("failure_message") or "?" for c in checkpoints.get("history", [])
                                   if c.get("status") == "FAILED")

        result.update(written_output(admin, job, output, records, max(300, records / 200), note_checkpoints))
        result["checkpoints"] = checkpoint_summary(checkpoints)
        result["failure_reasons"] = sorted(failure_reasons)
    except Exception as error:
        result["error"] = str(error)
    finally:
        job.end(admin, input_topic, output)
    return result


# -- change events ----------------------------------------------------------------------------------------------

def cdc_figures(events: int) -> dict:
    """`cdc.figures` in a child process. Its SQL jobs run in this project's Python, in PyFlink's loopback mode, which
    marks the process it runs in (PYFLINK_GATEWAY_DISABLED) so that no job started from it afterwards could open a
    gateway: in the harness itself, every later run failed at once."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_cdc_figures, (events,))


def _cdc_figures(events: int) -> dict:
    admin = PulsarAdmin(BROKER.admin_url)
    return cdc.figures(BROKER.service_url, BROKER.admin_url, events,
                       lambda label: new_topic(admin, label, partitions=0))


# -- many partitions ------------------------------------------------------------------------------------------

def scaling_runs(admin: PulsarAdmin, variants: list[Variant], records: int) -> dict:
    """Each source-only variant over the same `records` of 100 B in SCALING_PARTITIONS partitions (one run each; the
    4-partition figure is the throughput table's), with the raw read rate and the records per entry of that topic.

    A key-routed producer batches per partition: with the default 10 ms delay each of 256 partitions got 6.5 records
    an entry against 378 in 4, and the raw read itself fell to 0.29x (per-entry cost in broker and client). The
    producer here waits as much longer as each partition gets fewer records a second, so the entries hold about as
    many records as in the 4-partition topic, and the comparison measures what partitions cost, not entries."""
    results = []
    topic = new_topic(admin, "scale", partitions=SCALING_PARTITIONS)
    produce(topic, records, 100, batching_delay_ms=10 * SCALING_PARTITIONS // PARTITIONS)
    per_entry = records_per_entry(admin, topic, records)
    raw_rate = raw_read(topic, SCALING_PARTITIONS)[1]
    print(f"    {per_entry:.1f} records per entry; raw read {raw_rate:,.0f} records/s", flush=True)
    for variant in variants:
        print(f"[{time.strftime('%H:%M:%S')}] {SCALING_PARTITIONS} partitions, {variant.key} ...", flush=True)
        run = throughput_run(admin, variant, topic, records, 100)
        print(f"    {run.rate:,.0f} records/s" + ("" if run.ok else f", FAILED: {run.error[-600:]}"), flush=True)
        results.append({"variant": variant.key, "partitions": SCALING_PARTITIONS, "ok": run.ok,
                        "rate": run.rate, "error": run.error[-1500:]})
    admin.delete_topic(topic)
    return {"runs": results, "raw_read": raw_rate, "records_per_entry": per_entry}


# -- cost of idle partitions -----------------------------------------------------------------------------------

def idle_run(admin: PulsarAdmin, variant: Variant, partitions: int, window_s: float) -> dict:
    """`variant` (a source-only job, or a floor) unbounded over a topic of `partitions` partitions that never gets
    a message: CPU of the job's processes (JVM and Python) over `window_s`, in % of one core, after 15 s of settling
    and 40 ms more per partition (1,000 readers took 25-30 s to open on a fresh topic)."""
    topic = new_topic(admin, "idle", partitions=partitions)
    job = Job(variant, topic, topic, bounded=False)
    result: dict = {"variant": variant.key, "partitions": partitions, "window_s": window_s}
    try:
        job.wait_running()
        time.sleep(15 + 0.04 * partitions)
        before, began = _cpu_seconds(_descendants(job.process.pid)), time.monotonic()
        time.sleep(window_s)
        after, elapsed = _cpu_seconds(_descendants(job.process.pid)), time.monotonic() - began
        used = {kind: 100 * (after[kind] - before[kind]) / elapsed for kind in after}
        result.update({f"cpu_pct_{kind}": round(pct, 1) for kind, pct in used.items()})
        result["cpu_pct"] = round(sum(used.values()), 1)
    except Exception as error:
        result["error"] = str(error)
    finally:
        job.end(admin, topic)
    return result


# -- soak ----------------------------------------------------------------------------------------------------

def soak_run(admin: PulsarAdmin, variant: Variant, size: int, duration_s: float) -> dict:
    """`variant` unbounded for `duration_s` while a producer process writes as fast as it can; RSS every 5 s (the
    JVM, the Python processes and of those the driver). From minute 2 to the end, also what in the JVM grew: its
    native memory by category (Native Memory Tracking, summary level)."""
    input_topic, output = new_topic(admin, "soak-in"), new_topic(admin, "soak-out")
    job = Job(variant, input_topic, output, bounded=False, jvm_args="-XX:NativeMemoryTracking=summary")
    job.sampler.interval_s = 5.0
    producer = None
    result: dict = {"variant": variant.key, "size": size, "duration_s": duration_s}
    try:
        job.wait_running()
        code = (f"import pulsar,time\nc=pulsar.Client({BROKER.service_url!r},logger=pulsar.ConsoleLogger("
                f"pulsar.LoggerLevel.Error))\np=c.create_producer({input_topic!r},batching_enabled=True,"
                f"block_if_queue_full=True,max_pending_messages=20000)\nb=b'x'*{size}\nend=time.time()+{duration_s}"
                f"\nwhile time.time()<end:\n    for i in range(1000): p.send_async(b,None)\np.flush()\n")
        producer = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
        began = time.monotonic()
        pools: list[tuple[float, dict[str, float]]] = []  # what inside the JVM grows, if its RSS does
        baseline: float | None = None  # when Native Memory Tracking's baseline was taken
        while producer.poll() is None and time.monotonic() - began < duration_s + 60:
            sample = jvm_pools_mb(job.rest)
            if sample:
                pools.append((time.monotonic() - began, sample))
            if baseline is None and time.monotonic() - began >= 60:
                native_memory(job.process.pid, "baseline")
                baseline = time.monotonic()
            time.sleep(10)
        producer.wait(max(1.0, duration_s + 60 - (time.monotonic() - began)))
        elapsed = time.monotonic() - began
        if baseline is not None:
            minutes = (time.monotonic() - baseline) / 60
            result["jvm_native_mb_per_minute"] = {
                category: round(change / minutes, 2) for category, change in
                committed_changes_mb(native_memory(job.process.pid, "summary.diff")).items()}
        stats = admin._call("GET", f"/admin/v2/persistent/{NAMESPACE}/{output.rsplit('/', 1)[1]}/partitioned-stats")
        in_stats = admin._call("GET",
                               f"/admin/v2/persistent/{NAMESPACE}/{input_topic.rsplit('/', 1)[1]}/partitioned-stats")
        result["produced"] = in_stats.get("msgInCounter")
        result["written_by_job"] = stats.get("msgInCounter")
        result["job_rate"] = round((stats.get("msgInCounter") or 0) / elapsed)
        series = [(t, rss["total"]) for t, rss in job.sampler.series]
        result["rss_series_mb"] = [(round(t), round(v)) for t, v in series]
        first_min = [v for t, v in series if 60 <= t < 120] or [v for _, v in series[:12]]
        last_min = [v for t, v in series if t >= series[-1][0] - 60]
        result["rss_minute2_mb"] = round(statistics.median(first_min))
        result["rss_last_minute_mb"] = round(statistics.median(last_min))
        result["rss_slope_mb_per_minute"] = {kind: rss_slope([(t, rss[kind]) for t, rss in job.sampler.series])
                                             for kind in ("jvm", "python", "driver", "total")}
        result["jvm_pool_slope_mb_per_minute"] = {pool: rss_slope([(t, sample[pool]) for t, sample in pools
                                                                   if pool in sample]) for pool in JVM_POOLS}
        result["jvm_pools_mb_first_last"] = [pools[0][1], pools[-1][1]] if pools else []
        result["checkpoints"] = checkpoint_summary(job.sampler.checkpoints)
    except Exception as error:
        result["error"] = str(error)
    finally:
        if producer is not None and producer.poll() is None:
            producer.terminate()
            producer.wait()
        job.end(admin, input_topic, output)
    return result


JVM_POOLS = {"heap": "Status.JVM.Memory.Heap.Used", "non-heap": "Status.JVM.Memory.NonHeap.Used",
             "metaspace": "Status.JVM.Memory.Metaspace.Used", "direct": "Status.JVM.Memory.Direct.MemoryUsed"}
"""The JVM's memory pools (a mini cluster's TaskManagers share its one JVM): heap used follows garbage collections,
non-heap holds the JIT's code cache and the metaspace."""


def jvm_pools_mb(rest: Rest) -> dict[str, float] | None:
    """MB used per JVM_POOLS entry, from the first TaskManager's metrics; None while the REST API does not answer."""
    try:
        taskmanager = rest.get("/taskmanagers")["taskmanagers"][0]["id"]
        metrics = rest.get(f"/taskmanagers/{taskmanager}/metrics?get=" + ",".join(JVM_POOLS.values()))
    except Exception:
        return None
    values = {metric["id"]: float(metric["value"]) for metric in metrics}
    return {pool: round(values[name] / 2**20, 1) for pool, name in JVM_POOLS.items() if name in values}


def native_memory(root: int, command: str) -> str:
    """The output of `jcmd <pid> VM.native_memory <command>` for the JVM in the process tree under `root` (it runs
    with -XX:NativeMemoryTracking=summary); "" if there is none."""
    jvms = [pid for pid in _descendants(root) if _kind(_process_name(pid)) == "jvm"]
    if not jvms:
        return ""
    jcmd = Path(engines.java_home()) / "bin" / "jcmd"
    return subprocess.run([str(jcmd), str(jvms[0]), "VM.native_memory", command], capture_output=True, text=True,
                          timeout=60).stdout


NMT_CATEGORY = re.compile(r"^-\s+(?P<category>.+?) \(reserved=\d+KB(?: [+-]\d+KB)?, committed=\d+KB"
                          r"(?: (?P<change>[+-]\d+)KB)?\)")


def committed_changes_mb(summary_diff: str) -> dict[str, float]:
    """MB of committed memory each category of a Native Memory Tracking `summary.diff` gained (or lost, negative),
    largest change first; categories that changed by less than 0.1 MB are left out."""
    changes = {}
    for line in summary_diff.splitlines():
        match = NMT_CATEGORY.match(line)
        if match and match["change"] and abs(int(match["change"])) >= 102:
            changes[match["category"]] = int(match["change"]) / 1024
    return dict(sorted(changes.items(), key=lambda item: -abs(item[1])))


def rss_slope(series: list[tuple[float, float]]) -> float | None:
    """MB per minute: the least-squares slope of (seconds, MB) samples from minute 2 on (the first minute is start-up
    and warm-up); None with fewer than 10 samples. Single samples swing by tens of MB (garbage collections), so the
    slope over all of them says more than two medians."""
    points = [(t / 60, mb) for t, mb in series if t >= 60]
    if len(points) < 10:
        return None
    return round(statistics.linear_regression([m for m, _ in points], [mb for _, mb in points]).slope, 2)


# -- report ------------------------------------------------------------------------------------------------

def summarize(runs: list[JobRun]) -> dict:
    rates = [r.rate for r in runs if r.ok]
    summary = {"runs": len(runs), "ok": len(rates)}
    if rates:
        summary.update(median=statistics.median(rates), min=min(rates), max=max(rates))
    peaks = [r.peak_rss_mb for r in runs if r.ok]
    if peaks:
        summary["peak_rss_mb"] = {k: max(p[k] for p in peaks) for k in peaks[0]}
    cps = [r.checkpoints for r in runs if r.ok and r.checkpoints.get("completed")]
    if cps:
        summary["checkpoint_p50_ms"] = statistics.median(c["p50_ms"] for c in cps)
        summary["checkpoint_max_ms"] = max(c["max_ms"] for c in cps)
    cpu = median_cpu([r.cpu_us for r in runs if r.ok])
    if cpu:
        summary["cpu_us"] = cpu
    errors = [r.error for r in runs if not r.ok]
    if errors:
        summary["error"] = errors[-1][-1500:]
    return summary


def median_cpu(figures: list[dict[str, float]]) -> dict[str, float]:
    """The median of each `cpu_per_record` figure over the runs that have one."""
    figures = [f for f in figures if f]
    return {kind: statistics.median(f[kind] for f in figures) for kind in figures[0]} if figures else {}


def cpu_text(cpu: dict[str, float], producer: bool = False) -> str:
    """`cpu_per_record` figures as a table cell: job JVM + Python / broker [/ producer], machine busy."""
    if not cpu:
        return ""
    parts = [f"{cpu['jvm']:.0f} + {cpu['python']:.0f}", f"{cpu['broker']:.0f}"]
    if producer:
        parts.append(f"{cpu['harness']:.0f}")
    return " / ".join(parts) + f" ({cpu['machine_busy_pct']:.0f}%)"


def fmt_rate(s: dict, size: int) -> tuple[str, str]:
    if "median" not in s:
        return "failed", ""
    rec = f"{s['median']:,.0f} ({s['min']:,.0f}-{s['max']:,.0f})" if s["runs"] > 1 else f"{s['median']:,.0f}"
    return rec, f"{s['median'] * size / 1e6:.1f}"


def ratio(a: dict, b: dict | float | None) -> str:
    denominator = b.get("median") if isinstance(b, dict) else b
    if "median" not in a or not denominator:
        return ""
    return f"{a['median'] / denominator:.2f}"


# (variant, goal, the least ratio to the Java AT_LEAST_ONCE pipeline's records/s): issue 12's pipeline goals
PIPELINE_GOALS = (("ours-pipeline", "pipeline AT_LEAST_ONCE vs Java pipeline", 1.5),
                  ("ours-pipeline-eo", "pipeline EXACTLY_ONCE vs Java AT_LEAST_ONCE pipeline", 1.0))


def tail_medians(report: dict) -> dict[int, dict[str, float]]:
    """Per record size, each pipeline's median records/s over its tail-read runs that finished."""
    rates: dict[int, dict[str, list[float]]] = {}
    for run in report.get("tail", []):
        if "rate" in run:
            rates.setdefault(int(run["size"]), {}).setdefault(run["variant"], []).append(run["rate"])
    return {size: {key: statistics.median(values) for key, values in by_key.items()} for size, by_key in rates.items()}


def goals(report: dict) -> list[tuple[str, str, str, str]]:
    """(goal, target, measured, met) for each goal of issue 12 this report has figures for."""
    rows: list[tuple[str, str, str, str]] = []

    def add(goal: str, target: str, value: float | None, text: str, met: bool | None) -> None:
        """A row; `met` None: a figure for comparison, not a goal."""
        rows.append((goal, target, text if value is not None else "not measured",
                     ("yes" if met else "**no**") if value is not None and met is not None else ""))

    for size, data in report["sizes"].items():
        medians = {key: v.get("median") for key, v in data["variants"].items()}
        java, raw_read = medians.get("java-pipeline"), data["raw_read"]["median"]
        for key, label, target in PIPELINE_GOALS:
            value = medians[key] / java if medians.get(key) and java else None
            add(f"{label}, {size} B", f">= {target}x", value, f"{value:.2f}x" if value else "", (value or 0) >= target)
        value = medians["ours-source"] / raw_read if medians.get("ours-source") else None
        add(f"source vs raw read, {size} B", ">= 0.7x", value, f"{value:.2f}x" if value else "", (value or 0) >= 0.7)
        # Not a goal but its bound: no Python source hands records to a map faster than PyFlink alone does.
        value = medians["pyflink-source"] / raw_read if medians.get("pyflink-source") else None
        add(f"PyFlink's ceiling (no Pulsar) vs raw read, {size} B: the source goal needs >= 0.7x", ">= 0.7x", value,
            f"{value:.2f}x" if value else "", (value or 0) >= 0.7)
        # And what reading costs on top, measured: a Python step that does nothing but read with the raw client.
        value = medians["rawread-source"] / raw_read if medians.get("rawread-source") else None
        add(f"PyFlink and the raw client (a Python step that only reads: no state, no checks) vs raw read, {size} B: "
            "the source goal needs >= 0.7x", ">= 0.7x", value, f"{value:.2f}x" if value else "", (value or 0) >= 0.7)
        # And the pipeline goal's: a pipeline that reads is no faster than one that writes what it never read.
        value = medians["pyflink-pipeline"] / java if medians.get("pyflink-pipeline") and java else None
        add(f"PyFlink's pipeline ceiling (from memory -> map -> our sink) vs Java pipeline, {size} B: the 1.5x goal "
            "needs >= 1.5x", ">= 1.5x", value, f"{value:.2f}x" if value else "", (value or 0) >= 1.5)
        # Both halves of a pipeline run in the same workers, and a pipeline's cost a record is about the sum of theirs
        # (README): with a source that cost no more than the raw client's read, the sink half as it is would allow this.
        value = 1 / (1 / medians["pyflink-pipeline"] + 1 / raw_read) / java \
            if medians.get("pyflink-pipeline") and java else None
        add(f"a pipeline whose source cost only the raw read (costs added: PyFlink from memory -> map -> our sink, "
            f"and the raw read) vs Java pipeline, {size} B: the 1.5x goal needs >= 1.5x", ">= 1.5x", value,
            f"{value:.2f}x" if value else "", (value or 0) >= 1.5)
        # The same, measured: that Python step (it only reads, with the raw client) -> map -> our sink.
        value = medians["rawread-pipeline"] / java if medians.get("rawread-pipeline") and java else None
        add(f"PyFlink and the raw client (a Python step that only reads) -> map -> our sink vs Java pipeline, "
            f"{size} B: the 1.5x goal needs >= 1.5x", ">= 1.5x", value, f"{value:.2f}x" if value else "",
            (value or 0) >= 1.5)
        # And how much of a gap between engines is PyFlink's own (the Java pipeline runs on 1.18).
        value = medians["pyflink118-source"] / medians["pyflink-source"] \
            if medians.get("pyflink118-source") and medians.get("pyflink-source") else None
        add(f"for comparison: PyFlink's ceiling on 1.18 vs on 2.3, {size} B", "", value,
            f"{value:.2f}x" if value else "", None)
    for size, medians in tail_medians(report).items():
        java = medians.get("java-pipeline")
        for key, label, target in PIPELINE_GOALS:
            value = medians[key] / java if medians.get(key) and java else None
            add(f"{label}, tail reads, {size} B", f">= {target}x", value, f"{value:.2f}x" if value else "",
                (value or 0) >= target)
    sink = report.get("sink_alone")
    value = sink["PulsarWriter AT_LEAST_ONCE"] / sink["raw, no callback"] if sink else None
    add("sink (writer alone, AT_LEAST_ONCE) vs raw send, 100 B", ">= 0.7x", value, f"{value:.2f}x" if value else "",
        (value or 0) >= 0.7)
    latency = {(x["variant"], x["rate"]): x for x in report.get("latency", []) if "p50_ms" in x}
    low = [x for (key, rate), x in latency.items() if key == "ours-pipeline" and rate < 100]
    value = low[0]["map_p50_ms"] if low else None
    add(f"latency p50 send -> map at {low[0]['rate'] if low else '?'} records/s", "<= 250 ms", value,
        f"{value} ms" if value is not None else "", (value or 1e9) <= 250)
    high = [(x, latency.get(("java-pipeline", rate))) for (key, rate), x in latency.items()
            if key == "ours-pipeline" and rate >= 100]
    if high and high[0][1]:
        ours, java = high[0]
        add(f"latency p99 to output at {ours['rate']:,} records/s vs Java", "<= Java", ours["p99_ms"],
            f"{ours['p99_ms']} vs {java['p99_ms']} ms", ours["p99_ms"] <= java["p99_ms"])
    backlog = report.get("backlog", {})
    value = backlog.get("checkpoints", {}).get("p99_ms")
    add("checkpoint p99 under backpressure", "<= 2,000 ms", value, f"{value} ms", (value or 1e9) <= 2000)
    idle = [x for x in report.get("idle", []) if x["variant"] == "ours-source" and x["partitions"] == 1000]
    value = idle[0].get("cpu_pct") if idle else None
    add("CPU over 1,000 idle partitions", "< 5% of one core", value, f"{value}%", (value or 1e9) < 5)
    for floor, label in ((IDLE_FLOOR, "PyFlink alone, a driver into two idle Python operators (no Pulsar)"),
                         (IDLE_DRIVER_FLOOR, "PyFlink alone in our source's driver shape (no Pulsar)")):
        runs = [x for x in report.get("idle", []) if x["variant"] == floor.key]
        value = runs[0].get("cpu_pct") if runs else None
        add(f"{label}, idle: the idle goal needs < 5%", "< 5% of one core", value, f"{value}%", (value or 1e9) < 5)
    scaling = report.get("scaling") or {"runs": []}
    ours = [x for x in scaling["runs"] if x["variant"] == "ours-source" and x["ok"]]
    data = report["sizes"].get(100) or report["sizes"].get("100") or {}
    few = data.get("variants", {}).get("ours-source", {})
    value = ours[0]["rate"] / few["median"] if ours and few.get("median") else None
    add(f"source over {SCALING_PARTITIONS} vs {PARTITIONS} partitions", ">= 0.9x", value,
        f"{value:.2f}x" if value else "", (value or 0) >= 0.9)
    raw_few = data.get("raw_read", {}).get("median")
    value = scaling["raw_read"] / raw_few if scaling.get("raw_read") and raw_few else None
    add(f"for comparison: raw read over {SCALING_PARTITIONS} vs {PARTITIONS} partitions (records per entry in "
        "'Many partitions')", "", value, f"{value:.2f}x" if value else "", None)
    soak = report.get("soak", {})
    slopes = soak.get("rss_slope_mb_per_minute", {})
    if slopes.get("total") is not None:
        value = slopes["total"]
        add("memory over the soak", "flat (< 1 MB/minute)", value,
            f"{value:+.1f} MB/minute (JVM {slopes['jvm']:+.1f}, Python {slopes['python']:+.1f} of which the driver "
            f"{slopes.get('driver') or 0:+.1f}; least squares from minute 2; what grew in the JVM under 'Soak')",
            value < 1)
    return rows


def markdown(report: dict) -> str:
    lines = [f"# pyflink-pulsar benchmark, {report['started']}", "",
             f"Machine: {report['machine']}. Broker: Pulsar {report['broker']} standalone on the same machine. "
             f"{report['records']:,} records per workload, {PARTITIONS} partitions, parallelism {PARALLELISM}, "
             f"checkpoints every {CHECKPOINT_MS // 1000} s, {report['runs']} run(s) per figure "
             f"(median, min-max in brackets). Python workers: {PYTHON_WORKER_TEXT[report.get('python_workers')]}.",
             ""]
    rows = goals(report)
    if rows:
        lines += ["## Goals", "", "| goal | target | measured | met |", "|---|---|---:|---|"]
        lines += [f"| {goal} | {target} | {measured} | {met} |" for goal, target, measured, met in rows]
        lines.append("")
    for size, data in report["sizes"].items():
        size = int(size)
        raw_read = data["raw_read"]
        lines += [f"## {size} B records", "",
                  "| what | records/s | MB/s | vs Java | vs raw read | CPU µs a record: job JVM + Python / broker "
                  "(machine busy) | peak RSS JVM / Python MB | checkpoint p50 / max ms |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for name, value in (("raw pulsar-client produce (batching, 1 loop)", data["raw_produce"]),
                            ("raw pulsar-client read (Reader loop per partition)", raw_read)):
            rec, mb = fmt_rate(value, size)
            lines.append(f"| {name} | {rec} | {mb} | | {ratio(value, raw_read)} | | | |")
        for variant in VARIANTS:
            s = data["variants"].get(variant.key)
            if s is None:
                continue
            java = data["variants"].get(f"java-{variant.shape}", {})
            rec, mb = fmt_rate(s, size)
            rss = s.get("peak_rss_mb", {})
            rss_text = f"{rss.get('jvm', 0):,} / {rss.get('python', 0):,}" if rss else ""
            cp = (f"{s['checkpoint_p50_ms']:.0f} / {s['checkpoint_max_ms']:.0f}" if "checkpoint_p50_ms" in s
                  else "none completed")
            lines.append(f"| {variant.label} | {rec} | {mb} | {ratio(s, java)} | {ratio(s, raw_read)} | "
                         f"{cpu_text(s.get('cpu_us', {}))} | {rss_text} | {cp} |")
        lines.append("")
    if report.get("latency"):
        lines += ["## Latency at a fixed rate, and recovery", "",
                  "Send -> output topic, and send -> the user's map (the Python map both pipelines share).", "",
                  "| what | rate rec/s, size | to output p50 / p99 ms | to map p50 / p99 ms | checkpoint p50 / max ms "
                  "| recovery s | peak RSS JVM / Python MB |", "|---|---:|---:|---:|---:|---:|---:|"]
        labels = {v.key: v.label for v in VARIANTS}
        for lat in report["latency"]:
            if "error" in lat:
                lines.append(f"| {labels[lat['variant']]} | {lat['error'][:200]!r} | | | | | |")
                continue
            cp = lat.get("checkpoints", {})
            cp_text = f"{cp['p50_ms']:.0f} / {cp['max_ms']:.0f}" if cp.get("completed") else "none completed"
            if cp.get("failed"):
                cp_text += f" ({cp['failed']} failed)"
            rss = lat.get("peak_rss_mb", {})
            lines.append(f"| {labels[lat['variant']]} | {lat['rate']:,}, {lat['size']} B | {lat['p50_ms']} / "
                         f"{lat['p99_ms']} | {lat.get('map_p50_ms', 'n/a')} / {lat.get('map_p99_ms', 'n/a')} | "
                         f"{cp_text} | {lat.get('recovery_s', 'not run')} | "
                         f"{rss.get('jvm', 0):,} / {rss.get('python', 0):,} |")
        lines.append("")
    if report.get("tail"):
        lines += ["## Tail reads", "",
                  "Each pipeline unbounded, started on an empty topic that the raw produce loop (as in the tables "
                  "above) then fills at full rate: the job reads what is being written. Records/s of the output as "
                  "above; median of the runs, in turns. CPU over the same span, per record: the job's JVM and "
                  "Python processes, the broker, and the producer (this harness), with how busy the machine's "
                  "cores were.", "",
                  "| what | size | records/s | vs Java | producer records/s | CPU µs a record: job JVM + Python / "
                  "broker / producer (machine busy) | duplicates |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        labels = {v.key: v.label for v in VARIANTS}
        by_size: dict[int, dict[str, list[dict]]] = {}
        for run in report["tail"]:
            by_size.setdefault(int(run["size"]), {}).setdefault(run["variant"], []).append(run)
        medians_by_size = tail_medians(report)
        for size, variants in by_size.items():
            done = {key: [r for r in runs if "rate" in r] for key, runs in variants.items()}
            medians = medians_by_size.get(size, {})
            java = medians.get("java-pipeline")
            for key, runs in variants.items():
                failed = [r["error"] for r in runs if "error" in r]
                failed_text = f"{len(failed)} failed: {failed[-1][:200]!r}" if failed else ""
                if key not in medians:
                    lines.append(f"| {labels[key]} | {size} B | {failed_text} | | | | |")
                    continue
                each = ", ".join([f"{r['rate']:,}" for r in done[key]] + ([failed_text] if failed else []))
                lines.append(f"| {labels[key]} | {size} B | {medians[key]:,.0f} ({each}) | "
                             f"{f'{medians[key] / java:.2f}' if java else ''} | "
                             f"{statistics.median(r['produce_rate'] for r in done[key]):,.0f} | "
                             f"{cpu_text(median_cpu([r.get('cpu_us', {}) for r in done[key]]), producer=True)} | "
                             f"{max(r['duplicates'] for r in done[key])} |")
        lines.append("")
    if report.get("backlog"):
        backlog = report["backlog"]
        lines += ["## Checkpoints under backpressure", "",
                  f"`{backlog['variant']}` (unbounded, source defaults) over a backlog of {backlog['records']:,} "
                  f"records of {backlog['size']} B written before the job started; checkpoints every "
                  f"{backlog['checkpoint_interval_ms']} ms; end-to-end durations from the REST API.", ""]
        if "error" in backlog:
            lines += [f"failed: {backlog['error'][:600]}", ""]
        else:
            cp = backlog["checkpoints"]
            lines += ["| records/s | checkpoints completed / failed | p50 ms | p99 ms | max ms | duplicates |",
                      "|---:|---:|---:|---:|---:|---:|",
                      f"| {backlog['rate']:,} | {cp['completed']} / {cp['failed']} | {cp['p50_ms']} | "
                      f"{cp['p99_ms']} | {cp['max_ms']} | {backlog['duplicates']} |", ""]
    if report.get("sink_alone"):
        rates = report["sink_alone"]
        raw = rates["raw, no callback"]
        lines += ["## Sink alone", "", "`PulsarWriter` without Flink vs raw pulsar-client send loops, 100 B records, "
                  f"{PARTITIONS} partitions, one producer each, medians of {sink_writer.ROUNDS} rounds "
                  "(benchmarks/sink_writer.py).", "",
                  "| what | records/s | vs raw send |", "|---|---:|---:|"]
        lines += [f"| {label} | {rate:,.0f} | {rate / raw:.2f} |" for label, rate in rates.items()]
        lines.append("")
    if report.get("cdc"):
        lines += cdc.markdown(report["cdc"])
    if report.get("scaling"):
        lines += ["## Many partitions", "",
                  f"Source-only jobs over the same records of 100 B in {SCALING_PARTITIONS} partitions instead of "
                  f"{PARTITIONS} (bounded, one run).", "",
                  f"| what | {PARTITIONS} partitions records/s | {SCALING_PARTITIONS} partitions records/s | ratio |",
                  "|---|---:|---:|---:|"]
        labels = {v.key: v.label for v in VARIANTS}
        data = report["sizes"].get(100, report["sizes"].get("100", {}))
        few = data.get("variants", {})
        scaling = report["scaling"]
        per_entry = data.get("records_per_entry")
        lines.append(f"| records per entry (how full the producer's batches were) | "
                     f"{f'{per_entry:.1f}' if per_entry else 'n/a'} | {scaling['records_per_entry']:.1f} | |")
        raw_few, raw_many = data.get("raw_read", {}).get("median"), scaling["raw_read"]
        lines.append(f"| raw pulsar-client read (Reader loop per partition) | "
                     f"{f'{raw_few:,.0f}' if raw_few else 'n/a'} | {raw_many:,.0f} | "
                     f"{f'{raw_many / raw_few:.2f}' if raw_few else 'n/a'} |")
        for run in scaling["runs"]:
            base = few.get(run["variant"], {}).get("median")
            if not run["ok"]:
                lines.append(f"| {labels[run['variant']]} | {base or 'n/a'} | failed: {run['error'][-200:]!r} | |")
                continue
            ratio_text = f"{run['rate'] / base:.2f}" if base else "n/a"
            lines.append(f"| {labels[run['variant']]} | {f'{base:,.0f}' if base else 'n/a'} | {run['rate']:,.0f} | "
                         f"{ratio_text} |")
        lines.append("")
    if report.get("idle"):
        lines += ["## Cost of idle partitions", "",
                  "A source-only job, unbounded, over a topic whose partitions never get a message: CPU of the job's "
                  "JVM and Python processes, % of one core. The floors are PyFlink alone, no Pulsar, with the same "
                  "checkpoints: a datagen driver at one row a second into two idle Python operators (the least a "
                  "Python-driven source pays), and the same in our source's driver shape (its tick rate, an "
                  "element per reader key on each tick, the bundle time the connector sets; idle readers run no "
                  "timer chain): what the drive costs before any reader polls.", "",
                  "| what | partitions | CPU % of one core | JVM | Python |", "|---|---:|---:|---:|---:|"]
        labels = {v.key: v.label for v in VARIANTS + list(IDLE_FLOORS)}
        floors = {floor.key for floor in IDLE_FLOORS}
        for idle in report["idle"]:
            value = idle.get("cpu_pct", f"failed: {idle.get('error', '?')[:200]!r}")
            partitions = "-" if idle["variant"] in floors else f"{idle['partitions']:,}"
            lines.append(f"| {labels[idle['variant']]} | {partitions} | {value} | {idle.get('cpu_pct_jvm', '')} | "
                         f"{idle.get('cpu_pct_python', '')} |")
        lines.append("")
    if report.get("soak"):
        soak = report["soak"]
        lines += ["## Soak", "", f"`{soak['variant']}` for {soak['duration_s']:.0f} s, {soak['size']} B records, "
                  f"producer at full rate: " + (f"failed: {soak['error']}" if "error" in soak else
                  f"job wrote {soak['written_by_job']:,} records ({soak['job_rate']:,}/s); RSS of the job's processes "
                  f"{soak['rss_minute2_mb']} MB in minute 2, {soak['rss_last_minute_mb']} MB in the last minute; "
                  f"slope from minute 2 {soak.get('rss_slope_mb_per_minute')} MB/minute; inside the JVM "
                  f"{soak.get('jvm_pool_slope_mb_per_minute')} MB/minute "
                  f"(first and last sample {soak.get('jvm_pools_mb_first_last')}). From minute 2 to the end, the "
                  f"JVM's committed native memory by category (Native Memory Tracking) "
                  f"{soak.get('jvm_native_mb_per_minute')} MB/minute."), ""]
    return "\n".join(lines)


def plot(report: dict, path: Path) -> bool:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    sizes = list(report["sizes"])
    columns = len(sizes) + (1 if report.get("latency") else 0)
    if not columns:  # a run of only the figures that are not plotted (sink alone, scaling, idle, ...)
        return False
    fig, axes = plt.subplots(1, columns, figsize=(6 * (len(sizes) + 1), 5), squeeze=False)
    for ax, size in zip(axes[0], sizes):
        data = report["sizes"][size]
        names = ["raw produce", "raw read"] + [v.key for v in VARIANTS if v.key in data["variants"]]
        stats = [data["raw_produce"], data["raw_read"]] + [data["variants"][n] for n in names[2:]]
        medians = [s.get("median", 0) for s in stats]
        low = [m - s.get("min", m) for m, s in zip(medians, stats)]
        high = [s.get("max", m) - m for m, s in zip(medians, stats)]
        connector = {v.key: v.connector for v in VARIANTS}
        colors = ["grey", "grey"] + [{"ours": "tab:blue", "java": "tab:orange"}.get(connector[n], "tab:purple")
                                     for n in names[2:]]
        ax.barh(names, medians, xerr=[low, high], color=colors)
        ax.invert_yaxis()
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x / 1000:.0f}k"))
        ax.set_xlabel("records/s (median, min-max)")
        ax.set_title(f"{int(size)} B records, {report['records']:,} per run")
    if report.get("latency"):
        ax = axes[0][-1]
        lat = [x for x in report["latency"] if "p50_ms" in x]
        names = [f"{x['variant']} @{x['rate']}/s" for x in lat]
        ax.barh([n + " p99" for n in names], [x["p99_ms"] for x in lat], color="tab:red")
        ax.barh([n + " p50" for n in names], [x["p50_ms"] for x in lat], color="tab:green")
        ax.barh([n + " map p50" for n in names], [x.get("map_p50_ms", 0) for x in lat], color="tab:olive")
        ax.invert_yaxis()
        ax.set_xlabel("latency ms\nsend -> output topic (p50, p99), send -> map (p50)")
        ax.set_title("latency at fixed rates")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor())
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = os.getloadavg()[0]
    return (f"{os.cpu_count()} cores ({cpu}), {mem_gb:.0f} GiB, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, load average {load:.1f} at start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100k records, 1 run, 15 s latency window")
    parser.add_argument("--soak", action="store_true", help="also run our pipeline 10 minutes at full rate")
    parser.add_argument("--soak-seconds", type=float, default=600)
    parser.add_argument("--records", type=int)
    parser.add_argument("--runs", type=int)
    parser.add_argument("--sizes", default="100,1000", help="record sizes of the throughput runs (empty: none)")
    parser.add_argument("--rate", type=int, default=2000, help="fixed rate of the latency runs (records/s)")
    parser.add_argument("--only", default="", help="comma-separated variant keys (default: all)")
    parser.add_argument("--no-latency", action="store_true")
    parser.add_argument("--no-backlog", action="store_true", help="skip the checkpoints-under-backpressure run")
    parser.add_argument("--no-tail", action="store_true", help="skip the pipelines over a topic being written")
    parser.add_argument("--no-idle", action="store_true", help="skip the idle-partitions CPU runs")
    parser.add_argument("--no-scaling", action="store_true", help="skip the source runs over many partitions")
    parser.add_argument("--no-sink-alone", action="store_true", help="skip the sink-alone vs raw send figures")
    parser.add_argument("--no-cdc", action="store_true", help="skip the change-event (Debezium JSON) figures")
    parser.add_argument("--low-rate", type=int, default=10, help="rate of the low-traffic latency runs (records/s)")
    parser.add_argument("--profile", action="store_true",
                        help="only profile throughput runs (of --sizes; ours and PyFlink alone on 2.3) with py-spy")
    parser.add_argument("--python-workers", choices=("process", "loopback"), default="process",
                        help="where jobs run their Python operators: a process per subtask as on a cluster "
                             "(default), or all in the job script's process (a local run's default)")
    args = parser.parse_args()
    os.environ[PYTHON_WORKERS] = args.python_workers  # read by PyFlink in every job process the harness starts
    records = args.records or (100_000 if args.quick else 1_000_000)
    runs = args.runs or (1 if args.quick else 3)
    window_s = 15 if args.quick else 60
    variants = [v for v in VARIANTS if not args.only or v.key in args.only.split(",")]
    # source-only jobs that read Pulsar (the scaling and idle runs; the PyFlink ceiling reads nothing)
    pulsar_sources = [v for v in variants if v.shape == "source" and v.connector in ("ours", "java")]
    for variant in variants:  # set up engines and jars before anything is timed
        engines.python_for(variant.engine)
        if variant.connector == "java":
            engines.java_connector_jars()
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    report: dict = {"started": started, "machine": machine(), "records": records, "runs": runs,
                    "broker": "4.2.4", "python_workers": args.python_workers, "sizes": {}, "latency": []}
    admin = PulsarAdmin(BROKER.admin_url)
    with scratch(BROKER):  # every run writes fresh topics: the data of earlier runs only fills the disk (GBs each)
        if args.profile:
            profile_runs(admin, [v for v in variants if v.connector != "java" and v.engine == "2.3"], records,
                         [int(s) for s in args.sizes.split(",") if s])
            return
        for size in (int(s) for s in args.sizes.split(",") if s):
            input_topic = new_topic(admin, f"in-{size}")
            produced = [produce(input_topic, records, size)]
            reads = [raw_read(input_topic)[1] for _ in range(runs)]
            data = {"raw_produce": summarize_rates(produced), "raw_read": summarize_rates(reads), "variants": {},
                    "runs": {}, "records_per_entry": records_per_entry(admin, input_topic, records)}
            results: dict[str, list[JobRun]] = {variant.key: [] for variant in variants}
            for n in range(runs):  # in turns, so that the machine's speed drifting over the runs (±10% measured
                for variant in variants:  # between rounds of one job) falls on every variant alike
                    print(f"[{time.strftime('%H:%M:%S')}] {size} B, {variant.key}, run {n + 1}/{runs} ...",
                          flush=True)
                    result = throughput_run(admin, variant, input_topic, records, size)
                    print(f"    {result.rate:,.0f} records/s, wall {result.wall_s:.1f} s"
                          + ("" if result.ok else f", FAILED: {result.error[-600:]}"), flush=True)
                    results[variant.key].append(result)
            for key, runs_of_variant in results.items():
                data["variants"][key] = summarize(runs_of_variant)
                data["runs"][key] = [asdict(r) for r in runs_of_variant]
            report["sizes"][size] = data
            admin.delete_topic(input_topic)
        if not args.no_tail:
            # ours on 1.18 does not run unbounded (the latency runs say why)
            tail_variants = [v for v in variants if v.shape == "pipeline"
                             and (v.connector == "java" or v.connector == "ours" and v.engine == "2.3")]
            report["tail"] = []
            for size in (int(s) for s in args.sizes.split(",") if s):
                for n in range(runs):
                    for variant in tail_variants:
                        print(f"[{time.strftime('%H:%M:%S')}] tail reads, {size} B, {variant.key}, run {n + 1}/{runs}"
                              " ...", flush=True)
                        report["tail"].append(tail_run(admin, variant, records, size))
                        print(f"    {report['tail'][-1]}"[:400], flush=True)
        if not args.no_sink_alone:
            print(f"[{time.strftime('%H:%M:%S')}] sink alone vs raw send, 100 B ...", flush=True)
            report["sink_alone"] = sink_writer.figures(
                BROKER.service_url, BROKER.admin_url, records, 100,
                lambda guarantee: new_topic(admin, "sink", output_namespace(admin, guarantee.name)))
            print(f"    {report['sink_alone']}", flush=True)
        if not args.no_cdc:
            print(f"[{time.strftime('%H:%M:%S')}] change events (Debezium JSON) vs plain JSON into SQL ...", flush=True)
            report["cdc"] = cdc_figures(min(records // 2, 200_000))
        if not args.no_scaling:
            report["scaling"] = scaling_runs(admin, pulsar_sources, records)
        if not args.no_latency:
            for variant in (v for v in variants if v.shape == "pipeline" and v.connector in ("ours", "java")):
                if variant.connector == "ours" and variant.engine == "1.18":
                    # Our unbounded mode drives its readers with a datagen table that sets `scan.parallelism`,
                    # an option Flink 1.18's datagen does not have; bounded jobs (above) run on 1.18.
                    report["latency"].append({"variant": variant.key, "error": "not run: the unbounded source "
                                              "needs datagen's scan.parallelism (Flink >= 1.19)"})
                    continue
                print(f"[{time.strftime('%H:%M:%S')}] latency + recovery, {variant.key} ...", flush=True)
                report["latency"].append(latency_run(admin, variant, args.rate, 100, window_s))
                print(f"    {report['latency'][-1]}"[:400], flush=True)
                print(f"[{time.strftime('%H:%M:%S')}] latency at {args.low_rate} records/s, {variant.key} ...",
                      flush=True)
                report["latency"].append(latency_run(admin, variant, args.low_rate, 100, max(30, window_s),
                                                     recovery=False))
                print(f"    {report['latency'][-1]}"[:400], flush=True)
        if not args.no_backlog:
            print(f"[{time.strftime('%H:%M:%S')}] checkpoints under backpressure, {EXACTLY_ONCE_PIPELINE.key} ...",
                  flush=True)
            report["backlog"] = backlog_run(admin, 200, records)
            print(f"    {report['backlog']}"[:400], flush=True)
        if not args.no_idle:
            report["idle"] = []
            for variant in pulsar_sources:
                for partitions in IDLE_PARTITIONS if variant.connector == "ours" else IDLE_PARTITIONS[-1:]:
                    print(f"[{time.strftime('%H:%M:%S')}] idle CPU, {variant.key}, {partitions} partitions ...",
                          flush=True)
                    report["idle"].append(idle_run(admin, variant, partitions, 30))
                    print(f"    {report['idle'][-1]}", flush=True)
            for floor in IDLE_FLOORS:
                print(f"[{time.strftime('%H:%M:%S')}] idle CPU, {floor.key} ...", flush=True)
                report["idle"].append(idle_run(admin, floor, 1, 30))
                print(f"    {report['idle'][-1]}", flush=True)
        if args.soak:
            print(f"[{time.strftime('%H:%M:%S')}] soak, ours-pipeline, {args.soak_seconds:.0f} s ...", flush=True)
            report["soak"] = soak_run(admin, VARIANTS[0], 100, args.soak_seconds)
    write(report)


def profile_runs(admin: PulsarAdmin, variants: list[Variant], records: int, sizes: list[int]) -> None:
    """Each variant over `records` records of each size, profiled: results/profile-<variant>-<size>.{txt,raw}."""
    from benchmarks import pyspy_profile as profile

    RESULTS.mkdir(exist_ok=True)
    for size in sizes:
        input_topic = new_topic(admin, f"in-profile-{size}")
        produce(input_topic, records, size)
        for variant in variants:
            output = new_topic(admin, "out", output_namespace(admin, variant.guarantee))
            job = Job(variant, input_topic, output, bounded=True, records=records, size=size)
            raw = RESULTS / f"profile-{variant.key}-{size}.raw"
            recorded = profile.record(job.process.pid, raw)
            ok = job.wait(600)
            wall = time.monotonic() - job.began
            job.finish()
            text = (f"{variant.label}, {records:,} records of {size} B, job ok: {ok}\n\n"
                    + (profile.summarize(raw, wall) if recorded else f"py-spy failed\n{job.log_tail()}"))
            (RESULTS / f"profile-{variant.key}-{size}.txt").write_text(text + "\n")
            print(f"\n== {RESULTS / f'profile-{variant.key}-{size}.txt'}\n{text}", flush=True)
            job.cleanup()
            admin.delete_topic(output)
        admin.delete_topic(input_topic)


def summarize_rates(rates: list[float]) -> dict:
    return {"runs": len(rates), "ok": len(rates), "median": statistics.median(rates), "min": min(rates),
            "max": max(rates)}


def write(report: dict) -> None:
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    text = markdown(report)
    for name in (f"bench-{stamp}", "latest"):
        (RESULTS / f"{name}.md").write_text(text + "\n")
        (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=1, default=str))
    try:
        plotted = " (nothing to plot)"
        if plot(report, RESULTS / f"bench-{stamp}.png"):
            shutil.copy(RESULTS / f"bench-{stamp}.png", RESULTS / "latest.png")
            plotted = f", plot {RESULTS / 'latest.png'}"
    except ImportError:
        plotted = " (no plot: matplotlib missing; pip install -e '.[bench]')"
    print("\n" + text)
    print(f"written to {RESULTS / f'bench-{stamp}.md'} (and latest.md/.json){plotted}")


if __name__ == "__main__":
    main()
