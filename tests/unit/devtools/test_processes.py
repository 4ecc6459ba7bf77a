"""`devtools.processes`: telling a live process from one that exited, and ending or awaiting a process group."""

from __future__ import annotations

import subprocess
import time

from devtools.processes import alive, await_group, group_alive, stat_fields, terminate


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


def test_await_group_waits_for_the_children_its_leader_left() -> None:
    leader = subprocess.Popen(["bash", "-c", "sleep 0.5 &"], start_new_session=True)
    try:
        leader.wait(timeout=5)  # the leader is gone at once; its sleep goes on in the group
        assert group_alive(leader.pid)
        began = time.monotonic()
        await_group(leader.pid, timeout_s=30)
        assert not group_alive(leader.pid)
        assert time.monotonic() - began < 10, "the sleep ended the group, not the SIGKILL after the timeout"
    finally:
        await_group(leader.pid, timeout_s=0)


def test_await_group_kills_a_group_that_outlives_its_timeout() -> None:
    leader = subprocess.Popen(["bash", "-c", "sleep 60 &"], start_new_session=True)
    try:
        leader.wait(timeout=5)
        await_group(leader.pid, timeout_s=0.3)
        deadline = time.monotonic() + 5
        while group_alive(leader.pid) and time.monotonic() < deadline:  # SIGKILL is delivered asynchronously
            time.sleep(0.05)
        assert not group_alive(leader.pid)
    finally:
        await_group(leader.pid, timeout_s=0)
