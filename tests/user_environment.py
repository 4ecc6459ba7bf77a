"""The environment for a job started as a subprocess: this process's, as a user's shell would have it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# What an in-process PyFlink job leaves in os.environ (measured on PyFlink 2.3). In a child they mark it as a
# Python worker of that job (it then refuses to start its own JVM, or fails looking for one).
_SET_BY_IN_PROCESS_PYFLINK = ("PYFLINK_GATEWAY_DISABLED", "PYTHON_LOOPBACK_SERVER_ADDRESS", "_PYFLINK_CONN_INFO_PATH",
                              "SEMI_PERSISTENT_DIRECTORY", "_PYTHON_WORKER_MEMORY_LIMIT", "TABLE_LOCAL_TIME_ZONE",
                              "FLINK_HOME", "FLINK_LIB_DIR", "FLINK_OPT_DIR", "FLINK_PLUGINS_DIR", "python")


def user_environment(**overrides: str) -> dict[str, str]:
    """os.environ without what in-process PyFlink jobs set, with this venv first on PATH, plus `overrides`."""
    environment = {k: v for k, v in os.environ.items() if k not in _SET_BY_IN_PROCESS_PYFLINK}
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    environment.update(overrides)
    return environment
