"""A bounded job for process-level failure tests: numbers through a slow Python map into an exactly-once FileSink.

    flink run -py tests/jobs/smoke_job.py <output_dir> <count> <sleep_s>

Parallelism 2, a checkpoint every second. The numbers 0..count-1 come from NumberSequenceSource; each output
line is "<number> <subtask> <attempt>": the index and attempt (0 before any restart) of the map subtask that
produced it. The FileSink commits part files on checkpoints and at the end, so a finished job's visible files
hold every number exactly once, whatever failures happened in between. sleep_s per record sets how long it runs.
"""

from __future__ import annotations

import sys
import time

from pyflink.common import Configuration, Encoder, Types, WatermarkStrategy
from pyflink.datastream import MapFunction, RuntimeContext, StreamExecutionEnvironment
from pyflink.datastream.connectors.file_system import FileSink, RollingPolicy
from pyflink.datastream.connectors.number_seq import NumberSequenceSource


class SlowTag(MapFunction):
    def __init__(self, sleep_s: float) -> None:
        self.sleep_s = sleep_s
        self.tag = ""

    def open(self, runtime_context: RuntimeContext) -> None:
        self.tag = f"{runtime_context.get_index_of_this_subtask()} {runtime_context.get_attempt_number()}"

    def map(self, value: int) -> str:
        time.sleep(self.sleep_s)
        return f"{value} {self.tag}"


def main(output: str, count: int, sleep_s: float) -> None:
    config = Configuration()
    # Small bundles: a checkpoint barrier waits for the bundle in flight, which at sleep_s per record must be short.
    config.set_string("python.fn-execution.bundle.size", "10")
    config.set_string("python.fn-execution.bundle.time", "100")
    env = StreamExecutionEnvironment.get_execution_environment(config)
    env.set_parallelism(2)
    env.enable_checkpointing(1000)
    numbers = env.from_source(NumberSequenceSource(0, count - 1), WatermarkStrategy.no_watermarks(), "numbers")
    sink = (FileSink.for_row_format(output, Encoder.simple_string_encoder())
            .with_rolling_policy(RollingPolicy.on_checkpoint_rolling_policy())
            .build())
    numbers.map(SlowTag(sleep_s), output_type=Types.STRING()).sink_to(sink)
    env.execute("smoke job")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]))
