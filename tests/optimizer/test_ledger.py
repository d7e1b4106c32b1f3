"""Coaches inside planning (issue 11): availability never exceeded, ample fleets change nothing,
tight fleets reach the servable bound, and the bound never falls below what a plan seats."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.duties import TimetableEmptyDriveTimer, build_duties, link_earliest
from optimizer.geography.distance import GreatCircleProvider, Location
from optimizer.identity import id_check_char
from optimizer.ledger import (
    Ledger,
    Span,
    busy_interval,
    day_weights,
    origin_places,
    sure_offsets,
)
from optimizer.model import (
    Company,
    Policy,
    Scenario,
    SolverParams,
    Trip,
    UnservedReason,
    VehicleType,
    Worker,
)
from optimizer.planning.kpis import seated_bounds
from optimizer.season import depot_of, solve_within_fleet, with_duties
from optimizer.servable import servable_bound
from optimizer.solve import solve
from optimizer.write import plan_from_json, plan_to_json
from tests.checker import check_plan

PROVIDER = GreatCircleProvider()
DAY0 = dt.date(2019, 1, 24)
GATE = Company("C1", "甲厂", 121.25, 30.17)
# Home counties: Linquan (Anhui, ~550 km), Weining (Guizhou, ~1,700 km), Jianhu (Jiangsu, ~350 km)
COUNTIES = ("341221", "520526", "320925")


def _worker(n: int, county: str, start: int, end: int) -> Worker:
    first17 = f"{county}19900101{n:03d}"
    return Worker(
        f"W{n:03d}",
        "C1",
        f"工人{n}",
        first17 + id_check_char(first17),
        "13812345678",
        county,
        DAY0 + dt.timedelta(start),
        DAY0 + dt.timedelta(end),
        home_adcode=county,
    )


def _scenario(
    workers: list[Worker],
    fleet: tuple[VehicleType, ...],
    days: int,
    direction: str = "home",
    limit: float = 1.0,
) -> Scenario:
    return Scenario(
        name="fleet-test",
        direction=direction,  # type: ignore[arg-type]
        origin="330282",
        festival_date=dt.date(2019, 2, 5),
        first_departure=DAY0,
        last_departure=DAY0 + dt.timedelta(days - 1),
        companies=(GATE,),
        workers=tuple(workers),
        fleet=fleet,
        policy=Policy(),
        solver=SolverParams(time_limit_s=limit),
    )


def test_sure_offsets_cover_the_days_a_coach_is_surely_away() -> None:
    """A coach out 41 h from a departure between 06:00 and 22:00 is surely away at 22:00 of its
    day and of the next (40 h: only of its own), not of the one after; a 4 h round trip is
    surely away at none."""
    policy = Policy()
    assert list(sure_offsets(0.0, 41.0, policy)) == [0, 1]
    assert list(sure_offsets(0.0, 40.0, policy)) == [0]
    assert list(sure_offsets(0.0, 4.0, policy)) == []
    # Return wave: it left the depot 30 h before the pickup, so it was away the day before too.
    assert list(sure_offsets(30.0, 30.0, policy)) == [-1, 0]


def test_day_weights_sum_to_the_span_in_days() -> None:
    weights = day_weights(Span(0.0, 30.0), Policy())
    assert weights == {0: 1.0, 1: 0.25}
    back = day_weights(Span(12.0, 12.0), Policy())
    assert abs(sum(back.values()) - 1.0) < 1e-9 and set(back) == {-1, 0}


def test_ledger_counts_coaches_away_over_their_busy_interval() -> None:
    """A Guizhou trip holds its coach from departure until it is back at the depot and rested,
    days later; the ledger says the type has no coach free until then."""
    scenario = _scenario(
        [_worker(n, "520526", 0, 0) for n in range(30)],
        (VehicleType("c53", 53, 1, 9.0, 800.0),),
        days=1,
    )
    plan = solve(scenario, distances=PROVIDER)
    (trip,) = plan.trips
    timer = TimetableEmptyDriveTimer(PROVIDER, scenario.policy)
    depot = depot_of(scenario)
    leave, home = busy_interval(trip, depot, timer, scenario.policy)
    assert leave <= trip.departure and home - trip.arrival > dt.timedelta(hours=10)
    ledger = Ledger.of_trips([trip], scenario.fleet, depot, timer, scenario.policy)
    assert ledger.free("c53", trip.arrival, trip.arrival) == 0
    assert ledger.free("c53", home, home + dt.timedelta(days=1)) == 1


@st.composite
def small_seasons(draw: st.DrawFn) -> Scenario:
    days = draw(st.integers(2, 4))
    count = draw(st.integers(8, 60))
    workers = []
    for n in range(count):
        county = draw(st.sampled_from(COUNTIES))
        start = draw(st.integers(0, days - 1))
        end = draw(st.integers(start, days - 1))
        workers.append(_worker(n, county, start, end))
    fleet = [VehicleType("c45", 45, draw(st.integers(0, 2)), 8.0, 700.0)]
    fleet.append(VehicleType("c20", 20, draw(st.integers(1, 2)), 5.0, 400.0))
    direction = draw(st.sampled_from(("home", "return")))
    return _scenario(workers, tuple(fleet), days, direction)


def _check_availability(scenario: Scenario) -> None:
    plan, duties = solve_within_fleet(scenario, distances=PROVIDER)
    assert check_plan(scenario, plan, provider=PROVIDER) == []
    assert duties.kpis.shortages == ()
    for vehicle in scenario.fleet:
        assert duties.kpis.coaches_by_type.get(vehicle.vehicle_type, 0) <= vehicle.count
    assert plan.kpis.fleet_servable_bound is not None
    assert plan.kpis.seated <= plan.kpis.fleet_servable_bound <= len(scenario.workers)
    # Proven bounds for the plan: at least the counting bound over the workers it seats.
    counting = seated_bounds(scenario, PROVIDER, plan.trips)
    assert plan.kpis.trips >= plan.kpis.lower_bound_trips >= counting.trips
    assert plan.kpis.coach_km >= plan.kpis.lower_bound_coach_km >= counting.coach_km
    for unserved in plan.unserved:
        if unserved.reason is UnservedReason.FLEET_EXHAUSTED:
            assert unserved.detail, unserved


# Each example is a full fleet-bound plan with its duties and the checker (2 s on a quiet machine,
# 15 s under load): three in the default run (eight before), twenty under `slow`. The fixed
# short-fleet seasons below (a tight fleet at the servable bound, a far coach back days later, a
# short small type handing trips to a larger one) plan through the same checker in the default run.
_SEASON_SETTINGS = settings(
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@settings(_SEASON_SETTINGS, max_examples=3)
@given(small_seasons())
def test_coach_availability_is_never_exceeded(scenario: Scenario) -> None:
    """Random small seasons with few coaches: the plan passes the independent checker, which
    reads the plan's coach duties (every trip on one coach of its type, a coach never on two
    things at once and rested between trips, no type with more coaches than the fleet); every
    worker is seated or unserved; the seated never exceed the servable bound."""
    _check_availability(scenario)


@pytest.mark.slow
@settings(_SEASON_SETTINGS, max_examples=20)
@given(small_seasons())
def test_coach_availability_is_never_exceeded_on_more_seasons(scenario: Scenario) -> None:
    """The same property on twenty random seasons."""
    _check_availability(scenario)


def test_an_ample_fleet_plans_as_without_a_fleet() -> None:
    """Ten coaches of each type for a load a few coaches carry: the dates are not spread, and
    the plan has the unlimited-fleet plan's trips within one coach."""
    workers = [_worker(n, COUNTIES[n % 3], n % 2, 1 + n % 2) for n in range(150)]
    fleet = (VehicleType("c53", 53, 10, 9.0, 800.0), VehicleType("c35", 35, 10, 7.0, 600.0))
    scenario = _scenario(workers, fleet, days=3, limit=2.0)
    plan, duties = solve_within_fleet(scenario, distances=PROVIDER)
    raised = tuple(dataclasses.replace(v, count=1000) for v in fleet)
    free = solve(scenario.replace(fleet=raised), distances=PROVIDER)
    assert not any("spread" in note for note in plan.notes)
    assert abs(len(plan.trips) - len(free.trips)) <= 1
    assert plan.kpis.seated == free.kpis.seated == 150
    assert duties.kpis.shortages == ()


def day_spans(
    scenario: Scenario,
) -> tuple[list[dt.date], dict[dt.date, tuple[dt.datetime, dt.datetime]]]:
    """The season's departure days, and a coach's busy interval (from the depot and back,
    rested) on the planner's own trip of each day, planned for the first worker alone."""
    days = [
        scenario.first_departure + dt.timedelta(d)
        for d in range((scenario.last_departure - scenario.first_departure).days + 1)
    ]
    timer = TimetableEmptyDriveTimer(PROVIDER, scenario.policy)
    depot = depot_of(scenario)
    spans = {}
    for day in days:
        one = scenario.replace(
            workers=tuple(
                dataclasses.replace(w, earliest=day, latest=day) for w in scenario.workers[:1]
            )
        )
        (trip,) = solve(one, distances=PROVIDER).trips
        spans[day] = busy_interval(trip, depot, timer, scenario.policy)
    return days, spans


def _exact_far(scenario: Scenario, seats: int) -> int:
    """Workers one coach can seat on a season of far trips, by brute force: every set of
    departure days the coach can drive in turn (it must be back and rested from one trip before
    the next: busy intervals of real planned trips), each trip filled from the workers whose
    window holds its day (a unit-capacity matching, greedy by earliest window end is exact)."""
    days, spans = day_spans(scenario)
    best = 0
    for size in range(1, len(days) + 1):
        for chosen in itertools.combinations(days, size):
            if any(spans[a][1] > spans[b][0] for a, b in itertools.pairwise(chosen)):
                continue
            taken: set[str] = set()
            seated = 0
            for day in chosen:
                fits = sorted(
                    (w for w in scenario.workers if w.earliest <= day <= w.latest),
                    key=lambda w: w.latest,
                )
                load = [w for w in fits if w.worker_id not in taken][:seats]
                taken |= {w.worker_id for w in load}
                seated += len(load)
            best = max(best, seated)
    return best


def test_a_tight_fleet_seats_the_servable_bound_on_a_small_season() -> None:
    """One coach, two days, two loads to Guizhou, each worker free on one day only: the coach
    can drive one trip (it is away for days), so one load goes. The planner seats exactly the
    brute-force optimum, the servable bound equals it, and the rest are fleet_exhausted with a
    detail naming the type and the dates that ran out."""
    workers = [_worker(n, "520526", 0, 0) for n in range(60)] + [
        _worker(n, "520526", 1, 1) for n in range(60, 120)
    ]
    scenario = _scenario(workers, (VehicleType("c53", 53, 1, 9.0, 800.0),), days=2, limit=2.0)
    exact = _exact_far(scenario, 53)
    assert exact == 53
    plan, duties = solve_within_fleet(scenario, distances=PROVIDER)
    assert check_plan(scenario, plan, provider=PROVIDER) == []
    assert duties.kpis.coaches == 1
    assert plan.kpis.seated == exact == plan.kpis.fleet_servable_bound
    exhausted = [u for u in plan.unserved if u.reason is UnservedReason.FLEET_EXHAUSTED]
    assert len(exhausted) == 120 - exact
    assert all("c53" in u.detail and "01-2" in u.detail for u in exhausted)


def test_the_bound_is_never_below_the_exact_optimum() -> None:
    """Three days, one coach, Guizhou workers with every kind of window: the bound is at least
    the brute-force optimum (and the planner seats no more than that optimum)."""
    workers = [
        _worker(n, "520526", start, end)
        for n, (start, end) in enumerate(
            [(0, 0)] * 20 + [(0, 2)] * 25 + [(1, 1)] * 30 + [(2, 2)] * 15 + [(1, 2)] * 10
        )
    ]
    scenario = _scenario(workers, (VehicleType("c53", 53, 1, 9.0, 800.0),), days=3, limit=2.0)
    exact = _exact_far(scenario, 53)
    bound = servable_bound(scenario, distances=PROVIDER)
    assert bound >= exact
    plan, _ = solve_within_fleet(scenario, distances=PROVIDER)
    assert plan.kpis.seated <= exact
    assert plan.kpis.fleet_servable_bound == bound


def test_unservable_workers_are_outside_the_bound() -> None:
    """Workers no plan can seat (here: a home no county matches) do not count in the bound."""
    workers = [_worker(n, "520526", 0, 0) for n in range(10)]
    workers.append(dataclasses.replace(_worker(99, "520526", 0, 0), home_adcode=None))
    scenario = _scenario(workers, (VehicleType("c53", 53, 1, 9.0, 800.0),), days=1)
    plan, _ = solve_within_fleet(scenario, distances=PROVIDER)
    assert plan.kpis.fleet_servable_bound == 10 == plan.kpis.seated


def test_the_bound_and_fleet_details_round_trip_through_plan_json() -> None:
    workers = [_worker(n, "520526", 0, 0) for n in range(60)]
    scenario = _scenario(workers, (VehicleType("c53", 53, 1, 9.0, 800.0),), days=1)
    plan, _ = solve_within_fleet(scenario, distances=PROVIDER)
    again = plan_from_json(plan_to_json(plan))
    assert again.kpis.fleet_servable_bound == plan.kpis.fleet_servable_bound == 53
    assert again.unserved == plan.unserved and again.unserved


def test_a_far_coach_back_days_later_takes_the_later_load() -> None:
    """Flexible workers whose first-choice date has no coach free are moved, inside planning,
    to the day the coach is back: one coach, Guizhou loads on day 0 and flexible ones."""
    workers = [_worker(n, "520526", 0, 0) for n in range(40)] + [
        _worker(n, "520526", 0, 7) for n in range(40, 80)
    ]
    scenario = _scenario(workers, (VehicleType("c53", 53, 1, 9.0, 800.0),), days=8, limit=2.0)
    plan, duties = solve_within_fleet(scenario, distances=PROVIDER)
    assert check_plan(scenario, plan, provider=PROVIDER) == []
    assert duties.kpis.coaches == 1 and plan.kpis.seated == 80
    assert len({t.departure_date for t in plan.trips}) == 2
    assert not any("cancelled" in note for note in plan.notes), plan.notes


def test_ledger_of_held_trips_leaves_the_return_wave_the_coaches_back() -> None:
    """`Ledger.free` of a held trip's type over a span after it is back is the whole count."""
    scenario = _scenario(
        [_worker(n, "341221", 0, 0) for n in range(10)],
        (VehicleType("c53", 53, 2, 9.0, 800.0),),
        days=1,
    )
    plan = solve(scenario, distances=PROVIDER)
    timer = TimetableEmptyDriveTimer(PROVIDER, scenario.policy)
    ledger = Ledger.of_trips(plan.trips, scenario.fleet, Location(121.27, 30.17), timer, Policy())
    (trip,) = plan.trips
    assert ledger.free("c53", trip.departure, trip.arrival) == 1
    assert ledger.free("unknown", trip.departure, trip.arrival) == 0


def test_a_short_small_type_hands_trips_to_a_larger_spare_type() -> None:
    """Small Guizhou loads on two days, one 20-seat coach and two 53-seat ones: the planner gives
    each load the cheaper 20-seat type, whose one coach is away on day 1; rather than cancel,
    the day-1 trip goes to a 53-seat coach and everyone is seated within the fleet."""
    workers = [_worker(n, "520526", 0, 0) for n in range(15)] + [
        _worker(n, "520526", 1, 1) for n in range(15, 30)
    ]
    fleet = (VehicleType("c20", 20, 1, 5.0, 400.0), VehicleType("c53", 53, 2, 9.0, 800.0))
    scenario = _scenario(workers, fleet, days=2, limit=2.0)
    plan, duties = solve_within_fleet(scenario, distances=PROVIDER)
    assert check_plan(scenario, plan, provider=PROVIDER) == []
    assert plan.kpis.seated == 30 and duties.kpis.shortages == ()
    assert sorted(t.vehicle_type for t in plan.trips) == ["c20", "c53"]
    assert any("moved to a larger coach type" in note for note in plan.notes), plan.notes


def test_a_fleet_of_exactly_the_unlimited_plans_coaches_plans_as_without_a_fleet() -> None:
    """The fleet set to the coaches per type the unlimited-fleet plan's duties use (the fleet
    just suffices): the plan seats everyone on the unlimited plan's trips within one coach."""
    workers = [_worker(n, COUNTIES[n % 3], n % 3, 2 + n % 2) for n in range(240)]
    fleet = (VehicleType("c53", 53, 1000, 9.0, 800.0), VehicleType("c35", 35, 1000, 7.0, 600.0))
    scenario = _scenario(workers, fleet, days=4, limit=2.0)
    free = solve(scenario, distances=PROVIDER)
    timer = TimetableEmptyDriveTimer(PROVIDER, scenario.policy)
    from optimizer.season import coach_duties

    need = coach_duties(free.trips, scenario, PROVIDER, timer=timer).kpis.coaches_by_type
    exact = tuple(dataclasses.replace(v, count=need.get(v.vehicle_type, 0)) for v in fleet)
    plan, duties = solve_within_fleet(scenario.replace(fleet=exact), distances=PROVIDER)
    assert duties.kpis.shortages == ()
    assert plan.kpis.seated == free.kpis.seated == 240
    assert abs(len(plan.trips) - len(free.trips)) <= 1


def _shifted(trip: Trip, delta: dt.timedelta) -> Trip:
    stops = tuple(
        dataclasses.replace(s, arrive=s.arrive + delta, depart=s.depart + delta) for s in trip.stops
    )
    return dataclasses.replace(trip, stops=stops)


def test_a_coach_the_ledger_has_free_can_be_linked_by_the_duties() -> None:
    """Like coach 53座-108 of docs/benchmarks.md: back from Langxi the drive to the depot is under
    4 h (1 h turnaround), the drive to a far gate over 4 h (8 h crew rest). The ledger times the
    drive home to the farthest gate with the duties' link rule, so at the instant it has the
    coach free again the exact chaining links it to a trip leaving that gate."""
    far_gate = Company("C2", "乙厂", 121.60, 30.20)
    workers = [_worker(n, "341821", 0, 0) for n in range(40)] + [
        dataclasses.replace(_worker(n, "341821", 1, 1), company_id="C2") for n in range(40, 80)
    ]
    fleet = (VehicleType("c53", 53, 1, 9.0, 800.0),)
    scenario = _scenario(workers, fleet, days=2).replace(companies=(GATE, far_gate))
    free = scenario.replace(fleet=(VehicleType("c53", 53, 10, 9.0, 800.0),))
    first, second = sorted(solve(free, distances=PROVIDER).trips, key=lambda t: t.departure)
    assert first.stops[0].company_id == "C1" and second.stops[0].company_id == "C2"
    timer = TimetableEmptyDriveTimer(PROVIDER, scenario.policy)
    depot, policy = depot_of(scenario), scenario.policy
    gate = Location(far_gate.lon, far_gate.lat)
    # The premise: timed to the depot alone, the coach would be free before the duties can
    # link it to a trip from the far gate.
    _, depot_only = busy_interval(first, depot, timer, policy)
    assert depot_only < link_earliest(first, gate, timer, policy)
    places = origin_places(scenario)
    _, back = busy_interval(first, depot, timer, policy, places)
    for place in (depot, *places):
        assert link_earliest(first, place, timer, policy) <= back, place
    ledger = Ledger.of_trips([first], fleet, depot, timer, policy, places)
    assert ledger.free("c53", back, back + dt.timedelta(hours=6)) == 1
    # The exact chaining: one coach drives both when the second leaves the far gate then.
    second = _shifted(second, back - second.departure)
    duties = build_duties([first, second], fleet, depot=depot, timer=timer, policy=policy)
    assert duties.kpis.coaches == 1
    early = _shifted(second, -dt.timedelta(minutes=30))
    duties = build_duties([first, early], fleet, depot=depot, timer=timer, policy=policy)
    assert duties.kpis.coaches == 2


def test_availability_dates_limit_departures_not_coach_days() -> None:
    """A return wave of one departure date whose coaches may be used on that date only: each
    coach drives out empty before it and home loaded after it, and the workers ride (the
    spread counted no coach of the type on the days around that date and seated nobody)."""
    from tests.optimizer.test_solve import season, worker

    day = dt.date(2019, 2, 10)
    fleet = (VehicleType("c53", 53, 3, 9.0, 800.0, available_from=day, available_to=day),)
    # 渠县 (Sichuan), some 1,700 road km from Cixi: the coach is away for days either side.
    workers = [
        dataclasses.replace(worker(n, "511725"), earliest=day, latest=day) for n in range(90)
    ]
    scenario = season(
        workers,
        direction="return",
        festival_date=dt.date(2019, 2, 5),
        first_departure=day,
        last_departure=day,
        fleet=fleet,
        solver=SolverParams(time_limit_s=5.0, part_solution_limit=5),
    )
    provider = GreatCircleProvider()
    plan, duties = solve_within_fleet(scenario, distances=provider)
    assert plan.kpis.seated == 90 and plan.kpis.trips == 2
    assert duties.kpis.coaches_by_type == {"c53": 2}
    assert check_plan(scenario, with_duties(plan, duties), provider=provider) == []
