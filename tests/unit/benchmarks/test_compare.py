"""The benchmark's reading of a JVM's Native Memory Tracking diff (what grew in a soak), its idle rows, its models,
its tail table and its CPU a record."""

import os

from benchmarks.compare import committed_changes_mb, cpu_per_record, goals, markdown

SUMMARY_DIFF = """\
Native Memory Tracking:

Total: reserved=8118483KB +2148KB, committed=520891KB +10728KB

-                 Java Heap (reserved=6172672KB, committed=163840KB)
                            (mmap: reserved=6172672KB, committed=163840KB)

-                    Thread (reserved=103993KB -3081KB, committed=11165KB -357KB)
                            (thread #103 -3)

-                      Code (reserved=249992KB +388KB, committed=34104KB +4836KB)
                            (mmap: reserved=247688KB, committed=31800KB +4448KB)

-                  Internal (reserved=741KB +43KB, committed=741KB +43KB)

-               Arena Chunk (reserved=6351KB +4190KB, committed=6351KB +4190KB)
"""


def test_each_category_s_committed_change_largest_first_without_the_total_or_sub_lines() -> None:
    assert committed_changes_mb(SUMMARY_DIFF) == {"Code": 4836 / 1024, "Arena Chunk": 4190 / 1024,
                                                  "Thread": -357 / 1024}


def test_unchanged_and_tiny_changes_are_left_out() -> None:
    assert "Java Heap" not in committed_changes_mb(SUMMARY_DIFF)
    assert "Internal" not in committed_changes_mb(SUMMARY_DIFF)
    assert committed_changes_mb("") == {}


IDLE_REPORT = {"sizes": {}, "idle": [
    {"variant": "ours-source", "partitions": 1000, "cpu_pct": 24.6, "cpu_pct_jvm": 9.6, "cpu_pct_python": 15.0},
    {"variant": "pyflink-floor", "partitions": 1, "cpu_pct": 4.0, "cpu_pct_jvm": 3.0, "cpu_pct_python": 1.0},
    {"variant": "pyflink-driver-floor", "partitions": 1, "cpu_pct": 17.9, "cpu_pct_jvm": 10.6, "cpu_pct_python": 7.3}]}


def test_the_idle_goal_row_is_followed_by_both_floors_each_against_the_goal() -> None:
    rows = {goal: (measured, met) for goal, _target, measured, met in goals(IDLE_REPORT)}
    assert rows["CPU over 1,000 idle partitions"] == ("24.6%", "**no**")
    floors = {goal: value for goal, value in rows.items() if goal.startswith("PyFlink alone")}
    assert sorted(floors.values()) == [("17.9%", "**no**"), ("4.0%", "yes")]
    assert any("driver shape" in goal for goal, value in floors.items() if value[0] == "17.9%")


def test_the_idle_table_names_each_floor_without_a_partition_count() -> None:
    lines = markdown({**IDLE_REPORT, "started": "now", "machine": "m", "broker": "4.2.4", "records": 1, "runs": 1,
                      "latency": []}).splitlines()
    floor_rows = [line for line in lines if line.startswith("| PyFlink alone") and "| - |" in line]
    assert len(floor_rows) == 2
    assert any("driver shape" in line and "| 17.9 | 10.6 | 7.3 |" in line for line in floor_rows)


def test_the_pipeline_with_a_free_source_adds_the_sink_half_s_cost_to_the_raw_read_s() -> None:
    report = {"sizes": {100: {"raw_read": {"median": 400_000.0}, "variants": {
        "java-pipeline": {"median": 50_000.0}, "pyflink-pipeline": {"median": 100_000.0}}}}}
    rows = {goal: (measured, met) for goal, _target, measured, met in goals(report)}
    row = next(value for goal, value in rows.items() if goal.startswith("a pipeline whose source cost only"))
    assert row == ("1.60x", "yes")  # 1 / (1/100,000 + 1/400,000) = 80,000 records/s, against 50,000


def test_the_raw_client_rows_set_the_measured_bound_of_each_goal_against_its_own_reference() -> None:
    report = {"sizes": {100: {"raw_read": {"median": 400_000.0}, "variants": {
        "java-pipeline": {"median": 50_000.0}, "rawread-source": {"median": 160_000.0},
        "rawread-pipeline": {"median": 80_000.0}}}}}
    rows = {goal: (measured, met) for goal, _target, measured, met in goals(report)}
    raw = {goal.split(", 100 B")[0]: value for goal, value in rows.items() if goal.startswith("PyFlink and the raw")}
    assert raw == {"PyFlink and the raw client (a Python step that only reads: no state, no checks) vs raw read":
                   ("0.40x", "**no**"),
                   "PyFlink and the raw client (a Python step that only reads) -> map -> our sink vs Java pipeline":
                   ("1.60x", "yes")}


TAIL_REPORT = {"sizes": {}, "tail": [
    {"variant": "ours-pipeline", "size": 100, "rate": 60_000, "produce_rate": 70_000, "duplicates": 0},
    {"variant": "ours-pipeline-eo", "size": 100, "rate": 45_000, "produce_rate": 70_000, "duplicates": 0},
    {"variant": "java-pipeline", "size": 100, "rate": 50_000, "produce_rate": 72_000, "duplicates": 0},
    {"variant": "ours-pipeline", "size": 100, "rate": 80_000, "produce_rate": 71_000, "duplicates": 0},
    {"variant": "ours-pipeline-eo", "size": 100, "error": "the job restarted"},
    {"variant": "java-pipeline", "size": 100, "rate": 40_000, "produce_rate": 74_000, "duplicates": 0}]}


def test_the_tail_goals_compare_medians_of_each_pipeline_s_runs_and_leave_out_failed_runs() -> None:
    rows = {goal: (measured, met) for goal, _target, measured, met in goals(TAIL_REPORT)}
    assert rows["pipeline AT_LEAST_ONCE vs Java pipeline, tail reads, 100 B"] == ("1.56x", "yes")  # 70k / 45k
    assert rows["pipeline EXACTLY_ONCE vs Java AT_LEAST_ONCE pipeline, tail reads, 100 B"] == ("1.00x", "yes")


def test_the_tail_table_shows_each_run_and_a_failed_one_s_error_beside_the_median_of_the_others() -> None:
    lines = markdown({**TAIL_REPORT, "started": "now", "machine": "m", "broker": "4.2.4", "records": 1, "runs": 2,
                      "latency": []}).splitlines()
    assert any(line.startswith("| ours, source -> map -> sink, PyFlink 2.3 | 100 B | 70,000 (60,000, 80,000) | 1.56 |")
               for line in lines)
    assert any(line.startswith("| ours, source -> map -> sink EXACTLY_ONCE, PyFlink 2.3 | 100 B | 45,000 (45,000, 1 "
                               "failed: 'the job restarted') | 1.00 |") for line in lines)


def test_a_tail_run_s_cpu_a_record_is_the_median_of_its_runs_per_kind() -> None:
    cpu = {"jvm": 7.0, "python": 35.0, "broker": 16.0, "harness": 10.0, "machine": 75.0, "machine_busy_pct": 80.0}
    report = {**TAIL_REPORT, "tail": [{**run, "cpu_us": {**cpu, "python": cpu["python"] + 4 * n}}
                                      for n, run in enumerate(TAIL_REPORT["tail"])]}
    lines = markdown({**report, "started": "now", "machine": "m", "broker": "4.2.4", "records": 1, "runs": 2,
                      "latency": []}).splitlines()
    ours = next(line for line in lines if line.startswith("| ours, source -> map -> sink, PyFlink 2.3 | 100 B |"))
    assert "| 7 + 41 / 16 / 10 (80%) |" in ours  # its runs are the 1st and 4th: python 35 + 0 and 35 + 12


SERIES = [(100.0, {"jvm": 10.0, "python": 20.0, "machine": 50.0}),
          (101.0, {"jvm": 10.5, "python": 21.0, "machine": 51.0}),
          (103.0, {"jvm": 11.5, "python": 24.0, "machine": 55.0})]


def test_cpu_a_record_reads_the_totals_at_the_span_s_ends_off_the_series_by_interpolation() -> None:
    cpu = cpu_per_record(SERIES, 100.5, 102.0, 1_000)
    # jvm 10.25 -> 11.0 (0.75 s), python 20.5 -> 22.5 (2 s), machine 50.5 -> 53.0 (2.5 s over 1.5 s of wall)
    assert (cpu["jvm"], cpu["python"], cpu["machine"]) == (750.0, 2000.0, 2500.0)
    assert cpu["machine_busy_pct"] == round(2.5 / (1.5 * (os.cpu_count() or 1)) * 100, 1)


def test_cpu_a_record_is_left_out_for_a_span_the_series_does_not_cover_or_without_records() -> None:
    assert cpu_per_record(SERIES, 99.0, 102.0, 1_000) == {}
    assert cpu_per_record(SERIES, 101.0, 104.0, 1_000) == {}
    assert cpu_per_record(SERIES, 101.0, 102.0, 0) == {}
    assert cpu_per_record(SERIES[:1], 100.0, 100.0, 10) == {}
