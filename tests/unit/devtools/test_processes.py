"""`devtools.processes`: telling a live process from one that exited, and ending a process group."""

from __future__ import annotations

import subprocess
import time

from devtools.processes import alive, stat_fields, terminate


def test_a_child_that_exited_and_was_not_waited_for_is_not_alive() -> None:
    child = subprocess.Popen(["true"])
    try:
        while (stat_fields(child.pid) or ["Z"])[0] != "Z":  # `true` exits at once; a zombie until waited for
            time.sleep(0.01)
        assert not alive(child.pid)
    finally:
        child.wait()


def test_terminate_ends_a_process_group_that_obeys_sigterm() -> None:
    child = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        assert alive(child.pid)
        terminate(child.pid, timeout_s=60)
        assert not alive(child.pid)
        assert child.wait(timeout=5) == -15, "SIGTERM ended it, not the SIGKILL after the timeout"
    finally:
        child.kill()
        child.wait()
