"""Fleet sizing: the fewest coaches per type that seat everyone seatable, and the plan advice."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from optimizer.duties import TimetableEmptyDriveTimer, layover_minutes
from optimizer.geography.distance import GreatCircleProvider, Location
from optimizer.model import FleetKpis, Plan, Scenario, SolverParams, Trip, UnservedReason
from optimizer.read import read_scenario
from optimizer.season import plan_season
from optimizer.sizing import (
    FleetSize,
    advice_from_trips,
    advice_text,
    fleet_advice,
    size_fleet,
    unlimited_fleet,
    with_fleet,
)
from optimizer.write import fleet_kpis_from_json, fleet_kpis_json, plan_from_json, plan_to_json
from scenarios.generate import generate_season, write_scenario

PROVIDER = GreatCircleProvider()
ROOT = Path(__file__).resolve().parents[2]


def _wave(tmp: Path, direction: str, workers: int = 90) -> Scenario:
    season = generate_season(
        f"sizing-{direction}",
        workers,
        seed=5,
        direction=direction,  # type: ignore[arg-type]
        companies=4,
        counties=3,
        provinces=(("安徽", 0.6), ("河南", 0.4)),
        hub_radius_km=0.0,
    )
    scenario = read_scenario(write_scenario(season, tmp / direction))
    return scenario.replace(solver=SolverParams(time_limit_s=3))


@pytest.fixture(scope="module")
def season(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Scenario], FleetSize]:
    """A two-wave season (home and return) and its sized fleet."""
    tmp = tmp_path_factory.mktemp("sizing")
    waves = [_wave(tmp, "home"), _wave(tmp, "return")]
    return waves, size_fleet(waves, distances=PROVIDER)


@pytest.fixture(scope="module")
def tiny() -> tuple[Scenario, FleetSize]:
    scenario = read_scenario(ROOT / "scenarios" / "tiny")
    scenario = scenario.replace(solver=SolverParams(time_limit_s=3))
    return scenario, size_fleet(scenario, distances=PROVIDER)


def test_json_shape_is_the_documented_one(tiny: tuple[Scenario, FleetSize]) -> None:
    """`to_json` has exactly fleet (vehicle_type, seats, count, needed_from, needed_to),
    workers, seated; every type of the fleet is listed, ISO dates or null when unused."""
    scenario, size = tiny
    data = json.loads(json.dumps(size.to_json()))
    assert set(data) == {"fleet", "workers", "seated"}
    assert [f["vehicle_type"] for f in data["fleet"]] == [v.vehicle_type for v in scenario.fleet]
    for line in data["fleet"]:
        assert set(line) == {"vehicle_type", "seats", "count", "needed_from", "needed_to"}
        if line["count"]:
            assert dt.date.fromisoformat(line["needed_from"]) <= dt.date.fromisoformat(
                line["needed_to"]
            )
        else:
            assert line["needed_from"] is None and line["needed_to"] is None
    assert data["workers"] == len(scenario.workers)
    assert data["seated"] == data["workers"]  # tiny has no bad rows: everyone is seatable


def test_counts_are_the_duties_of_a_plan_seating_everyone_seatable(
    season: tuple[list[Scenario], FleetSize],
) -> None:
    """The witness plan seats `seated` workers, has no fleet_exhausted worker, and its duties
    use exactly the sized counts; needed_from/to span the duties' legs."""
    _, size = season
    assert size.witness is not None
    witness = size.witness
    assert size.seated == sum(p.kpis.seated for p in witness.waves) > 0
    reasons = {u.reason for p in witness.waves for u in p.unserved}
    assert UnservedReason.FLEET_EXHAUSTED not in reasons
    used: dict[str, int] = defaultdict(int)
    for duty in witness.duties.duties:
        used[duty.vehicle_type] += 1
    for need in size.fleet:
        assert need.count == used.get(need.vehicle_type, 0)
        mine = [d for d in witness.duties.duties if d.vehicle_type == need.vehicle_type]
        if mine:
            assert need.needed_from == min(d.legs[0].start.date() for d in mine)
            assert need.needed_to == max(d.legs[-1].end.date() for d in mine)


def _follows(before: Trip, after: Trip, timer: TimetableEmptyDriveTimer) -> bool:
    """Whether one coach can drive `after` after `before`: layover, legal empty drive, layover."""
    policy = timer.policy
    ready = before.arrival + dt.timedelta(minutes=layover_minutes(before.driving_minutes, policy))
    end, start = before.stops[-1], after.stops[0]
    drive = timer(
        Location(end.lon, end.lat, end.adcode), Location(start.lon, start.lat, start.adcode), ready
    )
    earliest = ready
    if drive.distance_km:
        earliest = max(
            ready,
            drive.arrive + dt.timedelta(minutes=layover_minutes(drive.driving_minutes, policy)),
        )
    return after.departure >= earliest and after is not before


def _chains_within(trips: list[Trip], coaches: int, follows: dict[tuple[int, int], bool]) -> bool:
    """Brute force: can `coaches` coaches drive all `trips` (sorted by departure)?"""
    lasts: list[int] = []

    def place(index: int) -> bool:
        if index == len(trips):
            return True
        for chain, last in enumerate(lasts):
            if follows[(last, index)]:
                lasts[chain] = index
                if place(index + 1):
                    return True
                lasts[chain] = last
        if len(lasts) < coaches:
            lasts.append(index)
            if place(index + 1):
                return True
            lasts.pop()
        return False

    return place(0)


def test_no_smaller_count_of_any_type_chains_the_trips(
    season: tuple[list[Scenario], FleetSize],
) -> None:
    """Brute force over the witness's trips: each type's count chains them, one fewer does not."""
    waves, size = season
    assert size.witness is not None
    timer = TimetableEmptyDriveTimer(PROVIDER, waves[0].policy)
    trips = [t for p in size.witness.waves for t in p.trips]
    checked = 0
    for need in size.fleet:
        mine = sorted(
            (t for t in trips if t.vehicle_type == need.vehicle_type),
            key=lambda t: (t.departure, t.trip_id),
        )
        assert need.count <= len(mine)
        if not mine:
            continue
        follows = {
            (i, j): j > i and _follows(a, b, timer)
            for i, a in enumerate(mine)
            for j, b in enumerate(mine)
        }
        assert _chains_within(mine, need.count, follows), need
        assert not _chains_within(mine, need.count - 1, follows), need
        checked += 1
    assert checked
    # Some coach drives more than one trip, so the check is not the trivial one-coach-per-trip.
    assert size.trips > sum(n.count for n in size.fleet)


def test_planning_with_the_sized_fleet_seats_those_workers_and_fits(
    season: tuple[list[Scenario], FleetSize],
) -> None:
    """The season planned with exactly the sized fleet seats the sized workers, and its duties
    fit that fleet."""
    waves, size = season
    result = plan_season([with_fleet(w, size) for w in waves], distances=PROVIDER)
    assert sum(p.kpis.seated for p in result.waves) == size.seated
    assert result.duties.kpis.shortages == ()
    for vehicle_type, used in result.duties.kpis.coaches_by_type.items():
        assert used <= size.count_of(vehicle_type)


def test_tiny_planned_with_its_sized_fleet_seats_everyone(tiny: tuple[Scenario, FleetSize]) -> None:
    """One wave: the sized fleet seats the tiny scenario's 60 workers."""
    scenario, size = tiny
    result = plan_season([with_fleet(scenario, size)], distances=PROVIDER)
    assert result.waves[0].kpis.seated == size.seated == 60
    assert result.duties.kpis.shortages == ()


def test_unlimited_fleet_keeps_availability_dates() -> None:
    """Counts are raised to the number of workers; availability dates stay."""
    scenario = read_scenario(ROOT / "scenarios" / "tiny")
    first = scenario.fleet[0]
    dated = scenario.replace(
        fleet=(dataclasses.replace(first, available_from=scenario.last_departure),)
    )
    raised = unlimited_fleet(dated)
    assert raised.fleet[0].count == max(first.count, len(scenario.workers))
    assert raised.fleet[0].available_from == scenario.last_departure
    # A season's waves are raised to all its workers: coaches held by one wave count in the other.
    assert unlimited_fleet(dated, 5000).fleet[0].count == 5000


def test_advice_is_empty_without_fleet_exhausted_workers(tiny: tuple[Scenario, FleetSize]) -> None:
    """Nothing is computed (and nothing advised) for a plan that seats everyone it can."""
    scenario, size = tiny
    assert size.witness is not None
    assert fleet_advice(scenario, size.witness.waves, distances=PROVIDER) == ()


def test_advice_adds_what_the_unlimited_plan_needs_beyond_the_fleet(
    season: tuple[list[Scenario], FleetSize],
) -> None:
    """With one coach fewer of each needed type, the advice adds the difference, from the first
    day the coaches that left the depot by then need more than the fleet."""
    waves, size = season
    assert size.witness is not None
    short = [
        w.replace(
            fleet=tuple(
                dataclasses.replace(v, count=max(0, size.count_of(v.vehicle_type) - 1))
                for v in w.fleet
            )
        )
        for w in waves
    ]
    trips = [t for p in size.witness.waves for t in p.trips]
    advice = advice_from_trips(trips, short[0].fleet, short[0], distances=PROVIDER)
    needed = {n.vehicle_type: n for n in size.fleet if n.count}
    assert {a.vehicle_type for a in advice} == set(needed)
    for item in advice:
        need = needed[item.vehicle_type]
        assert (item.add, item.needed, item.fleet) == (1, need.count, need.count - 1)
        assert need.needed_from is not None and need.needed_to is not None
        assert need.needed_from <= item.from_date <= need.needed_to
        assert advice_text(item) == f"add 1 {item.vehicle_type} from {item.from_date:%m-%d}"


def test_plan_advice_only_when_workers_are_fleet_exhausted(
    tiny: tuple[Scenario, FleetSize],
) -> None:
    """A plan with fleet_exhausted workers gets advice from a shortened unlimited plan."""
    scenario, size = tiny
    assert size.witness is not None
    plan = size.witness.waves[0]
    first = plan.trips[0]
    exhausted = plan.replace(
        unserved=tuple((*plan.unserved, *(_unserved(p.worker_id) for p in first.passengers)))
    )
    no_coach = scenario.replace(
        fleet=tuple(dataclasses.replace(v, count=0) for v in scenario.fleet)
    )
    advice = fleet_advice(no_coach, [exhausted], distances=PROVIDER)
    assert advice and all(a.fleet == 0 and a.add == a.needed > 0 for a in advice)
    assert all(scenario.first_departure - dt.timedelta(days=1) <= a.from_date for a in advice)


def _unserved(worker_id: str) -> Any:
    from optimizer.model import Unserved

    return Unserved(worker_id, UnservedReason.FLEET_EXHAUSTED, "test")


def test_advice_round_trips_through_plan_json(season: tuple[list[Scenario], FleetSize]) -> None:
    """fleet_kpis.advice is written to plan.json and read back unchanged."""
    waves, size = season
    assert size.witness is not None
    trips = [t for p in size.witness.waves for t in p.trips]
    fleet = tuple(dataclasses.replace(v, count=0) for v in waves[0].fleet)
    advice = advice_from_trips(trips, fleet, waves[0], distances=PROVIDER)
    assert advice
    plan: Plan = size.witness.waves[0]
    assert plan.fleet_kpis is not None
    kpis = dataclasses.replace(plan.fleet_kpis, advice=advice)
    assert fleet_kpis_from_json(json.loads(json.dumps(fleet_kpis_json(kpis)))) == kpis
    with_kpis = plan.replace(fleet_kpis=kpis)
    again = plan_from_json(json.loads(json.dumps(plan_to_json(with_kpis))))
    assert again.fleet_kpis == kpis
    old = fleet_kpis_json(plan.fleet_kpis)
    assert old is not None
    old.pop("advice")  # a plan.json written before advice existed still reads
    assert isinstance(fleet_kpis_from_json(old), FleetKpis)
