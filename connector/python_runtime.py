"""The PyFlink setting the connector chooses for a job whose author left it unset: the Python bundle time.

A Python operator's output reaches the JVM only when its bundle ends, by size (`python.fn-execution.bundle.size`,
100,000 elements) or by time (`python.fn-execution.bundle.time`, 1,000 ms by default). The source is driven by ticks
that leave its Python discovery step at bundle ends, its records leave the readers at bundle ends, and the sink
flushes at bundle ends; with the default, a record written to an idle topic reached the user's map 2.2-2.5 s later.
So the source and the sink set the bundle time to BUNDLE_TIME_MS when the job's configuration does not set it. A
value the author sets (in the environment's configuration or flink-conf) is left alone. The figures behind the
choice are in the README's benchmark section.

Shorter still pays while the readers are busy: a step timer a reader key registers reaches the JVM at a bundle end,
and the element it fires waits for the JVM's next bundle end to reach Python, so the Python worker idled 60-270 ms
between steps (a scratch trace, 2026-12-07). Measured in interleaved turns (the bench's runs, 1M records): 30 ms
against 100 read a backlog into an EXACTLY_ONCE sink at 39,000-40,000 records/s against 34,700-38,200 and a topic
being written at 35,700-49,400 against 31,700-37,000, a bounded pipeline at 66,800-70,900 against 48,700-60,800,
and a record at 10 a second reached the map in 49 ms (p50) against 146-185; it costs CPU over idle partitions (1,000:
28.5-29.9% of a core against 25.1-25.6%). 20 and 50 ms read as fast as 30 within the runs' spread.
"""

from __future__ import annotations

from typing import Any

from pyflink.common import Configuration
from pyflink.java_gateway import get_gateway

BUNDLE_TIME = "python.fn-execution.bundle.time"
BUNDLE_TIME_MS = 30


def set_bundle_time_unless_set(j_env: Any) -> None:
    """Give the Java StreamExecutionEnvironment `j_env` a bundle time of BUNDLE_TIME_MS unless it has one."""
    if j_env.getConfiguration().toMap().get(BUNDLE_TIME) is not None:
        return
    configuration = Configuration()
    configuration.set_string(BUNDLE_TIME, str(BUNDLE_TIME_MS))
    j_env.configure(configuration._j_configuration, get_gateway().jvm.Thread.currentThread().getContextClassLoader())
