"""README command 1: the main job (`./dev demo`) runs end to end and prints what it verified.

It runs as a user runs it, in its own process, against the session's broker instead of the default ports.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from devtools.pulsar_standalone import Broker
from tests.user_environment import user_environment

ROOT = Path(__file__).resolve().parents[2]
DEMO_LIMIT_S = 300  # the demo takes ~40 s on a quiet 2-core machine; a hang must fail, not block the suite


def test_main_job_reads_stored_batched_orders_exactly_once(broker: Broker) -> None:
    command = [sys.executable, str(ROOT / "examples" / "main_job.py"), "--records", "20000",
               "--service-url", broker.service_url, "--admin-url", broker.admin_url]
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=DEMO_LIMIT_S,
                              env=user_environment())
    except subprocess.TimeoutExpired as error:
        raise AssertionError(f"the main job did not finish within {DEMO_LIMIT_S} s; its output so far:\n"
                             f"{(error.stdout or b'').decode(errors='replace')[-3000:]}") from None
    assert done.returncode == 0, f"the main job failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert "OK: 20000 of 20000 orders exactly once, 0 duplicates, 0 missing, per-key order kept" in done.stdout
