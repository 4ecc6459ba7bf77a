"""The worker watchdog: a process started under a `java` parent closes its clients and exits once that parent dies.

A copy of `sleep` named `java` stands in for the TaskManager: the watchdog only knows its parent by command name.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from connector import worker_watchdog
from devtools.processes import alive

WORKER = """
import sys, time
from pathlib import Path
from connector.worker_watchdog import close_when_taskmanager_dies
class Client:
    def close(self):
        Path(sys.argv[1]).write_text("closed")
client = Client()
close_when_taskmanager_dies(client.close)
print("watching", flush=True)
time.sleep(120)
"""


def wait_for(condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_a_worker_closes_its_clients_and_exits_when_its_java_grandparent_dies(tmp_path: Path) -> None:
    fake_jvm = tmp_path / "java"
    shutil.copy(shutil.which("bash"), fake_jvm)
    marker, worker_pid = tmp_path / "closed", tmp_path / "worker.pid"
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    # java -> bash (the udf runner script) -> python worker, as in a TaskManager; `wait` keeps bash alive.
    stdout, stderr = tmp_path / "stdout", tmp_path / "stderr"
    jvm = subprocess.Popen([str(fake_jvm), "-c", f"bash -c '{sys.executable} {script} {marker} > {stdout} "
                                                 f"2> {stderr} & echo $! > {worker_pid}; wait' & wait"],
                           cwd=Path(__file__).resolve().parents[2], stdout=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: worker_pid.exists() and worker_pid.read_text().strip(), 10)
        pid = int(worker_pid.read_text())
        assert wait_for(lambda: worker_watchdog.nearest_ancestor_named("java", pid) is not None, 10)
        # Importing the connector takes seconds on a busy machine: kill the "TaskManager" once the watch is set.
        assert wait_for(lambda: stdout.exists() and "watching" in stdout.read_text(), 60), stderr.read_text()
        time.sleep(1)
        assert not marker.exists(), "the watchdog acted while its TaskManager lived"
        jvm.send_signal(signal.SIGKILL)
        jvm.wait()
        assert wait_for(marker.exists, 10), "the orphaned worker never closed its clients"
        assert marker.read_text() == "closed"
        assert wait_for(lambda: not alive(pid), 10), "the worker lives on"
        assert f"the TaskManager process {jvm.pid} that started this Python worker is gone" in stderr.read_text()
    finally:
        jvm.kill()


def test_a_process_without_a_java_ancestor_is_not_watched() -> None:
    assert worker_watchdog.nearest_ancestor_named("java") is None
    assert worker_watchdog.nearest_ancestor_named("no-such-command", os.getpid()) is None

