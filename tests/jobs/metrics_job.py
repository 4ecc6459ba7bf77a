"""An endless PulsarSource read into a discarding sink, for reading the source's metrics over REST."""

from __future__ import annotations

import sys

from pyflink.datastream import StreamExecutionEnvironment

from connector import PulsarSource, SimpleStringSchema


def main(service_url: str, admin_url: str, topic: str) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    env.enable_checkpointing(1000)
    source = (PulsarSource.builder().set_service_url(service_url).set_admin_url(admin_url).set_topics(topic)
              .set_deserialization_schema(SimpleStringSchema()).set_lag_sample_interval_ms(1000)
              .set_source_name("metered").build())
    source.create_stream(env).filter(lambda _: False).print()
    env.execute("source metrics")


if __name__ == "__main__":
    main(*sys.argv[1:4])
