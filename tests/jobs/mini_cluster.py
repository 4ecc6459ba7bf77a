"""Settings for test jobs that fail on purpose on the local mini cluster."""

from __future__ import annotations

from pyflink.common import Configuration


def with_spare_taskmanager(config: Configuration, parallelism: int = 2) -> Configuration:
    """Two TaskManagers instead of one, each with slots for the whole job. PyFlink 2.3 sometimes takes down the
    TaskManager of a failed Python task while it cancels the others ("Reference count must not be negative" in
    Beam's DefaultJobBundleFactory, a fatal error). A cluster's resource manager replaces it (README: run
    TaskManagers supervised); a mini cluster cannot, and its job then waits for slots until it fails. The spare
    plays the replacement."""
    config.set_string("minicluster.number-of-taskmanagers", "2")
    config.set_string("taskmanager.numberOfTaskSlots", str(parallelism))
    return config
