"""`chunyun fleet-size` (table and JSON) and the fleet advice in `chunyun plan`'s summary."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from optimizer.write import read_plan

# The command line's texts are read in English (its default is Chinese).
pytestmark = pytest.mark.usefixtures("english_cli")

TINY = Path(__file__).resolve().parents[2] / "scenarios" / "tiny"
FAST = ["--time-limit", "2", "--provider", "great-circle"]


def test_fleet_size_json_is_exactly_the_documented_shape() -> None:
    """--json prints one JSON object: fleet lines, workers, seated; nothing else on stdout."""
    result = CliRunner().invoke(app, ["fleet-size", str(TINY), "--json", *FAST])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"fleet", "workers", "seated"}
    assert data["workers"] == data["seated"] == 60
    assert {f["vehicle_type"] for f in data["fleet"]} == {"coach-53", "coach-45", "coach-35"}
    for line in data["fleet"]:
        assert set(line) == {"vehicle_type", "seats", "count", "needed_from", "needed_to"}
    assert sum(f["count"] for f in data["fleet"]) > 0


def test_fleet_size_prints_a_table() -> None:
    """Without --json: a table of types, seats, coaches and dates."""
    result = CliRunner().invoke(app, ["fleet-size", str(TINY), *FAST])
    assert result.exit_code == 0, result.output
    assert "coaches needed to seat 60 of 60 workers" in result.output
    assert "coach-35" in result.output and "needed from" in result.output


def test_fleet_size_of_a_folder_without_scenario_says_so(tmp_path: Path) -> None:
    """A folder that is no scenario is refused with exit code 2 and a sentence."""
    result = CliRunner().invoke(app, ["fleet-size", str(tmp_path), "--json", *FAST])
    assert result.exit_code == 2
    assert "cannot size the fleet of" in result.output


def test_fleet_size_refuses_a_non_positive_time_limit() -> None:
    result = CliRunner().invoke(app, ["fleet-size", str(TINY), "--time-limit", "0"])
    assert result.exit_code == 2
    assert "--time-limit must be a positive number" in result.output


def _short_tiny(folder: Path) -> Path:
    """tiny with one coach-53 and no other coach: too few for its 60 workers."""
    shutil.copytree(TINY, folder)
    path = folder / "fleet.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["count"] = "1" if row["vehicle_type"] == "coach-53" else "0"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return folder


def test_plan_summary_advises_coaches_when_the_fleet_is_short(tmp_path: Path) -> None:
    """A plan with fleet_exhausted workers prints "to seat everyone, add N TYPE from MM-DD" and
    carries the same advice in plan.json's fleet_kpis."""
    folder = _short_tiny(tmp_path / "short")
    out = tmp_path / "plan"
    result = CliRunner().invoke(app, ["plan", str(folder), "--out", str(out), *FAST, "--no-render"])
    assert result.exit_code == 0, result.output
    plan = read_plan(out)
    assert any(u.reason == "fleet_exhausted" for u in plan.unserved)
    assert plan.fleet_kpis is not None and plan.fleet_kpis.advice
    for advice in plan.fleet_kpis.advice:
        line = f"to seat everyone, add {advice.add} {advice.vehicle_type} from "
        assert line + f"{advice.from_date:%m-%d}" in result.output
        assert advice.add == advice.needed - advice.fleet > 0


def test_plan_without_fleet_exhausted_workers_has_no_advice(tmp_path: Path) -> None:
    """Enough coaches: no advice, nothing extra computed or printed."""
    out = tmp_path / "plan"
    result = CliRunner().invoke(app, ["plan", str(TINY), "--out", str(out), *FAST, "--no-render"])
    assert result.exit_code == 0, result.output
    plan = read_plan(out)
    assert plan.fleet_kpis is not None and plan.fleet_kpis.advice == ()
    assert "to seat everyone" not in result.output


def test_fleet_size_of_a_season_folder_sizes_both_waves(tmp_path: Path) -> None:
    """A season folder (home/ and return/) is sized as one season: workers of both waves."""
    from scenarios.generate import generate_season, write_scenario

    for direction in ("home", "return"):
        season = generate_season(
            f"cli-{direction}",
            40,
            seed=2,
            direction=direction,  # type: ignore[arg-type]
            companies=2,
            counties=2,
            provinces=(("安徽", 1.0),),
            hub_radius_km=0.0,
        )
        write_scenario(season, tmp_path / "season" / direction)
    result = CliRunner().invoke(app, ["fleet-size", str(tmp_path / "season"), "--json", *FAST])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["workers"] == 80
    assert data["seated"] <= 80 and sum(f["count"] for f in data["fleet"]) > 0
