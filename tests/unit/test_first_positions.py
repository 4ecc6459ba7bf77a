"""Which map instances count as restarted after an injected failure (`first_positions_after` of the test job): the
ones whose first marker came after the failure's, not the failed attempt's other subtask running on for a moment."""

from __future__ import annotations

import os
from pathlib import Path

from tests.jobs.pulsar_to_pulsar_job import first_positions_after


def marker(folder: Path, name: str, made_s: int) -> None:
    path = folder / name
    path.touch()
    os.utime(path, (made_s, made_s))


def test_only_instances_started_after_the_failure_count(tmp_path: Path) -> None:
    marker(tmp_path, "first-0-0-old", 100)
    marker(tmp_path, "first-1-0-old", 101)
    marker(tmp_path, "failed-at-1000", 110)
    marker(tmp_path, "first-2-0-old", 111)  # the failed attempt's other subtask, not yet cancelled
    marker(tmp_path, "first-2-0-new", 120)
    marker(tmp_path, "first-3-500-new", 121)
    assert first_positions_after(tmp_path, "failed-at-1000") == {2: [0], 3: [500]}
