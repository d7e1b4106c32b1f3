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


def test_quick_robustness_run_plans_each_family_member_with_and_without_the_fleet(
    tmp_path: Path,
) -> None:
    """`--sections robustness --quick` plans both smoke members by every available entry point,
    each in its own process, and reports their figures."""
    from benchmarks.robustness import available_columns, available_entries

    main(["--quick", "--sections", "robustness", "--out", str(tmp_path)])
    section = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["robustness"]
    assert [r["name"] for r in section["seasons"]] == ["quick-home-tight", "quick-return-ample"]
    assert [e["name"] for e in section["entries"]] == [e.name for e in available_entries()]
    assert [c["key"] for c in section["columns"]] == [c.key for c in available_columns()]
    for row in section["seasons"]:
        for name in ("fleet", "unlimited"):
            run = row["runs"][name]
            assert "error" not in run, run
            assert run["seated"] + run["unserved"] == run["workers"] == row["workers"]
            assert run["trips"] >= run["lower_bound_trips"] > 0
            assert run["plan_s"] > 0 and run["peak_mb"] > 0
        # With counts raised nobody waits for a coach; the product's plan fits the fleet.
        assert "fleet_exhausted" not in row["runs"]["unlimited"]["unserved_by_reason"]
        assert row["runs"]["fleet"]["within_fleet"]
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "## Robustness family" in report
    assert "quick-home-tight" in report and "quick-return-ample" in report


def test_quick_lpbound_run_reports_both_bounds_for_each_season(tmp_path: Path) -> None:
    """`--sections lpbound --quick` plans the small season and both smoke family members, each
    in its own process, and reports the old bound, the LP bound without and with the pickup rows
    and the best of them."""
    main(["--quick", "--sections", "lpbound", "--lp-time", "5", "--out", str(tmp_path)])
    rows = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["lpbound"]
    names = ["small", "quick-home-tight", "quick-return-ample"]
    assert [r["season"][: len(n)] for r, n in zip(rows, names, strict=True)] == names
    for row in rows:
        assert "error" not in row, row
        assert row["trips"] >= row["new_bound"] == max(row["counting_bound"], row["lp_trips"])
        assert row["lp_value"] <= row["trips"]
        # The LP without the pickup rows ran on the same plan, side by side.
        assert row["counting_bound"] <= row["old_bound"] <= row["trips"]
        assert row["old_bound"] == max(row["counting_bound"], row["old_lp_trips"])
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "## LP lower bound" in report
