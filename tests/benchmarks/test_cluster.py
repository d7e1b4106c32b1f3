"""The cluster benchmark's projection: serial time plus, stage by stage, the longest-first
schedule of each batch of measured parts on N machines x 2 slots."""

from __future__ import annotations

import pytest

from benchmarks.cluster import lpt_makespan, part_summary, projection


def test_longest_first_makespan() -> None:
    assert lpt_makespan([3.0, 3.0, 2.0, 2.0, 2.0], 2) == pytest.approx(7.0)
    assert lpt_makespan([5.0, 1.0], 8) == pytest.approx(5.0)
    assert lpt_makespan([], 4) == 0.0


def test_projection_adds_each_kinds_batches_to_the_serial_time() -> None:
    """One dates batch (3 parts), two routing batches and one timetables batch; the one-worker
    wall is 100 s and the parts sum to 36 s, so serial = 64 s."""
    parts = [
        ("dates", 0, 2.0),
        ("dates", 0, 2.0),
        ("dates", 0, 4.0),
        ("routing", 1, 1.0),
        ("routing", 1, 1.0),
        ("routing", 2, 2.0),
        *(("timetables", 3, 3.0) for _ in range(8)),
    ]
    result = projection(100.0, parts)
    assert result["serial_s"] == 64.0 and result["batches"] == 4
    assert result["one_slot_s"] == 100.0  # every part one after the other: the measured wall
    # 1 machine = 2 slots: dates 4, routing 1 + 2, timetables 12.
    assert result["by_kind"]["dates"][1] == 4.0
    assert result["by_kind"]["routing"][1] == 3.0
    assert result["by_kind"]["timetables"][1] == 12.0
    assert result["by_machines"][1] == 64.0 + 4.0 + 3.0 + 12.0
    # 4 machines = 8 slots: every timetable part at once.
    assert result["by_machines"][4] == 64.0 + 4.0 + 3.0 + 3.0
    assert result["limit_s"] == result["by_machines"][32]
    summary = part_summary(parts)
    assert summary["timetables"] == {
        "parts": 8,
        "batches": 1,
        "sum_s": 24.0,
        "max_s": 3.0,
        "median_s": 3.0,
    }
    assert summary["routing"]["batches"] == 2
