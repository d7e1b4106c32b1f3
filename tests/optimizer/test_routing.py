"""The OR-Tools pickup-and-delivery core: small instances with known optima, and invariants."""

from __future__ import annotations

import dataclasses
import itertools
import math
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.errors import InvalidInput
from optimizer.routing import (
    CoveringLp,
    PickupDeliveryProblem,
    PickupDeliverySolution,
    Request,
    RoutingParams,
    SolveStatus,
    Vehicle,
    solve_pickup_delivery,
)

FAST = RoutingParams(time_limit_s=0.5)
COACH_FEE = 10_000  # dominates any distance cost below, so coaches come first


def line(positions_km: list[float], **kwargs: object) -> PickupDeliveryProblem:
    """Locations on a straight road, driven at 60 km/h (one minute per km)."""
    x = np.array(positions_km, dtype=float)
    km = np.abs(x[:, None] - x[None, :])
    return PickupDeliveryProblem(
        distance_m=np.rint(km * 1000).astype(np.int64),
        duration_s=np.rint(km * 60).astype(np.int64),
        **kwargs,  # type: ignore[arg-type]
    )


def coach(seats: int = 53, start: int = 0, end: int | None = None) -> Vehicle:
    return Vehicle(capacity=seats, fixed_cost=COACH_FEE, cost_per_km=1.0, start=start, end=end)


def violations(problem: PickupDeliveryProblem, solution: PickupDeliverySolution) -> list[str]:
    """Independent re-check of a solution: the invariants every caller relies on."""
    found: list[str] = []
    site = problem.site if problem.site is not None else np.arange(problem.num_locations)
    service = (
        problem.service_s
        if problem.service_s is not None
        else np.zeros(problem.num_locations, dtype=np.int64)
    )
    served: list[int] = []
    for route in solution.routes:
        vehicle = problem.vehicles[route.vehicle]
        assert len(route.nodes) == len(route.requests) == len(route.arrival_s)
        load, previous, previous_site = 0, vehicle.start, None
        picked: dict[int, int] = {}
        stops = {"pickup": 0, "dropoff": 0}
        clock = route.start_s
        pending = 0  # service at the previous visit, spent on leaving it
        done = len(served)  # deliveries made before this route
        for location, index, arrival in zip(
            route.nodes, route.requests, route.arrival_s, strict=True
        ):
            request = problem.requests[index]
            if not (problem.service_per_stop and location == previous):
                clock += pending
            clock += int(problem.duration_s[previous, location])
            if arrival < clock:
                found.append(f"request {index}: arrival {arrival} before it can get there")
            clock = arrival
            if problem.time_windows is not None:
                earliest, latest = problem.time_windows[location]
                if not earliest <= arrival <= latest:
                    found.append(f"request {index}: arrival {arrival} outside its window")
            kind = "dropoff" if index in picked else "pickup"
            if kind == "pickup" and problem.pickups_before_deliveries and len(served) > done:
                found.append(f"request {index}: picked up after a drop-off")
            if site[location] != previous_site:
                stops[kind] += 1
            if kind == "pickup":
                if location != request.pickup:
                    found.append(f"request {index}: picked up at the wrong place")
                picked[index] = arrival + int(service[location])
                load += request.demand
            else:
                if location != request.delivery:
                    found.append(f"request {index}: dropped off at the wrong place")
                load -= request.demand
                if request.max_ride_s is not None and arrival - picked[index] > request.max_ride_s:
                    found.append(f"request {index}: ride too long")
                served.append(index)
            if load > vehicle.capacity:
                found.append(f"vehicle {route.vehicle}: over capacity")
            pending = int(service[location])
            previous, previous_site = location, site[location]
        if len(picked) * 2 != len(route.requests):
            found.append(f"vehicle {route.vehicle}: someone never alights")
        for kind, limit in (
            ("pickup", problem.max_pickup_stops),
            ("dropoff", problem.max_dropoff_stops),
        ):
            if limit is not None and stops[kind] > limit:
                found.append(f"vehicle {route.vehicle}: {stops[kind]} {kind} stops")
        limit = problem.max_route_duration_s
        if limit is not None and route.end_s - route.start_s > limit:
            found.append(f"vehicle {route.vehicle}: route too long")
        path = [vehicle.start, *route.nodes] + ([vehicle.end] if vehicle.end is not None else [])
        metres = sum(int(problem.distance_m[a, b]) for a, b in itertools.pairwise(path))
        if metres != route.distance_m:
            found.append(f"vehicle {route.vehicle}: distance {route.distance_m} != {metres}")
    if sorted(served + list(solution.dropped)) != list(range(len(problem.requests))):
        found.append("requests not served exactly once or dropped")
    if len({route.vehicle for route in solution.routes}) != len(solution.routes):
        found.append("a vehicle drives two routes")
    mandatory_dropped = any(problem.requests[i].penalty is None for i in solution.dropped)
    if solution.status != SolveStatus.NO_SOLUTION and solution.is_feasible() == mandatory_dropped:
        found.append("status disagrees with the dropped requests")
    return found


def solve(problem: PickupDeliveryProblem, params: RoutingParams = FAST) -> PickupDeliverySolution:
    solution = solve_pickup_delivery(problem, params)
    assert violations(problem, solution) == []
    return solution


def test_two_requests_share_one_coach() -> None:
    """Two groups on the same corridor ride one coach, whose cost is fee plus km."""
    # 0 depot, 1 and 2 gates, 3 and 4 counties along the road.
    problem = line(
        [0, 1, 2, 100, 120],
        requests=(Request(1, 3, 20), Request(2, 4, 25)),
        vehicles=(coach(), coach()),
    )
    solution = solve(problem)
    assert solution.is_feasible()
    assert solution.num_vehicles == 1
    assert solution.routes[0].nodes == (1, 2, 3, 4)
    assert solution.distance_m == 120_000  # open route: ends at the last drop-off
    assert solution.cost == pytest.approx(COACH_FEE + 120.0)


def test_capacity_forces_two_coaches() -> None:
    """30 + 30 seats exceed a 53-seat coach, and a second run would be too long."""
    problem = line(
        [0, 1, 2, 100],
        requests=(Request(1, 3, 30), Request(2, 3, 30)),
        vehicles=(coach(), coach(), coach()),
        max_route_duration_s=3 * 3600,  # 100 km out takes 100 min; back and out again: 300
    )
    solution = solve(problem)
    assert solution.num_vehicles == 2
    assert sorted(len(route.nodes) for route in solution.routes) == [2, 2]


def test_a_bigger_coach_replaces_two_small_ones() -> None:
    """Heterogeneous fleet: one 53-seat coach beats two 35-seat coaches on fees."""
    problem = line(
        [0, 1, 2, 100],
        requests=(Request(1, 3, 25), Request(2, 3, 25)),
        vehicles=(coach(35), coach(35), coach(53)),
        max_route_duration_s=3 * 3600,
    )
    solution = solve(problem)
    assert [route.vehicle for route in solution.routes] == [2]


def test_pickup_stop_limit_splits_the_load() -> None:
    """Three gates and a limit of two pickup stops need two coaches; a limit of three, one."""
    requests = (Request(1, 4, 10), Request(2, 4, 10), Request(3, 4, 10))
    vehicles = (coach(), coach(), coach())
    positions = [0, 1, 2, 3, 200]
    limited = solve(line(positions, requests=requests, vehicles=vehicles, max_pickup_stops=2))
    assert limited.num_vehicles == 2
    relaxed = solve(line(positions, requests=requests, vehicles=vehicles, max_pickup_stops=3))
    assert relaxed.num_vehicles == 1


def test_consecutive_visits_at_one_site_count_as_one_stop() -> None:
    """Two gates of one site (a hub) are one pickup stop; requests may share a location."""
    problem = line(
        [0, 1, 1.2, 200, 210],
        requests=(Request(1, 3, 10), Request(2, 3, 10), Request(1, 4, 10)),
        vehicles=(coach(), coach()),
        site=np.array([0, 7, 7, 3, 4]),
        max_pickup_stops=1,
        max_dropoff_stops=2,
    )
    solution = solve(problem)
    assert solution.num_vehicles == 1
    assert solution.routes[0].nodes[:3] in {(1, 1, 2), (2, 1, 1)}


def test_dropoff_stop_limit_counts_sites() -> None:
    """Four counties with a two-drop-off limit need two coaches."""
    problem = line(
        [0, 1, 100, 110, 120, 130],
        requests=tuple(Request(1, county, 5) for county in (2, 3, 4, 5)),
        vehicles=(coach(), coach(), coach()),
        max_dropoff_stops=2,
    )
    solution = solve(problem)
    assert solution.num_vehicles == 2


def test_max_ride_forbids_pooling_with_a_detour() -> None:
    """Counties on both sides of the gate: pooling makes one group ride 5 h, over its 2 h limit."""
    positions = [0, 1, 101, -99]  # one pickup stop only, so no second run from the gate

    def problem(max_ride_s: int | None) -> PickupDeliveryProblem:
        return line(
            positions,
            requests=(
                Request(1, 2, 10, max_ride_s=max_ride_s),
                Request(1, 3, 10, max_ride_s=max_ride_s),
            ),
            vehicles=(coach(), coach()),
            max_pickup_stops=1,
        )

    assert solve(problem(None)).num_vehicles == 1
    assert solve(problem(2 * 3600)).num_vehicles == 2


def test_too_small_fleet_drops_the_cheaper_request() -> None:
    """One coach, two groups it cannot both carry: the smaller penalty is dropped."""
    problem = line(
        [0, 1, 100],
        requests=(Request(1, 2, 40, penalty=50_000), Request(1, 2, 40, penalty=20_000)),
        vehicles=(coach(),),
        max_route_duration_s=3 * 3600,
    )
    solution = solve(problem)
    assert solution.status == SolveStatus.FEASIBLE
    assert solution.dropped == (1,)
    assert solution.cost == pytest.approx(COACH_FEE + 100.0 + 20_000)


def test_open_routes_end_at_the_last_dropoff() -> None:
    """An open coach does not pay the way back; a closed one does."""
    requests = (Request(1, 2, 10),)
    open_route = solve(line([0, 10, 110], requests=requests, vehicles=(coach(),)))
    closed = solve(line([0, 10, 110], requests=requests, vehicles=(coach(end=0),)))
    assert open_route.distance_m == 110_000
    assert closed.distance_m == 220_000
    assert closed.routes[0].end_s == 220 * 60


def test_pickups_before_deliveries_makes_one_outbound_run() -> None:
    """Without the rule the coach drops the first group before fetching the second; with it,
    everyone boards first."""
    positions = [0, 1, 10, 11, 20]  # depot, gate, county, gate, county
    requests = (Request(1, 2, 10), Request(3, 4, 10))
    free = solve(line(positions, requests=requests, vehicles=(coach(),)))
    assert free.routes[0].nodes == (1, 2, 3, 4)
    outbound = solve(
        line(positions, requests=requests, vehicles=(coach(),), pickups_before_deliveries=True)
    )
    assert outbound.routes[0].nodes == (1, 3, 2, 4)


def test_time_windows_are_met() -> None:
    """A group that may board only late is served after the early one, within windows."""
    hour = 3600
    problem = line(
        [0, 10, 20, 60],
        requests=(Request(1, 3, 10), Request(2, 3, 10)),
        vehicles=(coach(),),
        time_windows=((0, 24 * hour), (5 * hour, 5 * hour), (0, 2 * hour), (0, 24 * hour)),
        service_s=np.array([0, 600, 600, 600]),
    )
    solution = solve(problem)
    assert solution.num_vehicles == 1
    route = solution.routes[0]
    assert route.nodes == (2, 1, 3, 3)
    assert route.arrival_s[1] == 5 * hour


def test_unservable_mandatory_request_makes_an_infeasible_result() -> None:
    """A group larger than every coach is reported dropped, the others still routed."""
    problem = line(
        [0, 1, 100],
        requests=(Request(1, 2, 60), Request(1, 2, 20)),
        vehicles=(coach(), coach()),
    )
    solution = solve(problem)
    assert solution.status == SolveStatus.INFEASIBLE
    assert not solution.is_feasible()
    assert solution.dropped == (0,)
    assert math.isinf(solution.cost)
    assert solution.num_vehicles == 1


def test_empty_inputs_give_results() -> None:
    """No requests: nothing to do; no vehicles: everything dropped, not an exception."""
    nothing = solve(line([0, 1], requests=(), vehicles=(coach(),)))
    assert nothing.is_feasible() and nothing.routes == () and nothing.cost == 0
    no_fleet = solve(line([0, 1, 2], requests=(Request(1, 2, 5),), vehicles=()))
    assert no_fleet.status == SolveStatus.INFEASIBLE and no_fleet.dropped == (0,)
    optional = solve(line([0, 1, 2], requests=(Request(1, 2, 5, penalty=7),), vehicles=()))
    assert optional.is_feasible() and optional.cost == 7


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"distance_m": np.zeros((2, 3), dtype=np.int64)}, "distance_m must be a square matrix"),
        ({"duration_s": np.zeros((2, 2), dtype=np.int64)}, "same shape"),
        ({"distance_m": np.full((3, 3), 1.5)}, "distance_m must hold integers"),
        ({"duration_s": -np.ones((3, 3), dtype=np.int64)}, "must not be negative"),
        ({"requests": (Request(1, 5, 1),)}, "request location out of range"),
        ({"vehicles": (coach(start=9),)}, "vehicle location out of range"),
        ({"service_s": np.zeros(2, dtype=np.int64)}, "service_s must be an integer vector"),
        ({"time_windows": ((0, 1),)}, "one window per location"),
        ({"time_windows": ((0, 1), (5, 2), (0, 1))}, "earliest <= latest"),
        ({"max_pickup_stops": 0}, "max_pickup_stops must be at least 1"),
    ],
)
def test_invalid_problems_are_refused(change: dict[str, object], message: str) -> None:
    """Malformed problems raise InvalidInput with a short fixed message."""
    values: dict[str, object] = {
        "distance_m": np.zeros((3, 3), dtype=np.int64),
        "duration_s": np.zeros((3, 3), dtype=np.int64),
        "requests": (Request(1, 2, 1),),
        "vehicles": (coach(),),
    }
    values.update(change)
    with pytest.raises(InvalidInput, match=message):
        PickupDeliveryProblem(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Request(1, 2, -1), "demand must not be negative"),
        (lambda: Request(1, 2, 1, penalty=-1), "penalty must not be negative"),
        (lambda: Vehicle(10, 0, math.nan, 0), "cost_per_km must be finite"),
        (lambda: RoutingParams(time_limit_s=0), "time_limit_s must be positive"),
        (lambda: RoutingParams(first_solution="GUESS"), "unknown first_solution"),
        (lambda: RoutingParams(metaheuristic="MAGIC"), "unknown metaheuristic"),
    ],
)
def test_invalid_parts_are_refused(make: object, message: str) -> None:
    """Requests, vehicles and parameters validate themselves."""
    with pytest.raises(InvalidInput, match=message):
        make()  # type: ignore[operator]


def test_problem_arrays_are_read_only() -> None:
    """The problem is immutable: its matrices cannot be changed behind the solver's back."""
    problem = line([0, 1, 2], requests=(Request(1, 2, 1),), vehicles=(coach(),))
    with pytest.raises(ValueError):
        problem.distance_m[0, 1] = 5


@st.composite
def small_problems(draw: st.DrawFn) -> PickupDeliveryProblem:
    locations = draw(st.integers(3, 7))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    xy = rng.uniform(0, 300, size=(locations, 2))
    km = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    requests = []
    for _ in range(draw(st.integers(1, 8))):
        pickup, delivery = rng.choice(np.arange(1, locations), size=2, replace=False)
        requests.append(
            Request(
                int(pickup),
                int(delivery),
                draw(st.integers(1, 60)),
                penalty=draw(st.one_of(st.none(), st.integers(0, 50_000))),
                max_ride_s=draw(st.one_of(st.none(), st.integers(3600, 30_000))),
            )
        )
    vehicles = tuple(
        coach(draw(st.sampled_from([35, 45, 53])), end=draw(st.sampled_from([None, 0])))
        for _ in range(draw(st.integers(0, 4)))
    )
    return PickupDeliveryProblem(
        distance_m=np.rint(km * 1000).astype(np.int64),
        duration_s=np.rint(km * 45).astype(np.int64),
        requests=tuple(requests),
        vehicles=vehicles,
        service_s=rng.integers(0, 1200, size=locations),
        site=rng.integers(0, 3, size=locations),
        max_pickup_stops=draw(st.one_of(st.none(), st.integers(1, 3))),
        max_dropoff_stops=draw(st.one_of(st.none(), st.integers(1, 3))),
        max_route_duration_s=draw(st.one_of(st.none(), st.integers(3600, 40_000))),
        pickups_before_deliveries=draw(st.booleans()),
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_problems())
def test_random_small_problems_keep_every_invariant(problem: PickupDeliveryProblem) -> None:
    """Whatever the instance, the result is a consistent plan or a reasoned infeasibility."""
    solve(problem, RoutingParams(time_limit_s=0.2))


def test_li_lim_lc101_reaches_the_best_known_fleet() -> None:
    """The configuration finds lc101's 10 vehicles within 2 s, checked independently."""
    from benchmarks import lilim

    instance = lilim.read_instance("lc101")
    problem, pairs = lilim.to_problem(instance)
    solution = solve_pickup_delivery(problem, RoutingParams(time_limit_s=2.0))
    verdict = lilim.check(instance, lilim.routes_as_tasks(solution, pairs))
    assert verdict.feasible, verdict.violations
    assert verdict.vehicles == 10
    assert verdict.distance < 1.02 * lilim.read_bks()["lc101"].distance


def test_benchmark_runner_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    """The benchmark runner solves, checks and reports a Li & Lim and a charter instance."""
    from benchmarks.lilim.__main__ import main

    assert main(["--time-limit", "1", "--instances", "lr101", "--charter", "30"]) == 0
    out = capsys.readouterr().out
    assert "lr101" in out and "check ok" in out and "charter-30" in out


def test_time_limit_bounds_the_whole_call() -> None:
    """All phases together (search, route elimination, polish) stay within the time limit.

    Measured in the process's CPU seconds, not wall seconds: the phases share one wall-clock
    budget, so a correct call never uses more CPU than that budget plus its model building,
    however loaded the machine (a busy CI box stretched the wall time of the old check); a
    phase that took a fresh budget of its own would use about twice the limit on a quiet one."""
    from benchmarks.lilim import charter

    instance = charter.generate(120, seed=3)
    cpu = time.process_time()
    solution = solve(instance.problem, RoutingParams(time_limit_s=1.0))
    cpu = time.process_time() - cpu
    assert solution.is_feasible()
    assert cpu < 1.5, f"{cpu:.2f} CPU s for a 1 s limit"


@pytest.mark.slow
def test_charter_like_300_requests_first_solution_is_fast() -> None:
    """300 pooled groups: a first solution within 5 s, every invariant kept."""
    from benchmarks.lilim import charter

    instance = charter.generate(300, seed=1)
    solution = solve(instance.problem, RoutingParams(time_limit_s=10))
    assert solution.first_solution_s is not None and solution.first_solution_s < 5
    assert solution.num_vehicles >= instance.lower_bound


# --------------------------------------------------------------------------------------------
# Warm start: the search starts from given routes


def _four_groups() -> PickupDeliveryProblem:
    """Four groups of 10 from two gates to two counties: one coach carries all of them."""
    return line(
        [0, 1, 2, 100, 120],
        requests=(Request(1, 3, 10), Request(2, 3, 10), Request(1, 4, 10), Request(2, 4, 10)),
        vehicles=tuple(coach() for _ in range(4)),
        pickups_before_deliveries=True,
    )


def test_warm_start_from_one_coach_per_group_never_ends_worse() -> None:
    """Started from four one-group coaches, the search keeps at most four and here finds one."""
    problem = _four_groups()
    wasteful = {k: [k, k] for k in range(4)}
    solution = solve_pickup_delivery(problem, FAST, wasteful)
    assert violations(problem, solution) == []
    assert solution.warm_started is True
    assert solution.is_feasible() and solution.dropped == ()
    assert solution.num_vehicles == 1
    assert solution.cost <= 4 * COACH_FEE + 4 * 120.0


def test_warm_start_with_a_solution_limit_is_no_worse_than_its_start() -> None:
    """One improving step from a start: still every group on board, on at most its coaches."""
    problem = _four_groups()
    start = {0: [0, 1, 0, 1], 2: [2, 3, 2, 3]}
    solution = solve_pickup_delivery(
        problem, RoutingParams(time_limit_s=5, solution_limit=1), start
    )
    assert violations(problem, solution) == []
    assert solution.warm_started is True
    assert solution.dropped == () and solution.num_vehicles <= 2


def test_an_infeasible_initial_route_is_set_aside_and_the_search_starts_from_scratch() -> None:
    """Forty seats on a 35-seat coach: the model rejects the start, the solve still succeeds."""
    problem = dataclasses.replace(_four_groups(), vehicles=(coach(35), coach(35)))
    overfull = {0: [0, 1, 2, 3, 0, 1, 2, 3]}
    solution = solve_pickup_delivery(problem, FAST, overfull)
    assert violations(problem, solution) == []
    assert solution.warm_started is False
    assert solution.is_feasible() and solution.num_vehicles == 2


def test_without_initial_routes_nothing_is_said_about_a_warm_start() -> None:
    assert solve(_four_groups()).warm_started is None


@pytest.mark.parametrize(
    ("routes", "message"),
    [
        ({7: [0, 0]}, "vehicle out of range"),
        ({0: [9, 9]}, "request out of range"),
        ({0: [0, 1, 0]}, "each of its requests twice"),
        ({0: [0, 0], 1: [0, 0]}, "more than one initial route"),
    ],
)
def test_malformed_initial_routes_are_invalid_input(
    routes: dict[int, list[int]], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        solve_pickup_delivery(_four_groups(), FAST, routes)


def test_a_search_with_no_first_solution_in_time_gives_up_with_everything_dropped() -> None:
    """`first_solution_limit_s` ends the construction: nothing served, so a caller can fall
    back on its own solution with the rest of its time."""
    rng = np.random.default_rng(5)
    places = [0.0, *rng.uniform(1, 5, 10), *rng.uniform(100, 400, 30)]
    requests = tuple(
        Request(int(rng.integers(1, 11)), int(rng.integers(11, 41)), int(rng.integers(1, 20)))
        for _ in range(150)
    )
    problem = line(places, requests=requests, vehicles=tuple(coach() for _ in range(80)))
    cpu = time.process_time()
    solution = solve_pickup_delivery(
        problem, RoutingParams(time_limit_s=5.0, first_solution_limit_s=1e-9)
    )
    cpu = time.process_time() - cpu
    assert solution.routes == () and len(solution.dropped) == 150
    # Well short of the 5 s limit; CPU seconds, so a loaded machine's wall clock cannot fail it.
    assert cpu < 2.5, f"{cpu:.2f} CPU s"
    with pytest.raises(InvalidInput, match="first_solution_limit_s"):
        RoutingParams(first_solution_limit_s=0)


def test_service_per_stop_spends_the_boarding_time_once_per_gate() -> None:
    """Three groups board at one gate (20 min service each): with service per visit the first
    group's ride limit of 100 min + 40 min of others boarding after it is broken, so they need
    two coaches; with one service per stop they all fit one."""
    ride = 100 * 60 + 5 * 60  # the 100 km drive plus five minutes
    requests = tuple(Request(1, 2, 10, max_ride_s=ride) for _ in range(3))
    common = {
        "requests": requests,
        "vehicles": tuple(coach() for _ in range(3)),
        "service_s": np.array([0, 1200, 0]),
        "pickups_before_deliveries": True,
    }
    per_visit = line([0, 1, 101], **common)
    per_stop = line([0, 1, 101], service_per_stop=True, **common)
    assert solve(per_visit).num_vehicles == 3
    solution = solve(per_stop)
    assert solution.num_vehicles == 1
    arrivals = solution.routes[0].arrival_s
    assert arrivals[:3] == (arrivals[0],) * 3  # all board at once
    assert solution.routes[0].arrival_s[-1] - arrivals[0] == 1200 + 100 * 60


@pytest.mark.parametrize("seed", range(8))
def test_covering_lp_from_its_last_basis_matches_a_solve_from_scratch(seed: int) -> None:
    """A covering LP grown by batches of columns and re-solved from its last basis (the default)
    has, after every batch, the optimum of the same LP solved from scratch, and its duals are a
    feasible dual solution (non-negative, no column's cost exceeded) of that value."""
    rng = np.random.default_rng(seed)
    rows = int(rng.integers(3, 12))
    rhs = rng.integers(1, 20, size=rows).astype(float).tolist()
    warm, cold = CoveringLp(rhs), CoveringLp(rhs, incremental=False)
    columns: list[tuple[list[int], list[float], float]] = []
    for row in range(rows):  # every row coverable from the start
        columns.append(([row], [float(rng.integers(1, 5))], 1.0))
    for batch in range(5):
        if batch:
            for _ in range(int(rng.integers(1, 8))):
                size = int(rng.integers(1, rows + 1))
                members = sorted(rng.choice(rows, size=size, replace=False).tolist())
                weights = rng.integers(1, 6, size=size).astype(float).tolist()
                columns.append((members, weights, float(rng.choice([1.0, 1.0, 2.5]))))
        for members, weights, cost in columns[warm.column_count :]:
            warm.add_column(members, weights, cost)
            cold.add_column(members, weights, cost)
        solved, reference = warm.solve(10.0), cold.solve(10.0)
        assert solved is not None and reference is not None
        value, duals, values = solved
        assert value == pytest.approx(reference[0], abs=1e-6)
        assert duals.min() >= -1e-9
        assert float(duals @ np.array(rhs)) == pytest.approx(value, abs=1e-6)
        costs = np.array([cost for _, _, cost in columns])
        assert float(costs @ values) == pytest.approx(value, abs=1e-6)
        for (members, weights, cost), x in zip(columns, values, strict=True):
            assert sum(duals[r] * w for r, w in zip(members, weights, strict=True)) <= cost + 1e-6
            assert x >= -1e-9
        covered = np.zeros(rows)
        for (members, weights, _), x in zip(columns, values, strict=True):
            covered[members] += np.array(weights) * x
        assert (covered >= np.array(rhs) - 1e-6).all()
