"""The greedy's coaches as the router's start: pooled parts cut along them, routed from them."""

from __future__ import annotations

import datetime as dt

import pytest

import optimizer.planning.pooling as pooling_module
from optimizer.model import Scenario, SolverParams
from optimizer.planning.context import Coach, Context, Part, Work
from optimizer.planning.demand import Demand, locate, prepare
from optimizer.planning.direct import Direct
from optimizer.planning.pooling import Pooling, solve_part
from optimizer.routing import RoutingParams, solve_pickup_delivery
from tests.optimizer.test_solve import COUNTIES, DAY0, PROVIDER, plan_of, season, worker

DAY = DAY0 + dt.timedelta(1)


def _workers() -> list:  # type: ignore[type-arg]
    """Groups of 3-17 from four gates to six counties, all on one day: remainders to pool."""
    workers = []
    n = 0
    for k, county in enumerate(COUNTIES[:6]):
        for gate in ("C1", "C2", "C3", "C4")[: 2 + k % 3]:
            for _ in range(3 + (7 * k + len(gate) * n) % 15):
                workers.append(worker(n, county, company=gate, start=1, end=1))
                n += 1
    return workers


def _greedy(scenario: Scenario) -> tuple[Pooling, Part, list[Coach]]:
    """The date's remainders as a part, and the greedy's coaches for them (cover, then one
    county per coach), as `Pooling.pool` builds them before routing a whole date."""
    ctx, work = Context.of(scenario, PROVIDER), Work.of(scenario)
    units, seats, origin = prepare(ctx, work)
    places = locate(ctx, units, seats, origin)
    placed = Demand(ctx, work, places).place(units)
    _, remainders = Direct(ctx, work, places).direct(placed)
    pooling = Pooling(ctx, work, places)
    chunks = pooling.chunks_by_day(remainders)[DAY]
    covered, left = pooling._cover(DAY, chunks)
    baseline = covered + pooling._fallback(DAY, left)
    return pooling, Part(DAY, tuple(chunks)), baseline


def test_the_greedy_coaches_are_a_start_the_router_accepts_and_never_worsens() -> None:
    """Cut along the greedy's coaches, the part's model accepts them as its first solution; the
    router ends with at most as many coaches, every request on board, every unit seated once."""
    pooling, part, baseline = _greedy(season(_workers()))
    assert len(baseline) >= 3
    cut = Part(DAY, tuple(pooling._baseline_chunks(baseline, part.chunks)))
    carried = sorted(w for c in baseline for u, _, _ in c.loads for w in u.worker_ids)
    assert sorted(w for c in cut.chunks for u in c.units for w in u.worker_ids) == carried
    vehicles = [c.vehicle for c in baseline if c.vehicle is not None]
    problem = pooling._problem(cut, vehicles)
    routes = pooling._initial_routes(cut, baseline)
    solution = solve_pickup_delivery(problem, RoutingParams(time_limit_s=1.0), routes)
    assert solution.warm_started is True
    assert solution.dropped == ()
    assert solution.num_vehicles <= len(baseline)
    # Read back as coaches, as the planner does (the greedy's coaches are given back first).
    for coach in baseline:
        assert coach.vehicle is not None
        pooling.work.fleet.used[(DAY, coach.vehicle.vehicle_type)] -= 1
    routed, left_out = pooling._coaches_from(cut, vehicles, solution)
    assert left_out == []
    assert sorted(w for c in routed for u, _, _ in c.loads for w in u.worker_ids) == carried
    for coach in routed:
        assert coach.seats <= (coach.vehicle.seats if coach.vehicle else 0)
        assert pooling.ride_ok(coach.stops(True), coach.loads)


def test_a_part_whose_router_leaves_requests_out_improves_the_greedy_instead() -> None:
    """When the router's own solution leaves requests out (or it has none in time), the part
    is solved from the greedy's coaches: at most as many, nothing dropped, and the result says
    it was warm-started."""
    pooling, part, baseline = _greedy(season(_workers()))
    vehicles = [c.vehicle for c in baseline if c.vehicle is not None]
    cut = Part(DAY, tuple(pooling._baseline_chunks(baseline, part.chunks)))
    rescue = (pooling._problem(cut, vehicles), pooling._initial_routes(cut, baseline))
    # One coach for the router's own model: whatever it builds leaves requests out, which
    # the greedy's coaches would beat, so the rest of the time goes to them.
    short = pooling._problem(part, vehicles[:1])
    solution = solve_part(short, RoutingParams(time_limit_s=1.0), rescue)
    assert solution.warm_started is True and solution.dropped == ()
    assert solution.num_vehicles <= len(baseline)
    assert solve_part(short, RoutingParams(time_limit_s=0.5)).dropped != ()
    # A search limited by solutions is left as it was: reproducible, never warm-started.
    limited = solve_part(short, RoutingParams(time_limit_s=5.0, solution_limit=3), rescue)
    assert limited.warm_started is None


def test_a_season_planned_from_the_greedy_coaches_is_legal_and_seats_everyone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every pooled part forced onto the warm start (no time for a first solution of its own):
    the plan passes the independent checker and seats every worker."""
    monkeypatch.setattr(pooling_module, "FIRST_SOLUTION_SHARE", 1e-9)
    workers = _workers()
    plan = plan_of(season(workers, solver=SolverParams(time_limit_s=4.0)))
    assert plan.kpis.seated == len(workers)
    rescued = "routing improved the greedy's coaches on 1 part(s)"
    assert any(note.startswith(rescued) for note in plan.notes)
