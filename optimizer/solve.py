"""The planner: from a scenario's registered workers to full, legal coach trips.

Pipeline (each step keeps every worker either on a coach or in the unserved list with a reason):

1. units: parties and lone workers, with their gate, home county and window (`groups.py`);
2. stops: each home county's alighting stop (itself, or a busier county within drop_radius_km);
3. dates: per stop county the fewest departure dates that hit every window, on popular days;
4. direct coaches: full coaches from one gate, then from one boarding point (hub), then from up
   to `max_pickup_stops` boarding points, each to one county;
5. pooling: the remainders of each date, split by corridor (bearing from the origin) into small
   pickup-and-delivery models solved with OR-Tools (`routing.py`), several counties per coach;
   on the eve of a date the fleet spread fills, the counties whose coach is back by that date's
   evening are pooled apart from the others (`planning/turns.py`);
6. absorbing: a part-full coach whose passengers all fit on other coaches of their windows (within
   their stop limits and detours) is given up, its passengers spread over them;
7. trips: each coach gets the cheapest coach type its load fits (coaches are built on the
   largest free type, which leaves pooling the most room), its stops a legal timetable
   (`timetable.py`) and its passengers seats (`seating.py`); coaches under min_load are
   cancelled, with that reason.

Direction "return" mirrors the geometry: coaches collect in the home counties and deliver to the
gates and hubs. Decomposed parts are plain picklable values solved by a top-level function, so
they run in a process pool when `SolverParams.workers` > 1, or on any `concurrent.futures`
executor the caller passes (a Dask cluster's `Client.get_executor()`: api/engine.py).

Each step is a stage module of `optimizer.planning` (demand and dates, direct, pooling, absorb,
trips, kpis) that takes the run's immutable `Context`, the sites in play (`Places`) and the
explicit shared `Work` state (fleet counters, unserved workers, notes); `solve` only wires them.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Sequence

from optimizer.geography.distance import DistanceProvider, GreatCircleProvider
from optimizer.ledger import Availability
from optimizer.lp_bound import LpBound, plan_lp_bound
from optimizer.model import Plan, Scenario, Trip, UnservedReason
from optimizer.origins import with_origin_kpis
from optimizer.planning.absorb import Absorb
from optimizer.planning.context import (
    ABSORB_RESERVE_S,
    LP_BOUND_LATE_SHARE,
    LP_BOUND_MIN_S,
    ROUTING_SHARE,
    SPILL_ROUNDS,
    TIMETABLE_S_PER_COACH,
    Coach,
    Context,
    Progress,
    Work,
)
from optimizer.planning.demand import Demand, locate, prepare
from optimizer.planning.direct import Direct
from optimizer.planning.kpis import plan_bounds, plan_kpis, with_lp
from optimizer.planning.pooling import Pooling, solve_part
from optimizer.planning.trips import Trips

__all__ = ["Coach", "Progress", "default_distance_provider", "solve", "solve_part"]


def default_distance_provider() -> DistanceProvider:
    """The road graph when it is installed, else great-circle x detour factor."""
    try:
        from optimizer.geography.providers import default_provider
    except ImportError:
        return GreatCircleProvider()
    provider: DistanceProvider = default_provider()
    return provider


def solve(
    scenario: Scenario,
    *,
    distances: DistanceProvider | None = None,
    locked: Sequence[Trip] = (),
    progress: Progress | None = None,
    availability: Availability | None = None,
    executor: concurrent.futures.Executor | None = None,
) -> Plan:
    """Plan the scenario's coach trips: fewest coaches, then least cost, every trip legal.

    Parameters
    ----------
    scenario
        What is asked; `scenario.solver` bounds the time (seconds) and the process count.
    distances
        Road metres and driving seconds; default: the road graph (great-circle x 1.3 without it).
    locked
        Published trips, kept unchanged; only workers not on them are placed, and their coaches
        count against the fleet of their date.
    progress
        Called with (fraction done 0..1, message) as the work advances.
    availability
        Coaches already away (earlier waves, published trips) and how to time drives: when
        given, departure dates are spread so that the coaches each day's trips keep busy fit
        the coaches free (`optimizer.ledger.spread_dates`); without it, fleet counts hold per
        departure date only.
    executor
        Where the decomposed routing parts run (any `concurrent.futures.Executor`, e.g. a Dask
        client's); default: a process pool of `scenario.solver.workers`, or this process.

    Returns a Plan: every worker seated once or listed unserved with a reason. Infeasibility is
    a result, never an exception; only invalid input raises.
    """
    ctx = Context.of(
        scenario, distances or default_distance_provider(), locked, progress, availability, executor
    )
    work = Work.of(scenario)
    ctx.report(0.0, "grouping workers")
    units, seats, origin = prepare(ctx, work)
    ctx.report(0.05, "travel matrix and departure dates")
    places = locate(ctx, units, seats, origin)
    demand = Demand(ctx, work, places)
    placed = demand.place(units) if units else []
    ctx.report(0.2, "full coaches")
    direct = Direct(ctx, work, places)
    coaches, remainders = direct.direct(placed) if placed else ([], [])
    # The LP bound's reserve (`lower_bound_share` of the time limit) is set aside first: routing
    # and absorbing share what is left, so the bound is not left without time at the end.
    lp_reserve = scenario.solver.lower_bound_share * scenario.solver.time_limit_s
    lp_reserve = lp_reserve if lp_reserve >= LP_BOUND_MIN_S else 0.0
    left = scenario.solver.time_limit_s - ctx.elapsed() - lp_reserve
    ctx.report(0.3, "pooling remainders")
    budget = max(0.5, left * ROUTING_SHARE) / max(1, scenario.solver.workers)
    work.spilled = []
    pooling = Pooling(ctx, work, places)
    if remainders:
        coaches = pooling.pool(remainders, budget, direct=coaches)
    # Units that found no coach on their date try the other dates of their window.
    for _ in range(SPILL_ROUNDS):
        moved = demand.spill()
        if not moved:
            break
        more, rest = direct.direct(moved)
        coaches.extend(more)
        left = scenario.solver.time_limit_s - ctx.elapsed() - lp_reserve
        spill_budget = max(0.5, left * ROUTING_SHARE / SPILL_ROUNDS) / max(
            1, scenario.solver.workers
        )
        coaches.extend(pooling.pool(rest, spill_budget) if rest else [])
    spilled, work.spilled = work.spilled or [], None
    for unit, _, detail in spilled:
        work.drop([unit], UnservedReason.FLEET_EXHAUSTED, detail)
    # Absorbing uses what is left of the time limit, less a reserve for timetables and seats.
    deadline = (
        ctx.started
        + scenario.solver.time_limit_s
        - ABSORB_RESERVE_S
        - TIMETABLE_S_PER_COACH * len(coaches)
        - lp_reserve
    )
    coaches = Absorb(ctx, work, places).absorb(coaches, deadline)
    workers = {w.worker_id: w for w in scenario.workers}
    trips = Trips(ctx, work, places).build_trips(coaches, workers) if coaches else []
    all_trips = tuple(sorted([*locked, *trips], key=lambda t: (t.departure_date, t.trip_id)))
    unserved = tuple(sorted(work.unserved, key=lambda u: u.worker_id))
    bounds = plan_bounds(ctx, places, all_trips, workers)
    # The LP bound gets its reserve, never more than what is left of the time limit, but when
    # the stages before ran late (a loaded machine: timetables alone took twice their estimate,
    # docs/benchmarks.md "lpinc") still LP_BOUND_LATE_SHARE of it: the plan then ends at most
    # that much after its time limit, and the bound runs instead of being skipped.
    lp_box = min(
        lp_reserve,
        max(scenario.solver.time_limit_s - ctx.elapsed(), LP_BOUND_LATE_SHARE * lp_reserve),
    )
    lp = LpBound(0, 0.0, 0.0, False, 0, 0, 0, 0.0, "not run: no time reserved")
    if lp_box >= LP_BOUND_MIN_S and all_trips:
        lp = plan_lp_bound(
            scenario, all_trips, workers, ctx.provider, lp_box, known_bound=bounds.trips
        )
    kpis = with_lp(plan_kpis(all_trips, unserved, bounds, ctx.elapsed()), lp)
    kpis = with_origin_kpis(kpis, scenario, all_trips)
    ctx.report(1.0, "done")
    notes = [
        f"distances: {ctx.provider.name}",
        f"lower bound parts: seats {bounds.seat_bound}, county stops {bounds.county_stop_bound}, "
        f"boarding stops {bounds.boarding_stop_bound}, date intervals {bounds.date_bound}, "
        f"LP {lp.trips} ({lp.value:.3f} proven, {lp.seconds:.1f} s"
        + (f", {lp.note}" if lp.note else ", converged" if lp.converged else "")
        + ")",
        *(
            [
                f"LP bound: pickup rows for {lp.limited_seats} of {lp.seats} seat(s); the others "
                "may board at a hub, so their pickup stops are left out"
            ]
            if 0 < lp.limited_seats < lp.seats
            else []
        ),
        *work.notes,
    ]
    return Plan(
        scenario=scenario.name,
        direction=scenario.direction,
        trips=all_trips,
        unserved=unserved,
        kpis=kpis,
        problems=scenario.problems,
        notes=tuple(notes),
    )
