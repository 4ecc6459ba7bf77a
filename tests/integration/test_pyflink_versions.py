"""The smoke subset (tests marked `smoke`: a bounded read in batch mode, and Pulsar -> source -> map -> EXACTLY_ONCE
sink -> Pulsar over 200k records through three injected failures) on the other PyFlink versions of the range
pyproject.toml declares; the whole suite runs on the project's venv (the newest).

Each version's venv is made on first use under .cache/pyflink/ (devtools/pyflink_venvs.py). The subset runs as a
pytest of that venv on the session's broker, which it finds running and leaves alone.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from devtools import pyflink_venvs
from devtools.pulsar_standalone import Broker
from tests.user_environment import user_environment

ROOT = Path(__file__).resolve().parents[2]
# The range's oldest and its newest other version (2.1 is between them and not run). Each takes 2-3 minutes here,
# making its venv included. PyFlink 1.19 was tried before the source, map and writer ran fused: its 200k exactly-once
# run did not finish within 300 s, so 1.19 is not declared.
OTHER_VERSIONS = ["2.0", "2.2"]
SUBSET_TIMEOUT_S = 1_200


@pytest.mark.timeout(SUBSET_TIMEOUT_S + 300)  # + making the venv on first use
@pytest.mark.parametrize("version", OTHER_VERSIONS)
def test_the_smoke_subset_passes_on(version: str, broker: Broker) -> None:
    python = pyflink_venvs.python_for(version)
    command = [str(python), "-m", "pytest", "-m", "smoke", "-p", "no:cacheprovider", "-q", "-rA", "--tb=native",
               "tests/integration"]
    environment = user_environment(PATH=f"{python.parent}{os.pathsep}{user_environment()['PATH']}",
                                   PYTHONPATH=str(ROOT), TEST_PULSAR_PORT=str(broker.port),
                                   TEST_PULSAR_WEB_PORT=str(broker.web_port))
    subset = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, start_new_session=True)
    try:
        output, _ = subset.communicate(timeout=SUBSET_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(subset.pid, signal.SIGKILL)
        output, _ = subset.communicate()
        pytest.fail(f"the smoke subset on PyFlink {version} did not end within {SUBSET_TIMEOUT_S} s:\n{output[-6000:]}")
    finally:  # also when this test is interrupted: the subset's jobs and workers go with it
        if subset.poll() is None:
            os.killpg(subset.pid, signal.SIGKILL)
    summary = output.strip().splitlines()[-1] if output.strip() else "(no output)"
    assert subset.returncode == 0, f"the smoke subset failed on PyFlink {version} ({summary}):\n{output[-8000:]}"
    assert " passed" in summary and "skipped" not in summary, summary
