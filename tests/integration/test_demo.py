"""The README's example commands (`./dev demo`, `./dev example NAME`) run end to end and print what they verified.

Each runs as a user runs it, in its own process, against the session's broker instead of the default ports.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from devtools.debezium_server import DebeziumServer
from devtools.postgres_server import Postgres
from devtools.pulsar_standalone import Broker
from tests.user_environment import user_environment

ROOT = Path(__file__).resolve().parents[2]
LIMIT_S = 300  # the demo takes ~40 s on a quiet 2-core machine; a hang must fail, not block the suite


def run_example(name: str, broker: Broker, *args: str) -> str:
    """The stdout of examples/`name`.py run against `broker`; fails with its output if it fails or hangs."""
    command = [sys.executable, str(ROOT / "examples" / f"{name}.py"), *args,
               "--service-url", broker.service_url, "--admin-url", broker.admin_url]
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=LIMIT_S,
                              env={**user_environment(), "PYTHONPATH": str(ROOT)})  # as `./dev example` sets it
    except subprocess.TimeoutExpired as error:
        raise AssertionError(f"{name} did not finish within {LIMIT_S} s; its output so far:\n"
                             f"{(error.stdout or b'').decode(errors='replace')[-3000:]}") from None
    assert done.returncode == 0, f"{name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_main_job_reads_stored_batched_orders_exactly_once(broker: Broker) -> None:
    output = run_example("main_job", broker, "--records", "20000")
    assert "OK: 20000 of 20000 orders exactly once, 0 duplicates, 0 missing, per-key order kept" in output


def test_sql_over_topics_lists_describes_windows_and_upserts_the_orders(broker: Broker) -> None:
    output = run_example("sql_over_topics", broker, "--orders", "2000")
    assert re.search(r"\|\s+orders \|", output), output  # SHOW TABLES
    assert re.search(r"\|\s+event_time \| TIMESTAMP_LTZ\(3\) \*ROWTIME\* \|", output), output  # DESCRIBE
    assert "OK: 2000 orders, 150 customer windows, every sum equal to what was written" in output
    assert "OK: the upsert table holds each customer's totals" in output


def test_cdc_to_pulsar_answers_as_the_database_does(broker: Broker) -> None:
    postgres = Postgres("example", 25434)
    debezium = DebeziumServer("example", 28091, broker.service_url, postgres)
    try:
        output = run_example("cdc_to_pulsar", broker, "--postgres", "example:25434", "--debezium", "example:28091")
    finally:
        debezium.wipe()
        postgres.wipe()
    assert re.search(r"OK: the job's orders per region, from the change topics, equal the database's \(4 regions\)",
                     output), output
