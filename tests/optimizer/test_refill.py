"""Giving up thin trips when the fleet binds (`optimizer.fleet_passes.FleetContext.refill`): their
riders are planned again with the fleet-exhausted on the coach time they held, and the result is
kept only when it seats more; every rule still holds, the duties keep within the fleet, locked
trips stay."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

import pytest

from optimizer import patterns
from optimizer.duties import TimetableEmptyDriveTimer
from optimizer.fleet_passes import FleetContext
from optimizer.model import (
    Plan,
    Scenario,
    SolverParams,
    Unserved,
    UnservedReason,
    VehicleType,
    Worker,
)
from optimizer.season import _refigured, coach_duties, with_duties
from optimizer.solve import solve
from tests.checker import assert_valid_plan
from tests.optimizer.test_eliminate import COUNTIES, DAY0, LINQUAN, PROVIDER, TAIHE, _scenario
from tests.optimizer.test_season import _workers

FUNAN = "341225"  # Funan (Fuyang), next to Linquan


def _refill(scenario: Scenario, plan: Plan) -> Plan:
    """`refill` on `plan`, checked: never fewer seated, within the fleet, every rule holds,
    nobody both seated and unserved, every worker accounted for."""
    timer = TimetableEmptyDriveTimer(PROVIDER, scenario.policy)
    duties = coach_duties(plan.trips, scenario, PROVIDER, timer=timer)
    after, after_duties = FleetContext(scenario, PROVIDER, timer).refill(plan, duties)
    assert after.kpis.seated >= plan.kpis.seated
    for vehicle in scenario.fleet:
        assert after_duties.kpis.coaches_by_type.get(vehicle.vehicle_type, 0) <= vehicle.count
    assert_valid_plan(scenario, with_duties(after, after_duties), provider=PROVIDER)
    seated = [p.worker_id for t in after.trips for p in t.passengers]
    unserved = [u.worker_id for u in after.unserved]
    assert len(set(seated)) == len(seated) and not set(seated) & set(unserved)
    assert len(seated) + len(unserved) == len(scenario.workers)
    return after


def _short_season() -> tuple[Scenario, Plan, list[Worker]]:
    """Two coaches on one day: one full trip to Taihe (45), one thin trip to Linquan (8), and
    50 workers for Funan left fleet_exhausted; the thin trip cannot take them (8 + 50 > 53)."""
    full = _workers(TAIHE, range(45), DAY0, DAY0)
    thin = _workers(LINQUAN, range(45, 53), DAY0, DAY0)
    left = _workers(FUNAN, range(53, 103), DAY0, DAY0)
    fleet = (VehicleType("c53", 53, 2, 9.0, 800.0),)
    scenario = _scenario(
        full + thin + left,
        last_departure=DAY0,
        fleet=fleet,
        solver=SolverParams(time_limit_s=12.0),
    )
    trips = []
    for prefix, workers in (("A", full), ("B", thin)):
        alone = solve(scenario.replace(workers=tuple(workers)), distances=PROVIDER)
        assert alone.kpis.seated == len(workers) and len(alone.trips) == 1, "the premise"
        trips += [dataclasses.replace(t, trip_id=f"{prefix}-{t.trip_id}") for t in alone.trips]
    unserved = [Unserved(w.worker_id, UnservedReason.FLEET_EXHAUSTED, "no coach") for w in left]
    plan = _refigured(alone, trips, unserved).replace(scenario=scenario.name)
    return scenario, plan, left


def test_a_thin_trip_gives_its_coach_to_a_fuller_one() -> None:
    """The thin Linquan trip holds the second coach while 50 Funan workers wait: given up, its
    coach carries at least the 50 (with Linquan's riders where seats and stops allow), the
    full Taihe trip stays as it was, and the plan says so in its note."""
    scenario, plan, left = _short_season()
    after = _refill(scenario, plan)
    assert after.kpis.seated >= 45 + len(left)
    assert plan.trips[0] in after.trips
    assert any("thin trip(s) given up" in note for note in after.notes)


@pytest.mark.parametrize("switch", [False, True])
def test_a_freed_coach_is_counted_at_the_riders_it_takes_with_the_pattern_spread(
    switch: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the route-pattern spread on or off, the freed coach carries the 50 waiting Funan
    workers (one coach takes the county's load alone, so the spread counts it at 50, not at
    `PATTERN_FILL` of its 53 seats)."""
    monkeypatch.setattr(patterns, "ROUTE_PATTERN_SPREAD", switch)
    scenario, plan, left = _short_season()
    after = _refill(scenario, plan)
    assert after.kpis.seated >= 45 + len(left)


def test_locked_thin_trips_are_never_given_up() -> None:
    """The same season with the thin trip locked (filed): nothing changes."""
    scenario, plan, _ = _short_season()
    locked = plan.replace(
        trips=tuple(
            dataclasses.replace(t, locked=True) if t.trip_id.startswith("B-") else t
            for t in plan.trips
        )
    )
    after = _refill(scenario, locked)
    assert after.trips == locked.trips and after.kpis.seated == locked.kpis.seated


def test_no_time_changes_nothing() -> None:
    """With a time limit whose refill share is below a top-up round's minimum nothing is tried."""
    scenario, plan, _ = _short_season()
    quick = scenario.replace(solver=SolverParams(time_limit_s=0.5))
    after = _refill(quick, plan)
    assert after.trips == plan.trips


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_random_short_seasons_never_seat_fewer_and_keep_every_rule(seed: int) -> None:
    """Random small seasons on two days with two coaches: a small county group (2-6) and the
    largest (30-45) each ride alone, three others (30-45) wait fleet_exhausted. Refill gives the
    small group's coach to waiting workers (it seats more), the duties stay within the count,
    and the checker passes (`_refill`)."""
    rng = random.Random(seed)
    days = [DAY0, DAY0 + dt.timedelta(1)]
    groups: list[list[Worker]] = []
    number = 0
    for index, county in enumerate(rng.sample(COUNTIES, 5)):
        size = rng.randint(2, 6) if index == 0 else rng.randint(30, 45)
        day = rng.choice(days)
        groups.append(_workers(county, range(number, number + size), day, day))
        number += size
    groups.sort(key=len)
    riding, waiting = [groups[0], groups[-1]], groups[1:-1]
    scenario = _scenario(
        [w for g in groups for w in g],
        last_departure=days[-1],
        fleet=(VehicleType("c53", 53, 2, 9.0, 800.0),),
        solver=SolverParams(time_limit_s=8.0),
    )
    trips = []
    for prefix, workers in zip("AB", riding, strict=True):
        alone = solve(scenario.replace(workers=tuple(workers)), distances=PROVIDER)
        assert alone.kpis.seated == len(workers) and len(alone.trips) == 1, "the premise"
        trips += [dataclasses.replace(t, trip_id=f"{prefix}-{t.trip_id}") for t in alone.trips]
    unserved = [
        Unserved(w.worker_id, UnservedReason.FLEET_EXHAUSTED, "no coach")
        for g in waiting
        for w in g
    ]
    plan = _refigured(alone, trips, unserved).replace(scenario=scenario.name)
    after = _refill(scenario, plan)
    assert after.kpis.seated > plan.kpis.seated
