"""`chunyun render PLAN_DIR`: re-renders maps and papers from a plan folder on disk."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from api.documents import read_manifest_xlsx
from optimizer.model import Scenario
from optimizer.read import read_scenario
from optimizer.write import write_plan
from tests.maps import fixtures

# The command line's texts are read in English (its default is Chinese).
pytestmark = pytest.mark.usefixtures("english_cli")

runner = CliRunner()


def write_scenario_folder(scenario: Scenario, folder: Path) -> Path:
    """The scenario as the CSV folder `chunyun plan` reads (homes given as adcodes)."""
    folder.mkdir(parents=True)
    (folder / "scenario.toml").write_text(
        f'name = "{scenario.name}"\ndirection = "{scenario.direction}"\norigin = "330282"\n'
        f"festival_date = {scenario.festival_date}\nfirst_departure = {scenario.first_departure}\n"
        f"last_departure = {scenario.last_departure}\n",
        encoding="utf-8",
    )
    tables = {
        "companies.csv": (
            ["company_id", "name", "lon", "lat", "no_hub"],
            [[c.company_id, c.name, c.lon, c.lat, ""] for c in scenario.companies],
        ),
        "hubs.csv": (
            ["hub_id", "name", "lon", "lat"],
            [[h.hub_id, h.name, h.lon, h.lat] for h in scenario.hubs],
        ),
        "fleet.csv": (
            ["vehicle_type", "seats", "count", "cost_per_km", "fixed_cost", "operator"],
            [
                [v.vehicle_type, v.seats, v.count, v.cost_per_km, v.fixed_cost, v.operator]
                for v in scenario.fleet
            ],
        ),
        "workers.csv": (
            ["worker_id", "company_id", "name", "id_number", "phone", "home", "earliest",
             "latest", "party", "seats"],
            [
                [w.worker_id, w.company_id, w.name, w.id_number, w.phone, w.home_adcode,
                 w.earliest, w.latest, w.party, w.seats]
                for w in scenario.workers
            ],
        ),
    }  # fmt: skip
    for name, (header, rows) in tables.items():
        with (folder / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
    return folder


@pytest.fixture
def plan_folders(tmp_path: Path) -> tuple[Path, Path]:
    """A plan folder written by the planner's writer, and the scenario folder it came from."""
    scenario = fixtures.scenario()
    scenario_dir = write_scenario_folder(scenario, tmp_path / "scenario-in")
    plan_dir = write_plan(fixtures.plan(), scenario, tmp_path / "plan")
    return Path(plan_dir), scenario_dir


def test_render_writes_maps_manifests_sheets_and_notices(plan_folders: tuple[Path, Path]) -> None:
    """The command reads plan.json and the scenario and writes every document of every trip."""
    plan_dir, scenario_dir = plan_folders
    result = runner.invoke(
        app,
        ["render", str(plan_dir), "--scenario", str(scenario_dir), "--provider", "great-circle",
         "--contact-phone", "0574-63012345"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 trips rendered" in result.output
    for trip_id in ("T0128-01", "T0129-01"):
        for name in (
            f"trips/{trip_id}.html",
            f"manifests/{trip_id}.pdf",
            f"manifests/{trip_id}.xlsx",
            f"manifests/{trip_id}.csv",
            f"trip_sheets/{trip_id}.pdf",
        ):
            assert (plan_dir / name).is_file(), name
    assert (plan_dir / "map.html").is_file()
    rows = read_manifest_xlsx(plan_dir / "manifests" / "T0129-01.xlsx")
    assert [r["name"] for r in rows] == ["龙云飞", "吴玥", "禄丽华", "禄小龙", "马骉"]
    notices = (plan_dir / "notices.csv").read_text(encoding="utf-8-sig")
    assert notices.count("0574-63012345") == 14
    assert sorted(p.name for p in (plan_dir / "notices").iterdir()) == ["C1.csv", "C2.csv"]


def test_render_finds_the_scenario_plan_json_records(plan_folders: tuple[Path, Path]) -> None:
    """Without --scenario the folder named by plan.json's `scenario_dir` is used."""
    plan_dir, scenario_dir = plan_folders
    values = json.loads((plan_dir / "plan.json").read_text(encoding="utf-8"))
    values["scenario_dir"] = str(scenario_dir)
    (plan_dir / "plan.json").write_text(json.dumps(values, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(
        app, ["render", str(plan_dir), "--provider", "great-circle", "--no-maps"]
    )
    assert result.exit_code == 0, result.output
    assert (plan_dir / "trip_sheets" / "T0128-01.pdf").is_file()
    assert not (plan_dir / "map.html").exists()


def test_render_without_a_scenario_says_how_to_give_one(plan_folders: tuple[Path, Path]) -> None:
    """A plan folder with no scenario recorded or copied fails with a pointer to --scenario."""
    plan_dir, _ = plan_folders
    result = runner.invoke(app, ["render", str(plan_dir), "--provider", "great-circle"])
    assert result.exit_code == 2
    assert "--scenario" in result.output


def test_render_reports_a_folder_without_a_plan(tmp_path: Path) -> None:
    """A folder with no plan.json is an error naming the file, not a traceback."""
    scenario_dir = write_scenario_folder(fixtures.scenario(), tmp_path / "scenario")
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(app, ["render", str(empty), "--scenario", str(scenario_dir)])
    assert result.exit_code == 1
    assert "plan.json is missing" in result.output


@pytest.mark.slow
def test_render_a_plan_the_planner_made(tmp_path: Path) -> None:
    """End to end: `chunyun plan` on the pooling scenario, then `chunyun render` on its folder."""
    scenario_dir = Path(__file__).resolve().parents[1] / "data" / "pooling"
    plan_dir = tmp_path / "plan"
    planned = runner.invoke(
        app,
        ["plan", str(scenario_dir), "--out", str(plan_dir), "--time-limit", "5",
         "--provider", "great-circle"],
    )  # fmt: skip
    assert planned.exit_code == 0, planned.output
    result = runner.invoke(
        app,
        ["render", str(plan_dir), "--scenario", str(scenario_dir), "--provider", "great-circle"],
    )
    assert result.exit_code == 0, result.output
    trips = json.loads((plan_dir / "plan.json").read_text(encoding="utf-8"))["trips"]
    assert trips
    for trip in trips:
        assert (plan_dir / "trip_sheets" / f"{trip['trip_id']}.pdf").is_file()
        assert (plan_dir / "trips" / f"{trip['trip_id']}.html").is_file()
    # Every worker whose row was valid gets a notice (rows that failed validation have no
    # trustworthy phone number; they are in the plan's problems for the dispatcher).
    notices = (plan_dir / "notices.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(notices) - 1 == len(read_scenario(scenario_dir).workers)
