"""A season: the homeward wave (返乡) and the return wave (返岗) planned as one, with coach duties.

Each wave is planned by `solve`; the trips of both are then chained into the duties of physical
coaches, so that a coach that took workers home can bring others back from the same corridor
(backhaul) when the dates allow. The km saved that way is measured against chaining each wave
on its own.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from optimizer.duties import (
    DutyResult,
    EmptyDriveTimer,
    TimetableEmptyDriveTimer,
    build_duties,
    layover_minutes,
    trips_beyond_fleet,
)
from optimizer.errors import InvalidInput
from optimizer.geography.distance import DistanceProvider, Location
from optimizer.model import (
    Plan,
    Policy,
    Scenario,
    Trip,
    Unserved,
    UnservedReason,
    VehicleType,
)
from optimizer.places import county_seats
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
    return plan.replace(coaches=coaches, fleet_kpis=duties.kpis)


def _away(
    trip: Trip, depot: Location, timer: EmptyDriveTimer, policy: Policy
) -> tuple[dt.datetime, dt.datetime]:
    """When the coach of `trip`, driving it alone, leaves the depot and is back and rested.

    It leaves in time to drive out empty to the pickup (a return-wave trip from Guizhou needs a
    coach that left Cixi days before) and is home after the trip, a layover, the empty drive
    back and another layover."""
    first, last = trip.stops[0], trip.stops[-1]
    out = timer(depot, Location(first.lon, first.lat, first.adcode), trip.departure)
    leave = trip.departure
    if out.distance_km:
        leave -= (
            out.arrive
            - out.depart
            + dt.timedelta(minutes=layover_minutes(out.driving_minutes, policy))
        )
    ready = trip.arrival + dt.timedelta(minutes=layover_minutes(trip.driving_minutes, policy))
    drive = timer(Location(last.lon, last.lat, last.adcode), depot, ready)
    home = drive.arrive + dt.timedelta(
        minutes=layover_minutes(drive.driving_minutes, policy) if drive.distance_km else 0
    )
    return leave, home


def departure_caps(
    trips: Sequence[Trip], scenario: Scenario, depot: Location, timer: EmptyDriveTimer
) -> dict[tuple[str, dt.date], int]:
    """Coaches of each type free to depart on each date, given the trips already planned.

    A coach is away from the time it leaves the depot (to drive out to the pickup) until it is
    back and its crew has rested (`_away`). On date d, the coaches of trips of earlier dates
    that are away when d's departure hours open, or when one of d's own trips has to leave the
    depot, are not free on d. `trips` may include an earlier wave's trips: their coaches count
    the same way.
    """
    policy = scenario.policy
    counts = {v.vehicle_type: v for v in scenario.fleet}
    spans: dict[str, list[tuple[dt.date, dt.datetime, dt.datetime]]] = defaultdict(list)
    for trip in trips:
        leave, home = _away(trip, depot, timer, policy)
        spans[trip.vehicle_type].append((trip.departure_date, leave, home))
    caps: dict[tuple[str, dt.date], int] = {}
    day = scenario.first_departure
    while day <= scenario.last_departure:
        opens = dt.datetime.combine(day, dt.time(policy.earliest_departure_hour))
        for vehicle_type, spec in counts.items():
            mine = spans[vehicle_type]
            instants = {opens, *(leave for left, leave, _ in mine if left == day)}
            away = max(
                sum(1 for left, leave, home in mine if left < day and leave <= at < home)
                for at in instants
            )
            caps[(vehicle_type, day)] = max(0, spec.count_on(day) - away)
        day += dt.timedelta(days=1)
    return caps


def _passenger_km(trip: Trip) -> float:
    cumulative = list(itertools.accumulate(stop.km_from_previous for stop in trip.stops))
    return sum(
        p.seat_count * (cumulative[p.alight_stop] - cumulative[p.board_stop])
        for p in trip.passengers
    )


def cancel_trips(plan: Plan, trip_ids: set[str], detail: str) -> Plan:
    """`plan` without the trips `trip_ids`: their passengers are unserved as fleet_exhausted.

    A party always rides one trip, so it stays together (all unserved). The figures that
    depend on the trips are recomputed; the lower bounds stay those of the planned wave."""
    if not trip_ids:
        return plan
    gone = [t for t in plan.trips if t.trip_id in trip_ids]
    trips = tuple(t for t in plan.trips if t.trip_id not in trip_ids)
    unserved = tuple(
        sorted(
            [
                *plan.unserved,
                *(
                    Unserved(p.worker_id, UnservedReason.FLEET_EXHAUSTED, detail)
                    for t in gone
                    for p in t.passengers
                ),
            ],
            key=lambda u: u.worker_id,
        )
    )
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
    note = (
        f"fleet: {len(gone)} trip(s) cancelled, their {sum(len(t.passengers) for t in gone)} "
        f"worker(s) unserved as fleet_exhausted: {detail}"
    )
    return plan.replace(trips=trips, unserved=unserved, kpis=kpis, notes=(*plan.notes, note))


def _capped(
    fleet: Sequence[VehicleType], caps: dict[tuple[str, dt.date], int]
) -> tuple[VehicleType, ...]:
    """`fleet` with its per-date counts lowered to `caps` (dates it already caps stay capped)."""
    capped = []
    for vehicle in fleet:
        by_date = dict(vehicle.count_by_date)
        for (kind, day), n in caps.items():
            if kind == vehicle.vehicle_type:
                by_date[day] = min(n, by_date.get(day, n))
        capped.append(dataclasses.replace(vehicle, count_by_date=tuple(sorted(by_date.items()))))
    return tuple(capped)


def solve_within_fleet(
    scenario: Scenario,
    *,
    distances: DistanceProvider | None = None,
    locked: Sequence[Trip] = (),
    progress: Progress | None = None,
    max_rounds: int = 4,
    held: Sequence[Trip] = (),
    timer: EmptyDriveTimer | None = None,
) -> tuple[Plan, DutyResult]:
    """Plan `scenario` so that its physical coaches suffice over the whole season.

    `solve` holds fleet counts per departure date; a coach away on a three-day trip to Guizhou
    is not free the next day. After each plan the trips are chained into duties; while some
    coach type needs more coaches than the fleet has, the dates where departures exceed the
    coaches actually back at the depot get that many coaches (never more than before) and the
    scenario is planned again, so the planner moves flexible workers to other dates in their
    windows and reports the rest as `fleet_exhausted`. Later rounds get half the time of the
    one before. If a type is still short after `max_rounds`, the trips that no `count` coaches
    can drive are cancelled (`trips_beyond_fleet`: keeping the most passengers, never a locked
    or held trip) and their workers are unserved as `fleet_exhausted`, so the result fits the
    fleet unless the locked or held trips alone do not.

    `held` are trips of an earlier wave of the season, already planned: their coaches are
    chained with this wave's and hold the fleet while they are away. Their ids must differ
    from this wave's. Returns the plan (with its duties) and the duties of `held` and the plan.
    """
    provider = distances or default_distance_provider()
    depot = depot_of(scenario)
    if timer is None:
        timer = TimetableEmptyDriveTimer(provider, scenario.policy)
    current = scenario
    plan = solve(current, distances=provider, locked=locked, progress=progress)
    duties = coach_duties([*held, *plan.trips], scenario, provider, timer=timer)
    caps: dict[tuple[str, dt.date], int] = {}
    for round_number in range(1, max_rounds + 1):
        if not duties.kpis.shortages:
            break
        departures: dict[tuple[str, dt.date], int] = defaultdict(int)
        for trip in plan.trips:
            departures[(trip.vehicle_type, trip.departure_date)] += 1
        free = departure_caps([*held, *plan.trips], scenario, depot, timer)
        # Every date where coaches are away is capped, not only the over-full ones: workers
        # moved off a capped date must not land on a date their coach has not come back by.
        before = dict(caps)
        for key, cap in free.items():
            vehicle = next(v for v in scenario.fleet if v.vehicle_type == key[0])
            if departures.get(key, 0) > cap or cap < vehicle.count_on(key[1]):
                caps[key] = min(cap, caps.get(key, cap))
        if not caps or caps == before:
            break  # nothing new to cap: another round would plan the same
        limit = max(1.0, scenario.solver.time_limit_s / 2**round_number)
        current = scenario.replace(
            fleet=_capped(scenario.fleet, caps),
            solver=dataclasses.replace(scenario.solver, time_limit_s=limit),
        )
        plan = solve(current, distances=provider, locked=locked, progress=progress)
        duties = coach_duties([*held, *plan.trips], scenario, provider, timer=timer)
        plan = plan.replace(
            notes=(
                *plan.notes,
                f"fleet round {round_number}: departures capped on {len(caps)} type-dates "
                "where coaches are still away on earlier trips",
            )
        )
    if duties.kpis.shortages:
        keep = {t.trip_id for t in (*held, *locked)}
        beyond = trips_beyond_fleet(
            [*held, *plan.trips],
            scenario.fleet,
            depot=depot,
            timer=timer,
            policy=scenario.policy,
            keep=keep,
        )
        cancel = beyond - keep
        if cancel:
            plan = cancel_trips(
                plan,
                cancel,
                "every coach of the type is away on other trips of the season then",
            )
            duties = coach_duties([*held, *plan.trips], scenario, provider, timer=timer)
    return with_duties(plan, duties, {t.trip_id for t in plan.trips}), duties


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
