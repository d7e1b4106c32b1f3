"""The fleet passes: a wave's plan fitted to the physical coaches of its season, then seated on.

`FleetContext` holds what every pass of one wave shares (the scenario, the road distances, the
empty-drive timer, the trips of earlier waves and the trips no pass may move). Its passes, in the
order `optimizer.season.solve_within_fleet` runs them once a plan had trips cancelled:

- `fit`: the plan chained into coach duties; where a type runs short of coaches, trips handed to
  a larger type, re-timed or rescheduled into a coach's free time, and the rest cancelled
  (`cancel_trips`: riders re-seated where they can);
- `eliminate_and_seat`: thin trips emptied onto others, the fleet-exhausted seated on free seats;
- `top_up`: the fleet-exhausted planned again on the coach time the trips leave free;
- `refill`: thin trips given up and their riders planned again with the fleet-exhausted.

Each takes a plan (and its duties) and returns a plan with its duties; none writes to shared
state. A caller that runs one pass on its own (the tests) builds a `FleetContext` for it.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
import functools
import itertools
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass
from typing import TypeVar

from optimizer.charter import SignRule, apply_sign_rule, refusal_detail, sign_rule
from optimizer.duties import (
    DutyResult,
    EmptyDriveTimer,
    TimetableEmptyDriveTimer,
    build_duties,
    trips_beyond_fleet,
)
from optimizer.eliminate import eliminate_thin_trips
from optimizer.errors import InvalidInput
from optimizer.geography.distance import DistanceProvider, Location
from optimizer.ledger import Availability, Ledger, origin_places
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
from optimizer.retime import evening_departures, reschedule_into_chains, retime_into_gaps
from optimizer.solve import solve

Result = TypeVar("Result")


def depot_of(scenario: Scenario) -> Location:
    """Where coaches start and end duties by default: the seat of the origin county."""
    seats = county_seats([scenario.origin])
    if scenario.origin not in seats:
        raise InvalidInput(f"origin {scenario.origin!r} is not a county with known coordinates")
    return seats[scenario.origin]


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


# The top-up of the workers still fleet_exhausted gets this share of the time limit (with
# `optimizer.season.MEASURED_PASS_SHARE`, at most 0.75 of another budget in all).
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
# `reschedule_into_chains` gets this share of the time limit in each `FleetContext.fit` (it was
# unbounded: it made short-fleet plans 1.35-1.63x slower). Not less: at 0.1 (6 s, load ~8.4) it
# put 1 trip into the chains of wide-6k-610's first plan instead of 61, and the plan seated 376
# fewer before the top-up.
RESCHEDULE_SHARE = 1.0
# `retime_into_gaps`'s relay (a blocking chained trip handed to another coach later on its date)
# gets this share of the time limit in each `FleetContext.fit`. Measured on near-50-tight's first
# plan (266 trips, 20:20 UTC, load ~4): the whole re-timing took 5.6 CPU s with the relay, 1.0
# without; the box only guards larger seasons.
RELAY_SHARE = 0.25
# A top-up round is not started with less than this many seconds of its budget left.
TOP_UP_MIN_S = 1.0
# With a deadline (`FleetContext.deadline`, issue 11), every boxed fleet pass (the re-timing
# relay, the rescheduling, the emptying of thin trips, the top-up, the refill and the measured
# second plan) takes the smaller of its own share and the time left before it; None: off, each
# pass keeps its own share of the time limit whatever the passes before it took (on
# wide-6k-610-s11 a 60 s plan took 909-1,218 s). The deadline is this many time limits after
# the fleet planning starts: the first plan (1), the measured pass (0.5), the emptying (0.1),
# the top-up (0.25) and the refill (0.25), the envelope the shares were documented to keep.
FLEET_DEADLINE_SPAN: float | None = None
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


def within_budget(scenario: Scenario, share: float, lp_bound: bool = True) -> Scenario:
    """`scenario` planned with `share` of its time limit (without the LP lower bound when not
    `lp_bound`: a top-up keeps the bounds of the plan it tops up)."""
    solver = dataclasses.replace(
        scenario.solver,
        time_limit_s=max(TOP_UP_MIN_S, share * scenario.solver.time_limit_s),
        lower_bound_share=scenario.solver.lower_bound_share if lp_bound else 0.0,
    )
    return scenario.replace(solver=solver)


def _fits_as_well(after: DutyResult, before: DutyResult, fleet: Sequence[VehicleType]) -> bool:
    """Whether `after`'s duties need no type more coaches than its count (or than `before`'s
    duties already did)."""
    for vehicle in fleet:
        need = after.kpis.coaches_by_type.get(vehicle.vehicle_type, 0)
        if need > max(vehicle.count, before.kpis.coaches_by_type.get(vehicle.vehicle_type, 0)):
            return False
    return True


def timer_for(
    scenario: Scenario, provider: DistanceProvider, timer: EmptyDriveTimer | None
) -> EmptyDriveTimer:
    """`timer`, or when None a new one timing empty drives under `scenario`'s rules."""
    return timer if timer is not None else TimetableEmptyDriveTimer(provider, scenario.policy)


def _noted(plan: Plan, scenario: Scenario, notes: tuple[str, ...], note: str) -> Plan:
    """`plan` with `note` after `notes` and its origin figures recomputed for its trips (a
    pass that seated more changed them)."""
    return plan.replace(
        kpis=with_origin_kpis(plan.kpis, scenario, plan.trips), notes=(*notes, note)
    )


@dataclass(frozen=True)
class FleetContext:
    """What the fleet passes of one wave share.

    `held` are the trips of earlier waves (their coaches are away; the passes chain them with
    the wave's trips and never move or cancel them); `keep` the ids of the trips no pass moves
    or cancels (held and locked ones). `timer` must time empty drives under `scenario.policy`;
    it caches road km and timetables across the passes. `executor` runs the routing parts of
    the planning a top-up does (see `optimizer.solve.solve`)."""

    scenario: Scenario
    provider: DistanceProvider
    timer: EmptyDriveTimer
    held: tuple[Trip, ...] = ()
    keep: frozenset[str] = frozenset()
    executor: concurrent.futures.Executor | None = None
    deadline: float | None = None

    def box(self, share: float) -> float:
        """`share` of the time limit, in seconds, never past `deadline` (`time.monotonic`;
        none: the share alone)."""
        own = share * self.scenario.solver.time_limit_s
        if self.deadline is None:
            return own
        return max(0.0, min(own, self.deadline - time.monotonic()))

    def late(self) -> bool:
        """Whether less than `TOP_UP_MIN_S` is left before `deadline` (never without one)."""
        return self.deadline is not None and self.deadline - time.monotonic() < TOP_UP_MIN_S

    @functools.cached_property
    def depot(self) -> Location:
        """Where the wave's coaches start and end duties (`depot_of`)."""
        return depot_of(self.scenario)

    def duties(self, trips: Sequence[Trip]) -> DutyResult:
        """`trips` chained with the held ones into coach duties (exact)."""
        return coach_duties([*self.held, *trips], self.scenario, self.provider, timer=self.timer)

    def ledger(self, trips: Sequence[Trip]) -> Ledger:
        """The coaches `trips` and the held ones keep away, day by day, for the planner."""
        return Ledger.of_trips(
            [*self.held, *trips],
            self.scenario.fleet,
            self.depot,
            self.timer,
            self.scenario.policy,
            origin_places(self.scenario),
        )

    def _beyond_fleet(self, trips: Sequence[Trip], kept: Set[str]) -> set[str]:
        """The ids of `trips` no coach of their type can drive, never one in `kept`."""
        scenario = self.scenario
        return trips_beyond_fleet(
            trips,
            scenario.fleet,
            depot=self.depot,
            timer=self.timer,
            policy=scenario.policy,
            keep=kept,
        )

    def _rearranged(
        self,
        mover: Callable[..., Result],
        trips: Sequence[Trip],
        rule: SignRule | None = None,
        **options: object,
    ) -> Result:
        """`mover` (one of `optimizer.retime`'s re-timings) run on `trips` against the held
        ones, with the wave's fleet, depot, timer and rules, never moving a `keep` trip; given
        the charter-sign `rule`, a trip may change type (`_retyped`) to one the rule allows."""
        if rule is not None:
            options = {"retype": _retyped, "allows": rule.allows, **options}
        return mover(
            trips,
            self.held,
            self.scenario.fleet,
            depot=self.depot,
            timer=self.timer,
            policy=self.scenario.policy,
            provider=self.provider,
            keep=self.keep,
            **options,
        )

    def fit(self, plan: Plan) -> tuple[Plan, DutyResult]:
        """`plan` chained into duties with the held trips, trips no coach of their type can
        drive handed to a larger type, those a coach can drive later on their date re-timed
        there (`optimizer.retime.retime_into_gaps`), those a coach chain can take on another
        date or hour of their riders' windows (its own trips compressed or pushed within
        theirs) put there (`optimizer.retime.reschedule_into_chains`, within
        `RESCHEDULE_SHARE` of the time limit), the rest cancelled (riders re-seated where they
        can, `cancel_trips`); trips in `keep` (held, locked, a top-up's kept trips) are never
        moved or cancelled. Returns the plan and the duties of the held trips and its own.

        The charter-sign rule comes first (`signed`), so each trip is counted against the
        coaches of an operator who may drive it, and no trip is handed (by the upgrade or the
        re-timing) to a type whose operator may not."""
        scenario, held, keep = self.scenario, self.held, self.keep
        plan = signed(plan, scenario, keep)
        rule = sign_rule(scenario, plan.trips)
        duties = self.duties(plan.trips)

        def revised(trips: Sequence[Trip], note: str) -> tuple[Plan, DutyResult]:
            """The plan with `trips` (same riders and unserved), its note and its new duties."""
            changed = _refigured(plan, trips, plan.unserved)
            changed = changed.replace(notes=(*changed.notes, note))
            return changed, self.duties(changed.trips)

        if duties.kpis.shortages:
            # A type short of coaches hands trips to a larger type with coaches to spare first.
            beyond = self._beyond_fleet([*held, *plan.trips], keep)
            wave = {t.trip_id for t in plan.trips}

            def chain_beyond(trips: Sequence[Trip], kept: set[str]) -> set[str]:
                mine = {t.vehicle_type for t in trips}
                others = [t for t in held if t.vehicle_type in mine]
                return self._beyond_fleet([*others, *trips], kept | keep)

            trips, moved = upgrade_trips(
                plan.trips, (beyond - keep) & wave, scenario.fleet, chain_beyond, rule.allows
            )
            if moved:
                plan, duties = revised(
                    trips, f"fleet: {moved} trip(s) moved to a larger coach type"
                )
        if duties.kpis.shortages:
            # Before re-timing one trip at a time: the exact chaining chooses which trips leave
            # in the evening of their date, where a coach of the day before's early trip is back.
            trips, evening = self._rearranged(evening_departures, plan.trips)
            if evening:
                plan, duties = revised(
                    trips,
                    f"fleet: {evening} trip(s) moved to an evening departure on their date, for "
                    "a coach back from the day before",
                )
        if duties.kpis.shortages:
            # Before cancelling: a trip no coach drives at its planned departure may be driven
            # later the same day by a coach back in the meantime.
            relay_s = self.box(RELAY_SHARE)
            trips, retimed = self._rearranged(
                retime_into_gaps, plan.trips, rule, relay_budget_s=relay_s
            )
            if retimed:
                plan, duties = revised(
                    trips,
                    f"fleet: {retimed} trip(s) re-timed to a later departure on their date, "
                    "for a coach back in time",
                )
        if duties.kpis.shortages:
            # Still before cancelling: a trip may go to another date of its riders' windows, at
            # any departure hour, into a coach chain whose trips move (earlier, or later within
            # their windows) to make room.
            windows = rider_windows(plan.trips, scenario)
            budget_s = self.box(RESCHEDULE_SHARE)
            trips, placed, shifted = self._rearranged(
                reschedule_into_chains, plan.trips, rule, windows=windows, budget_s=budget_s
            )
            if placed:
                plan, duties = revised(
                    trips,
                    f"fleet: {placed} trip(s) put into a coach's free time on another date or "
                    f"hour of their riders' windows, {shifted} other trip(s) re-timed to make "
                    "room",
                )
        if duties.kpis.shortages:
            cancel = self._beyond_fleet([*held, *plan.trips], keep) - keep
            if cancel:
                workers = {w.worker_id: w for w in scenario.workers}
                plan = cancel_trips(plan, cancel, _no_coach, workers)
                duties = self.duties(plan.trips)
        return plan, duties

    def eliminate_and_seat(self, plan: Plan, duties: DutyResult) -> tuple[Plan, DutyResult]:
        """`plan` (fitted to the fleet, with its `duties`) with thin trips emptied onto other
        trips of their riders' windows and fleet-exhausted workers seated on free seats
        (`optimizer.eliminate.eliminate_thin_trips`, `ELIMINATE_SHARE` of the time limit).

        The result is chained again (exact) and kept only when it fits the fleet as `plan`
        did, seats no fewer and uses no more trips; else `plan` and `duties` come back
        unchanged. The lower bounds stay `plan`'s: a plan seating more of the same workers is
        bounded by them."""
        scenario = self.scenario
        result = eliminate_thin_trips(
            plan.trips,
            plan.unserved,
            scenario,
            held=self.held,
            keep=self.keep,
            provider=self.provider,
            timer=self.timer,
            depot=self.depot,
            budget_s=self.box(ELIMINATE_SHARE),
            rule=sign_rule(scenario, plan.trips),
        )
        if not result.emptied and not result.seated:
            return plan, duties
        changed = _refigured(plan, result.trips, result.unserved)
        if changed.kpis.seated < plan.kpis.seated or changed.kpis.trips > plan.kpis.trips:
            return plan, duties
        after = self.duties(changed.trips)
        if not _fits_as_well(after, duties, scenario.fleet):
            return plan, duties
        note = (
            f"fleet: {result.emptied} thin trip(s) emptied onto other trips of their riders' "
            f"windows, {result.seated} fleet_exhausted worker(s) seated on the seats left free"
        )
        return _noted(changed, scenario, changed.notes, note), after

    def top_up(
        self, plan: Plan, duties: DutyResult, budget_s: float | None = None
    ) -> tuple[Plan, DutyResult]:
        """Seat workers `plan` left fleet_exhausted on the coach time its trips leave idle.

        The workers not on `plan`'s trips are planned again as a sub-season (`TOP_UP_SHARE` of
        the time limit, or `budget_s`) with every trip of `plan` locked: the planner knows the
        coaches those trips and the held ones hold (`Ledger`), and the new trips are chained
        with them; new trips no coach can drive are cancelled (`fit`, every earlier trip
        kept), so nothing already seated loses a seat. Rounds repeat while the budget lasts and
        a round seats someone. `duties` are `plan`'s (with the held trips), returned unchanged
        when nobody more is seated. The lower bounds stay the plan's: proven for a subset of
        the workers now seated, they bound any plan seating more (a plan for more workers,
        their riders taken off, is a plan for fewer)."""
        scenario = self.scenario
        held_ids = frozenset(t.trip_id for t in self.held)
        started = time.monotonic()
        budget = self.box(TOP_UP_SHARE) if budget_s is None else budget_s
        seated_before = plan.kpis.seated
        rounds = 0
        while True:
            left = budget - (time.monotonic() - started)
            waiting = [u for u in plan.unserved if u.reason is UnservedReason.FLEET_EXHAUSTED]
            if (rounds and left < TOP_UP_MIN_S) or not waiting or self.late():
                break
            sub = within_budget(scenario, left / scenario.solver.time_limit_s, lp_bound=False)
            again = solve(
                sub,
                distances=self.provider,
                locked=plan.trips,
                availability=Availability(
                    self.ledger(plan.trips),
                    self.depot,
                    self.timer,
                    ready_by_hour=ready_by_evening(scenario),
                    fill=county_fill(plan.trips, scenario),
                ),
                executor=self.executor,
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
            fitted, fitted_duties = dataclasses.replace(self, keep=held_ids | known).fit(merged)
            if fitted.kpis.seated <= plan.kpis.seated:
                break
            plan, duties = fitted, fitted_duties
            rounds += 1
        if rounds:
            note = (
                f"fleet: top-up of the unseated workers on the coach time left free "
                f"({rounds} round(s)): {plan.kpis.seated - seated_before} more seated"
            )
            plan = _noted(plan, scenario, plan.notes, note)
        return plan, duties

    def refill(self, plan: Plan, duties: DutyResult) -> tuple[Plan, DutyResult]:
        """`plan` with its thin trips given up and their riders planned again together with
        the fleet-exhausted workers on the coach time those trips held, when that seats more.

        A trip seating fewer than `REFILL_THIN` of the plan's mean riders a trip (never a
        locked, held or `keep` one) holds a coach for as long as a full one. Those trips are
        cancelled (`cancel_trips`: their riders re-seated on free seats of other trips where
        they can, the rest fleet_exhausted) and the fleet-exhausted, old and new, are planned
        on the coach time now free (`top_up`, every other trip locked), so the riders of a thin
        trip share coaches with other workers of their counties and dates. The result is kept
        when it seats more than `plan` (else `plan` and `duties` come back unchanged); rounds
        repeat while one seats more and `REFILL_SHARE` of the time limit lasts. The lower
        bounds drop by the cancelled trips (`cancel_trips`): they were proven for workers of
        whom some may stay unseated."""
        scenario = self.scenario
        budget = self.box(REFILL_SHARE)
        if REFILL_SHARE <= 0:
            return plan, duties
        fixed = {t.trip_id for t in self.held} | set(self.keep)
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
            again, again_duties = self.top_up(cut, self.duties(cut.trips), budget_s=left)
            if again.kpis.seated <= plan.kpis.seated:
                break
            plan, duties = again, again_duties
            given_up += len(thin)
            rounds += 1
        if rounds:
            note = (
                f"fleet: {given_up} thin trip(s) given up and their riders planned again with "
                f"the fleet_exhausted workers on the coach time they held ({rounds} round(s)): "
                f"{plan.kpis.seated - seated_before} more seated"
            )
            plan = _noted(plan, scenario, notes, note)
        return plan, duties
