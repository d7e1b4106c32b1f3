"""A season: the homeward wave (返乡) and the return wave (返岗) planned as one, with coach duties.

Each wave is planned by `solve`; the trips of both are then chained into the duties of physical
coaches, so that a coach that took workers home can bring others back from the same corridor
(backhaul) when the dates allow. The km saved that way is measured against chaining each wave
on its own.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from optimizer import fleet_passes
from optimizer.duties import DutyResult, EmptyDriveTimer, TimetableEmptyDriveTimer, with_crew_note
from optimizer.errors import InvalidInput
from optimizer.fleet_passes import (
    FleetContext,
    _refigured,
    _retyped,
    cancel_trips,
    coach_duties,
    depot_of,
    rider_windows,
    timer_for,
    within_budget,
)
from optimizer.geography.distance import DistanceProvider
from optimizer.ledger import INPUT_REASONS, Availability, measured_costs
from optimizer.model import Plan, Scenario, Trip, UnservedReason, VehicleType
from optimizer.patterns import county_fill
from optimizer.planning.kpis import seated_bounds, with_bounds
from optimizer.servable import TIGHTENED_LP_SECONDS, boxed_servable_bound
from optimizer.solve import default_distance_provider, solve

# The fleet passes (optimizer/fleet_passes.py) lived here; the names callers import from here,
# two private helpers the tests use among them, stay importable.
__all__ = [
    "MEASURED_PASS_SHARE",
    "UNSPREAD_PASS_SHARE",
    "WAVE_PREFIX",
    "Progress",
    "SeasonPlan",
    "_refigured",
    "_retyped",
    "cancel_trips",
    "coach_duties",
    "depot_of",
    "merged_fleet",
    "plan_season",
    "rider_windows",
    "solve_within_fleet",
    "with_duties",
    "with_seated_bounds",
]

Progress = Callable[[float, str], None]

WAVE_PREFIX = {"home": "H", "return": "R"}


@dataclass(frozen=True)
class SeasonPlan:
    """The plans of a season's waves, each with its coach duties, and the season-wide duties.

    `waves` keep their order (home first). `duties` chain the trips of all waves; in a one-wave
    season they equal that wave's own. `backhaul_saved_km` is the deadhead km saved by chaining
    the waves together rather than each on its own.
    """

    waves: tuple[Plan, ...]
    duties: DutyResult
    backhaul_saved_km: float


def merged_fleet(scenarios: Sequence[Scenario]) -> tuple[VehicleType, ...]:
    """One fleet for the season: each coach type once, with the largest count any wave gives."""
    types: dict[str, VehicleType] = {}
    for scenario in scenarios:
        for vehicle in scenario.fleet:
            known = types.get(vehicle.vehicle_type)
            if known is None or vehicle.count > known.count:
                types[vehicle.vehicle_type] = vehicle
    return tuple(types.values())


def with_duties(plan: Plan, duties: DutyResult, trip_ids: set[str] | None = None) -> Plan:
    """`plan` carrying the duties that touch its trips (all of them when `trip_ids` is None)."""
    coaches = tuple(
        d for d in duties.duties if trip_ids is None or any(t in trip_ids for t in d.trip_ids)
    )
    return with_crew_note(plan.replace(coaches=coaches, fleet_kpis=duties.kpis), duties)


def _seated(plan: Plan) -> set[str]:
    return {p.worker_id for t in plan.trips for p in t.passengers}


def _bounds(plan: Plan) -> tuple[int, float]:
    return plan.kpis.lower_bound_trips, plan.kpis.lower_bound_coach_km


def with_seated_bounds(plan: Plan, scenario: Scenario, provider: DistanceProvider) -> Plan:
    """`plan` with each lower bound the larger of its own (the planning pass's, less the trips
    cancelled since: `cancel_trips`, `signed`) and the counting bound over exactly the workers
    it seats (`optimizer.planning.kpis.seated_bounds`), with a note giving both.

    Both hold for `plan`: the counting bound for any legal plan seating its workers, which it
    is; the other by the subtraction argument of `cancel_trips` (a top-up or a re-seating since
    only seated more of the same workers)."""
    bounds = seated_bounds(scenario, provider, plan.trips)
    kpis = plan.kpis
    note = (
        f"fleet: lower bounds over the {kpis.seated} worker(s) the plan seats: {bounds.trips} "
        f"trip(s), {bounds.coach_km:.0f} coach-km by counting; the planning pass's less the "
        f"trips cancelled: {kpis.lower_bound_trips} trip(s), {kpis.lower_bound_coach_km:.0f} "
        "coach-km; the larger of each kept"
    )
    return plan.replace(kpis=with_bounds(kpis, bounds), notes=(*plan.notes, note))


def solve_within_fleet(
    scenario: Scenario,
    *,
    distances: DistanceProvider | None = None,
    locked: Sequence[Trip] = (),
    progress: Progress | None = None,
    held: Sequence[Trip] = (),
    timer: EmptyDriveTimer | None = None,
    fit_dates: bool = True,
    executor: concurrent.futures.Executor | None = None,
) -> tuple[Plan, DutyResult]:
    """Plan `scenario` so that its physical coaches suffice over the whole season.

    One planning pass with the whole time budget: the planner knows the coaches already away
    (`held` trips of an earlier wave and `locked` ones, `optimizer.ledger.Ledger`) and spreads
    departure dates so that the coaches each day's trips keep busy fit the coaches free
    (`optimizer.ledger.spread_dates`; when the fleet does not bind, the dates are those of
    planning without a fleet, also when only the realistic estimate says the fleet binds).
    If trips must then be cancelled (no coach left to drive them), the season is planned a
    second time (`MEASURED_PASS_SHARE` of the time limit), the spread now costing each
    county's seats the coach-days the first plan's trips really took
    (`optimizer.ledger.measured_costs`), and, when `UNSPREAD_PASS_SHARE` > 0, a third time with
    the dates of planning without a fleet (each county on its fewest dates, its few workers on one
    stop), the exact chaining then keeping the trips that seat the most; the best plan is kept
    (more seated, then fewer trips); its thin trips are then emptied onto other trips of their
    riders' windows and its fleet_exhausted workers seated on the free seats, on a stop a trip
    makes or one inserted where every rule still holds (`eliminate_and_seat`,
    `ELIMINATE_SHARE` of the time limit); the workers still fleet_exhausted are then planned
    once more on the coach time its trips leave free (`top_up`, `TOP_UP_SHARE` of the time
    limit, every kept trip locked).
    A season whose fleet does not bind never gets there: it is planned once, as without a fleet.
    The trips are then chained into duties (exact min-cost flow).
    If a type still needs more coaches than it has (the spread works on estimates), the trips
    no `count` coaches can drive are cancelled (`trips_beyond_fleet`: keeping the most
    passengers, never a locked or held trip), their passengers re-seated on free seats of other
    trips of their window (`reseat`), and the rest unserved as `fleet_exhausted`, naming the
    type and date that ran out. When the workers the plan seats are no longer those the first
    planning pass seated (or cancelling lowered its bounds), each lower bound is the larger of
    the pass's (less the trips cancelled) and the counting bound over the workers now seated
    (`with_seated_bounds`). `kpis.fleet_servable_bound` is the proven upper bound on the
    workers any plan could seat with this fleet (`optimizer.servable.servable_bound`).

    `fit_dates=False` plans without the spread (only the cancelling and re-seating then keep
    the fleet). `executor` runs the routing parts (see `optimizer.solve.solve`). `held` trips'
    ids must differ from this wave's. Returns the plan (with its
    duties) and the duties of `held` and the plan.
    """
    provider = distances or default_distance_provider()
    span = fleet_passes.FLEET_DEADLINE_SPAN
    passes = FleetContext(
        scenario,
        provider,
        timer_for(scenario, provider, timer),
        held=tuple(held),
        keep=frozenset(t.trip_id for t in (*held, *locked)),
        executor=executor,
        deadline=None if span is None else time.monotonic() + span * scenario.solver.time_limit_s,
    )
    depot, timer = passes.depot, passes.timer
    ledger = passes.ledger(locked)
    plan = solve(
        scenario,
        distances=provider,
        locked=locked,
        progress=progress,
        availability=Availability(ledger, depot, timer, optimistic=True) if fit_dates else None,
        executor=executor,
    )
    planned = plan
    plan, duties = passes.fit(planned)

    def exhausted(p: Plan) -> int:
        return sum(1 for u in p.unserved if u.reason is UnservedReason.FLEET_EXHAUSTED)

    if fit_dates and exhausted(plan) > exhausted(planned):
        # The dates did not fit the fleet (an estimate of the coach-days each date costs, or
        # the dates of planning without a fleet) and trips were cancelled: plan again with the
        # coach-days the trips just built really cost per county, and keep the better plan.
        costs = measured_costs(planned.trips, scenario, depot, timer)
        again = solve(
            within_budget(scenario, passes.box(MEASURED_PASS_SHARE) / scenario.solver.time_limit_s),
            distances=provider,
            locked=locked,
            progress=progress,
            availability=Availability(
                ledger, depot, timer, measured=costs, fill=county_fill(planned.trips, scenario)
            ),
            executor=executor,
        )
        fitted = [(plan, duties), passes.fit(again)]
        if UNSPREAD_PASS_SHARE > 0:
            # The dates of planning without a fleet: each county on its fewest dates, so its
            # few workers share one stop; the exact chaining then keeps the chains of trips
            # that seat the most (`trips_beyond_fleet`), which prefers full, short trips.
            fitted.append(
                passes.fit(
                    solve(
                        within_budget(scenario, UNSPREAD_PASS_SHARE),
                        distances=provider,
                        locked=locked,
                        progress=progress,
                        executor=executor,
                    )
                )
            )

        def better(i: int) -> tuple[int, int]:
            return fitted[i][0].kpis.seated, -fitted[i][0].kpis.trips

        first_two = max((0, 1), key=better)
        best = max(range(len(fitted)), key=better)
        plan, duties = fitted[best]
        plan = plan.replace(
            notes=(
                *plan.notes,
                f"fleet: planned twice, the second time with the coach-days the first plan's "
                f"trips took: {fitted[0][0].kpis.seated} then {fitted[1][0].kpis.seated} "
                f"seated, the {('first', 'second')[first_two]} plan kept",
                *(
                    [
                        f"fleet: planned once more with the dates of planning without a fleet, "
                        f"the exact chaining choosing the trips: {fitted[2][0].kpis.seated} "
                        f"seated, {'this plan kept' if best == 2 else 'not kept'}"
                    ]
                    if len(fitted) > 2
                    else []
                ),
            )
        )
        plan, duties = passes.eliminate_and_seat(plan, duties)
        plan, duties = passes.top_up(plan, duties)
        plan, duties = passes.refill(plan, duties)
    if _seated(plan) != _seated(planned) or _bounds(plan) != _bounds(planned):
        # The fleet passes changed whom the plan seats, or lowered its bounds (cancelling).
        plan = with_seated_bounds(plan, scenario, provider)
    unservable = [u.worker_id for u in plan.unserved if u.reason in INPUT_REASONS]
    if plan.kpis.seated >= len(scenario.workers) - len(unservable):
        # Every worker the input allows is seated: no bound can be lower (nor higher).
        bound = plan.kpis.seated
    else:
        box = min(TIGHTENED_LP_SECONDS, SERVABLE_SHARE * scenario.solver.time_limit_s)
        bound, cut = boxed_servable_bound(
            scenario, unservable, distances=provider, time_limit_s=box
        )
        if cut:
            plan = plan.replace(
                notes=(
                    *plan.notes,
                    f"fleet: servable bound by its first version, the tightened LP not solved "
                    f"within {box:g} s",
                )
            )
    plan = plan.replace(kpis=dataclasses.replace(plan.kpis, fleet_servable_bound=bound))
    return with_duties(plan, duties, {t.trip_id for t in plan.trips}), duties


# GLOP's share of the time limit for the servable bound's tightened LP (at most
# `TIGHTENED_LP_SECONDS`); past it the bound is the first version's, proven and looser, and a
# note says so. The family's tightened LPs take at most 3.7 s on their 60 s budgets (15 s
# here); a 30-day season of hundreds of one-worker counties took 11 s on a 10 s budget
# (docs/benchmarks.md, "budget").
SERVABLE_SHARE = 0.25


# When trips had to be cancelled, the plan with measured date costs gets this share of the time
# limit and the top-up of the workers still unseated this share: the first pass keeps the whole
# budget (a season whose fleet does not bind is planned exactly as before), the rest together
# cost at most 0.75 of another (was: one more whole budget).
MEASURED_PASS_SHARE = 0.5
# ... and the plan with the dates of planning without a fleet this share (0: not planned). Off:
# on the family's return-3k-711 and wide-6k-610 it was never the plan kept (2,052 and 4,732
# seated against 2,080 and 4,765 for the first pass) and cost 12-29 % more wall time; on small
# tight seasons it can seat more (tests/optimizer/test_sparse.py).
UNSPREAD_PASS_SHARE = 0.0


def _prefixed(plan: Plan, prefix: str) -> Plan:
    """Trip ids made unique across waves: "H-" for the homeward wave, "R-" for the return."""
    trips = tuple(dataclasses.replace(t, trip_id=f"{prefix}-{t.trip_id}") for t in plan.trips)
    return plan.replace(trips=trips)


def _scaled(progress: Progress | None, start: float, share: float, label: str) -> Progress | None:
    """Progress of one wave mapped into its share of the season's progress."""
    if progress is None:
        return None
    report = progress

    def wave(fraction: float, message: str) -> None:
        report(start + fraction * share, f"{label}: {message}")

    return wave


def plan_season(
    scenarios: Sequence[Scenario],
    *,
    distances: DistanceProvider | None = None,
    progress: Progress | None = None,
    executor: concurrent.futures.Executor | None = None,
) -> SeasonPlan:
    """Plan every wave of a season, then chain all trips into coach duties.

    Parameters
    ----------
    scenarios
        One scenario per wave, at most one per direction, same origin city.
    distances
        Road metres and driving seconds (default: the road graph).
    progress
        Called with (fraction done 0..1, message).
    executor
        Where the routing parts run (see `optimizer.solve.solve`); default: as the solver says.
    """
    if not scenarios:
        raise InvalidInput("a season needs at least one wave")
    directions = [s.direction for s in scenarios]
    if len(set(directions)) != len(directions):
        raise InvalidInput("a season holds at most one homeward and one return wave")
    if len({s.origin for s in scenarios}) != 1:
        raise InvalidInput("the waves of a season must share one origin city")
    ordered = sorted(scenarios, key=lambda s: 0 if s.direction == "home" else 1)
    provider = distances or default_distance_provider()
    multi = len(ordered) > 1
    plans: list[Plan] = []
    share = 0.9 / len(ordered)
    timer = TimetableEmptyDriveTimer(provider, ordered[0].policy)
    for index, scenario in enumerate(ordered):
        # A later wave is planned against the coaches the earlier waves still hold: their
        # trips are chained with its own, so the season as a whole fits the fleet.
        plan, _ = solve_within_fleet(
            scenario,
            distances=provider,
            progress=_scaled(progress, index * share, share, scenario.direction),
            held=[t for p in plans for t in p.trips],
            timer=timer if scenario.policy == ordered[0].policy else None,
            executor=executor,
        )
        plans.append(_prefixed(plan, WAVE_PREFIX[scenario.direction]) if multi else plan)
    if progress is not None:
        progress(0.9, "coach duties")
    fleet = merged_fleet(ordered)
    all_trips = [t for plan in plans for t in plan.trips]
    season = coach_duties(all_trips, ordered[0], provider, fleet, timer=timer)
    saved = 0.0
    if multi:
        separate = [
            coach_duties(
                p.trips, s, provider, fleet, timer=timer if s.policy == ordered[0].policy else None
            )
            for p, s in zip(plans, ordered, strict=True)
        ]
        saved = sum(d.kpis.deadhead_km for d in separate) - season.kpis.deadhead_km
    waves = tuple(with_duties(p, season, {t.trip_id for t in p.trips}) for p in plans)
    if progress is not None:
        progress(1.0, "done")
    return SeasonPlan(waves=waves, duties=season, backhaul_saved_km=round(saved, 1))
