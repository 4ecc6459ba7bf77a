"""Virtual environments with another PyFlink than the project's own, made on first use under .cache/pyflink/.

The connector supports a range of PyFlink versions (pyproject.toml); the project's venv has the newest. The test
suite runs its smoke subset in these venvs too (tests/integration/test_pyflink_versions.py). Each venv has
`apache-flink==<version>.*` and the connector's other dependencies; the connector itself comes from the checkout
(PYTHONPATH), as it does for the tests.

    .venv/bin/python -m devtools.pyflink_venvs 2.0     # make (or find) the venv, print its interpreter
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "pyflink"
# What every venv gets besides apache-flink: the connector's dependencies and the test tools.
REQUIREMENTS = ("pulsar-client>=3.13,<4", "fastavro>=1.13,<2", "pytest>=8", "pytest-timeout>=2.3", "pyyaml>=6")


class VenvError(RuntimeError):
    pass


def python_for(version: str) -> Path:
    """The interpreter of a venv with `apache-flink==<version>.*` (e.g. "2.0"), made on first use (a few minutes;
    a half-made one is made again)."""
    venv = CACHE / f"flink-{version}"
    python = venv / "bin" / "python"
    complete = venv / ".complete"
    if complete.exists():
        return python
    print(f"making {venv} with apache-flink=={version}.* (once; a few minutes) ...", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    for step in (["--upgrade", "pip"], [f"apache-flink=={version}.*", *REQUIREMENTS]):
        done = subprocess.run([str(python), "-m", "pip", "install", "-q", *step], capture_output=True, text=True)
        if done.returncode != 0:
            raise VenvError(f"pip install {' '.join(step)} failed in {venv} (exit {done.returncode}):\n"
                            f"{done.stdout[-2000:]}{done.stderr[-3000:]}")
    complete.touch()
    return python


def environment(python: Path) -> dict[str, str]:
    """The environment for a process of that venv: its bin first on PATH (PyFlink starts its Python workers as
    `python` from PATH) and the checkout on PYTHONPATH."""
    return {**os.environ, "PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": str(ROOT)}


if __name__ == "__main__":
    print(python_for(sys.argv[1]))
