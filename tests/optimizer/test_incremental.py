"""Late registrations on a published plan (optimizer/incremental.py): free seats first, on
locked (published) trips too, whose coach, crew, times, stops and passengers stay as printed;
closed trips untouched; new trips for the rest."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pytest

from optimizer.incremental import LatePlacement, place_in_free_seats, place_late
from optimizer.model import Crew, Driver, Plan, Scenario, Trip, Worker
from optimizer.read import read_scenario
from optimizer.solve import default_distance_provider, solve

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def _published(name: str, late_count: int, seconds: float) -> tuple[Scenario, Plan, list[Worker]]:
    """Plan `name` without `late_count` lone workers, then publish it: every trip locked and
    given a coach and crew (so the comparison covers the crew too)."""
    scenario = read_scenario(SCENARIOS / name)
    scenario = scenario.replace(solver=dataclasses.replace(scenario.solver, time_limit_s=seconds))
    resolved = [w for w in scenario.workers if w.home_adcode and not w.party]
    late = random.Random(7).sample(resolved, late_count)
    ids = {w.worker_id for w in late}
    base = scenario.replace(workers=tuple(w for w in scenario.workers if w.worker_id not in ids))
    plan = solve(base, distances=default_distance_provider())
    published = tuple(
        dataclasses.replace(trip, locked=True, crew=_crew(trip, n))
        for n, trip in enumerate(plan.trips)
    )
    return scenario, dataclasses.replace(plan, trips=published), late


def _crew(trip: Trip, n: int) -> Crew:
    driver = Driver(f"司机{n}", "340121199001010018", "13800138000")
    return Crew(f"浙B{n:05d}", trip.vehicle_type, trip.seats, "慈溪公运", (driver,) * trip.drivers)


def _bare(trip: Trip) -> Trip:
    """What a trip sheet prints, without who is on board: coach, crew, route, timetable."""
    stops = tuple(dataclasses.replace(s, board=(), alight=()) for s in trip.stops)
    return dataclasses.replace(trip, stops=stops, passengers=())


def _check(plan: Plan, result: LatePlacement, late: list[Worker], closed: set[str]) -> None:
    before = {t.trip_id: t for t in plan.trips}
    after = {t.trip_id: t for t in result.trips}
    by_worker = {w.worker_id: w for w in late}
    assert len(after) == len(result.trips)  # new trips never reuse a published id
    for trip_id, trip in before.items():
        new = after[trip_id]
        if trip_id in closed:
            assert new == trip, f"closed trip {trip_id} changed"
            continue
        assert new.locked and _bare(new) == _bare(trip), f"{trip_id}: coach, crew or times moved"
        assert set(trip.passengers) <= set(new.passengers), f"{trip_id}: a seat moved"
        riders = {p.worker_id for p in new.passengers} - {p.worker_id for p in trip.passengers}
        assert riders <= set(result.into_free_seats), f"{trip_id}: someone not late was added"
        assert all(p.late == (p.worker_id in riders) for p in new.passengers), "late not flagged"
        for old, now in zip(trip.stops, new.stops, strict=True):
            assert now.board[: len(old.board)] == old.board
            assert now.alight[: len(old.alight)] == old.alight
            assert set(now.board[len(old.board) :]) | set(now.alight[len(old.alight) :]) <= riders
    for trip in result.trips:
        seats = [s for p in trip.passengers for s in range(p.seat, p.seat + p.seat_count)]
        assert len(seats) == len(set(seats)) and max(seats, default=0) <= trip.seats
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
        assert trip_id not in closed and trip_id in before
        assert worker.earliest <= trip.departure_date <= worker.latest
        [passenger] = [p for p in trip.passengers if p.worker_id == worker_id]
        seats = range(passenger.seat, passenger.seat + passenger.seat_count)
        taken = {
            s for p in before[trip_id].passengers for s in range(p.seat, p.seat + p.seat_count)
        }
        assert not taken & set(seats), f"{worker_id} given a seat already taken"
        assert trip.stops[passenger.alight_stop].adcode == worker.home_adcode
        assert worker_id in trip.stops[passenger.board_stop].board
        assert worker_id in trip.stops[passenger.alight_stop].alight


@pytest.fixture(scope="module")
def small() -> tuple[Scenario, Plan, list[Worker]]:
    return _published("small", 30, 8.0)


def test_late_registrations_take_free_seats_on_locked_trips_then_new_trips(
    small: tuple[Scenario, Plan, list[Worker]],
) -> None:
    """On the small scenario: thirty late workers on a published plan, a few trips closed."""
    scenario, plan, late = small
    closed = {t.trip_id for t in plan.trips[::4]}
    quick = scenario.replace(solver=dataclasses.replace(scenario.solver, time_limit_s=4.0))
    result = place_late(plan.trips, late, quick, default_distance_provider(), closed=closed)
    _check(plan, result, late, closed)
    assert result.into_free_seats, "some late worker should fit a free seat of a locked trip"


def test_a_full_trip_or_a_stop_the_trip_does_not_make_takes_nobody(
    small: tuple[Scenario, Plan, list[Worker]],
) -> None:
    """A late worker whose county no published trip stops at, or whose trip is full, is left."""
    scenario, plan, late = small
    served = {s.adcode for t in plan.trips for s in t.stops if s.kind != "rest"}
    stranger = dataclasses.replace(late[0], worker_id="late-x", home_adcode="540102")
    assert "540102" not in served  # Lhasa: no trip from the small scenario goes there
    full = tuple(dataclasses.replace(t, seats=t.seats_used) for t in plan.trips)
    trips, placed, left = place_in_free_seats(
        plan.trips, [stranger], scenario, default_distance_provider()
    )
    assert not placed and left == [stranger] and trips == plan.trips
    trips, placed, left = place_in_free_seats(full, late, scenario, default_distance_provider())
    assert not placed and trips == full and len(left) == len(late)


@pytest.mark.slow
def test_100_late_registrations_on_a_published_cixi_2019_plan() -> None:
    """100 late registrations on the published cixi-2019 plan (every trip locked, with a crew):
    coach, crew, times, stops and passengers of every published trip unchanged, the new riders
    on free seats, the rest on new trips."""
    scenario, plan, late = _published("cixi-2019", 100, 120.0)
    quick = scenario.replace(solver=dataclasses.replace(scenario.solver, time_limit_s=20.0))
    result = place_late(plan.trips, late, quick, default_distance_provider())
    _check(plan, result, late, set())
    assert result.into_free_seats
