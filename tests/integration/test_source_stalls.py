"""A broker that stops delivering stored messages fails the job with an error naming split, position and backlog.

The broker here is the one the project ran before issue 11: its bookie on the in-process transport, which
cannot return entries of 16 KiB or more, and no entry cache. Its readers connect and receive nothing while the
admin API reports thousands of entries: the stall `./dev demo` hung on, now an error within the stall timeout.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from pyflink.common import Configuration
from pyflink.datastream import StreamExecutionEnvironment

from connector import PulsarSource, SimpleStringSchema, StartCursor
from connector.admin import PulsarAdmin
from tests.conftest import unique_topic
from tests.integration.test_broker import produce_default_batched
from tools.pulsar_standalone import Broker, start, stop

STALL_TIMEOUT_MS = 12_000


@pytest.fixture(scope="module")
def undelivering_broker() -> Iterator[Broker]:
    own = Broker(name="local-transport", port=23650, web_port=23080, entry_cache=False, local_transport=True)
    start(own)
    yield own
    stop(own)


def test_a_split_that_receives_nothing_while_its_partition_holds_messages_fails_the_job(
        undelivering_broker: Broker) -> None:
    topic = unique_topic("stall")
    PulsarAdmin(undelivering_broker.admin_url).create_partitioned_topic(topic, 2)
    produce_default_batched(undelivering_broker.service_url, topic, 20_000)
    config = Configuration()
    config.set_string("restart-strategy.type", "none")
    env = StreamExecutionEnvironment.get_execution_environment(config)
    env.set_parallelism(2)
    env.enable_checkpointing(1000)
    source = (PulsarSource.builder()
              .set_service_url(undelivering_broker.service_url).set_admin_url(undelivering_broker.admin_url)
              .set_topics(topic).set_deserialization_schema(SimpleStringSchema())
              .set_start_cursor(StartCursor.earliest())  # unbounded: a bounded one asks the admin API for the
              # last message id first, which fails on this broker with "Bookie handle is not available"
              .set_lag_sample_interval_ms(2000).set_split_stall_timeout_ms(STALL_TIMEOUT_MS)
              .build())
    source.create_stream(env).filter(lambda _: False).print()
    began = time.monotonic()
    with pytest.raises(Exception) as failed:
        env.execute("stalled source")
    elapsed = time.monotonic() - began
    message = str(failed.value)
    assert f"{topic}-partition-" in message and "stalled: no message for" in message, message[-3000:]
    assert "entries after it on the broker" in message and "at position its start (nothing read yet)" in message
    # Job start-up on a loaded 2-core machine takes up to ~30 s; the error comes one stall timeout after reading began.
    assert elapsed < STALL_TIMEOUT_MS / 1000 + 45, f"the stall error took {elapsed:.0f} s"
    print(f"stall error after {elapsed:.1f} s of job time (stall timeout {STALL_TIMEOUT_MS / 1000:.0f} s)")
