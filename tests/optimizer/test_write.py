"""Plan folders: plan.json round-trips (duties and fleet figures included), trips.csv and
duties.csv agree with the plan."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import pytest

from optimizer.errors import InvalidInput
from optimizer.geography.distance import GreatCircleProvider
from optimizer.model import Plan, Scenario, SolverParams
from optimizer.read import read_scenario
from optimizer.season import solve_within_fleet
from optimizer.write import DUTY_COLUMNS, read_plan, write_plan
from tests.checker import check_plan

POOLING = Path(__file__).resolve().parents[1] / "data" / "pooling"


@pytest.fixture(scope="module")
def planned() -> tuple[Scenario, Plan]:
    scenario = read_scenario(POOLING).replace(solver=SolverParams(time_limit_s=2.0))
    plan, _ = solve_within_fleet(scenario, distances=GreatCircleProvider())
    assert check_plan(scenario, plan) == []
    assert plan.coaches and plan.fleet_kpis is not None
    return scenario, plan


def test_plan_json_round_trips(planned: tuple[Scenario, Plan], tmp_path: Path) -> None:
    """read_plan(write_plan(plan)) gives back an equal Plan, coach duties and fleet KPIs too."""
    scenario, plan = planned
    write_plan(plan, scenario, tmp_path)
    again = read_plan(tmp_path)
    assert again.coaches == plan.coaches and again.fleet_kpis == plan.fleet_kpis
    assert again == plan


def test_the_lower_bound_source_round_trips_and_old_files_read(
    planned: tuple[Scenario, Plan], tmp_path: Path
) -> None:
    """`lower_bound_source` and `lower_bound_seconds` survive write and read; a plan.json
    written before they existed reads as the counting bound with no LP time."""
    scenario, plan = planned
    lp_plan = plan.replace(
        kpis=dataclasses.replace(plan.kpis, lower_bound_source="lp", lower_bound_seconds=1.25)
    )
    write_plan(lp_plan, scenario, tmp_path)
    assert read_plan(tmp_path) == lp_plan
    path = tmp_path / "plan.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["kpis"]["lower_bound_source"] == "lp"
    del data["kpis"]["lower_bound_source"], data["kpis"]["lower_bound_seconds"]
    path.write_text(json.dumps(data), encoding="utf-8")
    old = read_plan(tmp_path).kpis
    assert old.lower_bound_source == "counting" and old.lower_bound_seconds == 0.0


def test_plan_json_records_the_scenario_folder(
    planned: tuple[Scenario, Plan], tmp_path: Path
) -> None:
    """`scenario_dir` is the absolute scenario folder, so the plan can be re-rendered alone."""
    scenario, plan = planned
    write_plan(plan, scenario, tmp_path, scenario_dir=Path("tests/data/pooling"))
    data = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    assert data["scenario_dir"] == str(POOLING)
    assert Path(data["scenario_dir"]).is_absolute()


def test_plan_json_has_the_documented_fields(
    planned: tuple[Scenario, Plan], tmp_path: Path
) -> None:
    """kpis, trips with stops (ISO times, board/alight lists) and unserved with reasons."""
    scenario, plan = planned
    write_plan(plan, scenario, tmp_path)
    data = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    assert set(data["kpis"]) >= {
        "workers",
        "seated",
        "unserved",
        "trips",
        "seats_offered",
        "seat_utilization",
        "coach_km",
        "passenger_km",
        "cost",
        "lower_bound_trips",
        "lower_bound_coach_km",
        "solve_seconds",
        "lower_bound_source",
        "lower_bound_seconds",
    }
    trip = data["trips"][0]
    assert set(trip) >= {"trip_id", "vehicle_type", "seats", "drivers", "distance_km", "stops"}
    stop = trip["stops"][0]
    assert stop["kind"] == "pickup" and "T" in stop["depart"] and stop["board"]
    assert {u["reason"] for u in data["unserved"]} <= {
        "invalid_row",
        "party_conflict",
        "unknown_company",
        "no_date_in_window",
    }
    assert data["problems"][0]["table"] == "workers"
    coach = data["coaches"][0]
    assert set(coach) >= {
        "coach_id",
        "vehicle_type",
        "operator",
        "trips",
        "deadhead_km",
        "days_busy",
        "legs",
    }
    assert {leg["kind"] for leg in coach["legs"]} <= {"trip", "deadhead"}
    assert sorted(t for c in data["coaches"] for t in c["trips"]) == sorted(
        t["trip_id"] for t in data["trips"]
    )
    fleet = data["fleet_kpis"]
    assert set(fleet) >= {
        "coaches_by_type",
        "coaches",
        "coach_days",
        "deadhead_km",
        "loaded_km_share",
        "overlap_bound_by_type",
        "shortages",
    }
    assert fleet["coaches"] == len(data["coaches"]) == sum(fleet["coaches_by_type"].values())
    text = json.dumps(data, ensure_ascii=False)
    assert not any(w.id_number and w.id_number in text for w in scenario.workers)
    assert not any(w.phone and len(w.phone) == 11 and w.phone in text for w in scenario.workers)


def test_trips_csv_matches_the_plan_and_no_personal_data_is_written(
    planned: tuple[Scenario, Plan], tmp_path: Path
) -> None:
    """One trips.csv row per trip; the writer leaves manifests to api.documents (one format)."""
    scenario, plan = planned
    write_plan(plan, scenario, tmp_path)
    with (tmp_path / "trips.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["trip_id"] for r in rows] == [t.trip_id for t in plan.trips]
    assert [int(r["seats_used"]) for r in rows] == [t.seats_used for t in plan.trips]
    assert not (tmp_path / "manifests").exists()


def test_duties_csv_is_each_coach_day_by_day(
    planned: tuple[Scenario, Plan], tmp_path: Path
) -> None:
    """duties.csv: rows per coach and calendar day; km sums to the duty's km; every trip shown."""
    scenario, plan = planned
    write_plan(plan, scenario, tmp_path)
    with (tmp_path / "duties.csv").open(encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == DUTY_COLUMNS
        rows = list(reader)
    assert {r["coach_id"] for r in rows} == {d.coach_id for d in plan.coaches}
    assert {r["kind"] for r in rows} <= {"trip", "deadhead", "idle"}
    for duty in plan.coaches:
        mine = [r for r in rows if r["coach_id"] == duty.coach_id]
        km = sum(float(r["km"]) for r in mine if r["km"])
        assert km == pytest.approx(duty.deadhead_km + duty.loaded_km, abs=0.1 * len(duty.legs))
        assert {r["trip_id"] for r in mine if r["kind"] == "trip"} == set(duty.trip_ids)
        for row in mine:
            start, end = row["start"], row["end"]
            assert start[:10] == row["date"] and start <= end
            # a row never runs past the midnight after its date
            assert end[:10] == row["date"] or end.endswith("00:00")
        ordered = [(r["start"], r["end"]) for r in mine]
        assert ordered == sorted(ordered)
    trips = {t.trip_id: t for t in plan.trips}
    first = next(r for r in rows if r["kind"] == "trip")
    trip = trips[first["trip_id"]]
    assert first["from"] == (trip.stops[0].name or trip.stops[0].company_id)
    assert any(r["from"].startswith("depot") for r in rows if r["kind"] == "deadhead")


def test_reading_a_folder_without_a_plan_is_invalid_input(tmp_path: Path) -> None:
    """No plan.json: a clear InvalidInput."""
    with pytest.raises(InvalidInput, match=r"plan\.json is missing"):
        read_plan(tmp_path)
    (tmp_path / "plan.json").write_text("{}", encoding="utf-8")
    with pytest.raises(InvalidInput, match="not a chunyun plan"):
        read_plan(tmp_path)
