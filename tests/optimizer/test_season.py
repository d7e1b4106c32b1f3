"""A season of two waves: both planned, all trips chained into legal coach duties."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from pathlib import Path

import pytest

from optimizer.duties import TimetableEmptyDriveTimer, layover_minutes
from optimizer.fleet_passes import FleetContext
from optimizer.geography.distance import GreatCircleProvider, Location
from optimizer.model import Policy, Scenario, SolverParams
from optimizer.planning.kpis import seated_bounds
from optimizer.read import read_scenario
from optimizer.season import _refigured, cancel_trips, plan_season, with_seated_bounds
from scenarios.generate import generate_season, write_scenario
from tests.checker import check_plan

PROVIDER = GreatCircleProvider()


def wave(tmp: Path, direction: str, workers: int = 90) -> Scenario:
    season = generate_season(
        f"season-{direction}",
        workers,
        seed=5,
        direction=direction,  # type: ignore[arg-type]
        companies=4,
        counties=3,
        provinces=(("安徽", 0.6), ("河南", 0.4)),
        hub_radius_km=0.0,
    )
    folder = write_scenario(season, tmp / direction)
    scenario = read_scenario(folder)
    return scenario.replace(solver=SolverParams(time_limit_s=4))


@pytest.fixture(scope="module")
def season(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("season")
    waves = [wave(tmp, "home"), wave(tmp, "return")]
    return waves, plan_season(waves, distances=PROVIDER)


def test_both_waves_pass_the_plan_checker(season) -> None:  # type: ignore[no-untyped-def]
    """Homeward and return-wave plans obey every rule of the independent checker."""
    scenarios, result = season
    assert [p.direction for p in result.waves] == ["home", "return"]
    for scenario, plan in zip(scenarios, result.waves, strict=True):
        assert plan.trips, f"{scenario.direction} wave planned no trip"
        assert check_plan(scenario, plan, provider=PROVIDER) == []


def test_every_trip_of_the_season_is_in_exactly_one_duty(season) -> None:  # type: ignore[no-untyped-def]
    """Trip ids are unique across waves and each belongs to one coach duty."""
    _, result = season
    trip_ids = [t.trip_id for plan in result.waves for t in plan.trips]
    assert len(trip_ids) == len(set(trip_ids))
    in_duties = [tid for duty in result.duties.duties for tid in duty.trip_ids]
    assert sorted(in_duties) == sorted(trip_ids)


def test_a_coach_never_runs_two_trips_at_once(season) -> None:  # type: ignore[no-untyped-def]
    """Within a duty, trips and empty drives follow one another with the crew's layover."""
    scenarios, result = season
    trips = {t.trip_id: t for plan in result.waves for t in plan.trips}
    policy = scenarios[0].policy
    for duty in result.duties.duties:
        for before, after in itertools.pairwise(duty.legs):
            assert before.end <= after.start, duty.coach_id
        chain = [trips[t] for t in duty.trip_ids]
        for first, second in itertools.pairwise(chain):
            ready = first.arrival + dt.timedelta(
                minutes=layover_minutes(first.driving_minutes, policy)
            )
            assert ready <= second.departure, (duty.coach_id, first.trip_id, second.trip_id)


def test_coach_counts_within_the_fleet(season) -> None:  # type: ignore[no-untyped-def]
    """The season's duties use no more coaches of a type than the fleet has."""
    scenarios, result = season
    counts = {v.vehicle_type: v.count for s in scenarios for v in s.fleet}
    for vehicle_type, used in result.duties.kpis.coaches_by_type.items():
        assert used <= counts[vehicle_type]
    assert result.duties.kpis.shortages == ()


def test_backhaul_never_costs_km(season) -> None:  # type: ignore[no-untyped-def]
    """Chaining the waves together never needs more empty km than chaining each alone."""
    _, result = season
    assert result.backhaul_saved_km >= 0
    kpis = result.duties.kpis
    assert 0 < kpis.loaded_km_share <= 1
    assert kpis.coaches >= max(kpis.overlap_bound_by_type.values())


def test_duties_start_and_end_at_the_depot(season) -> None:  # type: ignore[no-untyped-def]
    """Every duty leaves from and returns to the depot: the drive out to a return-wave pickup
    county and the drive home after the last trip are counted as deadhead."""
    _, result = season
    depot = Location(121.27, 30.17)

    def near_depot(lon: float, lat: float) -> bool:
        return abs(lon - depot.lon) < 0.5 and abs(lat - depot.lat) < 0.5

    return_ids = {t.trip_id for t in result.waves[1].trips}
    for duty in result.duties.duties:
        first, last = duty.legs[0], duty.legs[-1]
        assert near_depot(first.from_lon, first.from_lat), duty.coach_id
        assert near_depot(last.to_lon, last.to_lat), duty.coach_id
        if duty.trip_ids[0] in return_ids:
            assert first.kind == "deadhead" and first.distance_km > 100, duty.coach_id


def test_a_short_fleet_moves_workers_to_later_dates_or_reports_them() -> None:
    """One coach, three loads to Guizhou: the coach is away for days, so the planner moves
    flexible workers to a date it is back and reports the rest as fleet_exhausted; the duties
    never need a second coach."""
    from optimizer.identity import id_check_char
    from optimizer.model import Company, Policy, UnservedReason, VehicleType, Worker
    from optimizer.season import solve_within_fleet

    day0 = dt.date(2019, 1, 24)
    gate = Company("C1", "甲厂", 121.25, 30.17)

    def worker(n: int, start: int, end: int) -> Worker:
        first17 = f"52052619900101{n:03d}"
        return Worker(
            f"W{n:03d}",
            "C1",
            f"工人{n}",
            first17 + id_check_char(first17),
            "13812345678",
            "520526",
            day0 + dt.timedelta(start),
            day0 + dt.timedelta(end),
            home_adcode="520526",
        )

    workers = (
        [worker(n, 0, 0) for n in range(40)]  # must leave on day 0
        + [worker(n, 0, 9) for n in range(40, 80)]  # can wait until the coach is back
        + [worker(n, 1, 1) for n in range(80, 120)]  # day 1 only: the coach is away
    )
    scenario = Scenario(
        name="short-fleet",
        direction="home",
        origin="330282",
        festival_date=dt.date(2019, 2, 5),
        first_departure=day0,
        last_departure=day0 + dt.timedelta(9),
        companies=(gate,),
        workers=tuple(workers),
        fleet=(VehicleType("c53", 53, 1, 9.0, 800.0),),
        policy=Policy(),
        solver=SolverParams(time_limit_s=2.0),
    )
    plan, duties = solve_within_fleet(scenario, distances=PROVIDER)
    assert check_plan(scenario, plan, provider=PROVIDER) == []
    assert duties.kpis.coaches == 1 and duties.kpis.shortages == ()
    seated = {p.worker_id for t in plan.trips for p in t.passengers}
    assert {f"W{n:03d}" for n in range(40, 80)} <= seated, "flexible workers were not moved"
    assert len(plan.trips) == 2
    unserved = {u.worker_id: u.reason for u in plan.unserved}
    assert set(unserved) | seated == {w.worker_id for w in workers}
    assert set(unserved.values()) <= {UnservedReason.FLEET_EXHAUSTED}


def _workers(county: str, numbers: range, first: dt.date, last: dt.date) -> list:  # type: ignore[type-arg]
    from optimizer.identity import id_check_char
    from optimizer.model import Worker

    workers = []
    for n in numbers:
        first17 = f"{county}19900101{n:03d}"
        workers.append(
            Worker(
                f"W{n:03d}",
                "C1",
                f"工人{n}",
                first17 + id_check_char(first17),
                "13812345678",
                county,
                first,
                last,
                home_adcode=county,
            )
        )
    return workers


def _one_coach_season(coaches: int = 1) -> list[Scenario]:
    """A homeward load to Weining (Guizhou) the day before the festival and a return wave from
    Linquan (Anhui) right after it: each wave alone fits `coaches` coaches, but the coach that
    went to Guizhou is not back in time to fetch the first Linquan load."""
    from optimizer.model import Company, Policy, VehicleType

    festival = dt.date(2019, 2, 5)
    gate = Company("C1", "甲厂", 121.25, 30.17)
    fleet = (VehicleType("c53", 53, coaches, 9.0, 800.0),)
    home = Scenario(
        name="one-coach-home",
        direction="home",
        origin="330282",
        festival_date=festival,
        first_departure=festival - dt.timedelta(1),
        last_departure=festival - dt.timedelta(1),
        companies=(gate,),
        workers=tuple(
            _workers("520526", range(40 * coaches), festival - dt.timedelta(1), festival)
        ),
        fleet=fleet,
        policy=Policy(),
        solver=SolverParams(time_limit_s=2.0),
    )
    day1 = festival + dt.timedelta(1)
    back = Scenario(
        name="one-coach-return",
        direction="return",
        origin="330282",
        festival_date=festival,
        first_departure=day1,
        last_departure=day1 + dt.timedelta(9),
        companies=(gate,),
        workers=tuple(
            # must come back on the first day: no coach can be in Anhui by then
            _workers("341221", range(100, 100 + 40 * coaches), day1, day1)
            # can come back any day of the wave
            + _workers("341221", range(200, 200 + 40 * coaches), day1, day1 + dt.timedelta(9))
        ),
        fleet=fleet,
        policy=Policy(),
        solver=SolverParams(time_limit_s=2.0),
    )
    return [home, back]


@pytest.mark.parametrize("coaches", [1, 2])
def test_a_season_short_of_coaches_replans_the_return_wave(coaches: int) -> None:
    """Both waves fit the fleet alone, not chained together: the return wave is planned against
    the coaches the home wave still holds, so no type ever needs more coaches than it has, and
    every worker is seated or unserved as fleet_exhausted."""
    from optimizer.duties import TimetableEmptyDriveTimer, build_duties
    from optimizer.model import UnservedReason
    from optimizer.season import depot_of, solve_within_fleet

    scenarios = _one_coach_season(coaches)
    # The premise: each wave planned within the fleet alone fits, the two chained do not.
    alone = [solve_within_fleet(s, distances=PROVIDER)[0] for s in scenarios]
    timer = TimetableEmptyDriveTimer(PROVIDER, scenarios[0].policy)
    depot = depot_of(scenarios[0])
    for plan in alone:
        one = build_duties(
            plan.trips, scenarios[0].fleet, depot=depot, timer=timer, policy=Policy()
        )
        assert one.kpis.coaches <= coaches
    home_trips = [dataclasses.replace(t, trip_id=f"H-{t.trip_id}") for t in alone[0].trips]
    chained = build_duties(
        [*home_trips, *alone[1].trips],
        scenarios[0].fleet,
        depot=depot,
        timer=timer,
        policy=Policy(),
    )
    assert chained.kpis.coaches > coaches, "the fixture must be short when chained"

    result = plan_season(scenarios, distances=PROVIDER)
    kpis = result.duties.kpis
    assert kpis.shortages == ()
    assert kpis.coaches_by_type["c53"] <= coaches
    for scenario, plan in zip(scenarios, result.waves, strict=True):
        assert check_plan(scenario, plan, provider=PROVIDER) == []
        assert plan.fleet_kpis is not None and plan.fleet_kpis.shortages == ()
        seated = {p.worker_id for t in plan.trips for p in t.passengers}
        unserved = {u.worker_id: u.reason for u in plan.unserved}
        assert seated | set(unserved) == {w.worker_id for w in scenario.workers}
        assert not seated & set(unserved)
        assert set(unserved.values()) <= {UnservedReason.FLEET_EXHAUSTED}
    home_plan, back_plan = result.waves
    assert not home_plan.unserved, "the home wave, planned first, keeps its coaches"
    seated_back = {p.worker_id for t in back_plan.trips for p in t.passengers}
    assert {f"W{n:03d}" for n in range(200, 200 + 40 * coaches)} <= seated_back, (
        "flexible return workers were not moved to a date a coach is back"
    )
    in_duties = sorted(tid for d in result.duties.duties for tid in d.trip_ids)
    assert in_duties == sorted(t.trip_id for p in result.waves for t in p.trips)


def test_trips_no_coach_can_drive_are_cancelled_as_fleet_exhausted() -> None:
    """Without the fleet spread of dates, the return trips that the one coach cannot reach after its
    Guizhou trip are cancelled: their workers are unserved as fleet_exhausted, the plan still
    passes the checker, and the season's duties fit the fleet."""
    from optimizer.model import UnservedReason
    from optimizer.season import solve_within_fleet

    home, back = _one_coach_season(1)
    home_plan, _ = solve_within_fleet(home, distances=PROVIDER)
    held = [dataclasses.replace(t, trip_id=f"H-{t.trip_id}") for t in home_plan.trips]
    plan, duties = solve_within_fleet(back, distances=PROVIDER, held=held, fit_dates=False)
    assert duties.kpis.shortages == () and duties.kpis.coaches == 1
    assert check_plan(back, plan, provider=PROVIDER) == []
    assert plan.unserved, "some return workers must have lost their coach"
    assert {u.reason for u in plan.unserved} == {UnservedReason.FLEET_EXHAUSTED}
    seated = {p.worker_id for t in plan.trips for p in t.passengers}
    assert seated | {u.worker_id for u in plan.unserved} == {w.worker_id for w in back.workers}
    assert any("cancelled" in note for note in plan.notes)
    assert plan.kpis.unserved == len(plan.unserved) and plan.kpis.trips == len(plan.trips)
    # The bounds are at least the counting bound over the workers the final plan seats.
    counting = seated_bounds(back, PROVIDER, plan.trips)
    assert plan.kpis.trips >= plan.kpis.lower_bound_trips >= counting.trips >= 1
    assert plan.kpis.coach_km >= plan.kpis.lower_bound_coach_km >= counting.coach_km > 0
    assert any(note.startswith("fleet: lower bounds over the") for note in plan.notes)


def test_cancelled_trips_lower_the_bounds_by_what_they_carried(season) -> None:  # type: ignore[no-untyped-def]
    """Riders who lose their seat leave the set the bounds were proven for: the bounds drop by
    the cancelled trips' count and km (still valid), and stay put when every rider is re-seated."""
    from optimizer.season import cancel_trips

    _, result = season
    plan = result.waves[0]
    gone = plan.trips[:2]
    cut = cancel_trips(plan, {t.trip_id for t in gone}, "test")
    assert cut.kpis.unserved == plan.kpis.unserved + sum(len(t.passengers) for t in gone)
    assert cut.kpis.lower_bound_trips == max(0, plan.kpis.lower_bound_trips - 2)
    assert cut.kpis.lower_bound_coach_km == pytest.approx(
        max(0.0, plan.kpis.lower_bound_coach_km - sum(t.distance_km for t in gone)), abs=0.11
    )
    assert cut.kpis.trips >= cut.kpis.lower_bound_trips
    # Nothing cancelled: nothing changes.
    assert cancel_trips(plan, set(), "test").kpis == plan.kpis


def test_a_plan_seating_its_unseated_again_gets_the_counting_bound_back(season) -> None:  # type: ignore[no-untyped-def]
    """The fleet passes' sequence (`refill`): trips cancelled, their riders unseated, so the
    bounds drop by those trips; then the same riders seated again (a top-up keeps the dropped
    bounds). The counting bound over the workers the plan seats is the bound again, named as
    the source, below the plan's trips and km; the note gives both figures."""
    scenarios, result = season
    scenario, plan = scenarios[0], result.waves[0]
    gone = plan.trips[:2]
    cut = cancel_trips(plan, {t.trip_id for t in gone}, "test")
    again = _refigured(cut, plan.trips, plan.unserved)
    counting = seated_bounds(scenario, PROVIDER, again.trips)
    assert again.kpis.lower_bound_trips < counting.trips, "the premise: the bound dropped"
    bounded = with_seated_bounds(again, scenario, PROVIDER)
    assert bounded.kpis.lower_bound_trips == counting.trips
    assert bounded.kpis.lower_bound_coach_km == max(
        counting.coach_km, again.kpis.lower_bound_coach_km
    )
    assert bounded.kpis.lower_bound_source == "counting"
    assert bounded.kpis.trips >= bounded.kpis.lower_bound_trips
    assert bounded.kpis.coach_km >= bounded.kpis.lower_bound_coach_km
    assert bounded.notes[-1].startswith(f"fleet: lower bounds over the {plan.kpis.seated} ")


def test_the_subtracted_bound_is_kept_when_it_is_the_larger() -> None:
    """An LP bound proven for the planned workers, less the trips cancelled since, stays (with
    its source) when it proves more than the counting bound over the workers seated."""
    from optimizer.model import Plan

    scenario = _one_coach_season(1)[0]
    plan: Plan = plan_season([scenario], distances=PROVIDER).waves[0]
    counting = seated_bounds(scenario, PROVIDER, plan.trips)
    lp = plan.replace(
        kpis=dataclasses.replace(
            plan.kpis, lower_bound_trips=counting.trips + 1, lower_bound_source="lp"
        )
    )
    kept = with_seated_bounds(lp, scenario, PROVIDER)
    assert kept.kpis.lower_bound_trips == counting.trips + 1
    assert kept.kpis.lower_bound_source == "lp"


def _linquan_season(workers: int, days: int, coaches: int) -> Scenario:
    """A homeward wave to Linquan (Anhui) from one gate: every worker may leave on any of
    `days` days, and `coaches` coach-53s carry them."""
    from optimizer.model import Company, VehicleType

    day0 = dt.date(2019, 1, 24)
    return Scenario(
        name="linquan",
        direction="home",
        origin="330282",
        festival_date=dt.date(2019, 2, 5),
        first_departure=day0,
        last_departure=day0 + dt.timedelta(days - 1),
        companies=(Company("C1", "甲厂", 121.25, 30.17),),
        workers=tuple(_workers("341221", range(workers), day0, day0 + dt.timedelta(days - 1))),
        fleet=(VehicleType("c53", 53, coaches, 9.0, 800.0),),
        policy=Policy(),
        solver=SolverParams(time_limit_s=2.0),
    )


def _passes(scenario: Scenario) -> FleetContext:
    """The fleet passes of a one-wave season: nothing held or kept, a fresh empty-drive timer."""
    return FleetContext(scenario, PROVIDER, TimetableEmptyDriveTimer(PROVIDER, scenario.policy))


def test_a_top_up_seats_workers_on_coach_time_left_idle() -> None:
    """Workers whose trip was cancelled while the coach stands idle later in their window are
    seated by the top-up on new trips; every trip kept before stays as it was, and the plan
    passes the independent checker, coach availability included."""
    from optimizer.model import UnservedReason
    from optimizer.season import coach_duties, solve_within_fleet

    scenario = _linquan_season(workers=150, days=8, coaches=1)
    plan, _ = solve_within_fleet(scenario, distances=PROVIDER)
    assert plan.kpis.seated == 150 and len(plan.trips) >= 3, "the premise: one coach, 3 loads"
    # Lose the last trip (as if no coach could drive it): its riders wait, the coach is idle.
    last = max(plan.trips, key=lambda t: (t.departure, t.trip_id))
    cut = cancel_trips(plan, {last.trip_id}, "test")
    waiting = {p.worker_id for p in last.passengers}
    assert {u.worker_id for u in cut.unserved} == waiting
    duties = coach_duties(cut.trips, scenario, PROVIDER)
    topped, topped_duties = _passes(scenario).top_up(cut, duties)
    assert topped.kpis.seated == 150, "the idle coach should carry the waiting workers"
    assert {t.trip_id: t for t in cut.trips}.items() <= {t.trip_id: t for t in topped.trips}.items()
    assert topped_duties.kpis.coaches == 1 and topped_duties.kpis.shortages == ()
    assert (
        check_plan(scenario, topped.replace(coaches=topped_duties.duties), provider=PROVIDER) == []
    )
    assert not [u for u in topped.unserved if u.reason is UnservedReason.FLEET_EXHAUSTED]
    assert any("top-up" in note for note in topped.notes)


def test_a_top_up_adds_nothing_when_no_coach_is_free() -> None:
    """One coach and one departure day: the workers of the trip no coach can drive stay
    fleet_exhausted, the top-up adds no trip and the plan keeps its duties."""
    from optimizer.season import coach_duties, solve_within_fleet

    scenario = _linquan_season(workers=100, days=1, coaches=1)
    plan, _ = solve_within_fleet(scenario, distances=PROVIDER)
    assert len(plan.trips) == 1 and plan.kpis.unserved > 0, "the premise: one trip fits"
    duties = coach_duties(plan.trips, scenario, PROVIDER)
    topped, topped_duties = _passes(scenario).top_up(plan, duties)
    assert topped.trips == plan.trips and topped.unserved == plan.unserved
    assert topped_duties.kpis.coaches == 1


def test_fleet_passes_past_their_deadline_take_no_time_and_change_nothing() -> None:
    """Issue 11: with the fleet passes' deadline passed, every boxed pass gets 0 s (none the
    full share of the time limit it would get alone) and the top-up starts no round: the
    waiting workers stay fleet_exhausted and the plan and its duties come back as they were.
    Without a deadline a pass gets its share of the time limit."""
    import time

    from optimizer.fleet_passes import TOP_UP_SHARE
    from optimizer.season import coach_duties, solve_within_fleet

    scenario = _linquan_season(workers=150, days=8, coaches=1)
    plan, _ = solve_within_fleet(scenario, distances=PROVIDER)
    last = max(plan.trips, key=lambda t: (t.departure, t.trip_id))
    cut = cancel_trips(plan, {last.trip_id}, "test")
    duties = coach_duties(cut.trips, scenario, PROVIDER)
    assert _passes(scenario).box(TOP_UP_SHARE) == TOP_UP_SHARE * scenario.solver.time_limit_s
    late = dataclasses.replace(_passes(scenario), deadline=time.monotonic() - 1.0)
    assert late.box(TOP_UP_SHARE) == 0.0 and late.late()
    topped, topped_duties = late.top_up(cut, duties)
    assert topped.trips == cut.trips and topped.unserved == cut.unserved
    assert topped_duties is duties and topped.kpis.seated == 150 - len(last.passengers)


@pytest.mark.parametrize("evenings", [False, True])
def test_a_trip_no_coach_drives_at_dawn_is_retimed_for_a_coach_back_that_afternoon(
    evenings: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One coach: Jianhu on day 0 (back at the gate the next afternoon), Yixing on day 1 only.
    Both trips are timetabled at 06:00, when the coach is still away; instead of cancelling the
    Yixing trip, it is re-timed to a departure of day 1 after the coach is back, and the one
    coach drives both (checked by the independent checker, coach availability included). The
    same with the evening departures chosen by the chaining (`evening_departures`), which
    bring the trip forward to the coach's return, not to the evening."""
    import optimizer.retime as retime
    from optimizer.duties import TimetableEmptyDriveTimer, link_earliest

    monkeypatch.setattr(retime, "RETIME_EVENINGS", evenings)
    from optimizer.model import Company, VehicleType
    from optimizer.season import solve_within_fleet

    day0 = dt.date(2019, 1, 24)
    day1 = day0 + dt.timedelta(1)
    gate = Company("C1", "甲厂", 121.25, 30.17)
    scenario = Scenario(
        name="retime",
        direction="home",
        origin="330282",
        festival_date=dt.date(2019, 2, 5),
        first_departure=day0,
        last_departure=day1,
        companies=(gate,),
        workers=tuple(
            _workers("320925", range(50), day0, day0)
            + _workers("320282", range(50, 95), day1, day1)
        ),
        fleet=(VehicleType("c53", 53, 1, 9.0, 800.0),),
        policy=Policy(),
        solver=SolverParams(time_limit_s=2.0),
    )
    plan, duties = solve_within_fleet(scenario, distances=PROVIDER, fit_dates=False)
    assert check_plan(scenario, plan, provider=PROVIDER) == []
    assert duties.kpis.coaches == 1 and duties.kpis.shortages == ()
    assert plan.kpis.seated == 95 and not plan.unserved
    first, second = sorted(plan.trips, key=lambda t: t.departure)
    assert first.departure == dt.datetime(2019, 1, 24, 6)
    assert second.departure_date == day1 and second.departure.hour >= 12
    # It leaves at the first half hour the coach is ready at the gate, not later.
    timer = TimetableEmptyDriveTimer(PROVIDER, scenario.policy)
    ready = link_earliest(first, Location(gate.lon, gate.lat), timer, scenario.policy)
    assert ready <= second.departure < ready + dt.timedelta(minutes=30)
    said = "moved to an evening departure" if evenings else "re-timed"
    assert any(said in note for note in plan.notes), plan.notes
    assert not any("cancelled" in note for note in plan.notes), plan.notes
