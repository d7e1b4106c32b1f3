"""The route-pattern spread (issue 11): a binding fleet's dates from a coach-flow LP over route
patterns; plans made with it keep the fleet, units it leaves out carry a reason, its LP seats at
least what the rounding keeps, and switched off the planner is what it was."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import numpy as np
import pytest

from optimizer import patterns
from optimizer.details import detail_parts
from optimizer.duties import TimetableEmptyDriveTimer
from optimizer.groups import Unit
from optimizer.ledger import Availability, Ledger, Spread, origin_places, spread_dates
from optimizer.model import Passenger, Scenario, Trip, UnservedReason, VehicleType
from optimizer.places import county_seats
from optimizer.planning.context import Fleet
from optimizer.season import depot_of, solve_within_fleet
from tests.checker import check_plan
from tests.optimizer.test_ledger import COUNTIES, DAY0, PROVIDER, _scenario, _worker

SMALL = (VehicleType("c45", 45, 1, 8.0, 700.0), VehicleType("c20", 20, 2, 5.0, 400.0))


def _season(seed: int, direction: str, workers: int = 250, days: int = 4) -> Scenario:
    rng = random.Random(seed)
    people = []
    for n in range(workers):
        start = rng.randrange(days)
        people.append(_worker(n, rng.choice(COUNTIES), start, rng.randrange(start, days)))
    return _scenario(people, SMALL, days, direction, limit=2.0)


def _units(scenario: Scenario) -> tuple[list[Unit], dict[int, dt.date]]:
    """One unit per worker, first choice the first date of its window."""
    units = [
        Unit((w.worker_id,), 1, "C1", "company:C1", w.home_adcode or "", (w.earliest, w.latest))
        for w in scenario.workers
    ]
    return units, {i: u.window[0] for i, u in enumerate(units)}


def _spread(scenario: Scenario) -> tuple[list[Unit], dict[int, dt.date], patterns.PatternSpread]:
    units, dates = _units(scenario)
    timer = TimetableEmptyDriveTimer(PROVIDER, scenario.policy)
    depot = depot_of(scenario)
    ledger = Ledger.of_trips([], scenario.fleet, depot, timer, scenario.policy)
    allowed = [DAY0 + dt.timedelta(k) for k in range((scenario.last_departure - DAY0).days + 1)]
    found = patterns.pattern_spread(
        units,
        dates,
        {c: c for c in COUNTIES},
        allowed,
        Availability(ledger, depot, timer),
        scenario.policy,
        scenario.direction == "home",
        patterns.road_times(scenario, PROVIDER),
        3,
        30.0,
    )
    assert found is not None
    return units, dates, found


@pytest.mark.parametrize("direction", ["home", "return"])
def test_every_unit_gets_a_date_of_its_window_or_a_reason_and_the_lp_seats_at_least_that(
    direction: str,
) -> None:
    """Three short seasons each way (three coaches, far counties): each unit is on a date of
    its window or left out with a detail the catalogue reads; the LP's seated value is at least
    the seats the rounding keeps."""
    for seed in range(3):
        units, dates, found = _spread(_season(seed, direction))
        spread = found.spread
        assert spread.binding
        assert set(spread.dates) | set(spread.dropped) == set(dates)
        assert not set(spread.dates) & set(spread.dropped)
        for i, day in spread.dates.items():
            assert units[i].window[0] <= day <= units[i].window[1]
        for detail in spread.dropped.values():
            assert [p.id for p in detail_parts(detail)] == ["coaches_away_on_days"], detail
        assert found.rounded_seats == sum(units[i].seats for i in spread.dates)
        assert found.lp_seated >= found.rounded_seats - 1e-6
        assert found.rounded_seats < len(units)  # the fleet binds: someone is left out


def test_a_coach_counted_to_carry_less_leaves_more_out() -> None:
    """With coaches counted to carry half their seats the LP places fewer seats."""
    scenario = _season(1, "home")
    _, _, full = _spread(scenario)
    try:
        patterns.PATTERN_FILL = 0.5
        _, _, half = _spread(scenario)
    finally:
        patterns.PATTERN_FILL = 0.85
    assert half.lp_seated < full.lp_seated


def test_a_one_county_hold_covers_the_farthest_origin_place() -> None:
    """Counted to the farthest origin place (the ledger's busy interval, turns rounded up), a
    county's hold is never shorter than its hold to the nearest (the bound's)."""
    scenario = _season(0, "return")
    roads = patterns.road_times(scenario, PROVIDER)
    for i in range(len(roads.codes)):
        near = patterns.route_hold(roads, (i,), False, scenario.policy)
        far = patterns.route_hold(roads, (i,), False, scenario.policy, far_ends=True)
        assert near is not None and far is not None
        assert far.before >= near.before and far.length >= near.length


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_plans_with_the_pattern_spread_keep_the_fleet(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small tight seasons planned with the pattern spread on (it is asked for dates): the
    independent checker (which reads the coach duties) finds nothing, no type drives more
    coaches than it has, and every fleet_exhausted worker has a detail."""
    scenario = _season(seed, ("home", "return")[seed % 2], workers=120)
    monkeypatch.setattr(patterns, "ROUTE_PATTERN_SPREAD", True)
    real = patterns.pattern_spread
    found: list[patterns.PatternSpread | None] = []

    def spy(*args: Any, **kwargs: Any) -> patterns.PatternSpread | None:
        found.append(real(*args, **kwargs))
        return found[-1]

    monkeypatch.setattr(patterns, "pattern_spread", spy)
    plan, duties = solve_within_fleet(scenario, distances=PROVIDER)
    assert any(f is not None for f in found)
    assert check_plan(scenario, plan, provider=PROVIDER) == []
    for vehicle in scenario.fleet:
        assert duties.kpis.coaches_by_type.get(vehicle.vehicle_type, 0) <= vehicle.count
    for unserved in plan.unserved:
        if unserved.reason is UnservedReason.FLEET_EXHAUSTED:
            assert unserved.detail


def test_switched_off_the_planner_never_asks_for_patterns(monkeypatch: pytest.MonkeyPatch) -> None:
    """ROUTE_PATTERN_SPREAD off (the default): the pattern spread is never called and no note
    names it, and `spread_dates` with a hook that declines gives exactly its own dates."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the pattern spread was called")

    monkeypatch.setattr(patterns, "ROUTE_PATTERN_SPREAD", False)
    monkeypatch.setattr(patterns, "pattern_spread", refuse)
    scenario = _season(1, "home")
    plan, _ = solve_within_fleet(scenario, distances=PROVIDER)
    assert not any("route-pattern" in note for note in plan.notes)

    units, dates = _units(scenario)
    timer = TimetableEmptyDriveTimer(PROVIDER, scenario.policy)
    depot = depot_of(scenario)
    ledger = Ledger.of_trips(
        [], scenario.fleet, depot, timer, scenario.policy, origin_places(scenario)
    )
    allowed = [DAY0 + dt.timedelta(k) for k in range(4)]
    arguments = (
        units,
        dates,
        {c: c for c in COUNTIES},
        county_seats(COUNTIES),
        allowed,
        Availability(ledger, depot, timer),
        scenario.policy,
        True,
        3,
    )
    asked: list[bool] = []

    def decline() -> Spread | None:
        asked.append(True)
        return None

    own = spread_dates(*arguments)
    declined = spread_dates(*arguments, binding=decline)
    assert own.binding and asked == [True]
    assert own == declined


def test_the_flows_departures_cap_the_planners_coaches_of_a_date() -> None:
    """A (date, type) cap below the fleet's count is what the planner may still take there, on
    top of what it already took; other dates keep the fleet's count."""
    vehicle = VehicleType("c45", 45, 5, 8.0, 700.0)
    fleet = Fleet((vehicle,), caps={(DAY0, "c45"): 2})
    assert fleet.left(DAY0, vehicle) == 2
    assert fleet.take(DAY0, 30, 100.0) == vehicle
    assert fleet.left(DAY0, vehicle) == 1
    assert fleet.left(DAY0 + dt.timedelta(1), vehicle) == 5


def test_a_county_filling_a_whole_coach_counts_it_at_full_seats(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fill applies to the remainder of a county's load only: with the switch on, the
    one-coach season of test_ledger (60 workers of one county a day, one coach of 53) still
    seats the brute-force optimum 53, not `PATTERN_FILL` of it."""
    monkeypatch.setattr(patterns, "ROUTE_PATTERN_SPREAD", True)
    found: list[patterns.PatternSpread | None] = []
    real = patterns.pattern_spread

    def spy(*args: Any, **kwargs: Any) -> patterns.PatternSpread | None:
        found.append(real(*args, **kwargs))
        return found[-1]

    monkeypatch.setattr(patterns, "pattern_spread", spy)
    workers = [_worker(n, "520526", 0, 0) for n in range(60)] + [
        _worker(n, "520526", 1, 1) for n in range(60, 120)
    ]
    scenario = _scenario(workers, (VehicleType("c53", 53, 1, 9.0, 800.0),), days=2, limit=2.0)
    plan, _ = solve_within_fleet(scenario, distances=PROVIDER)
    assert any(result is not None for result in found)
    assert check_plan(scenario, plan, provider=PROVIDER) == []
    assert plan.kpis.seated == 53


def test_a_coach_carrying_a_load_alone_counts_the_riders_it_takes() -> None:
    """A load one coach carries alone (a county's or a pattern's) counts the whole share of the
    coach (its own row caps the seats at the load: 50 of 53, not 85 %); a lone county's
    coaches count whole while its fill is not measured; pooled coaches over one coach's load,
    and a measured county's, count the fill."""
    fill = patterns.PATTERN_FILL
    assert patterns.coach_share(50.0, 53, fill, alone=True, measured=False) == 1.0
    assert patterns.coach_share(50.0, 53, fill, alone=False, measured=False) == 1.0
    assert patterns.coach_share(53.0, 53, 0.6, alone=True, measured=True) == 1.0
    assert patterns.coach_share(120.0, 53, fill, alone=True, measured=False) == 1.0
    assert patterns.coach_share(58.0, 53, fill, alone=False, measured=False) == fill
    assert patterns.coach_share(120.0, 53, 0.6, alone=True, measured=True) == 0.6


def test_a_countys_partial_last_coach_is_measured_at_its_riders() -> None:
    """`county_fill`: 8 workers alone on a 53-seat coach fill it (1, not 0.15); a county on a
    full coach and a partial one the same date fills the full one (1); a county on two coaches
    of 30 riders on one date is measured on the fuller one's 53 seats (60 / 83)."""
    c53 = VehicleType("c53", 53, 4, 9.0, 800.0)
    lone = [_worker(n, "520526", 0, 0) for n in range(8)]
    big = [_worker(n, "341225", 0, 0) for n in range(8, 68)]
    half = [_worker(n, "341221", 0, 0) for n in range(68, 128)]
    scenario = _scenario([*lone, *big, *half], (c53,), days=1, limit=2.0)

    def trip(trip_id: str, workers: list[Any]) -> Trip:
        riders = tuple(Passenger(w.worker_id, "C1", n + 1, 0, 1) for n, w in enumerate(workers))
        return Trip(trip_id, "c53", 53, 1, DAY0, (), riders)

    trips = [
        trip("a", lone),
        trip("b", big[:53]),
        trip("c", big[53:]),
        trip("d", half[:30]),
        trip("e", half[30:]),
    ]
    fill = patterns.county_fill(trips, scenario)
    assert fill["520526"] == pytest.approx(1.0)
    assert fill["341225"] == pytest.approx(1.0)
    assert fill["341221"] == pytest.approx(60 / 83)


def _columns(
    sets: set[tuple[int, ...]], days_of: dict[int, set[dt.date]], types: int, hours: int
) -> int:
    return hours * types * sum(len(set.intersection(*(days_of[c] for c in s))) for s in sets)


def test_the_model_is_sized_to_its_budget_richest_level_first() -> None:
    """`model_size` keeps every partner and departure hour when the budget allows, drops the
    later hour first, then partners down to `LEAST_PARTNERS`, and declines below that; the
    level it picks is within the budget."""
    scenario = _season(0, "home")
    roads = patterns.road_times(scenario, PROVIDER)
    days = [DAY0 + dt.timedelta(k) for k in range(4)]
    days_of = {c: set(days[c % 2 :]) for c in range(len(roads.codes))}
    types_on = dict.fromkeys(days, 2)
    delays = [0.0, 8.0]
    rich = patterns.model_size(roads, 3, days_of, types_on, delays, float("inf"))
    assert rich is not None
    sets, hours = rich
    assert hours == delays
    assert sets == patterns.candidate_sets(roads, 3, patterns.NEAREST_PARTNERS, sorted(days_of))
    full = _columns(sets, days_of, 2, 2)
    one_hour = patterns.model_size(roads, 3, days_of, types_on, delays, full - 1)
    assert one_hour is not None and one_hour[1] == [0.0] and one_hour[0] == sets
    assert _columns(one_hour[0], days_of, 2, 1) <= full - 1
    assert patterns.model_size(roads, 3, days_of, types_on, delays, 0.0) is None


def test_one_road_closure_gives_the_corridors_of_two(monkeypatch: pytest.MonkeyPatch) -> None:
    """`road_times` closes the road matrix once (the return wave's closure is its transpose):
    the same corridors as letting `corridors` close it again, and the same answer is kept for
    the same season and provider."""
    real = patterns.corridors
    for direction in ("home", "return"):
        scenario = _season(2, direction)
        once = patterns.road_times(scenario, PROVIDER)
        assert patterns.road_times(scenario, PROVIDER) is once
        with monkeypatch.context() as patch:
            patch.setattr(patterns, "corridors", lambda *a, closure=None, **k: real(*a, **k))
            twice = patterns._road_times(scenario, PROVIDER)
        for field in ("reach", "allowed", "between"):
            assert np.array_equal(getattr(once.corridor, field), getattr(twice.corridor, field))
        assert np.array_equal(once.between, twice.between)


@pytest.mark.parametrize("direction", ["home", "return"])
def test_a_smaller_model_still_keeps_the_fleet(
    direction: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the budget of one partner and one departure hour (the model a wide season gets),
    the spread runs on the smaller model and the plans pass the independent checker, drive no
    more coaches of a type than the fleet has, and give every fleet_exhausted worker a detail."""
    scenario = _season(4, direction, workers=120)
    monkeypatch.setattr(patterns, "ROUTE_PATTERN_SPREAD", True)
    monkeypatch.setattr(patterns, "LEAST_PARTNERS", 1)
    real_size = patterns.model_size
    targets: list[int] = []

    def small(
        roads: patterns.Roads,
        stop_limit: int,
        days_of: dict[int, set[dt.date]],
        types_on: dict[dt.date, int],
        delays: list[float],
        budget: float,
    ) -> tuple[set[tuple[int, ...]], list[float]] | None:
        sets = patterns.candidate_sets(roads, stop_limit, 1, sorted(days_of))
        target = sum(
            types_on.get(d, 0) for s in sets for d in set.intersection(*(days_of[c] for c in s))
        )
        targets.append(target)
        found = real_size(roads, stop_limit, days_of, types_on, delays, target)
        assert found == (sets, delays[:1])
        return found

    real = patterns.pattern_spread
    found: list[patterns.PatternSpread | None] = []

    def spy(*args: Any, **kwargs: Any) -> patterns.PatternSpread | None:
        found.append(real(*args, **kwargs))
        return found[-1]

    monkeypatch.setattr(patterns, "model_size", small)
    monkeypatch.setattr(patterns, "pattern_spread", spy)
    plan, duties = solve_within_fleet(scenario, distances=PROVIDER)
    ran = [f for f in found if f is not None]
    assert ran and targets
    assert all(f.columns <= max(targets) for f in ran)
    assert check_plan(scenario, plan, provider=PROVIDER) == []
    for vehicle in scenario.fleet:
        assert duties.kpis.coaches_by_type.get(vehicle.vehicle_type, 0) <= vehicle.count
    for unserved in plan.unserved:
        if unserved.reason is UnservedReason.FLEET_EXHAUSTED:
            assert unserved.detail


def test_the_pattern_spread_seats_the_sparse_season_at_least_as_the_old_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """test_sparse's one-coach six-day season of three counties' few workers: planned with the
    route-pattern spread it seats at least what the seat-pricing spread seats (28 against 25
    when written), passes the independent checker and drives one coach."""
    from tests.optimizer.test_sparse import _linquan_season

    seated = {}
    for switch in (False, True):
        monkeypatch.setattr(patterns, "ROUTE_PATTERN_SPREAD", switch)
        scenario = _linquan_season()
        plan, duties = solve_within_fleet(scenario, distances=PROVIDER)
        assert check_plan(scenario, plan, provider=PROVIDER) == []
        assert duties.kpis.coaches <= 1
        seated[switch] = plan.kpis.seated
        assert switch == any("route-pattern" in note for note in plan.notes)
    assert seated[True] >= seated[False]
