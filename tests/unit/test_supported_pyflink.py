"""pyproject.toml declares the PyFlink range the tests run: the project venv's version and the smoke subset's."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

from tests.integration.test_pyflink_versions import OTHER_VERSIONS

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def release(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:2])


def test_the_declared_range_starts_at_the_oldest_version_tested_and_holds_the_newest() -> None:
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    flink = next(d for d in dependencies if d.startswith("apache-flink"))
    lower, upper = re.fullmatch(r"apache-flink>=([\d.]+),<([\d.]+)", flink).groups()
    assert release(lower) == min(map(release, OTHER_VERSIONS)), flink
    assert release(lower) <= release(version("apache-flink")) < release(upper), flink
    assert all(release(v) < release(upper) for v in OTHER_VERSIONS), flink
