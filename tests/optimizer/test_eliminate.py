"""Emptying thin trips and seating the fleet-exhausted on the seats left (optimizer/eliminate.py,
`optimizer.fleet_passes.FleetContext.eliminate_and_seat`): riders move only where every rule
still holds, locked trips never change, nobody loses a seat and the plan keeps within the
fleet."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

import pytest

from optimizer.duties import TimetableEmptyDriveTimer
from optimizer.eliminate import eliminate_thin_trips
from optimizer.fleet_passes import FleetContext
from optimizer.geography.distance import GreatCircleProvider
from optimizer.model import (
    Company,
    Plan,
    Policy,
    Scenario,
    SolverParams,
    Trip,
    UnservedReason,
    VehicleType,
    Worker,
)
from optimizer.season import (
    _refigured,
    coach_duties,
    depot_of,
    with_duties,
)
from optimizer.solve import solve
from tests.checker import assert_valid_plan
from tests.optimizer.test_season import _workers

PROVIDER = GreatCircleProvider()
DAY0 = dt.date(2019, 1, 24)
DAY1 = DAY0 + dt.timedelta(1)
TAIHE, LINQUAN = "341222", "341221"  # two neighbouring counties of Fuyang (Anhui)
FLEET = (VehicleType("c53", 53, 2, 9.0, 800.0, operator="甬运"),)


def _scenario(workers: list[Worker], policy: Policy | None = None, **changes: object) -> Scenario:
    base = Scenario(
        name="eliminate",
        direction="home",
        origin="330282",
        festival_date=dt.date(2019, 2, 5),
        first_departure=DAY0,
        last_departure=DAY1,
        companies=(Company("C1", "甲厂", 121.25, 30.17),),
        workers=tuple(workers),
        fleet=FLEET,
        policy=policy or Policy(),
        solver=SolverParams(time_limit_s=2.0),
    )
    return base.replace(**changes)


def _two_trips(scenario: Scenario, full: list[Worker], thin: list[Worker]) -> Plan:
    """`scenario`'s plan with one trip for the `full` workers and another for the `thin` ones
    (each planned alone), as a plan of the whole scenario."""
    trips: list[Trip] = []
    plan = None
    for prefix, workers in (("A", full), ("B", thin)):
        plan = solve(scenario.replace(workers=tuple(workers)), distances=PROVIDER)
        assert plan.kpis.seated == len(workers) and len(plan.trips) == 1, "the premise"
        trips += [dataclasses.replace(t, trip_id=f"{prefix}-{t.trip_id}") for t in plan.trips]
    assert plan is not None
    return _refigured(plan, trips, [])


def _pass(scenario: Scenario, plan: Plan, keep: frozenset[str] = frozenset()) -> Plan:
    timer = TimetableEmptyDriveTimer(PROVIDER, scenario.policy)
    duties = coach_duties(plan.trips, scenario, PROVIDER, timer=timer)
    passes = FleetContext(scenario, PROVIDER, timer, keep=keep)
    after, after_duties = passes.eliminate_and_seat(plan, duties)
    assert after.kpis.seated >= plan.kpis.seated and after.kpis.trips <= plan.kpis.trips
    for vehicle in scenario.fleet:
        assert after_duties.kpis.coaches_by_type.get(vehicle.vehicle_type, 0) <= vehicle.count
    assert_valid_plan(scenario, with_duties(after, after_duties), provider=PROVIDER)
    return after


def test_a_thin_trip_whose_riders_fit_elsewhere_in_their_windows_goes() -> None:
    """8 riders on their own coach move onto the 30-rider coach to the same county (their
    windows allow its date): one trip fewer, everyone seated, the checker passes, and the plan
    says so in its note."""
    full = _workers(TAIHE, range(30), DAY0, DAY1)
    thin = _workers(TAIHE, range(30, 38), DAY0, DAY1)
    scenario = _scenario(full + thin)
    plan = _two_trips(scenario, full, thin)
    after = _pass(scenario, plan)
    assert after.kpis.trips == 1 and after.kpis.seated == 38
    assert any("1 thin trip(s) emptied" in note for note in after.notes)


def test_a_rider_whose_window_excludes_every_other_trip_keeps_the_trip() -> None:
    """The full coach leaves on day 0, the thin one's riders may only leave on day 1: the thin
    trip stays as it is."""
    full = _workers(TAIHE, range(30), DAY0, DAY0)
    thin = _workers(TAIHE, range(30, 38), DAY1, DAY1)
    scenario = _scenario(full + thin)
    plan = _two_trips(scenario, full, thin)
    after = _pass(scenario, plan)
    assert after.trips == plan.trips


def test_a_new_stop_is_inserted_within_the_stop_limit_and_refused_beyond_it() -> None:
    """Riders to Linquan join the Taihe coach by a new drop-off stop; with one drop-off stop
    allowed per coach the same move is refused."""
    full = _workers(TAIHE, range(30), DAY0, DAY1)
    thin = _workers(LINQUAN, range(30, 38), DAY0, DAY1)
    scenario = _scenario(full + thin)
    after = _pass(scenario, _two_trips(scenario, full, thin))
    assert after.kpis.trips == 1 and after.kpis.seated == 38
    assert sum(1 for s in after.trips[0].stops if s.kind == "dropoff") == 2
    one_stop = _scenario(full + thin, Policy(max_dropoff_stops=1))
    plan = _two_trips(one_stop, full, thin)
    assert _pass(one_stop, plan).trips == plan.trips


def test_a_stop_insertion_that_breaks_the_detour_limit_is_refused() -> None:
    """With no detour allowed (ratio 1, no grace) neither order of the two counties keeps every
    ride direct: the thin trip stays."""
    full = _workers(TAIHE, range(30), DAY0, DAY1)
    thin = _workers(LINQUAN, range(30, 38), DAY0, DAY1)
    scenario = _scenario(full + thin, Policy(detour_ratio=1.0, detour_grace_minutes=0))
    plan = _two_trips(scenario, full, thin)
    assert _pass(scenario, plan).trips == plan.trips


def test_a_stop_insertion_that_breaks_the_charter_sign_is_refused() -> None:
    """The operator is registered in Taihe only: Linquan, beyond Taihe, would become the last
    stop, so neither end of the route lies where the operator may drive; registered in the
    prefecture (both counties), the same move is made."""
    full = _workers(TAIHE, range(30), DAY0, DAY1)
    thin = _workers(LINQUAN, range(30, 38), DAY0, DAY1)
    # A little detour only: Linquan after Taihe fits, Taihe's riders going round by Linquan
    # first does not.
    policy = Policy(detour_ratio=1.0, detour_grace_minutes=30)
    taihe = _scenario(full + thin, policy, fleet=(dataclasses.replace(FLEET[0], registered=TAIHE),))
    plan = _two_trips(taihe, full, thin)
    timer = TimetableEmptyDriveTimer(PROVIDER, policy)
    duties = coach_duties(plan.trips, taihe, PROVIDER, timer=timer)
    kept, _ = FleetContext(taihe, PROVIDER, timer).eliminate_and_seat(plan, duties)
    assert kept.trips == plan.trips
    fuyang = _scenario(
        full + thin, policy, fleet=(dataclasses.replace(FLEET[0], registered="阜阳市"),)
    )
    after = _pass(fuyang, _two_trips(fuyang, full, thin))
    assert after.kpis.trips == 1 and after.kpis.seated == 38


@pytest.mark.parametrize("which", ["receiver", "thin"])
def test_locked_and_kept_trips_never_change(which: str) -> None:
    """A locked receiving trip takes nobody, a locked thin trip is not emptied; a kept one
    (held, a top-up's earlier trips) likewise."""
    full = _workers(TAIHE, range(30), DAY0, DAY1)
    thin = _workers(TAIHE, range(30, 38), DAY0, DAY1)
    scenario = _scenario(full + thin)
    plan = _two_trips(scenario, full, thin)
    target = plan.trips[0 if which == "receiver" else 1]
    locked = plan.replace(
        trips=tuple(
            dataclasses.replace(t, locked=True) if t.trip_id == target.trip_id else t
            for t in plan.trips
        )
    )
    assert _pass(scenario, locked).trips == locked.trips
    assert _pass(scenario, plan, keep=frozenset({target.trip_id})).trips == plan.trips


def test_the_budget_stops_the_pass() -> None:
    """With no time at all the pass stops before its first trip and changes nothing."""
    full = _workers(TAIHE, range(30), DAY0, DAY1)
    thin = _workers(TAIHE, range(30, 38), DAY0, DAY1)
    scenario = _scenario(full + thin)
    plan = _two_trips(scenario, full, thin)
    result = eliminate_thin_trips(
        plan.trips,
        plan.unserved,
        scenario,
        held=(),
        keep=frozenset(),
        provider=PROVIDER,
        timer=TimetableEmptyDriveTimer(PROVIDER, scenario.policy),
        depot=depot_of(scenario),
        budget_s=0.0,
    )
    assert result.out_of_time and result.emptied == 0 and result.seated == 0
    assert result.trips == list(plan.trips)


COUNTIES = ("320925", "320282", "341221", "340826", "320722", "330781", "341222", "340828")


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_random_tight_seasons_never_seat_fewer_and_keep_the_fleet(seed: int) -> None:
    """Random small seasons planned without a fleet limit and fitted to a short one: the pass
    never seats fewer nor uses more trips, the duties stay within the counts and the checker
    passes (`_pass`)."""
    rng = random.Random(seed)
    days = [DAY0 + dt.timedelta(d) for d in range(4)]
    workers: list[Worker] = []
    number = 0
    for county in rng.sample(COUNTIES, 6):
        size = rng.randint(4, 40)
        first = rng.choice(days[:3])
        last = min(days[-1], first + dt.timedelta(rng.randint(0, 2)))
        workers += _workers(county, range(number, number + size), first, last)
        number += size
    fleet = (
        VehicleType("c53", 53, rng.randint(1, 2), 9.0, 800.0),
        VehicleType("c35", 35, 1, 7.0, 600.0),
    )
    scenario = _scenario(workers, first_departure=days[0], last_departure=days[-1], fleet=fleet)
    unlimited = scenario.replace(fleet=tuple(dataclasses.replace(v, count=20) for v in fleet))
    timer = TimetableEmptyDriveTimer(PROVIDER, scenario.policy)
    plan, _ = FleetContext(scenario, PROVIDER, timer).fit(solve(unlimited, distances=PROVIDER))
    after = _pass(scenario, plan)
    exhausted = [u for u in after.unserved if u.reason is UnservedReason.FLEET_EXHAUSTED]
    assert after.kpis.seated + len(exhausted) <= len(workers)
