"""The environment for a job started as a subprocess: this process's as it was at start, as a user's shell has it.

In-process PyFlink jobs change os.environ (measured on PyFlink 2.3: FLINK_HOME, FLINK_CONF_DIR,
PYFLINK_GATEWAY_DISABLED, PYTHON_LOOPBACK_SERVER_ADDRESS, python, ...; in a full test session, something more made a
child's PyFlink look for Java at "bin/java"). In a child they mark it as a Python worker of that job, or point it at
the wrong Java. So a child gets the environment this process had when this module was first imported (by conftest,
before any job ran).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from devtools.reaper import MARK_VARIABLE

_AT_START = dict(os.environ)


def user_environment(**overrides: str) -> dict[str, str]:
    """os.environ as it was before any in-process PyFlink job, with this venv first on PATH and the run's reaper
    marker (devtools/reaper.py; set after this module was imported), plus `overrides`."""
    environment = dict(_AT_START)
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{_AT_START.get('PATH', '')}"
    if MARK_VARIABLE in os.environ:
        environment[MARK_VARIABLE] = os.environ[MARK_VARIABLE]
    environment.update(overrides)
    return environment
