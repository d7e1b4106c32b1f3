"""Plan folders: plan.json round-trips, trips.csv and manifests agree with the plan."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from optimizer.errors import InvalidInput
from optimizer.geography.distance import GreatCircleProvider
from optimizer.model import Plan, Scenario, SolverParams
from optimizer.read import read_scenario
from optimizer.solve import solve
from optimizer.write import read_plan, write_plan
from tests.checker import check_plan

POOLING = Path(__file__).resolve().parents[1] / "data" / "pooling"


@pytest.fixture(scope="module")
def planned() -> tuple[Scenario, Plan]:
    scenario = read_scenario(POOLING).replace(solver=SolverParams(time_limit_s=2.0))
    plan = solve(scenario, distances=GreatCircleProvider())
    assert check_plan(scenario, plan) == []
    return scenario, plan


def test_plan_json_round_trips(planned: tuple[Scenario, Plan], tmp_path: Path) -> None:
    """read_plan(write_plan(plan)) gives back an equal Plan."""
    scenario, plan = planned
    write_plan(plan, scenario, tmp_path)
    assert read_plan(tmp_path) == plan


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


def test_trips_csv_and_manifests_match_the_plan(
    planned: tuple[Scenario, Plan], tmp_path: Path
) -> None:
    """One trips.csv row per trip; one manifest per trip with one row per passenger, masked IDs."""
    scenario, plan = planned
    write_plan(plan, scenario, tmp_path)
    with (tmp_path / "trips.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["trip_id"] for r in rows] == [t.trip_id for t in plan.trips]
    assert [int(r["seats_used"]) for r in rows] == [t.seats_used for t in plan.trips]
    manifests = sorted(p.stem for p in (tmp_path / "manifests").glob("*.csv"))
    assert manifests == sorted(t.trip_id for t in plan.trips)
    trip = plan.trips[0]
    with (tmp_path / "manifests" / f"{trip.trip_id}.csv").open(encoding="utf-8") as handle:
        passengers = list(csv.DictReader(handle))
    assert {p["worker_id"] for p in passengers} == {p.worker_id for p in trip.passengers}
    assert all("*" in p["id_number"] and "****" in p["phone"] for p in passengers)


def test_reading_a_folder_without_a_plan_is_invalid_input(tmp_path: Path) -> None:
    """No plan.json: a clear InvalidInput."""
    with pytest.raises(InvalidInput, match=r"plan\.json is missing"):
        read_plan(tmp_path)
    (tmp_path / "plan.json").write_text("{}", encoding="utf-8")
    with pytest.raises(InvalidInput, match="not a chunyun plan"):
        read_plan(tmp_path)
