"""`chunyun plan` end to end on a small scenario folder."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from api.cli import app
from optimizer.read import read_scenario
from optimizer.write import read_plan
from tests.checker import check_plan

POOLING = Path(__file__).resolve().parents[1] / "data" / "pooling"


def test_plan_command_writes_a_valid_plan_and_reports(tmp_path: Path) -> None:
    """It plans the folder, writes plan.json, trips.csv, manifests; reports bad rows and KPIs."""
    out = tmp_path / "plan"
    result = CliRunner().invoke(
        app,
        [
            "plan",
            str(POOLING),
            "--out",
            str(out),
            "--time-limit",
            "2",
            "--provider",
            "great-circle",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "id_number" in result.output and "row" in result.output  # the bad rows
    assert "seat utilization" in result.output and "lower bound" in result.output
    plan = read_plan(out)
    assert (out / "trips.csv").exists() and len(list((out / "manifests").glob("*.csv"))) == len(
        plan.trips
    )
    assert check_plan(read_scenario(POOLING), plan) == []
    assert json.loads((out / "plan.json").read_text(encoding="utf-8"))["kpis"]["workers"] == 169


def test_plan_command_refuses_a_folder_without_scenario(tmp_path: Path) -> None:
    """A folder that is not a scenario exits with code 2 and says why."""
    result = CliRunner().invoke(app, ["plan", str(tmp_path), "--out", str(tmp_path / "p")])
    assert result.exit_code == 2
    assert "scenario.toml is missing" in result.output
