"""Moving dates and compressing chains before cancelling (optimizer/retime.py,
`reschedule_into_chains`): a trip beyond a short fleet goes to another date or hour of its
riders' windows where a coach is back, and the plan still obeys every rule."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

import pytest

from optimizer.duties import TimetableEmptyDriveTimer, build_duties
from optimizer.fleet_passes import FleetContext
from optimizer.geography.distance import GreatCircleProvider
from optimizer.model import (
    Company,
    Policy,
    Scenario,
    SolverParams,
    Trip,
    UnservedReason,
    VehicleType,
)
from optimizer.retime import reschedule_into_chains, retime_into_gaps
from optimizer.season import _retyped, depot_of, rider_windows
from optimizer.solve import solve
from tests.checker import assert_valid_plan, check_trip_geometry, check_trip_timetable
from tests.optimizer.test_season import _workers

PROVIDER = GreatCircleProvider()
DAY0 = dt.date(2019, 1, 24)
DAY1 = DAY0 + dt.timedelta(1)
ONE_COACH = (VehicleType("c53", 53, 1, 9.0, 800.0),)


@pytest.fixture(scope="module")
def one_coach_two_days() -> tuple[Scenario, list[Trip]]:
    """Jianhu's workers may leave on day 0 only, Yixing's on day 0 or 1; planned without a
    fleet limit both leave at 06:00 on day 0. One coach, back from Jianhu on the afternoon of
    day 1, can drive both only if Yixing's trip moves to day 1 after it is back."""
    scenario = Scenario(
        name="reschedule",
        direction="home",
        origin="330282",
        festival_date=dt.date(2019, 2, 5),
        first_departure=DAY0,
        last_departure=DAY1,
        companies=(Company("C1", "甲厂", 121.25, 30.17),),
        workers=tuple(
            _workers("320925", range(50), DAY0, DAY0)
            + _workers("320282", range(50, 95), DAY0, DAY1)
        ),
        fleet=ONE_COACH,
        policy=Policy(),
        solver=SolverParams(time_limit_s=2.0),
    )
    unlimited = scenario.replace(fleet=(dataclasses.replace(ONE_COACH[0], count=10),))
    trips = sorted(solve(unlimited, distances=PROVIDER).trips, key=lambda t: t.departure)
    assert [(t.departure_date, t.departure.hour) for t in trips] == [(DAY0, 6), (DAY0, 6)], (
        "the premise: both leave at 06:00 on day 0"
    )
    return scenario, trips


def _timer(scenario: Scenario) -> TimetableEmptyDriveTimer:
    return TimetableEmptyDriveTimer(PROVIDER, scenario.policy)


def test_a_trip_moves_to_the_next_day_of_its_riders_windows(one_coach_two_days) -> None:  # type: ignore[no-untyped-def]
    """Re-timing on its own date finds no coach (main's rule); moving it to day 1, after the
    coach is back, seats everyone on one coach, within the rules (independent checker)."""
    scenario, trips = one_coach_two_days
    common = {
        "depot": depot_of(scenario),
        "policy": scenario.policy,
        "provider": PROVIDER,
        "retype": _retyped,
    }
    same_day, count = retime_into_gaps(trips, (), ONE_COACH, timer=_timer(scenario), **common)  # type: ignore[arg-type]
    assert count == 0 and same_day == trips
    windows = rider_windows(trips, scenario)
    moved, placed, shifted = reschedule_into_chains(
        trips,
        (),
        ONE_COACH,
        timer=_timer(scenario),
        windows=windows,
        **common,  # type: ignore[arg-type]
    )
    assert placed == 1 and shifted == 0
    by_county = {t.stops[-1].adcode: t for t in moved}
    before = {t.stops[-1].adcode: t for t in trips}
    assert by_county["320925"] == before["320925"]
    yixing = by_county["320282"]
    assert yixing.departure_date == DAY1 and yixing.departure.date() == DAY1
    assert {p.worker_id for p in yixing.passengers} == {
        p.worker_id for p in before["320282"].passengers
    }
    assert check_trip_timetable(yixing, scenario.policy) == []
    assert check_trip_geometry(yixing, scenario.policy) == []
    duties = build_duties(
        moved, ONE_COACH, depot=depot_of(scenario), timer=_timer(scenario), policy=scenario.policy
    )
    assert duties.kpis.coaches == 1 and not duties.kpis.shortages


def test_a_kept_or_locked_trip_never_moves(one_coach_two_days) -> None:  # type: ignore[no-untyped-def]
    scenario, trips = one_coach_two_days
    windows = rider_windows(trips, scenario)
    for keep, given in (
        ({t.trip_id for t in trips}, trips),
        (set(), [dataclasses.replace(t, locked=True) for t in trips]),
    ):
        moved, placed, _ = reschedule_into_chains(
            given,
            (),
            ONE_COACH,
            depot=depot_of(scenario),
            timer=_timer(scenario),
            policy=scenario.policy,
            provider=PROVIDER,
            windows=windows,
            keep=keep,
            retype=_retyped,
        )
        assert placed == 0 and moved == given


def test_the_budget_stops_the_rescheduling(one_coach_two_days) -> None:  # type: ignore[no-untyped-def]
    """With no time left the pass tries no trip and changes nothing; the trip it would place
    with time (`test_a_trip_moves_to_the_next_day_of_its_riders_windows`) stays beyond."""
    scenario, trips = one_coach_two_days
    moved, placed, shifted = reschedule_into_chains(
        trips,
        (),
        ONE_COACH,
        depot=depot_of(scenario),
        timer=_timer(scenario),
        policy=scenario.policy,
        provider=PROVIDER,
        windows=rider_windows(trips, scenario),
        retype=_retyped,
        budget_s=0.0,
    )
    assert placed == 0 and shifted == 0 and moved == trips


def test_the_fitted_plan_seats_everyone_and_passes_the_checker(one_coach_two_days) -> None:  # type: ignore[no-untyped-def]
    """`FleetContext.fit` on the plan made without a fleet limit: nobody is cancelled, the plan
    carries the note and the checker finds nothing; without the pass a trip is cancelled."""
    scenario, _ = one_coach_two_days
    unlimited = scenario.replace(fleet=(dataclasses.replace(ONE_COACH[0], count=10),))
    planned = solve(unlimited, distances=PROVIDER)
    plan, duties = FleetContext(scenario, PROVIDER, _timer(scenario)).fit(planned)
    assert plan.kpis.seated == 95 and not duties.kpis.shortages
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            "optimizer.fleet_passes.reschedule_into_chains",
            lambda trips, *a, **k: (list(trips), 0, 0),
        )
        before, _ = FleetContext(scenario, PROVIDER, _timer(scenario)).fit(planned)
    assert before.kpis.seated < 95, "main's rule (re-timing on the trip's own date) cancels one"
    assert any("another date or hour" in note for note in plan.notes)
    from optimizer.season import with_duties

    assert_valid_plan(scenario, with_duties(plan, duties), provider=PROVIDER)


COUNTIES = ("320925", "320282", "341221", "340826", "320722", "330781")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_tight_seasons_keep_the_fleet_and_never_seat_fewer(seed: int) -> None:
    """Random small seasons planned without a fleet limit, then fitted to a short fleet: the
    duties stay within the counts, the checker passes, and the pass never seats fewer than
    fitting without it (main's rule) on the same plan."""
    rng = random.Random(seed)
    days = [DAY0 + dt.timedelta(d) for d in range(4)]
    workers = []
    number = 0
    for county in rng.sample(COUNTIES, 4):
        size = rng.randint(20, 60)
        first = rng.choice(days[:3])
        last = min(days[-1], first + dt.timedelta(rng.randint(0, 2)))
        workers += _workers(county, range(number, number + size), first, last)
        number += size
    fleet = (
        VehicleType("c53", 53, rng.randint(1, 2), 9.0, 800.0),
        VehicleType("c35", 35, 1, 7.0, 600.0),
    )
    scenario = Scenario(
        name=f"tight-{seed}",
        direction="home",
        origin="330282",
        festival_date=dt.date(2019, 2, 5),
        first_departure=days[0],
        last_departure=days[-1],
        companies=(Company("C1", "甲厂", 121.25, 30.17),),
        workers=tuple(workers),
        fleet=fleet,
        policy=Policy(),
        solver=SolverParams(time_limit_s=2.0),
    )
    unlimited = scenario.replace(fleet=tuple(dataclasses.replace(v, count=20) for v in fleet))
    planned = solve(unlimited, distances=PROVIDER)

    def fitted() -> tuple[int, object]:
        plan, duties = FleetContext(scenario, PROVIDER, _timer(scenario)).fit(planned)
        for vehicle in fleet:
            assert duties.kpis.coaches_by_type.get(vehicle.vehicle_type, 0) <= vehicle.count
        from optimizer.season import with_duties

        assert_valid_plan(scenario, with_duties(plan, duties), provider=PROVIDER)
        exhausted = [u for u in plan.unserved if u.reason is UnservedReason.FLEET_EXHAUSTED]
        assert plan.kpis.seated + len(exhausted) <= len(workers)
        return plan.kpis.seated, plan

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            "optimizer.fleet_passes.reschedule_into_chains",
            lambda trips, *a, **k: (list(trips), 0, 0),
        )
        without, _ = fitted()
    seated, _ = fitted()
    assert seated >= without
