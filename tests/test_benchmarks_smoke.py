"""The benchmark runner's smoke run: it plans, compares and writes its report end to end."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.__main__ import main


def test_quick_run_writes_a_report_with_measured_rows(tmp_path: Path) -> None:
    """`python -m benchmarks --quick` writes report.md and report.json with one row per season."""
    main(["--quick", "--sections", "seasons,peers", "--out", str(tmp_path)])
    results = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    seasons = results["seasons"]
    assert [r.get("error") for r in seasons] == [None] * len(seasons)
    for row in seasons:
        assert row["trips"] >= row["lower_bound_trips"] > 0
        assert row["seated"] + row["unserved"] == row["workers"]
        assert row["peak_mb"] > 0
    solvers = [r["solver"] for r in results["peers"][0]["results"]]
    assert solvers == ["chunyun", "VROOM", "PyVRP", "OR-Tools plain"]
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "## Seasons" in report and "612" in report
    assert (tmp_path / "season-scaling.png").stat().st_size > 1000
