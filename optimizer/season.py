"""A season: the homeward wave (返乡) and the return wave (返岗) planned as one, with coach duties.

Each wave is planned by `solve`; the trips of both are then chained into the duties of physical
coaches, so that a coach that took workers home can bring others back from the same corridor
(backhaul) when the dates allow. The km saved that way is measured against chaining each wave
on its own.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
import itertools
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass

from optimizer.charter import apply_sign_rule, refusal_detail, sign_rule
from optimizer.duties import (
    DutyResult,
    EmptyDriveTimer,
    TimetableEmptyDriveTimer,
    build_duties,
    trips_beyond_fleet,
    with_crew_note,
)
from optimizer.eliminate import eliminate_thin_trips
from optimizer.errors import InvalidInput
from optimizer.geography.distance import DistanceProvider, Location
from optimizer.ledger import (
    INPUT_REASONS,
    Availability,
    Ledger,
    measured_costs,
    origin_places,
)
from optimizer.model import (
    Passenger,
    Plan,
    Scenario,
    Trip,
    Unserved,
    UnservedReason,
    VehicleType,
    Worker,
)
from optimizer.origins import with_origin_kpis
from optimizer.patterns import county_fill
from optimizer.places import county_seats
from optimizer.planning.kpis import seated_bounds, with_bounds
from optimizer.retime import evening_departures, reschedule_into_chains, retime_into_gaps
from optimizer.servable import servable_bound
from optimizer.solve import default_distance_provider, solve

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


def depot_of(scenario: Scenario) -> Location:
    """Where coaches start and end duties by default: the seat of the origin county."""
    seats = county_seats([scenario.origin])
    if scenario.origin not in seats:
        raise InvalidInput(f"origin {scenario.origin!r} is not a county with known coordinates")
    return seats[scenario.origin]


def merged_fleet(scenarios: Sequence[Scenario]) -> tuple[VehicleType, ...]:
    """One fleet for the season: each coach type once, with the largest count any wave gives."""
    types: dict[str, VehicleType] = {}
    for scenario in scenarios:
        for vehicle in scenario.fleet:
            known = types.get(vehicle.vehicle_type)
            if known is None or vehicle.count > known.count:
                types[vehicle.vehicle_type] = vehicle
    return tuple(types.values())


def coach_duties(
    trips: Sequence[Trip],
    scenario: Scenario,
    provider: DistanceProvider,
    fleet: Sequence[VehicleType] | None = None,
    timer: EmptyDriveTimer | None = None,
) -> DutyResult:
    """Chain `trips` into coach duties with legal empty drives, from the scenario's depot.

    Pass `timer` to reuse its cached road km and empty-drive timetables across calls (it must
    time drives under `scenario.policy`)."""
    if timer is None:
        timer = TimetableEmptyDriveTimer(provider, scenario.policy)
    return build_duties(
        trips,
        fleet if fleet is not None else scenario.fleet,
        depot=depot_of(scenario),
        timer=timer,
        policy=scenario.policy,
    )


def with_duties(plan: Plan, duties: DutyResult, trip_ids: set[str] | None = None) -> Plan:
    """`plan` carrying the duties that touch its trips (all of them when `trip_ids` is None)."""
    coaches = tuple(
        d for d in duties.duties if trip_ids is None or any(t in trip_ids for t in d.trip_ids)
    )
    return with_crew_note(plan.replace(coaches=coaches, fleet_kpis=duties.kpis), duties)


def _passenger_km(trip: Trip) -> float:
    cumulative = list(itertools.accumulate(stop.km_from_previous for stop in trip.stops))
    return sum(
        p.seat_count * (cumulative[p.alight_stop] - cumulative[p.board_stop])
        for p in trip.passengers
    )


def _refigured(plan: Plan, trips: Sequence[Trip], unserved: Sequence[Unserved]) -> Plan:
    """`plan` with `trips` and `unserved`, the figures that depend on them recomputed (the lower
    bounds stay those of the planned wave)."""
    offered = sum(t.seats for t in trips)
    seated = sum(len(t.passengers) for t in trips)
    kpis = dataclasses.replace(
        plan.kpis,
        workers=seated + len(unserved),
        seated=seated,
        unserved=len(unserved),
        trips=len(trips),
        seats_offered=offered,
        seat_utilization=round(sum(t.seats_used for t in trips) / offered, 4) if offered else 0.0,
        coach_km=round(sum(t.distance_km for t in trips), 1),
        passenger_km=round(sum(_passenger_km(t) for t in trips), 1),
        cost=round(sum(t.cost for t in trips), 2),
    )
    ordered = tuple(sorted(unserved, key=lambda u: u.worker_id))
    return plan.replace(trips=tuple(trips), unserved=ordered, kpis=kpis)


def _free_seat(trip: Trip, count: int) -> int | None:
    """The first seat of `count` adjacent free seats of `trip`, or None."""
    taken = {p.seat + i for p in trip.passengers for i in range(p.seat_count)}
    for first in range(1, trip.seats - count + 2):
        if all(first + i not in taken for i in range(count)):
            return first
    return None


def _seat_on(trip: Trip, group: Sequence[Passenger], model: Passenger) -> Trip | None:
    """`trip` with `group` seated at `model`'s stops, or None when its free seats are short."""
    current = trip
    added: list[Passenger] = []
    for rider in group:
        seat = _free_seat(current, rider.seat_count)
        if seat is None:
            return None
        moved = dataclasses.replace(
            rider, seat=seat, board_stop=model.board_stop, alight_stop=model.alight_stop
        )
        added.append(moved)
        current = dataclasses.replace(current, passengers=(*current.passengers, moved))
    stops = list(trip.stops)
    ids = tuple(p.worker_id for p in added)
    board, alight = stops[model.board_stop], stops[model.alight_stop]
    stops[model.board_stop] = dataclasses.replace(board, board=(*board.board, *ids))
    stops[model.alight_stop] = dataclasses.replace(alight, alight=(*alight.alight, *ids))
    return dataclasses.replace(
        trip,
        passengers=tuple(sorted(current.passengers, key=lambda p: p.seat)),
        stops=tuple(stops),
    )


def reseat(
    trips: Sequence[Trip], riders: Sequence[Passenger], workers: Mapping[str, Worker]
) -> tuple[list[Trip], list[Passenger]]:
    """Seat `riders` (passengers of cancelled trips) on free seats of `trips`: (trips, left).

    A rider (with the rest of their party) takes seats on a trip departing in their window that
    already carries a worker of the same company and home county, boarding and alighting at that
    worker's stops. The ride is then that worker's ride, so the stop limits and the ride-time
    limit it met hold for the rider too; only the seats are checked."""
    out = list(trips)
    parties: dict[str, list[Passenger]] = defaultdict(list)
    for rider in riders:
        parties[rider.party or f"worker:{rider.worker_id}"].append(rider)
    carrying: dict[tuple[str, str | None], list[int]] = defaultdict(list)
    for index, trip in enumerate(out):
        for key in {
            (p.company_id, workers[p.worker_id].home_adcode)
            for p in trip.passengers
            if p.worker_id in workers
        }:
            carrying[key].append(index)
    left: list[Passenger] = []
    for group in parties.values():
        known = [workers[p.worker_id] for p in group if p.worker_id in workers]
        if len(known) != len(group):
            left.extend(group)
            continue
        start = max(w.earliest for w in known)
        end = min(w.latest for w in known)
        key = (group[0].company_id, known[0].home_adcode)
        for index in carrying.get(key, []):
            trip = out[index]
            if not start <= trip.departure_date <= end:
                continue
            if trip.seats - trip.seats_used < sum(p.seat_count for p in group):
                continue
            model = next(
                p
                for p in trip.passengers
                if p.worker_id in workers
                and (p.company_id, workers[p.worker_id].home_adcode) == key
            )
            seated = _seat_on(trip, group, model)
            if seated is not None:
                out[index] = seated
                break
        else:
            left.extend(group)
    return out, left


def cancel_trips(
    plan: Plan,
    trip_ids: set[str],
    detail: str | Callable[[Trip], str],
    workers: Mapping[str, Worker] | None = None,
) -> Plan:
    """`plan` without the trips `trip_ids`: their passengers are re-seated on free seats of the
    other trips where they can (`reseat`, given `workers`), the rest are unserved as
    fleet_exhausted with `detail` (or `detail(trip)` of the trip they lost).

    A party always rides one trip, so it stays together. The figures that depend on the trips
    are recomputed. The lower bounds were proven for the workers the planned wave seated; when
    some of them lose their seat they no longer bound this plan, so each drops by what the
    cancelled trips add: any plan for the workers still seated, plus the cancelled trips (legal,
    and still legal with their re-seated riders taken off), seats every worker the wave seated,
    so OPT(wave) <= OPT(still seated) + cancelled trips (and their km)."""
    if not trip_ids:
        return plan
    gone = [t for t in plan.trips if t.trip_id in trip_ids]
    kept = [t for t in plan.trips if t.trip_id not in trip_ids]
    riders = [p for t in gone for p in t.passengers]
    lost_on = {p.worker_id: t for t in gone for p in t.passengers}
    left = riders
    if workers is not None:
        kept, left = reseat(kept, riders, workers)
    unserved = [
        *plan.unserved,
        *(
            Unserved(
                p.worker_id,
                UnservedReason.FLEET_EXHAUSTED,
                detail if isinstance(detail, str) else detail(lost_on[p.worker_id]),
            )
            for p in left
        ),
    ]
    note = (
        f"fleet: {len(gone)} trip(s) cancelled, {len(riders) - len(left)} of their "
        f"{len(riders)} worker(s) re-seated on other trips, {len(left)} unserved as "
        "fleet_exhausted"
    )
    plan = _refigured(plan, kept, unserved)
    if left:
        plan = _bounds_without(plan, gone)
    return plan.replace(notes=(*plan.notes, note))


def _bounds_without(plan: Plan, gone: Sequence[Trip]) -> Plan:
    """`plan` with its lower bounds less the `gone` trips and their coach-km: the bounds were
    proven for workers now partly unseated (a plan for all of them, less those trips, is one
    for the rest)."""
    kpis = plan.kpis
    return plan.replace(
        kpis=dataclasses.replace(
            kpis,
            lower_bound_trips=max(0, kpis.lower_bound_trips - len(gone)),
            lower_bound_coach_km=round(
                max(0.0, kpis.lower_bound_coach_km - sum(t.distance_km for t in gone)), 1
            ),
        )
    )


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


def _retyped(trip: Trip, vehicle: VehicleType) -> Trip:
    return dataclasses.replace(
        trip,
        vehicle_type=vehicle.vehicle_type,
        seats=vehicle.seats,
        cost=round(vehicle.fixed_cost + vehicle.cost_per_km * trip.distance_km, 2),
    )


def upgrade_trips(
    trips: Sequence[Trip],
    beyond: set[str],
    fleet: Sequence[VehicleType],
    chain_beyond: Callable[[Sequence[Trip], set[str]], set[str]],
    allows: Callable[[Trip, str], bool] | None = None,
) -> tuple[list[Trip], int]:
    """`trips` with those in `beyond` (no coach of their type can drive them) handed, where the
    duties allow, to a type with at least as many seats: (trips, how many moved).

    Per larger type (smallest first), the candidates are chained together with that type's own
    trips, which are kept whatever it costs (`chain_beyond(trips, keep)` answers the ids no
    coach of the type can drive); the candidates its coaches can take change type. A trip's
    stops, timetable, crew and passengers stay; only its type, seat count and cost change.
    `allows(trip, vehicle_type)` (the charter-sign rule) limits the types a trip may go to."""
    by_id = {t.trip_id: t for t in trips}
    pending = [by_id[i] for i in sorted(beyond) if i in by_id]
    moved = 0
    for vehicle in sorted(fleet, key=lambda v: (v.seats, v.fixed_cost, v.vehicle_type)):
        candidates = [
            _retyped(t, vehicle)
            for t in pending
            if t.vehicle_type != vehicle.vehicle_type
            and vehicle.seats >= t.seats
            and vehicle.available_on(t.departure_date)
            and (allows is None or allows(t, vehicle.vehicle_type))
        ]
        if not candidates or vehicle.count == 0:
            continue
        own = [t for t in by_id.values() if t.vehicle_type == vehicle.vehicle_type]
        left = chain_beyond([*own, *candidates], {t.trip_id for t in own})
        taken = [t for t in candidates if t.trip_id not in left]
        for trip in taken:
            by_id[trip.trip_id] = trip
        moved += len(taken)
        gone = {t.trip_id for t in taken}
        pending = [t for t in pending if t.trip_id not in gone]
    return [by_id[t.trip_id] for t in trips], moved


def fit_to_fleet(
    plan: Plan,
    scenario: Scenario,
    *,
    provider: DistanceProvider,
    held: Sequence[Trip],
    keep: Set[str],
    timer: EmptyDriveTimer,
) -> tuple[Plan, DutyResult]:
    """`plan` chained into duties with the `held` trips of earlier waves, trips no coach of
    their type can drive handed to a larger type, those a coach can drive later on their date
    re-timed there (`optimizer.retime.retime_into_gaps`), those a coach chain can take on
    another date or hour of their riders' windows (its own trips compressed or pushed within
    theirs) put there (`optimizer.retime.reschedule_into_chains`, within `RESCHEDULE_SHARE`
    of the time limit), the rest cancelled (riders
    re-seated where they can, `cancel_trips`); trips in `keep` (held, locked, a top-up's kept
    trips) are never moved or cancelled. Returns the plan and the duties of `held` and its trips.

    The charter-sign rule comes first (`signed`), so each trip is counted against the coaches
    of an operator who may drive it, and no trip is handed (by the upgrade or the re-timing)
    to a type whose operator may not."""
    plan = signed(plan, scenario, keep)
    rule = sign_rule(scenario, plan.trips)
    depot = depot_of(scenario)
    keep_all = keep
    duties = coach_duties([*held, *plan.trips], scenario, provider, timer=timer)

    def beyond_fleet(trips: Sequence[Trip], kept: Set[str]) -> set[str]:
        return trips_beyond_fleet(
            trips, scenario.fleet, depot=depot, timer=timer, policy=scenario.policy, keep=kept
        )

    def revised(trips: Sequence[Trip], note: str) -> tuple[Plan, DutyResult]:
        """The plan with `trips` (same riders and unserved), its note and its new duties."""
        changed = _refigured(plan, trips, plan.unserved)
        changed = changed.replace(notes=(*changed.notes, note))
        return changed, coach_duties([*held, *changed.trips], scenario, provider, timer=timer)

    if duties.kpis.shortages:
        # A type short of coaches hands trips to a larger type with coaches to spare first.
        beyond = beyond_fleet([*held, *plan.trips], keep_all)
        wave = {t.trip_id for t in plan.trips}

        def chain_beyond(trips: Sequence[Trip], kept: set[str]) -> set[str]:
            mine = {t.vehicle_type for t in trips}
            others = [t for t in held if t.vehicle_type in mine]
            return beyond_fleet([*others, *trips], kept | keep_all)

        trips, moved = upgrade_trips(
            plan.trips, (beyond - keep_all) & wave, scenario.fleet, chain_beyond, rule.allows
        )
        if moved:
            plan, duties = revised(trips, f"fleet: {moved} trip(s) moved to a larger coach type")
    if duties.kpis.shortages:
        # Before re-timing one trip at a time: the exact chaining chooses which trips leave in
        # the evening of their date, where a coach of the day before's early trip is back.
        trips, evening = evening_departures(
            plan.trips,
            held,
            scenario.fleet,
            depot=depot,
            timer=timer,
            policy=scenario.policy,
            provider=provider,
            keep=keep_all,
        )
        if evening:
            plan, duties = revised(
                trips,
                f"fleet: {evening} trip(s) moved to an evening departure on their date, for a "
                "coach back from the day before",
            )
    if duties.kpis.shortages:
        # Before cancelling: a trip no coach drives at its planned departure may be driven
        # later the same day by a coach back in the meantime.
        trips, retimed = retime_into_gaps(
            plan.trips,
            held,
            scenario.fleet,
            depot=depot,
            timer=timer,
            policy=scenario.policy,
            provider=provider,
            keep=keep_all,
            retype=_retyped,
            allows=rule.allows,
            relay_budget_s=RELAY_SHARE * scenario.solver.time_limit_s,
        )
        if retimed:
            plan, duties = revised(
                trips,
                f"fleet: {retimed} trip(s) re-timed to a later departure on their date, "
                "for a coach back in time",
            )
    if duties.kpis.shortages:
        # Still before cancelling: a trip may go to another date of its riders' windows, at any
        # departure hour, into a coach chain whose trips move (earlier, or later within their
        # windows) to make room.
        trips, placed, shifted = reschedule_into_chains(
            plan.trips,
            held,
            scenario.fleet,
            depot=depot,
            timer=timer,
            policy=scenario.policy,
            provider=provider,
            windows=rider_windows(plan.trips, scenario),
            keep=keep_all,
            retype=_retyped,
            allows=rule.allows,
            budget_s=RESCHEDULE_SHARE * scenario.solver.time_limit_s,
        )
        if placed:
            plan, duties = revised(
                trips,
                f"fleet: {placed} trip(s) put into a coach's free time on another date or "
                f"hour of their riders' windows, {shifted} other trip(s) re-timed to make "
                "room",
            )
    if duties.kpis.shortages:
        cancel = beyond_fleet([*held, *plan.trips], keep_all) - keep_all
        if cancel:
            workers = {w.worker_id: w for w in scenario.workers}
            plan = cancel_trips(plan, cancel, _no_coach, workers)
            duties = coach_duties([*held, *plan.trips], scenario, provider, timer=timer)
    return plan, duties


def rider_windows(trips: Sequence[Trip], scenario: Scenario) -> dict[str, tuple[dt.date, dt.date]]:
    """Per trip, the dates every one of its riders' windows allows within the season (the
    dates it may move to); trips with a rider who is not a worker of `scenario` are left out."""
    workers = {w.worker_id: w for w in scenario.workers}
    out: dict[str, tuple[dt.date, dt.date]] = {}
    for trip in trips:
        riders = [workers.get(p.worker_id) for p in trip.passengers]
        if not riders or any(w is None for w in riders):
            continue
        first = max([scenario.first_departure, *(w.earliest for w in riders if w is not None)])
        last = min([scenario.last_departure, *(w.latest for w in riders if w is not None)])
        if first <= trip.departure_date <= last:
            out[trip.trip_id] = (first, last)
    return out


def signed(plan: Plan, scenario: Scenario, keep: Set[str] = frozenset()) -> Plan:
    """`plan` under the charter-sign rule (optimizer/charter.py): each trip not in `keep` goes
    to a coach type whose operator is registered at one of its route's ends (`apply_sign_rule`:
    its planned type when allowed, else one of the same seats, else the smallest seating its
    passengers). A trip no type may drive is dropped: its riders are re-seated on free seats of
    other trips (`reseat`: a trip from another county may be allowed) or unserved as
    `charter_sign`, naming the trip's ends and the operators. Nothing changes when every trip
    is allowed as planned (always so with one origin county or operators registered at the
    prefecture, the default)."""
    free = [t for t in plan.trips if t.trip_id not in keep]
    rule = sign_rule(scenario, free)
    if all(rule.allows(t, t.vehicle_type) for t in free):
        return plan
    retyped, refusals = apply_sign_rule(free, scenario.fleet, rule)
    refused = {r.trip_id for r in refusals}
    by_id = {t.trip_id: t for t in retyped}
    trips = [by_id.get(t.trip_id, t) for t in plan.trips if t.trip_id not in refused]
    gone = [t for t in retyped if t.trip_id in refused]
    workers = {w.worker_id: w for w in scenario.workers}
    riders = [p for t in gone for p in t.passengers]
    trips, left = reseat(trips, riders, workers)
    lost_on = {p.worker_id: t for t in gone for p in t.passengers}
    unserved = [
        *plan.unserved,
        *(
            Unserved(
                p.worker_id,
                UnservedReason.CHARTER_SIGN,
                refusal_detail(lost_on[p.worker_id], scenario),
            )
            for p in left
        ),
    ]
    moved = sum(1 for t in free if t.trip_id not in refused and by_id[t.trip_id] != t)
    result = _refigured(plan, trips, unserved)
    if left:
        result = _bounds_without(result, gone)
    note = (
        f"charter sign: {moved} trip(s) moved to an operator registered at one end, "
        f"{len(gone)} trip(s) no operator may drive, {len(left)} worker(s) unserved"
    )
    return result.replace(
        kpis=with_origin_kpis(result.kpis, scenario, result.trips), notes=(*result.notes, note)
    )


def _no_coach(trip: Trip) -> str:
    return (
        f"no {trip.vehicle_type} coach free on {trip.departure_date:%m-%d}: "
        "every one is away on other trips of the season then"
    )


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
    depot = depot_of(scenario)
    if timer is None:
        timer = TimetableEmptyDriveTimer(provider, scenario.policy)
    ledger = Ledger.of_trips(
        [*held, *locked],
        scenario.fleet,
        depot,
        timer,
        scenario.policy,
        origin_places(scenario),
    )
    keep = {t.trip_id for t in (*held, *locked)}

    def fit(plan: Plan, protect: frozenset[str] = frozenset()) -> tuple[Plan, DutyResult]:
        return fit_to_fleet(
            plan, scenario, provider=provider, held=held, keep=keep | protect, timer=timer
        )

    plan = solve(
        scenario,
        distances=provider,
        locked=locked,
        progress=progress,
        availability=Availability(ledger, depot, timer, optimistic=True) if fit_dates else None,
        executor=executor,
    )
    planned = plan
    plan, duties = fit(planned)

    def exhausted(p: Plan) -> int:
        return sum(1 for u in p.unserved if u.reason is UnservedReason.FLEET_EXHAUSTED)

    if fit_dates and exhausted(plan) > exhausted(planned):
        # The dates did not fit the fleet (an estimate of the coach-days each date costs, or
        # the dates of planning without a fleet) and trips were cancelled: plan again with the
        # coach-days the trips just built really cost per county, and keep the better plan.
        costs = measured_costs(planned.trips, scenario, depot, timer)
        again = solve(
            _within_budget(scenario, MEASURED_PASS_SHARE),
            distances=provider,
            locked=locked,
            progress=progress,
            availability=Availability(
                ledger, depot, timer, measured=costs, fill=county_fill(planned.trips, scenario)
            ),
            executor=executor,
        )
        fitted = [(plan, duties), fit(again)]
        if UNSPREAD_PASS_SHARE > 0:
            # The dates of planning without a fleet: each county on its fewest dates, so its
            # few workers share one stop; the exact chaining then keeps the chains of trips
            # that seat the most (`trips_beyond_fleet`), which prefers full, short trips.
            fitted.append(
                fit(
                    solve(
                        _within_budget(scenario, UNSPREAD_PASS_SHARE),
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
        plan, duties = eliminate_and_seat(
            scenario, plan, duties, provider=provider, held=held, keep=keep, timer=timer
        )
        plan, duties = top_up(
            scenario,
            plan,
            duties,
            distances=provider,
            held=held,
            timer=timer,
            executor=executor,
        )
        plan, duties = refill(
            scenario,
            plan,
            duties,
            distances=provider,
            held=held,
            keep=keep,
            timer=timer,
            executor=executor,
        )
    if _seated(plan) != _seated(planned) or _bounds(plan) != _bounds(planned):
        # The fleet passes changed whom the plan seats, or lowered its bounds (cancelling).
        plan = with_seated_bounds(plan, scenario, provider)
    unservable = [u.worker_id for u in plan.unserved if u.reason in INPUT_REASONS]
    if plan.kpis.seated >= len(scenario.workers) - len(unservable):
        # Every worker the input allows is seated: no bound can be lower (nor higher).
        bound = plan.kpis.seated
    else:
        bound = servable_bound(scenario, unservable, distances=provider)
    plan = plan.replace(kpis=dataclasses.replace(plan.kpis, fleet_servable_bound=bound))
    return with_duties(plan, duties, {t.trip_id for t in plan.trips}), duties


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
TOP_UP_SHARE = 0.25
# After the top-up, thin trips (fewer riders than this share of the plan's mean a trip) are given
# up and their riders planned again with the fleet-exhausted (`refill`), within this share of the
# time limit (0: not tried).
REFILL_SHARE = 0.25
REFILL_THIN = 0.5
# The pass that empties thin trips onto others and seats the fleet-exhausted on the free seats
# (`eliminate_and_seat`) gets this share of the time limit. Measured on near-50-tight's plan
# (8,000 workers, 195 trips; 16:05 UTC, load ~6): the whole pass took 2.5 s of its 6 s.
ELIMINATE_SHARE = 0.1
# `reschedule_into_chains` gets this share of the time limit in each `fit_to_fleet` (it was
# unbounded: it made short-fleet plans 1.35-1.63x slower). Not less: at 0.1 (6 s, load ~8.4) it
# put 1 trip into the chains of wide-6k-610's first plan instead of 61, and the plan seated 376
# fewer before the top-up.
RESCHEDULE_SHARE = 1.0
# `retime_into_gaps`'s relay (a blocking chained trip handed to another coach later on its date)
# gets this share of the time limit in each `fit_to_fleet`. Measured on near-50-tight's first
# plan (266 trips, 20:20 UTC, load ~4): the whole re-timing took 5.6 CPU s with the relay, 1.0
# without; the box only guards larger seasons.
RELAY_SHARE = 0.25
# A top-up round is not started with less than this many seconds of its budget left.
TOP_UP_MIN_S = 1.0
# A top-up counts a coach free on a day when it is back this many hours before the latest
# departure hour (20:00 by default): a coach back in the afternoon takes an evening trip. One
# value, not tuned per season: on near-50-tight's plan (13:05 UTC, one run each) the top-up
# seated 91 more with it, 2 more counting coaches back by 06:00.
READY_BEFORE_LATEST_H = 2


def ready_by_evening(scenario: Scenario) -> int:
    """The clock hour by which a top-up counts a coach back for the day."""
    return max(
        scenario.policy.earliest_departure_hour,
        scenario.policy.latest_departure_hour - READY_BEFORE_LATEST_H,
    )


def _within_budget(scenario: Scenario, share: float, lp_bound: bool = True) -> Scenario:
    """`scenario` planned with `share` of its time limit (without the LP lower bound when not
    `lp_bound`: a top-up keeps the bounds of the plan it tops up)."""
    solver = dataclasses.replace(
        scenario.solver,
        time_limit_s=max(TOP_UP_MIN_S, share * scenario.solver.time_limit_s),
        lower_bound_share=scenario.solver.lower_bound_share if lp_bound else 0.0,
    )
    return scenario.replace(solver=solver)


def top_up(
    scenario: Scenario,
    plan: Plan,
    duties: DutyResult,
    *,
    distances: DistanceProvider,
    held: Sequence[Trip] = (),
    timer: EmptyDriveTimer | None = None,
    executor: concurrent.futures.Executor | None = None,
    budget_s: float | None = None,
) -> tuple[Plan, DutyResult]:
    """Seat workers `plan` left fleet_exhausted on the coach time its trips leave idle.

    The workers not on `plan`'s trips are planned again as a sub-season (`TOP_UP_SHARE` of the
    time limit) with every trip of `plan` locked: the planner knows the coaches those trips and
    the `held` ones of earlier waves hold (`Ledger`), and the new trips are chained with them;
    new trips no coach can drive are cancelled (`fit_to_fleet`, every earlier trip kept), so
    nothing already seated loses a seat. Rounds repeat while the budget lasts and a round seats
    someone. `duties` are `plan`'s (with `held`), returned unchanged when nobody more is seated.
    The lower bounds stay the plan's: proven for a subset of the workers now seated, they
    bound any plan seating more (a plan for more workers, their riders taken off, is a plan
    for fewer)."""
    provider = distances
    depot = depot_of(scenario)
    if timer is None:
        timer = TimetableEmptyDriveTimer(provider, scenario.policy)
    keep = frozenset(t.trip_id for t in held)
    started = time.monotonic()
    budget = TOP_UP_SHARE * scenario.solver.time_limit_s if budget_s is None else budget_s
    seated_before = plan.kpis.seated
    rounds = 0
    while True:
        left = budget - (time.monotonic() - started)
        waiting = [u for u in plan.unserved if u.reason is UnservedReason.FLEET_EXHAUSTED]
        if (rounds and left < TOP_UP_MIN_S) or not waiting:
            break
        sub = _within_budget(scenario, left / scenario.solver.time_limit_s, lp_bound=False)
        again = solve(
            sub,
            distances=provider,
            locked=plan.trips,
            availability=Availability(
                Ledger.of_trips(
                    [*held, *plan.trips],
                    scenario.fleet,
                    depot,
                    timer,
                    scenario.policy,
                    origin_places(scenario),
                ),
                depot,
                timer,
                ready_by_hour=ready_by_evening(scenario),
                fill=county_fill(plan.trips, scenario),
            ),
            executor=executor,
        )
        known = {t.trip_id for t in plan.trips}
        new = [t for t in again.trips if t.trip_id not in known]
        if not new:
            break
        seated = {p.worker_id for t in new for p in t.passengers}
        merged = _refigured(
            plan,
            sorted([*plan.trips, *new], key=lambda t: (t.departure_date, t.trip_id)),
            [u for u in plan.unserved if u.worker_id not in seated],
        )
        fitted, fitted_duties = fit_to_fleet(
            merged, scenario, provider=provider, held=held, keep=keep | known, timer=timer
        )
        if fitted.kpis.seated <= plan.kpis.seated:
            break
        plan, duties = fitted, fitted_duties
        rounds += 1
    if rounds:
        plan = plan.replace(
            kpis=with_origin_kpis(plan.kpis, scenario, plan.trips),
            notes=(
                *plan.notes,
                f"fleet: top-up of the unseated workers on the coach time left free "
                f"({rounds} round(s)): {plan.kpis.seated - seated_before} more seated",
            ),
        )
    return plan, duties


def refill(
    scenario: Scenario,
    plan: Plan,
    duties: DutyResult,
    *,
    distances: DistanceProvider,
    held: Sequence[Trip] = (),
    keep: Set[str] = frozenset(),
    timer: EmptyDriveTimer | None = None,
    executor: concurrent.futures.Executor | None = None,
) -> tuple[Plan, DutyResult]:
    """`plan` with its thin trips given up and their riders planned again together with the
    fleet-exhausted workers on the coach time those trips held, when that seats more.

    A trip seating fewer than `REFILL_THIN` of the plan's mean riders a trip (never a locked,
    held or `keep` one) holds a coach for as long as a full one. Those trips are cancelled
    (`cancel_trips`: their riders re-seated on free seats of other trips where they can, the
    rest fleet_exhausted) and the fleet-exhausted, old and new, are planned on the coach time
    now free (`top_up`, every other trip locked), so the riders of a thin trip share coaches
    with other workers of their counties and dates. The result is kept when it seats more
    than `plan` (else `plan` and `duties` come back unchanged); rounds repeat while one seats
    more and `REFILL_SHARE` of the time limit lasts. The lower bounds drop by the cancelled
    trips (`cancel_trips`): they were proven for workers of whom some may stay unseated."""
    budget = REFILL_SHARE * scenario.solver.time_limit_s
    if budget <= 0:
        return plan, duties
    if timer is None:
        timer = TimetableEmptyDriveTimer(distances, scenario.policy)
    fixed = {t.trip_id for t in held} | set(keep)
    workers = {w.worker_id: w for w in scenario.workers}
    started = time.monotonic()
    seated_before, given_up, rounds = plan.kpis.seated, 0, 0
    # A round's own notes (the cancelling, the top-up) give way to one note of the whole pass.
    notes = plan.notes
    while True:
        left = budget - (time.monotonic() - started)
        if left < TOP_UP_MIN_S or not plan.kpis.trips:
            break
        mean = plan.kpis.seated / plan.kpis.trips
        thin = {
            t.trip_id
            for t in plan.trips
            if not t.locked and t.trip_id not in fixed and t.seats_used < REFILL_THIN * mean
        }
        if not thin:
            break
        cut = cancel_trips(plan, thin, _no_coach, workers)
        cut_duties = coach_duties([*held, *cut.trips], scenario, distances, timer=timer)
        again, again_duties = top_up(
            scenario,
            cut,
            cut_duties,
            distances=distances,
            held=held,
            timer=timer,
            executor=executor,
            budget_s=left,
        )
        if again.kpis.seated <= plan.kpis.seated:
            break
        plan, duties = again, again_duties
        given_up += len(thin)
        rounds += 1
    if rounds:
        plan = plan.replace(
            kpis=with_origin_kpis(plan.kpis, scenario, plan.trips),
            notes=(
                *notes,
                f"fleet: {given_up} thin trip(s) given up and their riders planned again with "
                f"the fleet_exhausted workers on the coach time they held ({rounds} round(s)): "
                f"{plan.kpis.seated - seated_before} more seated",
            ),
        )
    return plan, duties


def _fits_as_well(after: DutyResult, before: DutyResult, fleet: Sequence[VehicleType]) -> bool:
    """Whether `after`'s duties need no type more coaches than its count (or than `before`'s
    duties already did)."""
    for vehicle in fleet:
        need = after.kpis.coaches_by_type.get(vehicle.vehicle_type, 0)
        if need > max(vehicle.count, before.kpis.coaches_by_type.get(vehicle.vehicle_type, 0)):
            return False
    return True


def eliminate_and_seat(
    scenario: Scenario,
    plan: Plan,
    duties: DutyResult,
    *,
    provider: DistanceProvider,
    held: Sequence[Trip],
    keep: Set[str],
    timer: EmptyDriveTimer,
) -> tuple[Plan, DutyResult]:
    """`plan` (fitted to the fleet, with its `duties`) with thin trips emptied onto other trips
    of their riders' windows and fleet-exhausted workers seated on free seats
    (`optimizer.eliminate.eliminate_thin_trips`, `ELIMINATE_SHARE` of the time limit).

    The result is chained again (exact) and kept only when it fits the fleet as `plan` did,
    seats no fewer and uses no more trips; else `plan` and `duties` come back unchanged. The
    lower bounds stay `plan`'s: a plan seating more of the same workers is bounded by them."""
    result = eliminate_thin_trips(
        plan.trips,
        plan.unserved,
        scenario,
        held=held,
        keep=keep,
        provider=provider,
        timer=timer,
        depot=depot_of(scenario),
        budget_s=ELIMINATE_SHARE * scenario.solver.time_limit_s,
        rule=sign_rule(scenario, plan.trips),
    )
    if not result.emptied and not result.seated:
        return plan, duties
    changed = _refigured(plan, result.trips, result.unserved)
    if changed.kpis.seated < plan.kpis.seated or changed.kpis.trips > plan.kpis.trips:
        return plan, duties
    after = coach_duties([*held, *changed.trips], scenario, provider, timer=timer)
    if not _fits_as_well(after, duties, scenario.fleet):
        return plan, duties
    note = (
        f"fleet: {result.emptied} thin trip(s) emptied onto other trips of their riders' "
        f"windows, {result.seated} fleet_exhausted worker(s) seated on the seats left free"
    )
    changed = changed.replace(
        kpis=with_origin_kpis(changed.kpis, scenario, changed.trips),
        notes=(*changed.notes, note),
    )
    return changed, after


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
