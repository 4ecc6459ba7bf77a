"""The benchmark's parsing of a JVM's Native Memory Tracking diff (what grew in a soak)."""

from benchmarks.compare import committed_changes_mb

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
