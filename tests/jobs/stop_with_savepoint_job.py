"""Reads a sequenced topic with `exactly_once_source_job` until asked to stop, stops with a savepoint, prints its path.

The caller asks by creating the file `--stop-file` (once it saw the read progress; it fails after 300 s without).

Run as a script with an earlier version of the project first on PYTHONPATH (`test_source_upgrade.py`): the job, the
connector and the checker are then that version's, so the savepoint holds the state that version writes. An earlier
checker that does not report progress gets that report here (the caller waits on it), its state untouched.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Iterable

from pyflink.datastream import KeyedProcessFunction
from pyflink.java_gateway import get_gateway

from tests.jobs import exactly_once_source_job as job

STOP_FILE_WAIT_S = 300.0
# tests.sequenced's, repeated: on this process's path the `tests` package is the earlier version's.
RESULT_PROGRESS, PROGRESS_EVERY = "progress", 500


class ProgressReportingChecker(job.SequenceChecker):
    """An earlier version's checker (same state, same reports) that also reports progress as this version's does."""

    def process_element(self, value: tuple[int, int], ctx: KeyedProcessFunction.Context) -> Iterable[int]:
        yield from super().process_element(value, ctx)
        partition, seq = value
        if seq > 0 and seq % PROGRESS_EVERY == 0:
            self._results.send(f"{RESULT_PROGRESS}:{partition}:{seq}".encode())


def main() -> None:
    parser = argparse.ArgumentParser()
    for flag in ("--service-url", "--admin-url", "--topic", "--results-topic", "--marker-dir", "--savepoint-dir"):
        parser.add_argument(flag, required=True)
    parser.add_argument("--per-partition", type=int, required=True)
    parser.add_argument("--parallelism", type=int, default=2)
    parser.add_argument("--stop-file", required=True)
    args = parser.parse_args()
    if not hasattr(job, "PROGRESS_EVERY"):  # the checker of a version before progress reports; `build` looks it up
        job.SequenceChecker = ProgressReportingChecker
    env = job.checkpointed_env(args.parallelism, checkpoint_ms=1000)
    # Small polls keep the read going long enough to stop it midway.
    job.build(env, args.service_url, args.admin_url, args.topic, args.results_topic, args.per_partition, [],
              args.marker_dir, max_records_per_poll=5)
    client = env.execute_async("read, then stop with a savepoint")
    deadline = time.monotonic() + STOP_FILE_WAIT_S
    while not os.path.exists(args.stop_file):
        if time.monotonic() > deadline:
            client.cancel().result()
            raise SystemExit(f"nobody created {args.stop_file} within {STOP_FILE_WAIT_S:.0f} s: job cancelled")
        time.sleep(0.2)
    # PyFlink 2.3's JobClient.stop_with_savepoint calls a Java overload that no longer exists; call Java's.
    canonical = get_gateway().jvm.org.apache.flink.core.execution.SavepointFormatType.CANONICAL
    print("savepoint:", client._j_job_client.stopWithSavepoint(False, args.savepoint_dir, canonical).get(), flush=True)
    # The job's Python functions ran in this process (loopback) and PyFlink does not close them: their Pulsar
    # clients' threads are alive, and interpreter teardown would abort in the client ("terminate called without an
    # active exception", exit -6, seen after the savepoint was written). The savepoint is done: leave at once.
    os._exit(0)


if __name__ == "__main__":
    main()
