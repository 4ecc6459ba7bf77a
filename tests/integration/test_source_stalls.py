"""A broker that stops delivering fails the job with an error naming split, position and backlog.

Two such brokers. The one the project ran before issue 11: its bookie on the in-process transport, which cannot
return entries of 16 KiB or more, and no entry cache; its readers connect and receive nothing while the admin API
reports thousands of entries (the stall `./dev demo` hung on). And a broker frozen with SIGSTOP after the job read
its topic: connections stay open, nothing answers, the admin API included.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest
from pyflink.common import Configuration
from pyflink.datastream import StreamExecutionEnvironment

from connector import PulsarSource, SimpleStringSchema, StartCursor
from connector.admin import PulsarAdmin
from devtools.pulsar_standalone import Broker, start, stop
from tests.conftest import unique_topic
from tests.integration.test_broker import produce_default_batched

STALL_TIMEOUT_MS = 12_000


@pytest.fixture(scope="module")
def undelivering_broker() -> Iterator[Broker]:
    own = Broker(name="local-transport", port=23650, web_port=23080, entry_cache=False, local_transport=True)
    start(own)
    yield own
    stop(own)


def unbounded_job_without_restarts(broker: Broker, topic: str) -> StreamExecutionEnvironment:
    """An unbounded read of `topic` (a bounded one would first ask the admin API for the last message id, which
    the local-transport broker fails with "Bookie handle is not available"), lag sampled every 2 s, the stall
    timeout STALL_TIMEOUT_MS, and no restart: the first failure ends the job."""
    config = Configuration()
    config.set_string("restart-strategy.type", "none")
    env = StreamExecutionEnvironment.get_execution_environment(config)
    env.set_parallelism(2)
    env.enable_checkpointing(1000)
    source = (PulsarSource.builder()
              .set_service_url(broker.service_url).set_admin_url(broker.admin_url)
              .set_topics(topic).set_deserialization_schema(SimpleStringSchema())
              .set_start_cursor(StartCursor.earliest())
              .set_lag_sample_interval_ms(2000).set_split_stall_timeout_ms(STALL_TIMEOUT_MS)
              .build())
    source.create_stream(env).filter(lambda _: False).print()
    return env


def test_a_split_that_receives_nothing_while_its_partition_holds_messages_fails_the_job(
        undelivering_broker: Broker) -> None:
    topic = unique_topic("stall")
    PulsarAdmin(undelivering_broker.admin_url).create_partitioned_topic(topic, 2)
    produce_default_batched(undelivering_broker.service_url, topic, 20_000)
    env = unbounded_job_without_restarts(undelivering_broker, topic)
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


def test_a_frozen_broker_fails_the_job_within_the_stall_timeout(restartable_broker: Broker) -> None:
    """SIGSTOP: connections stay open and nothing answers, neither the binary protocol nor the admin API."""
    broker = restartable_broker
    topic = unique_topic("frozen")
    admin = PulsarAdmin(broker.admin_url)
    admin.create_partitioned_topic(topic, 2)
    produce_default_batched(broker.service_url, topic, 5_000)
    env = unbounded_job_without_restarts(broker, topic)
    job = env.execute_async("source over a broker that freezes")
    frozen_at = None
    try:
        deadline = time.monotonic() + 120
        while admin.partitioned_stats(topic).get("msgOutCounter", 0) < 5_000:  # the broker sent the job everything
            assert time.monotonic() < deadline, "the job did not read the topic within 120 s"
            time.sleep(0.5)
        os.kill(broker.pid(), signal.SIGSTOP)
        frozen_at = time.monotonic()
        with pytest.raises(Exception) as failed:
            job.get_job_execution_result().result()
        elapsed = time.monotonic() - frozen_at
    finally:
        if frozen_at is not None:
            os.kill(broker.pid(), signal.SIGCONT)
    message = str(failed.value)
    assert f"{topic}-partition-" in message and "stalled: no message for" in message, message[-3000:]
    assert "the admin API did not answer" in message or "entries after it" in message, message[-3000:]
    assert elapsed < STALL_TIMEOUT_MS / 1000 + 30, f"the stall error took {elapsed:.0f} s after the freeze"
    print(f"frozen broker: the job failed {elapsed:.1f} s after SIGSTOP (stall timeout {STALL_TIMEOUT_MS / 1000:.0f} s)")
