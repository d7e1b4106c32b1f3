"""Late registrations on a published plan (optimizer/incremental.py): free seats first, locked
trips unchanged, published trips keep their timetable and their passengers' seats."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pytest

from optimizer.incremental import LatePlacement, place_late
from optimizer.model import Plan, Scenario, Worker
from optimizer.read import read_scenario
from optimizer.solve import default_distance_provider, solve

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def _published(name: str, late_count: int, seconds: float) -> tuple[Scenario, Plan, list[Worker]]:
    scenario = read_scenario(SCENARIOS / name)
    scenario = scenario.replace(solver=dataclasses.replace(scenario.solver, time_limit_s=seconds))
    resolved = [w for w in scenario.workers if w.home_adcode and not w.party]
    late = random.Random(7).sample(resolved, late_count)
    ids = {w.worker_id for w in late}
    base = scenario.replace(workers=tuple(w for w in scenario.workers if w.worker_id not in ids))
    return scenario, solve(base, distances=default_distance_provider()), late


def _check(plan: Plan, result: LatePlacement, late: list[Worker], frozen: set[str]) -> None:
    before = {t.trip_id: t for t in plan.trips}
    after = {t.trip_id: t for t in result.trips}
    assert len(after) == len(result.trips)  # new trips never reuse a published id
    for trip_id, trip in before.items():
        if trip_id in frozen:
            assert after[trip_id] == trip, f"locked trip {trip_id} changed"
            continue
        new = after[trip_id]
        strip = [dataclasses.replace(s, board=(), alight=()) for s in trip.stops]
        assert [dataclasses.replace(s, board=(), alight=()) for s in new.stops] == strip
        assert set(trip.passengers) <= set(new.passengers), f"{trip_id}: a seat moved"
    for trip in result.trips:
        seats = [s for p in trip.passengers for s in range(p.seat, p.seat + p.seat_count)]
        assert len(seats) == len(set(seats)) and max(seats, default=0) <= trip.seats
    by_worker = {w.worker_id: w for w in late}
    unserved = {u.worker_id for u in result.unserved}
    for worker in late:
        places = [
            worker.worker_id in result.into_free_seats,
            worker.worker_id in result.into_new_trips,
            worker.worker_id in unserved,
        ]
        assert sum(places) == 1, worker.worker_id
    for worker_id, trip_id in result.into_free_seats.items():
        trip, worker = after[trip_id], by_worker[worker_id]
        assert trip_id not in frozen and trip_id in before
        assert worker.earliest <= trip.departure_date <= worker.latest
        [passenger] = [p for p in trip.passengers if p.worker_id == worker_id]
        assert trip.stops[passenger.alight_stop].adcode == worker.home_adcode
        assert worker_id in trip.stops[passenger.board_stop].board


def test_late_registrations_take_free_seats_then_new_trips() -> None:
    """On the small scenario: thirty late workers, every other trip locked."""
    scenario, plan, late = _published("small", 30, 8.0)
    frozen = {t.trip_id for t in plan.trips[::2]}
    quick = scenario.replace(solver=dataclasses.replace(scenario.solver, time_limit_s=4.0))
    result = place_late(plan.trips, late, quick, default_distance_provider(), frozen=frozen)
    _check(plan, result, late, frozen)
    assert result.into_free_seats, "some late worker should fit a free seat"


@pytest.mark.slow
def test_100_late_registrations_on_a_published_cixi_2019_plan() -> None:
    """100 late registrations on the published cixi-2019 plan; every locked trip unchanged."""
    scenario, plan, late = _published("cixi-2019", 100, 120.0)
    frozen = {t.trip_id for t in plan.trips if t.departure_date.day % 2}
    quick = scenario.replace(solver=dataclasses.replace(scenario.solver, time_limit_s=20.0))
    result = place_late(plan.trips, late, quick, default_distance_provider(), frozen=frozen)
    _check(plan, result, late, frozen)
    assert result.into_free_seats
