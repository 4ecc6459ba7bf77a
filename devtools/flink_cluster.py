"""Start, stop and drive a local standalone Flink cluster made of separate JobManager and TaskManager processes.

    python -m devtools.flink_cluster start [--name N] [--rest-port 18081] [--rpc-port 16123] [--slots 1]
    python -m devtools.flink_cluster stop|status [--name N]

The processes come from the PyFlink wheel's own scripts (pyflink/bin/jobmanager.sh, taskmanager.sh, flink);
nothing is downloaded. Each named cluster keeps its generated config.yaml, logs, pid files and checkpoints
under .cache/flink/<name>/ and listens on 127.0.0.1 only, so two clusters with distinct ports run side by side.
Python workers run with the interpreter that runs this module (the venv's), so they import pyflink and the
project's packages. Every process this module stops or kills is first checked to be one of this cluster's
(its command line names the cluster's config dir), never found by name.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyflink
import yaml

from connector.worker_watchdog import nearest_ancestor_named
from devtools.processes import alive, stat_fields

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "flink"
PYFLINK_HOME = Path(os.path.dirname(pyflink.__file__))
START_TIMEOUT_S = 120
STOP_TIMEOUT_S = 15
# flink-daemon.sh records a daemon's pid before its background shell has exec'd java (it first evaluates the class
# path), so for a while a live daemon's process does not look like one yet: much longer on a loaded machine.
EXEC_GRACE_S = 30
TERMINAL_STATES = frozenset({"FINISHED", "FAILED", "CANCELED", "SUSPENDED"})
# The daemon names flink-daemon.sh uses in pid and log file names, and the Java class each one runs.
JOBMANAGER, TASKMANAGER = "standalonesession", "taskexecutor"
MAIN_CLASS = {JOBMANAGER: "StandaloneSessionClusterEntrypoint", TASKMANAGER: "TaskManagerRunner"}
PYTHON_WORKER = "pyflink.fn_execution.beam.beam_boot"  # the module a TaskManager's Python worker runs


class ClusterError(RuntimeError):
    pass


@dataclass(frozen=True)
class FlinkCluster:
    """One named local cluster: a JobManager and `taskmanagers` TaskManagers of `slots` slots each."""

    name: str = "default"
    rest_port: int = 18081
    rpc_port: int = 16123
    taskmanagers: int = 2
    slots: int = 1
    jobmanager_memory: str = "1024m"
    taskmanager_memory: str = "1280m"
    restart_attempts: int = 20

    @property
    def home(self) -> Path:
        return CACHE / self.name

    @property
    def conf_dir(self) -> Path:
        return self.home / "conf"

    @property
    def log_dir(self) -> Path:
        return self.home / "log"

    @property
    def pid_dir(self) -> Path:
        return self.home / "pid"

    @property
    def checkpoint_dir(self) -> Path:
        return self.home / "checkpoints"

    @property
    def work_dir(self) -> Path:
        """The processes' working and temporary files (Flink's default is /tmp/tm_<id>, left behind by a kill)."""
        return self.home / "work"

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}"

    # -- processes ----------------------------------------------------------------------------------

    def start(self) -> None:
        """Start a fresh cluster and return once the REST API reports every TaskManager and slot.

        Processes left by an earlier start of this named cluster are stopped first; its logs and
        checkpoints are wiped. Raises ClusterError (with the logs' tails) when another process already
        serves the REST port or the cluster is not complete within START_TIMEOUT_S; nothing is left running.
        """
        self.stop()
        if self._overview_or_none() is not None:
            raise ClusterError(f"another process already serves {self.rest_url}; stop it or pick other ports")
        for directory in (self.conf_dir, self.log_dir, self.pid_dir, self.checkpoint_dir, self.work_dir):
            shutil.rmtree(directory, ignore_errors=True)
            directory.mkdir(parents=True)
        self._write_config()
        try:
            self._script("jobmanager.sh", "start")
            launched = [self._launch_taskmanager() for _ in range(self.taskmanagers)]
            self._wait(lambda: self._is_complete(self._overview_or_none()), "TaskManagers and slots registered",
                       launched)
        except ClusterError:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop every live process of this cluster: SIGTERM, then SIGKILL to those left after STOP_TIMEOUT_S; then
        delete their working files (blobs, local state, the Python workers' files: gigabytes after a few jobs)."""
        pids = self.taskmanager_pids() + self._pids(JOBMANAGER)
        for pid in pids:
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in pids + self.python_workers():  # workers outliving their TaskManager too
            _signal(pid, signal.SIGKILL)
        for daemon in MAIN_CLASS:
            self._pid_file(daemon).unlink(missing_ok=True)
        shutil.rmtree(self.work_dir, ignore_errors=True)

    def jobmanager_pid(self) -> int | None:
        pids = self._pids(JOBMANAGER)
        return pids[0] if pids else None

    def taskmanager_pids(self) -> list[int]:
        """The live TaskManager processes of this cluster, oldest first."""
        return self._pids(TASKMANAGER)

    def python_workers(self) -> list[int]:
        """The live Python worker processes this cluster's TaskManagers started (their environment names its config
        dir), including orphans whose TaskManager is gone."""
        workers = []
        for proc in Path("/proc").iterdir():
            if proc.name.isdigit() and PYTHON_WORKER in _cmdline(int(proc.name)):
                try:
                    environment = proc.joinpath("environ").read_bytes().split(b"\0")
                except OSError:
                    continue
                if f"FLINK_CONF_DIR={self.conf_dir}".encode() in environment and alive(int(proc.name)):
                    workers.append(int(proc.name))
        return workers

    def orphaned_python_workers(self) -> list[int]:
        """This cluster's Python workers that no live TaskManager (or other JVM) is an ancestor of."""
        return [pid for pid in self.python_workers() if nearest_ancestor_named("java", pid) is None]

    def reap_orphaned_python_workers(self) -> list[int]:
        """kill -9 this cluster's orphaned Python workers (with their children) and return their pids. For workers
        without a Pulsar client, which have no watchdog (connector/worker_watchdog.py): PyFlink 2.3 can leave such
        an orphan hanging for good after its TaskManager was killed."""
        orphans = self.orphaned_python_workers()
        for pid in orphans:
            children = [int(proc.name) for proc in Path("/proc").iterdir() if proc.name.isdigit()
                        and (stat_fields(int(proc.name)) or ["", ""])[1] == str(pid)]
            for victim in (pid, *children):
                _signal(victim, signal.SIGKILL)
        return orphans

    def taskmanager_id(self, pid: int) -> str:
        """The resource id the TaskManager process `pid` registered with (as /taskmanagers lists it)."""
        resource_id = _resource_id(pid)
        if resource_id is None:
            raise ClusterError(f"process {pid} is not a TaskManager of cluster '{self.name}'")
        return resource_id

    def kill_taskmanager(self, pid: int) -> None:
        """kill -9 the TaskManager `pid` (one of this cluster's) and return once the process is gone."""
        if pid not in self.taskmanager_pids():
            raise ClusterError(f"process {pid} is not a live TaskManager of cluster '{self.name}'")
        _signal(pid, signal.SIGKILL)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while alive(pid):
            if time.monotonic() > deadline:
                raise ClusterError(f"TaskManager {pid} still exists {STOP_TIMEOUT_S} s after SIGKILL")
            time.sleep(0.1)

    def replace_lost_taskmanagers(self) -> None:
        """Start TaskManagers until the JobManager lists `taskmanagers` of them again."""
        for _ in range(self.taskmanagers - len(self.taskmanagers_info())):
            self.start_taskmanager()

    def wait_until_no_job_runs(self, timeout_s: float = 120) -> None:
        """Wait until every job has ended, cancelled ones included: a TaskManager can die while it cancels Python
        tasks (PyFlink's "Reference count must not be negative"), so only then is it known which are lost.
        Raises ClusterError naming the jobs still going after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while going := [job["id"] for job in self.rest("/jobs")["jobs"] if job["status"] not in TERMINAL_STATES]:
            if time.monotonic() > deadline:
                raise ClusterError(f"jobs {going} still running or cancelling after {timeout_s:g} s")
            time.sleep(0.5)

    def start_taskmanager(self) -> int:
        """Start one more TaskManager and return its pid once the JobManager lists it."""
        resource_id = self._launch_taskmanager()
        self._wait(lambda: resource_id in {tm["id"] for tm in self.taskmanagers_info()},
                   f"TaskManager {resource_id} registered", [resource_id])
        return next(pid for pid in self.taskmanager_pids() if self.taskmanager_id(pid) == resource_id)

    # -- jobs ---------------------------------------------------------------------------------------

    def submit(self, py_file: str | Path, args: Sequence[str] = (), detached: bool = True,
               timeout_s: float = 600) -> str:
        """Run `py_file` with `bin/flink run -py` against this cluster and return the job id.

        Detached, it returns once the job is submitted; attached, once the job ended (a failed job raises).
        """
        command = ["run", "-m", f"127.0.0.1:{self.rest_port}", *(["-d"] if detached else []),
                   "-py", str(py_file), *args]
        output = self._script("flink", *command, timeout_s=timeout_s)
        found = re.search(r"JobID ([0-9a-f]{32})", output)
        if found is None:
            raise ClusterError(f"no job id in the output of flink {' '.join(command)}:\n{output[-3000:]}")
        return found.group(1)

    def cancel(self, job_id: str) -> None:
        """Ask the JobManager to cancel the job (returns at once; the job goes CANCELING, then CANCELED). A job that
        has already ended is left as it is (the JobManager answers 409), so a test's clean-up never hides its
        outcome."""
        request = urllib.request.Request(f"{self.rest_url}/jobs/{job_id}?mode=cancel", method="PATCH")
        try:
            urllib.request.urlopen(request, timeout=10).close()
        except urllib.error.HTTPError as error:
            if error.code == 409 and self.job_status(job_id) in TERMINAL_STATES:
                return
            raise ClusterError(f"cancelling job {job_id} failed: {error}") from error
        except (urllib.error.URLError, OSError) as error:
            raise ClusterError(f"cancelling job {job_id} failed: {error}") from error

    def job_status(self, job_id: str) -> str:
        return str(self.job(job_id)["state"])

    def wait_for_job(self, job_id: str, states: Collection[str], timeout_s: float) -> str:
        """Wait until the job is in one of `states` and return that state.

        Raises ClusterError, with the job's latest failure, when the job ends in a state not in `states`
        or `timeout_s` passes first.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            state = self.job_status(job_id)
            if state in states:
                return state
            if state in TERMINAL_STATES or time.monotonic() > deadline:
                raise ClusterError(f"job {job_id} is {state}, waited for {sorted(states)}; latest failure:\n"
                                   f"{self.latest_failure(job_id)}")
            time.sleep(0.5)

    def wait_for_checkpoints(self, job_id: str, count: int, timeout_s: float) -> None:
        """Wait until the job runs and has completed `count` checkpoints; raise ClusterError after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        self.wait_for_job(job_id, {"RUNNING"}, timeout_s)
        while self.checkpoints(job_id)["counts"]["completed"] < count:
            if time.monotonic() > deadline:
                raise ClusterError(f"job {job_id} completed fewer than {count} checkpoints in {timeout_s} s")
            time.sleep(0.5)

    def latest_failure(self, job_id: str) -> str:
        """The exception chain (messages, no stack frames) of the job's latest failure, or "(none)"."""
        entries = self.exceptions(job_id)["exceptionHistory"]["entries"]
        if not entries:
            return "(none)"
        lines = entries[0]["stacktrace"].splitlines()
        return "\n".join(line for line in lines if not line.lstrip().startswith(("at ", "... ")))

    # -- REST ---------------------------------------------------------------------------------------

    def rest(self, path: str, timeout_s: float = 10) -> Any:
        """GET `path` from the JobManager's REST API and return the decoded JSON body."""
        url = self.rest_url + path
        try:
            with urllib.request.urlopen(url, timeout=timeout_s) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            raise ClusterError(f"GET {url} failed: HTTP {error.code}: {error.read()[:500]!r}") from error
        except (urllib.error.URLError, OSError) as error:
            raise ClusterError(f"GET {url} failed: not reachable ({error})") from error

    def overview(self) -> dict[str, Any]:
        return self.rest("/overview")

    def job(self, job_id: str) -> dict[str, Any]:
        return self.rest(f"/jobs/{job_id}")

    def checkpoints(self, job_id: str) -> dict[str, Any]:
        return self.rest(f"/jobs/{job_id}/checkpoints")

    def exceptions(self, job_id: str) -> dict[str, Any]:
        return self.rest(f"/jobs/{job_id}/exceptions")

    def taskmanagers_info(self) -> list[dict[str, Any]]:
        return list(self.rest("/taskmanagers")["taskmanagers"])

    # -- internals ----------------------------------------------------------------------------------

    def _write_config(self) -> None:
        """config.yaml: the wheel's defaults (flattened) with this cluster's settings over them."""
        settings = _flatten(yaml.safe_load((PYFLINK_HOME / "conf" / "config.yaml").read_text()) or {})
        settings.update({
            "jobmanager.rpc.address": "127.0.0.1",
            "jobmanager.rpc.port": self.rpc_port,
            "jobmanager.bind-host": "127.0.0.1",
            "jobmanager.memory.process.size": self.jobmanager_memory,
            "taskmanager.host": "127.0.0.1",
            "taskmanager.bind-host": "127.0.0.1",
            "taskmanager.numberOfTaskSlots": self.slots,
            "taskmanager.memory.process.size": self.taskmanager_memory,
            "rest.address": "127.0.0.1",
            "rest.bind-address": "127.0.0.1",
            "rest.port": self.rest_port,
            "parallelism.default": self.taskmanagers * self.slots,
            "restart-strategy.type": "fixed-delay",
            "restart-strategy.fixed-delay.attempts": self.restart_attempts,
            "restart-strategy.fixed-delay.delay": "2 s",
            # A killed TaskManager is noticed in seconds, not after the default 50 s heartbeat timeout.
            "heartbeat.interval": 1000,
            "heartbeat.timeout": 10000,
            "execution.checkpointing.dir": self.checkpoint_dir.as_uri(),
            "process.working-dir": str(self.work_dir),
            "io.tmp.dirs": str(self.work_dir),
            "python.executable": sys.executable,
            "python.client.executable": sys.executable,
        })
        (self.conf_dir / "config.yaml").write_text(yaml.safe_dump(settings, default_flow_style=False))
        for logging_config in [*(PYFLINK_HOME / "conf").glob("log4j*.properties"),
                               *(PYFLINK_HOME / "conf").glob("logback*.xml")]:
            shutil.copy(logging_config, self.conf_dir)

    def _environment(self) -> dict[str, str]:
        environment = dict(os.environ)
        environment.update({
            "FLINK_CONF_DIR": str(self.conf_dir),
            "FLINK_LOG_DIR": str(self.log_dir),
            "FLINK_PID_DIR": str(self.pid_dir),
            "FLINK_IDENT_STRING": self.name,
            # The CLI starts the job's Python client with `python` from PATH unless told otherwise.
            "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{environment.get('PATH', '')}",
        })
        return environment

    def _script(self, script: str, *args: str, timeout_s: float = 60) -> str:
        """Run one of the wheel's bin/ scripts for this cluster and return its output; raise on failure."""
        command = [str(PYFLINK_HOME / "bin" / script), *args]
        try:
            done = subprocess.run(command, env=self._environment(), capture_output=True, text=True,
                                  stdin=subprocess.DEVNULL, timeout=timeout_s, start_new_session=True)
        except subprocess.TimeoutExpired as error:
            raise ClusterError(f"{' '.join(command)} did not end within {timeout_s} s") from error
        output = done.stdout + done.stderr
        if done.returncode != 0:
            raise ClusterError(f"{' '.join(command)} failed with {done.returncode}:\n{output[-3000:]}\n"
                               f"{self._log_tails()}")
        return output

    def _launch_taskmanager(self) -> str:
        """Start a TaskManager process (not waiting for it) and return its resource id.

        The id carries the index flink-daemon.sh gives its log file: <name>-tm-2 logs to flink-<name>-taskexecutor-2-*.
        """
        resource_id = f"{self.name}-tm-{len(self._pid_file_lines(TASKMANAGER))}"
        self._script("taskmanager.sh", "start", "-D", f"taskmanager.resource-id={resource_id}")
        return resource_id

    def _pid_file(self, daemon: str) -> Path:
        return self.pid_dir / f"flink-{self.name}-{daemon}.pid"

    def _pid_file_lines(self, daemon: str) -> list[str]:
        try:
            return self._pid_file(daemon).read_text().split()
        except OSError:
            return []

    def _pids(self, daemon: str) -> list[int]:
        """Pids from the daemon's pid file whose process is alive and runs this cluster's `daemon`."""
        pids = []
        for line in self._pid_file_lines(daemon):
            arguments = _cmdline(int(line)) if line.isdigit() else []
            if any(MAIN_CLASS[daemon] in a for a in arguments) and any(str(self.conf_dir) in a for a in arguments):
                pids.append(int(line))
        return [pid for pid in pids if alive(pid)]

    def _overview_or_none(self) -> dict[str, Any] | None:
        try:
            return self.overview()
        except ClusterError:
            return None

    def _is_complete(self, overview: dict[str, Any] | None) -> bool:
        return (overview is not None and overview["taskmanagers"] == self.taskmanagers
                and overview["slots-total"] == self.taskmanagers * self.slots)

    def _wait(self, condition: Callable[[], bool], what: str, launched: Collection[str]) -> None:
        """Poll `condition()` until true; raise ClusterError with the logs' tails after START_TIMEOUT_S
        or as soon as the JobManager or one of the `launched` TaskManagers (resource ids) is gone (after
        EXEC_GRACE_S, in which a daemon may not look like one yet)."""
        began = time.monotonic()
        deadline = began + START_TIMEOUT_S
        while not condition():
            running = {_resource_id(pid) for pid in self.taskmanager_pids()}
            gone = self.jobmanager_pid() is None or not set(launched) <= running
            if gone and time.monotonic() - began > EXEC_GRACE_S:
                raise ClusterError(f"cluster '{self.name}': a process exited while waiting for {what} "
                                   f"(JobManager {self.jobmanager_pid()}, TaskManagers {sorted(running)})\n"
                                   f"{self._log_tails()}")
            if time.monotonic() > deadline:
                raise ClusterError(f"cluster '{self.name}': no {what} within {START_TIMEOUT_S} s\n"
                                   f"{self._log_tails()}")
            time.sleep(0.5)

    def _log_tails(self, files: int = 4, lines: int = 25) -> str:
        """The last `lines` lines of the `files` most recently written daemon logs and outputs."""
        logs = sorted((p for p in self.log_dir.glob("flink-*") if p.stat().st_size), key=lambda p: p.stat().st_mtime)
        return "\n".join(f"--- {log} ---\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
                         for log in logs[-files:]) or f"(no logs in {self.log_dir})"


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _resource_id(pid: int) -> str | None:
    """The taskmanager.resource-id on process `pid`'s command line; None when there is none (or no process)."""
    prefix = "taskmanager.resource-id="
    return next((a.removeprefix(prefix) for a in _cmdline(pid) if a.startswith(prefix)), None)


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def status(cluster: FlinkCluster) -> bool:
    """Print the cluster's processes and what the REST API reports; True when it is complete."""
    overview = cluster._overview_or_none()
    print(f"flink '{cluster.name}': jobmanager pid {cluster.jobmanager_pid()}, "
          f"taskmanager pids {cluster.taskmanager_pids()}, REST {cluster.rest_url}: "
          + (f"{overview['taskmanagers']} taskmanagers, {overview['slots-available']}/{overview['slots-total']} "
             f"slots free, {overview['jobs-running']} jobs running" if overview else "not answering"))
    return cluster._is_complete(overview)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["start", "stop", "status"])
    parser.add_argument("--name", default="default", help="cluster name; each has its own dir under .cache/flink")
    parser.add_argument("--rest-port", type=int, default=18081)
    parser.add_argument("--rpc-port", type=int, default=16123)
    parser.add_argument("--slots", type=int, default=1, help="task slots per TaskManager")
    args = parser.parse_args(argv)
    cluster = FlinkCluster(args.name, args.rest_port, args.rpc_port, slots=args.slots)
    try:
        if args.command == "start":
            began = time.monotonic()
            cluster.start()
            print(f"flink '{cluster.name}' up in {time.monotonic() - began:.1f} s: web UI and REST at "
                  f"{cluster.rest_url}, logs in {cluster.log_dir}")
        elif args.command == "stop":
            cluster.stop()
            print(f"flink '{cluster.name}' stopped")
        else:
            return 0 if status(cluster) else 3
    except ClusterError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
