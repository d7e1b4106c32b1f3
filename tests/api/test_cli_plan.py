"""`chunyun plan` end to end on small scenario and season folders."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from api.documents import read_manifest_csv
from optimizer.read import read_scenario
from optimizer.write import DUTY_COLUMNS, read_plan
from scenarios.generate import generate_season, write_scenario
from tests.checker import check_plan

# The command line's texts are read in English (its default is Chinese).
pytestmark = pytest.mark.usefixtures("english_cli")

POOLING = Path(__file__).resolve().parents[1] / "data" / "pooling"
FAST = ["--time-limit", "2", "--provider", "great-circle"]


def test_plan_command_writes_a_valid_plan_and_reports(tmp_path: Path) -> None:
    """It plans the folder within the fleet, writes plan.json, trips.csv, duties.csv, the maps and
    papers; reports bad rows, plan KPIs and fleet KPIs."""
    out = tmp_path / "plan"
    result = CliRunner().invoke(app, ["plan", str(POOLING), "--out", str(out), *FAST])
    assert result.exit_code == 0, result.output
    assert "id_number" in result.output and "row" in result.output  # the bad rows
    assert "seat utilization" in result.output and "lower bound" in result.output
    assert "physical coaches" in result.output and "coach-days" in result.output
    assert "loaded km share" in result.output and "deadhead km" in result.output
    plan = read_plan(out)
    assert check_plan(read_scenario(POOLING), plan) == []
    assert plan.fleet_kpis is not None and plan.coaches
    assert sorted(t for d in plan.coaches for t in d.trip_ids) == sorted(
        t.trip_id for t in plan.trips
    )
    values = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert values["kpis"]["workers"] == 169
    assert values["scenario_dir"] == str(POOLING)
    assert (out / "trips.csv").exists() and (out / "duties.csv").exists()
    for kind in ("csv", "pdf", "xlsx"):
        assert len(list((out / "manifests").glob(f"*.{kind}"))) == len(plan.trips), kind
    assert len(list((out / "trip_sheets").glob("*.pdf"))) == len(plan.trips)
    assert len(list((out / "trips").glob("*.html"))) == len(plan.trips)
    assert (out / "map.html").is_file() and (out / "notices.csv").is_file()


def test_manifest_csv_has_one_format_for_the_crew(tmp_path: Path) -> None:
    """--no-render still writes the manifest CSVs, in the same format render_plan writes: seat,
    name, masked ID, full phone, company, boarding and alighting stop; nothing else is rendered."""
    out = tmp_path / "plan"
    result = CliRunner().invoke(
        app, ["plan", str(POOLING), "--out", str(out), *FAST, "--no-render"]
    )
    assert result.exit_code == 0, result.output
    plan = read_plan(out)
    assert not (out / "map.html").exists() and not (out / "trip_sheets").exists()
    assert not list((out / "manifests").glob("*.pdf"))
    scenario = read_scenario(POOLING)
    workers = {w.worker_id: w for w in scenario.workers}
    trip = plan.trips[0]
    header = (out / "manifests" / f"{trip.trip_id}.csv").read_text(encoding="utf-8-sig")
    assert header.splitlines()[0].startswith("座位号,姓名,身份证号,手机号,工作单位,上车点,下车点")
    rows = read_manifest_csv(out / "manifests" / f"{trip.trip_id}.csv")
    assert sorted(r["worker"] for r in rows) == sorted(p.worker_id for p in trip.passengers)
    for row in rows:
        worker = workers[row["worker"]]
        assert row["name"] == worker.name and row["phone"] == worker.phone
        assert "*" in row["id_number"] and row["id_number"] != worker.id_number
        assert row["board_stop"] and row["alight_stop"] and row["seat"]
    # then `chunyun render` finds the scenario from plan.json alone and adds the rest
    rendered = CliRunner().invoke(
        app, ["render", str(out), "--provider", "great-circle", "--no-maps"]
    )
    assert rendered.exit_code == 0, rendered.output
    assert len(list((out / "trip_sheets").glob("*.pdf"))) == len(plan.trips)
    assert read_manifest_csv(out / "manifests" / f"{trip.trip_id}.csv") == rows


@pytest.fixture(scope="module")
def season_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small season folder: home/ and return/ scenario folders of one city."""
    root = tmp_path_factory.mktemp("season-in")
    for direction in ("home", "return"):
        season = generate_season(
            f"mini-{direction}",
            80,
            seed=7,
            direction=direction,  # type: ignore[arg-type]
            companies=4,
            counties=3,
            provinces=(("安徽", 0.6), ("河南", 0.4)),
            hub_radius_km=0.0,
        )
        write_scenario(season, root / direction)
    return root


def test_plan_command_plans_a_season_folder(season_dir: Path, tmp_path: Path) -> None:
    """home/ and return/ are planned as one season: OUT/home, OUT/return, season.json, duties.csv;
    the backhaul km saved is printed; each wave is a valid plan that can be re-rendered."""
    out = tmp_path / "season"
    result = CliRunner().invoke(
        app, ["plan", str(season_dir), "--out", str(out), *FAST, "--no-render"]
    )
    assert result.exit_code == 0, result.output
    assert "backhaul km saved" in result.output and "physical coaches" in result.output
    season = json.loads((out / "season.json").read_text(encoding="utf-8"))
    assert [w["direction"] for w in season["waves"]] == ["home", "return"]
    assert isinstance(season["backhaul_saved_km"], float)
    assert season["fleet_kpis"]["coaches"] == len(season["coaches"])
    trip_ids: list[str] = []
    for direction, prefix in (("home", "H-"), ("return", "R-")):
        plan = read_plan(out / direction)
        assert plan.direction == direction and plan.trips
        assert all(t.trip_id.startswith(prefix) for t in plan.trips)
        assert check_plan(read_scenario(season_dir / direction), plan) == []
        values = json.loads((out / direction / "plan.json").read_text(encoding="utf-8"))
        assert values["scenario_dir"] == str(season_dir / direction)
        assert len(list((out / direction / "manifests").glob("*.csv"))) == len(plan.trips)
        trip_ids += [t.trip_id for t in plan.trips]
    in_duties = [t for coach in season["coaches"] for t in coach["trips"]]
    assert sorted(in_duties) == sorted(trip_ids)
    with (out / "duties.csv").open(encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == DUTY_COLUMNS
        rows = list(reader)
    assert {r["trip_id"] for r in rows if r["kind"] == "trip"} == set(trip_ids)
    rendered = CliRunner().invoke(
        app, ["render", str(out / "return"), "--provider", "great-circle", "--no-maps"]
    )
    assert rendered.exit_code == 0, rendered.output


def test_plan_command_refuses_a_folder_without_scenario(tmp_path: Path) -> None:
    """A folder that is neither a scenario nor a season exits with code 2 and says why."""
    result = CliRunner().invoke(app, ["plan", str(tmp_path), "--out", str(tmp_path / "p")])
    assert result.exit_code == 2
    assert "scenario.toml is missing" in result.output
