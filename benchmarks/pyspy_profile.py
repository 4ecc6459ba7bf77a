"""Where our jobs spend their Python time: py-spy over a throughput run, summarized by function and by owner.

    ./dev bench --profile [--quick] [--sizes 100,1000]   (writes results/profile-<variant>-<size>.{txt,raw})

py-spy samples the job process and its subprocesses at 100 Hz while the job reads the whole input topic. Kept are
samples of threads py-spy sees running, minus those whose leaf frame is a known wait (`IDLE`: py-spy cannot always
tell a thread blocked in C from a running one) and minus module imports (start-up). The job's Python functions run
in a worker process per subtask (the benchmark's default, `--python-workers process`) or in the job's driver process
(`--python-workers loopback`); py-spy follows both. The summary gives how busy each process was (kept samples / wall
samples), the share of own time by owner (this project, pulsar-client, PyFlink/Beam, the rest), the functions with
the most own time (time inside a C call counts for the Python frame that made it), and each function of this project
with the share of samples it is on the stack of.
"""

from __future__ import annotations

import collections
import re
import shutil
import subprocess
from pathlib import Path

from benchmarks.engines import ROOT

# Leaf frames of threads that wait (in C, so py-spy may count them as running): left out of the shares.
IDLE = frozenset({"Condition.wait", "Event.wait", "_wait_once", "SocketIO.readinto", "CallbackServer.run",
                  "Watchdog.ping", "_serve", "_run_channel_spin_thread.<locals>.channel_spin", "Thread.run",
                  "_UnaryUnaryMultiCallable._blocking", "_poll_connectivity", "Queue.get", "select",
                  "Thread._wait_for_tstate_lock",
                  "_watch"})  # connector/worker_watchdog.py, a process-mode worker's thread: sleeps 1 s per check
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
OURS = ("connector/", "checkpoint/", "benchmarks/")


def owner(path: str) -> str:
    """Who a frame's file belongs to; py-spy gives installed modules' paths relative to site-packages."""
    path = path.split("site-packages/", 1)[-1].replace(str(ROOT) + "/", "")
    if path.startswith(OURS):
        return "ours (" + path.split("/")[0] + ")"
    if path.startswith(("pulsar/", "_pulsar")):
        return "pulsar-client"
    if path.startswith(("pyflink/", "py4j/")):
        return "pyflink"
    if path.startswith("apache_beam/"):
        return "apache-beam"
    if path.startswith(("grpc/", "google/protobuf/", "protobuf/")):
        return "grpc/protobuf"
    return "other (stdlib, ...)"


def short(path: str) -> str:
    for marker in (str(ROOT) + "/", "site-packages/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def record(pid: int, out: Path) -> bool:
    """py-spy record of `pid` and its subprocesses until it exits, collapsed stacks into `out`."""
    py_spy = shutil.which("py-spy") or str(Path(__import__("sys").executable).parent / "py-spy")
    done = subprocess.run([py_spy, "record", "--pid", str(pid), "--subprocesses", "--rate", "100",
                           "--format", "raw", "--output", str(out)], capture_output=True, text=True)
    return done.returncode == 0 and out.exists()


def summarize(raw: Path, wall_s: float, top: int = 25) -> str:
    per_worker: collections.Counter = collections.Counter()
    self_time: collections.Counter = collections.Counter()
    on_stack: collections.Counter = collections.Counter()
    by_owner: collections.Counter = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        processes = [f.split(":", 1)[0] for f in stack.split(";") if f.startswith("process ")]
        if not count.isdigit() or "_find_and_load" in stack:
            continue
        worker = processes[-1] if processes else "?"
        n = int(count)
        frames = [m for m in (_FRAME.match(f) for f in stack.split(";")) if m]
        if not frames:
            continue
        leaf = frames[-1]
        if leaf["function"] in IDLE:
            continue
        per_worker[worker] += n
        total += n
        self_time[f"{short(leaf['file'])}:{leaf['function']}"] += n
        by_owner[owner(leaf["file"])] += n
        for function in {f"{short(f['file'])}:{f['function']}" for f in frames if owner(f["file"]).startswith("ours")}:
            on_stack[function] += n
    if not total:
        return "no samples"
    lines = [f"{total} running-thread samples (imports left out); busy share of each process over the "
             f"{wall_s:.0f} s job: " + ", ".join(f"{w} {n / (wall_s * 100):.0%}" for w, n in per_worker.items()),
             "", "own time by owner:"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in by_owner.most_common()]
    lines += ["", f"top {top} functions by own time:"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in self_time.most_common(top)]
    lines += ["", "this project's functions, share of samples with the function on the stack (inclusive):"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in on_stack.most_common(top)]
    return "\n".join(lines)
