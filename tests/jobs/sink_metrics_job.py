"""Two PulsarSources with bad messages into one PulsarSink, for reading the source's bad-message metrics and the
sink's metrics over REST:

    flink run -py tests/jobs/sink_metrics_job.py SERVICE_URL ADMIN_URL SKIP_TOPIC DEAD_LETTER_TOPIC_IN \
        DEAD_LETTER_TOPIC TARGET

Reads SKIP_TOPIC with the SKIP policy and DEAD_LETTER_TOPIC_IN with DEAD_LETTER (into DEAD_LETTER_TOPIC), both as
strings, and writes every decoded string to TARGET with AT_LEAST_ONCE. Runs until cancelled.
"""

from __future__ import annotations

import sys

from pyflink.datastream import StreamExecutionEnvironment
from pyflink.datastream.connectors.base import DeliveryGuarantee

from connector import PulsarSource, SimpleStringSchema
from connector.sink import PulsarSink
from connector.source.bad_message import BadMessagePolicy


def main(service_url: str, admin_url: str, skip_topic: str, dead_letter_topic_in: str, dead_letter_topic: str,
         target: str) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    env.enable_checkpointing(1000)

    def source(name: str, topic: str, policy: BadMessagePolicy, dead_letters: str | None = None) -> PulsarSource:
        return (PulsarSource.builder().set_service_url(service_url).set_admin_url(admin_url).set_topics(topic)
                .set_deserialization_schema(SimpleStringSchema()).set_bad_message_policy(policy, dead_letters)
                .set_source_name(name).build())

    skipping = source("skipping", skip_topic, BadMessagePolicy.SKIP).create_stream(env)
    dead_lettering = source("dead-lettering", dead_letter_topic_in, BadMessagePolicy.DEAD_LETTER,
                            dead_letter_topic).create_stream(env)
    sink = (PulsarSink.builder().set_service_url(service_url).set_admin_url(admin_url).set_topics(target)
            .set_serialization_schema(SimpleStringSchema()).set_delivery_guarantee(DeliveryGuarantee.AT_LEAST_ONCE)
            .set_sink_name("metered-sink").build())
    sink.sink_to(skipping.union(dead_lettering))
    env.execute("sink and bad-message metrics")


if __name__ == "__main__":
    main(*sys.argv[1:7])
