"""tests/loopback.py against a real in-process PyFlink job: what an ended job leaves behind, and that it stops."""

from __future__ import annotations

from pyflink.common import Types
from pyflink.datastream import StreamExecutionEnvironment

from tests.loopback import flushers, stop_flushers


def test_an_ended_loopback_job_leaves_flushers_that_are_stopped() -> None:
    before = set(flushers())
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    with env.from_collection(list(range(100)), type_info=Types.INT()).map(
            lambda x: x + 1, output_type=Types.INT()).execute_and_collect() as results:
        assert sorted(results) == list(range(1, 101))

    left = set(flushers()) - before
    assert left, "PyFlink no longer leaves flusher threads behind: tests/loopback.py and its fixture can go"
    assert stop_flushers() >= len(left)
    for thread in left:
        thread.join(timeout=5)
    assert not any(thread.is_alive() for thread in left)
