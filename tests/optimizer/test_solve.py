"""The planner end to end: every plan passes the independent checker, whatever the input."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.geography.distance import GreatCircleProvider
from optimizer.groups import Unit
from optimizer.identity import id_check_char
from optimizer.model import (
    Company,
    Hub,
    Plan,
    Policy,
    Scenario,
    SolverParams,
    UnservedReason,
    VehicleType,
    Worker,
)
from optimizer.planning.absorb import PROBE, Absorb
from optimizer.planning.context import Context, Work
from optimizer.planning.demand import Demand, locate, prepare
from optimizer.read import read_scenario
from optimizer.solve import Coach, solve
from tests.checker import check_plan

POOLING = Path(__file__).resolve().parents[1] / "data" / "pooling"
PROVIDER = GreatCircleProvider()
DAY0 = dt.date(2019, 1, 26)
GATES = [
    Company("C1", "甲厂", 121.25, 30.17),
    Company("C2", "乙厂", 121.30, 30.20),
    Company("C3", "丙厂", 121.18, 30.15, no_hub=True),
    Company("C4", "丁厂", 121.35, 30.12),
]
HUBS = (Hub("H1", "慈溪汽车站", 121.2466, 30.17),)
COUNTIES = ["341221", "341222", "341204", "411525", "511725", "520526", "360731", "500101"]
FLEET = (
    VehicleType("c53", 53, 30, 9.0, 800.0),
    VehicleType("c35", 35, 10, 7.0, 600.0),
)


def worker(
    n: int,
    home: str,
    company: str = "C1",
    start: int = 0,
    end: int = 2,
    party: str = "",
    seats: int = 1,
) -> Worker:
    first17 = f"34122119900101{n % 1000:03d}"
    return Worker(
        worker_id=f"W{n:05d}",
        company_id=company,
        name=f"工人{n}",
        id_number=first17 + id_check_char(first17),
        phone="13812345678",
        home=home,
        earliest=DAY0 + dt.timedelta(start),
        latest=DAY0 + dt.timedelta(end),
        party=party,
        seats=seats,
        home_adcode=home,
    )


def season(workers: list[Worker], **changes: object) -> Scenario:
    values: dict[str, object] = {
        "name": "test",
        "direction": "home",
        "origin": "330282",
        "festival_date": dt.date(2019, 2, 5),
        "first_departure": DAY0,
        "last_departure": DAY0 + dt.timedelta(6),
        "companies": tuple(GATES),
        "workers": tuple(workers),
        "fleet": FLEET,
        "hubs": HUBS,
        "policy": Policy(hub_radius_km=10.0),
        "solver": SolverParams(time_limit_s=2.0),
    }
    values.update(changes)
    return Scenario(**values)  # type: ignore[arg-type]


def plan_of(scenario: Scenario, **kwargs: object) -> Plan:
    plan = solve(scenario, distances=PROVIDER, **kwargs)  # type: ignore[arg-type]
    errors = check_plan(scenario, plan, provider=PROVIDER)
    assert errors == [], "\n".join(errors[:30])
    assert plan.kpis.trips >= plan.kpis.lower_bound_trips
    assert plan.kpis.coach_km >= plan.kpis.lower_bound_coach_km
    assert_no_empty_stops(plan)
    return plan


def assert_no_empty_stops(plan: Plan) -> None:
    """Every pickup or drop-off stop has someone boarding or alighting, and no trip comes back
    to a site it already served."""
    for trip in plan.trips:
        served = [s for s in trip.stops if s.kind in ("pickup", "dropoff")]
        assert all(s.board or s.alight for s in served), trip.trip_id
        sites = [(s.company_id, s.hub_id, s.adcode, s.lon, s.lat) for s in served]
        assert len(sites) == len(set(sites)), trip.trip_id


def reasons(plan: Plan) -> Counter[str]:
    return Counter(str(u.reason) for u in plan.unserved)


@pytest.fixture(scope="module")
def pooling() -> tuple[Scenario, Plan]:
    scenario = read_scenario(POOLING)
    scenario = scenario.replace(solver=SolverParams(time_limit_s=3.0))
    return scenario, plan_of(scenario)


def test_pooling_season_is_legal_and_accounts_for_everyone(
    pooling: tuple[Scenario, Plan],
) -> None:
    """The test season: checker passes, bad rows and party conflicts are named."""
    scenario, plan = pooling
    assert reasons(plan) == {
        "invalid_row": 2,
        "party_conflict": 2,
        "unknown_company": 1,
        "no_date_in_window": 1,
    }
    assert plan.kpis.seated == 163 and plan.kpis.workers == 169
    assert plan.problems == scenario.problems


def test_full_coaches_go_direct() -> None:
    """106 workers of one gate to one county on one day fill exactly two 53-seat coaches."""
    plan = plan_of(season([worker(i, "341221", start=1, end=1) for i in range(106)]))
    assert plan.kpis.trips == 2 == plan.kpis.lower_bound_trips
    assert plan.kpis.seat_utilization == 1.0
    for trip in plan.trips:
        kinds = [s.kind for s in trip.stops if s.kind != "rest"]
        assert kinds == ["pickup", "dropoff"]


def test_remainders_of_nearby_counties_share_a_coach() -> None:
    """Three small groups to neighbouring Fuyang counties ride one coach with three drop-offs."""
    workers = [
        worker(i, c, company=g)
        for i, (c, g) in enumerate(
            [(c, g) for c in ("341221", "341222", "341204") for g in ("C1", "C2") for _ in range(7)]
        )
    ]
    plan = plan_of(season(workers))
    assert plan.kpis.trips == 1 and plan.kpis.unserved == 0
    (trip,) = plan.trips
    assert sum(1 for s in trip.stops if s.kind == "dropoff") == 3
    assert trip.vehicle_type == "c53"


def test_small_loads_ride_the_cheapest_coach_that_fits() -> None:
    """Coaches are built on the largest type and then given the cheapest type their load fits:
    20 workers ride a 35-seat coach, not a 53."""
    plan = plan_of(season([worker(i, "341221", start=1, end=1) for i in range(20)]))
    (trip,) = plan.trips
    assert trip.vehicle_type == "c35" and trip.seats == 35


def test_downsizing_stays_within_the_fleet_of_the_date() -> None:
    """Two loads of 30 to far-apart counties on one day, one 35-seat coach that day: one load
    gets it, the other keeps a 53."""
    fleet = (VehicleType("c53", 53, 5, 9.0, 800.0), VehicleType("c35", 35, 1, 7.0, 600.0))
    workers = [worker(i, "341221", start=1, end=1) for i in range(30)]
    workers += [worker(100 + i, "511725", start=1, end=1) for i in range(30)]
    plan = plan_of(season(workers, fleet=fleet))
    assert Counter(t.vehicle_type for t in plan.trips) == {"c53": 1, "c35": 1}


def test_empty_season_gives_an_empty_plan() -> None:
    """No workers: no trips, zero figures, no crash."""
    plan = plan_of(season([]))
    assert plan.trips == () and plan.unserved == () and plan.kpis.workers == 0


def test_no_fleet_leaves_everyone_unserved_with_the_reason() -> None:
    """Without coaches everyone is unserved as no_coach_in_window."""
    plan = plan_of(season([worker(i, "341221") for i in range(5)], fleet=()))
    assert reasons(plan) == {"no_coach_in_window": 5}


def test_fleet_counts_hold_per_date() -> None:
    """One 53-seat coach per day and one date for everyone: the rest are fleet_exhausted."""
    fleet = (VehicleType("c53", 53, 1, 9.0, 800.0),)
    workers = [worker(i, "341221", start=1, end=1) for i in range(70)]
    plan = plan_of(season(workers, fleet=fleet))
    assert plan.kpis.trips == 1 and plan.kpis.seated == 53
    assert reasons(plan) == {"fleet_exhausted": 17}


def test_units_without_a_coach_spill_to_other_dates_of_their_window() -> None:
    """One coach per day: workers who can wait take the next date with a coach; those who
    cannot are fleet_exhausted, and no date gets more coaches than count_on allows."""
    fleet = (VehicleType("c53", 53, 1, 9.0, 800.0, count_by_date=((DAY0 + dt.timedelta(2), 0),)),)
    workers = [worker(i, "341221", start=1, end=1) for i in range(50)]
    workers += [worker(100 + i, "341221", start=1, end=3) for i in range(40)]
    plan = plan_of(season(workers, fleet=fleet))
    per_date = Counter(t.departure_date for t in plan.trips)
    assert all(n <= 1 for n in per_date.values())
    assert DAY0 + dt.timedelta(2) not in per_date
    seated = {p.worker_id for t in plan.trips for p in t.passengers}
    assert {f"W{i:05d}" for i in range(50)} <= seated  # day-1-only first on day 1
    assert plan.kpis.seated == 90 and plan.unserved == ()
    assert any(t.departure_date == DAY0 + dt.timedelta(3) for t in plan.trips)


def test_coach_unavailable_in_window() -> None:
    """A coach type available only after a worker's window leaves them no_coach_in_window."""
    fleet = (VehicleType("c53", 53, 5, 9.0, 800.0, available_from=DAY0 + dt.timedelta(4)),)
    workers = [worker(1, "341221", end=2), worker(2, "341221", start=4, end=5)]
    plan = plan_of(season(workers, fleet=fleet))
    assert [(u.worker_id, str(u.reason)) for u in plan.unserved] == [
        ("W00001", "no_coach_in_window")
    ]


def test_min_load_cancels_small_coaches() -> None:
    """Under min_load the coach is cancelled and its workers say below_min_load."""
    workers = [worker(i, "341221", start=1, end=1) for i in range(60)]
    workers += [worker(100 + i, "520526", start=1, end=1) for i in range(4)]
    policy = Policy(hub_radius_km=10.0, min_load=20, max_dropoff_stops=1)
    plan = plan_of(season(workers, policy=policy))
    assert reasons(plan) == {"below_min_load": 4}  # Guizhou; the 60 split 40 + 20
    assert all(trip.seats_used >= 20 for trip in plan.trips)


def test_max_trip_km_makes_far_counties_too_far() -> None:
    """Guizhou beyond max_trip_km is too_far; Anhui still goes."""
    workers = [worker(1, "520526"), worker(2, "341221")]
    plan = plan_of(season(workers, policy=Policy(max_trip_km=1500.0)))
    assert [(u.worker_id, str(u.reason)) for u in plan.unserved] == [("W00001", "too_far")]


def test_parties_ride_together_and_oversized_parties_are_named() -> None:
    """A family with a child's seat rides one coach; a party above the largest coach does not."""
    family = [worker(1, "341221", party="F", seats=2), worker(2, "341221", party="F")]
    crowd = [worker(10 + i, "411525", party="BIG", seats=2) for i in range(30)]
    plan = plan_of(season(family + crowd))
    assert reasons(plan) == {"party_too_large": 30}
    (trip,) = plan.trips
    assert {p.worker_id for p in trip.passengers} == {"W00001", "W00002"}
    assert trip.seats_used == 3


def test_locked_trips_stay_unchanged_across_a_replan() -> None:
    """Published trips are kept as they are; newly registered workers are added around them."""
    first = [
        worker(i, c, company=g)
        for i, (c, g) in enumerate(
            [(c, g) for c in COUNTIES[:4] for g in ("C1", "C2", "C3") for _ in range(9)]
        )
    ]
    scenario = season(first)
    plan = plan_of(scenario)
    locked = tuple(dataclasses.replace(t, locked=True) for t in plan.trips[:2])
    more = [worker(500 + i, "341221", company="C4") for i in range(12)]
    again = plan_of(season(first + more), locked=locked)
    kept = {t.trip_id: t for t in again.trips}
    for trip in locked:
        assert kept[trip.trip_id] == trip
    seated = {p.worker_id for t in again.trips for p in t.passengers}
    assert {w.worker_id for w in first + more} == seated


def test_return_direction_mirrors() -> None:
    """Coming back: pickups in home counties, drop-offs at gates and hubs."""
    workers = [
        worker(i, c, company=g)
        for i, (c, g) in enumerate(
            [(c, g) for c in ("341221", "411525") for g in ("C1", "C3") for _ in range(12)]
        )
    ]
    plan = plan_of(season(workers, direction="return"))
    assert plan.kpis.unserved == 0
    for trip in plan.trips:
        service = [s for s in trip.stops if s.kind != "rest"]
        assert all(s.adcode for s in service if s.kind == "pickup")
        assert all(s.company_id or s.hub_id for s in service if s.kind == "dropoff")


def test_drop_radius_merges_stops_of_small_neighbours() -> None:
    """With drop_radius_km 40 the Fuyang districts alight at 临泉 or nearby: fewer stops."""
    workers = [
        worker(i, c) for i, c in enumerate(["341221"] * 40 + ["341204"] * 8 + ["341203"] * 5)
    ]
    plan = plan_of(season(workers, policy=Policy(drop_radius_km=40.0)))
    assert plan.kpis.trips == 1
    stops = [s for s in plan.trips[0].stops if s.kind == "dropoff"]
    assert len(stops) <= 2


def test_process_pool_gives_a_valid_plan(pooling: tuple[Scenario, Plan]) -> None:
    """Decomposed parts solved in two processes still give a legal, complete plan."""
    scenario, serial = pooling
    parallel = plan_of(scenario.replace(solver=SolverParams(time_limit_s=3.0, workers=2)))
    assert parallel.kpis.seated == serial.kpis.seated


@st.composite
def small_seasons(draw: st.DrawFn) -> Scenario:
    count = draw(st.integers(0, 40))
    workers = []
    for n in range(count):
        start = draw(st.integers(0, 5))
        workers.append(
            worker(
                n,
                draw(st.sampled_from(COUNTIES)),
                company=draw(st.sampled_from([g.company_id for g in GATES])),
                start=start,
                end=start + draw(st.integers(0, 3)),
                party=draw(st.sampled_from(["", "", "", "P1", "P2"])),
                seats=draw(st.integers(1, 2)),
            )
        )
    policy = Policy(
        hub_radius_km=draw(st.sampled_from([0.0, 10.0])),
        drop_radius_km=draw(st.sampled_from([0.0, 60.0])),
        max_pickup_stops=draw(st.integers(1, 3)),
        max_dropoff_stops=draw(st.integers(1, 3)),
        min_load=draw(st.sampled_from([0, 3])),
    )
    fleet = (
        VehicleType("c53", 53, draw(st.integers(0, 3)), 9.0, 800.0),
        VehicleType("c35", 35, draw(st.integers(0, 3)), 7.0, 600.0),
    )
    direction = draw(st.sampled_from(["home", "return"]))
    return season(
        workers,
        policy=policy,
        fleet=fleet,
        direction=direction,
        solver=SolverParams(time_limit_s=0.5),
    )


def _check_legal(scenario: Scenario) -> None:
    plan = plan_of(scenario)
    assert plan.kpis.workers == len(scenario.workers)
    for unserved in plan.unserved:
        assert isinstance(unserved.reason, UnservedReason) and unserved.detail


# Four seasons in the default run (15, then 8 before: 115 s of a loaded full run, each example a
# full solve and the independent checker); every run draws new ones, the seeded-pooling property
# (test_lp_seeds.py, the same generator) and the ledger's (test_ledger.py) plan more random
# seasons through the same checker, and `slow` draws twenty.
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_seasons())
def test_generated_seasons_always_give_legal_plans(scenario: Scenario) -> None:
    """Any small season: a legal plan, everyone seated or told why, bounds below the plan."""
    _check_legal(scenario)


@pytest.mark.slow
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_seasons())
def test_generated_seasons_always_give_legal_plans_on_more_seasons(scenario: Scenario) -> None:
    """The same property on twenty random seasons."""
    _check_legal(scenario)


def _planner_with(workers: list[Worker]) -> tuple[Absorb, list[Unit]]:
    scenario = season(workers)
    ctx, work = Context.of(scenario, PROVIDER), Work.of(scenario)
    units, seats, origin = prepare(ctx, work)
    places = locate(ctx, units, seats, origin)
    Demand(ctx, work, places).place(units)
    return Absorb(ctx, work, places), units


def _coach(planner: Absorb, units: list[Unit], day: dt.date) -> Coach:
    loads = [(u, planner.boarding(u), f"county:{u.home}") for u in units]
    far = planner._order_far(list(dict.fromkeys(f for _, _, f in loads)))
    near = planner._order_near(list(dict.fromkeys(b for _, b, _ in loads)), far[0])
    vehicle = planner.work.fleet.take(day, sum(u.seats for u in units), 0.0)
    assert vehicle is not None
    return Coach(day, near, far, loads, vehicle)


def test_absorb_shares_out_a_part_full_coach_and_keeps_everyone() -> None:
    """A coach of 10 whose people fit in another coach's 13 free seats is given up; one of 15
    is not, and nobody is ever lost."""
    day = DAY0 + dt.timedelta(1)
    for small, expected in ((10, 1), (15, 2)):
        workers = [worker(i, "341221", start=1, end=1) for i in range(40 + small)]
        planner, units = _planner_with(workers)
        coaches = [_coach(planner, units[:40], day), _coach(planner, units[40:], day)]
        kept = planner.absorb(coaches)
        assert len(kept) == expected
        assert sorted(u.worker_ids for c in kept for u, _, _ in c.loads) == sorted(
            u.worker_ids for u in units
        )
        assert all(c.seats <= c.vehicle.seats for c in kept if c.vehicle is not None)
        assert sum(planner.work.fleet.used.values()) == expected


def test_absorb_respects_the_drop_off_limit() -> None:
    """A coach already stopping in three counties takes no one for a fourth."""
    day = DAY0 + dt.timedelta(1)
    workers = [
        worker(i, c, start=1, end=1)
        for i, c in enumerate(["341221"] * 10 + ["341222"] * 10 + ["341204"] * 10)
    ]
    workers += [worker(100 + i, "341203", start=1, end=1) for i in range(5)]
    planner, units = _planner_with(workers)
    three = [u for u in units if u.home != "341203"]
    fourth = [u for u in units if u.home == "341203"]
    kept = planner.absorb([_coach(planner, three, day), _coach(planner, fourth, day)])
    assert len(kept) == 2
    assert all(len(c.far) <= 3 for c in kept)


def test_absorb_moves_passengers_to_another_date_of_their_windows_only() -> None:
    """Ten who may leave on day 1 or 2 join day 1's coach; ten who may only leave on day 2
    keep their own coach."""
    day1, day2 = DAY0 + dt.timedelta(1), DAY0 + dt.timedelta(2)
    for start, expected in ((1, 1), (2, 2)):
        workers = [worker(i, "341221", start=1, end=1) for i in range(40)]
        workers += [worker(100 + i, "341221", start=start, end=2) for i in range(10)]
        planner, units = _planner_with(workers)
        first = _coach(planner, [u for u in units if u.window == (day1, day1)], day1)
        second = _coach(planner, [u for u in units if u.window != (day1, day1)], day2)
        kept = planner.absorb([first, second])
        assert len(kept) == expected
        for coach in kept:
            assert all(u.window[0] <= coach.day <= u.window[1] for u, _, _ in coach.loads)
        assert sum(len(c.loads) for c in kept) == 50


def test_absorb_moves_a_small_stop_on_to_make_room() -> None:
    """The only coach with room stops in three counties already; its five to one of them move
    on to a coach that stops there too, and the part-full coach's six take their place."""
    day = DAY0 + dt.timedelta(1)
    plan = {
        "K": ["341221"] * 20 + ["341222"] * 23 + ["341204"] * 5,
        "L": ["341204"] * 10 + ["341225"] * 19 + ["341226"] * 19,
        "V": ["341203"] * 6,
    }
    workers = [
        worker(100 * k + i, county, start=1, end=1)
        for k, counties in enumerate(plan.values())
        for i, county in enumerate(counties)
    ]
    planner, units = _planner_with(workers)
    coaches = [
        _coach(planner, units[0:48], day),
        _coach(planner, units[48:96], day),
        _coach(planner, units[96:], day),
    ]
    kept = planner.absorb(coaches)
    assert len(kept) == 2
    assert sum(len(c.loads) for c in kept) == 102
    assert all(len(c.far) <= 3 and c.seats <= 53 for c in kept)
    assert any("county:341203" in c.far for c in kept)


def test_absorb_checks_the_ride_of_a_new_pair_of_existing_stops() -> None:
    """A coach already boarding at gate C4 and stopping in 341221 (for other passengers) does
    not take C4's workers for 341221 unchecked: their ride passes C1's boarding and a drop-off
    in 341204 and is over the detour limit, though every ride already on the coach is within it."""
    day = DAY0 + dt.timedelta(1)
    workers = [worker(i, "341204", company="C4", start=1, end=1) for i in range(20)]
    workers += [worker(100 + i, "341221", company="C1", start=1, end=1) for i in range(20)]
    workers += [worker(200 + i, "341221", company="C4", start=1, end=1) for i in range(3)]
    policy = Policy(hub_radius_km=0.0, detour_ratio=1.0, detour_grace_minutes=20)
    scenario = season(workers, policy=policy)
    ctx, work = Context.of(scenario, PROVIDER), Work.of(scenario)
    units, seats, origin = prepare(ctx, work)
    places = locate(ctx, units, seats, origin)
    Demand(ctx, work, places).place(units)
    planner = Absorb(ctx, work, places)
    late = [u for u in units if any(w.startswith("W002") for w in u.worker_ids)]
    first = _coach(planner, [u for u in units if u not in late], day)
    assert planner.ride_ok(first.stops(True), [(PROBE, n, x) for _, n, x in first.loads])
    assert planner.boarding(late[0]) in first.near and "county:341221" in first.far
    assert not planner.ride_ok(first.stops(True), [(PROBE, first.near[0], "county:341221")])
    kept = planner.absorb([first, _coach(planner, late, day)])
    assert sum(len(c.loads) for c in kept) == len(units)
    for coach in kept:
        assert planner.ride_ok(coach.stops(True), [(PROBE, n, x) for _, n, x in coach.loads])


def test_home_no_road_reaches_is_unserved_as_unreachable() -> None:
    """Workers whose home county no road or ferry links with the origin (西沙区, Sansha's
    islands) are unserved as `unreachable`, the others planned; such a home used to stop the
    whole plan with an Unreachable error when the road matrix was built."""
    from optimizer.details import detail_parts
    from optimizer.solve import default_distance_provider

    provider = default_distance_provider()
    workers = [worker(n, "341221") for n in range(6)] + [worker(n, "460302") for n in (6, 7)]
    scenario = season(workers, solver=SolverParams(time_limit_s=2.0, part_solution_limit=5))
    plan = solve(scenario, distances=provider)
    assert check_plan(scenario, plan, provider=provider) == []
    assert {u.worker_id: str(u.reason) for u in plan.unserved} == {
        "W00006": "unreachable",
        "W00007": "unreachable",
    }
    assert [p.id for p in detail_parts(plan.unserved[0].detail)] == ["no_road_to_home"]
    assert plan.kpis.seated == 6
