"""Shared fixtures: one real Pulsar broker for the whole session, unique topics per test.

A run stops every broker and cluster it started, also when a test fails or the run is interrupted: SIGTERM
becomes a KeyboardInterrupt, after which pytest still tears its fixtures down. If the run's process dies without
tearing down (a crash, SIGKILL), a watcher started with it (devtools/reaper.py) stops what it left running.
"""

from __future__ import annotations

import logging
import os
import signal
import uuid
from collections.abc import Iterator

import pulsar
import pytest

from connector import clients
from connector.admin import PulsarAdmin
from devtools.flink_cluster import FlinkCluster
from devtools.pulsar_standalone import Broker, start, stop
from devtools.reaper import watch
from tests import user_environment  # noqa: F401  (imported before any job runs: it keeps that environment)
from tests.loopback import stop_flushers

# The test broker runs beside any broker a developer already has on the default ports.
TEST_BROKER = Broker(name="test", port=int(os.environ.get("TEST_PULSAR_PORT", "16650")),
                     web_port=int(os.environ.get("TEST_PULSAR_WEB_PORT", "18080")))


def pytest_configure(config: pytest.Config) -> None:
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)
    watch()


@pytest.fixture(autouse=True)
def close_clients_left_open() -> Iterator[None]:
    """A test's in-process jobs run their Python functions in this process, and PyFlink closes none of a cancelled
    (or failed) attempt's: close the connector clients they left open when the test ends, so they do not reconnect
    for the rest of the session."""
    yield
    left_open = clients.close_all()
    if left_open:
        logging.getLogger(__name__).info("closed the clients of %s left open by in-process jobs", left_open)


@pytest.fixture(autouse=True)
def stop_threads_of_ended_jobs() -> Iterator[None]:
    """When a test ends, the flusher threads PyFlink left behind for each of its in-process jobs are stopped
    (tests/loopback.py), so they do not pile up over the session (1,625 by minute 35 of one CI run), each taking the
    GIL every second."""
    yield
    stopped = stop_flushers()
    if stopped:
        logging.getLogger(__name__).info("stopped %d flusher threads left by in-process jobs", stopped)


@pytest.fixture(scope="session")
def broker() -> Iterator[Broker]:
    """The session's local broker, stopped when the session ends (a running one is reused and left alone)."""
    already_running = TEST_BROKER.pid() is not None and TEST_BROKER.is_serving()
    start(TEST_BROKER)
    yield TEST_BROKER
    if not already_running:
        stop(TEST_BROKER)


@pytest.fixture()
def restartable_broker() -> Iterator[Broker]:
    """A broker of the test's own, which it may stop and start again (same data dir)."""
    # Ports below the ephemeral range (32768+): a client retrying against a stopped broker can otherwise
    # connect to itself on the broker's port and keep the restart from binding it.
    own = Broker(name="restartable", port=20650, web_port=20080)
    start(own)
    yield own
    stop(own)


@pytest.fixture(scope="session")
def storage_broker() -> Iterator[Broker]:
    """A broker with no entry cache: every read comes from the bookie, as a backlog's does in production."""
    own = Broker(name="storage", port=21650, web_port=21080, entry_cache=False)
    start(own)
    yield own
    stop(own)


@pytest.fixture(scope="session")
def admin(broker: Broker) -> PulsarAdmin:
    return PulsarAdmin(broker.admin_url)


@pytest.fixture()
def pulsar_client(broker: Broker) -> Iterator[pulsar.Client]:
    client = pulsar.Client(broker.service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Warn))
    yield client
    client.close()


@pytest.fixture()
def topic(request: pytest.FixtureRequest) -> str:
    """A topic name no other test uses (not created: tests create what shape they need)."""
    return unique_topic(request.node.name)


def unique_topic(label: str) -> str:
    safe = "".join(c if c.isalnum() else "-" for c in label)[:40].strip("-")
    return f"persistent://public/default/{safe}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def session_flink_cluster() -> Iterator[FlinkCluster]:
    """A standalone Flink cluster (1 JobManager, 2 TaskManagers of 1 slot, separate processes) for the session.

    Starting it stops any earlier cluster of the same name: set TEST_FLINK_CLUSTER, TEST_FLINK_REST_PORT and
    TEST_FLINK_RPC_PORT to run beside another session's.
    """
    cluster = FlinkCluster(name=os.environ.get("TEST_FLINK_CLUSTER", "test"),
                           rest_port=int(os.environ.get("TEST_FLINK_REST_PORT", "18081")),
                           rpc_port=int(os.environ.get("TEST_FLINK_RPC_PORT", "16123")))
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture()
def flink_cluster(session_flink_cluster: FlinkCluster) -> FlinkCluster:
    """The session's cluster with all its TaskManagers: once the jobs of earlier tests ended, the TaskManagers they
    took down are replaced."""
    session_flink_cluster.wait_until_no_job_runs()
    session_flink_cluster.replace_lost_taskmanagers()
    return session_flink_cluster
