"""Fleet sizing: how many physical coaches of each type a season needs, and from when to when.

The season is planned with an unlimited fleet (every coach type as many coaches as there are
workers, on every date its availability dates allow), so every worker who can be seated at all
is seated. Its trips, both waves together, are then chained into coach duties by the exact
minimum-cost path cover of `optimizer.duties` (a coach back from Guizhou on day d+3 takes a trip
on d+3; on a return wave it first drives out empty). The number of duties of a type is the
fewest coaches of that type that can drive those trips (proven by the min-cost flow); the
unlimited plan with those duties is a plan that seats everyone seatable within that fleet.

`fleet_advice` compares those needs with the fleet a plan was made with, to tell a dispatcher
whose plan left workers `fleet_exhausted` how many coaches of which type to add, and from which
day on.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from optimizer.duties import (
    DutyResult,
    EmptyDriveTimer,
    TimetableEmptyDriveTimer,
    build_duties,
    layover_minutes,
    origin_side,
)
from optimizer.errors import InvalidInput
from optimizer.geography.distance import DistanceProvider, Location
from optimizer.model import (
    FleetAdvice,
    Plan,
    Scenario,
    Trip,
    UnservedReason,
    VehicleType,
)

if TYPE_CHECKING:
    from optimizer.season import SeasonPlan

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class FleetNeed:
    """Coaches of one type a season needs: `count` physical coaches, busy (out of the depot,
    empty drives included) from `needed_from` to `needed_to`; both None when the type is not
    needed at all."""

    vehicle_type: str
    seats: int
    count: int
    needed_from: dt.date | None
    needed_to: dt.date | None


@dataclass(frozen=True)
class FleetSize:
    """The answer of `size_fleet`: the fleet, the season's workers and how many of them it seats.

    `seated` are the workers the unlimited-fleet plan seats (everyone seatable); the others
    cannot be seated by any number of coaches (bad rows, unknown homes, too far, ...).
    `trips` and `solve_seconds` are the unlimited plan's trips and the wall time of the sizing;
    `witness` is that plan with its duties: a plan that seats `seated` workers within `fleet`.
    """

    fleet: tuple[FleetNeed, ...]
    workers: int
    seated: int
    trips: int = 0
    solve_seconds: float = 0.0
    witness: SeasonPlan | None = field(default=None, compare=False, repr=False)

    def count_of(self, vehicle_type: str) -> int:
        """Coaches of `vehicle_type` needed (0 when the type is not needed)."""
        return next((f.count for f in self.fleet if f.vehicle_type == vehicle_type), 0)

    def to_json(self) -> dict[str, object]:
        """The issue's JSON shape: `fleet` lines, `workers`, `seated` (dates ISO or null)."""
        return {
            "fleet": [
                {
                    "vehicle_type": f.vehicle_type,
                    "seats": f.seats,
                    "count": f.count,
                    "needed_from": f.needed_from.isoformat() if f.needed_from else None,
                    "needed_to": f.needed_to.isoformat() if f.needed_to else None,
                }
                for f in self.fleet
            ],
            "workers": self.workers,
            "seated": self.seated,
        }


def unlimited_fleet(scenario: Scenario, coaches: int | None = None) -> Scenario:
    """`scenario` with every coach type's count raised so it never binds: `coaches` (default:
    as many as the scenario has workers; never below the count given) on every date;
    availability dates stay. A season passes its waves' workers together, as the coaches a
    homeward wave still holds count against the return wave."""
    raised = max(1, len(scenario.workers) if coaches is None else coaches)
    fleet = tuple(
        dataclasses.replace(v, count=max(v.count, raised), count_by_date=()) for v in scenario.fleet
    )
    return scenario.replace(fleet=fleet)


def with_fleet(scenario: Scenario, size: FleetSize) -> Scenario:
    """`scenario` with each coach type's count set to the sized count (types keep their tariff,
    depot and availability dates; per-date counts are dropped)."""
    fleet = tuple(
        dataclasses.replace(v, count=size.count_of(v.vehicle_type), count_by_date=())
        for v in scenario.fleet
    )
    return scenario.replace(fleet=fleet)


def _waves(scenarios: Scenario | Sequence[Scenario]) -> list[Scenario]:
    waves = [scenarios] if isinstance(scenarios, Scenario) else list(scenarios)
    if not waves:
        raise InvalidInput("a season needs at least one wave")
    return waves


def size_fleet(
    scenarios: Scenario | Sequence[Scenario],
    *,
    distances: DistanceProvider | None = None,
    progress: Progress | None = None,
    time_limit_s: float | None = None,
) -> FleetSize:
    """The fewest physical coaches per type, and the dates they are needed, that seat everyone
    seatable in the season.

    Parameters:
        scenarios: one scenario (one wave) or the season's waves (home and return, one origin);
            their fleets name the coach types (tariff, seats, depot, availability dates); the
            counts given are ignored.
        distances: road metres and driving seconds (default: the road graph).
        progress: called with (fraction done 0..1, message).
        time_limit_s: planning seconds per wave (default: each scenario's `[solver]`).

    Returns the count per coach type of the scenarios' fleets (0 for a type the plan does not
    use), each with the first and last day a coach of that type is away from its depot.
    """
    from optimizer.season import plan_season
    from optimizer.solve import default_distance_provider

    started = time.perf_counter()
    waves = _waves(scenarios)
    if time_limit_s is not None:
        waves = [
            w.replace(solver=dataclasses.replace(w.solver, time_limit_s=time_limit_s))
            for w in waves
        ]
    provider = distances or default_distance_provider()
    everyone = sum(len(w.workers) for w in waves)
    season = plan_season(
        [unlimited_fleet(w, everyone) for w in waves], distances=provider, progress=progress
    )
    types = _types(waves)
    fleet = tuple(_need(spec, season.duties) for spec in types.values())
    return FleetSize(
        fleet=fleet,
        workers=sum(p.kpis.workers for p in season.waves),
        seated=sum(p.kpis.seated for p in season.waves),
        trips=sum(p.kpis.trips for p in season.waves),
        solve_seconds=round(time.perf_counter() - started, 2),
        witness=season,
    )


def _types(waves: Sequence[Scenario]) -> dict[str, VehicleType]:
    """Each coach type of the season once, in the order first given."""
    types: dict[str, VehicleType] = {}
    for wave in waves:
        for vehicle in wave.fleet:
            types.setdefault(vehicle.vehicle_type, vehicle)
    return types


def _need(spec: VehicleType, duties: DutyResult) -> FleetNeed:
    mine = [d for d in duties.duties if d.vehicle_type == spec.vehicle_type and d.legs]
    if not mine:
        return FleetNeed(spec.vehicle_type, spec.seats, 0, None, None)
    return FleetNeed(
        vehicle_type=spec.vehicle_type,
        seats=spec.seats,
        count=len(mine),
        needed_from=min(d.legs[0].start.date() for d in mine),
        needed_to=max(d.legs[-1].end.date() for d in mine),
    )


# ------------------------------------------------------------------------------ plan advice


def fleet_exhausted(plans: Sequence[Plan]) -> int:
    """Workers of `plans` unserved because the fleet ran out."""
    return sum(1 for p in plans for u in p.unserved if u.reason == UnservedReason.FLEET_EXHAUSTED)


def _leaves_depot(
    trip: Trip, depot: Location, timer: EmptyDriveTimer, scenario: Scenario
) -> dt.datetime:
    """When a coach must leave `depot` to drive out empty to `trip`'s first stop in time."""
    first = trip.stops[0]
    out = timer(depot, Location(first.lon, first.lat, first.adcode), trip.departure)
    if not out.distance_km:
        return trip.departure
    at_origin = origin_side(first)  # a homeward trip's gate or hub: a fresh crew may take it
    rest = dt.timedelta(minutes=layover_minutes(out.driving_minutes, scenario.policy, at_origin))
    return trip.departure - (out.arrive - out.depart) - rest


def _coaches(
    trips: Sequence[Trip],
    spec: VehicleType,
    depot: Location,
    timer: EmptyDriveTimer,
    scenario: Scenario,
) -> int:
    if not trips:
        return 0
    result = build_duties(trips, (spec,), depot=depot, timer=timer, policy=scenario.policy)
    return len(result.duties)


def advice_from_trips(
    trips: Sequence[Trip],
    fleet: Sequence[VehicleType],
    scenario: Scenario,
    *,
    distances: DistanceProvider,
) -> tuple[FleetAdvice, ...]:
    """What to add to `fleet` so that coaches suffice for `trips` (an unlimited-fleet plan's).

    Per coach type whose duties need more coaches than `fleet` has: add `add` coaches from
    `from_date`, the first day on which the trips whose coaches have left the depot by the end
    of that day need more coaches than the fleet has (exact chaining of those trips; the
    need only grows day by day, so the day is found by bisection).
    """
    from optimizer.season import depot_of

    depot = depot_of(scenario)
    timer = TimetableEmptyDriveTimer(distances, scenario.policy)
    counts = {v.vehicle_type: v for v in fleet}
    by_type: dict[str, list[Trip]] = defaultdict(list)
    for trip in trips:
        by_type[trip.vehicle_type].append(trip)
    advice: list[FleetAdvice] = []
    for vehicle_type, group in sorted(by_type.items()):
        spec = counts.get(vehicle_type)
        if spec is None:
            continue
        type_depot = depot
        if spec.depot_lon is not None and spec.depot_lat is not None:
            type_depot = Location(spec.depot_lon, spec.depot_lat)
        need = _coaches(group, spec, type_depot, timer, scenario)
        if need <= spec.count:
            continue
        leave = {t.trip_id: _leaves_depot(t, type_depot, timer, scenario).date() for t in group}
        days = sorted(set(leave.values()))
        low, high = 0, len(days) - 1  # need(days[high]) > count: find the first such day
        while low < high:
            middle = (low + high) // 2
            prefix = [t for t in group if leave[t.trip_id] <= days[middle]]
            if _coaches(prefix, spec, type_depot, timer, scenario) > spec.count:
                high = middle
            else:
                low = middle + 1
        advice.append(
            FleetAdvice(
                vehicle_type=vehicle_type,
                seats=spec.seats,
                add=need - spec.count,
                from_date=days[low],
                fleet=spec.count,
                needed=need,
            )
        )
    return tuple(advice)


def fleet_advice(
    scenarios: Scenario | Sequence[Scenario],
    plans: Sequence[Plan],
    *,
    distances: DistanceProvider | None = None,
    time_share: float = 0.25,
    min_time_limit_s: float = 2.0,
) -> tuple[FleetAdvice, ...]:
    """Coaches to add so that a season's plans would seat everyone: empty unless `plans` have
    `fleet_exhausted` workers (only then is anything computed).

    The season is planned once more with an unlimited fleet, with `time_share` of each wave's
    time limit (at least `min_time_limit_s`), and its trips chained against the scenarios' fleet
    (`advice_from_trips`). It is an estimate from a shorter search; `size_fleet` with the full
    time limit gives the considered answer.
    """
    if not fleet_exhausted(plans):
        return ()
    from optimizer.season import merged_fleet, plan_season
    from optimizer.solve import default_distance_provider

    waves = _waves(scenarios)
    provider = distances or default_distance_provider()
    everyone = sum(len(w.workers) for w in waves)
    shortened = [
        unlimited_fleet(w, everyone).replace(
            solver=dataclasses.replace(
                w.solver, time_limit_s=max(min_time_limit_s, w.solver.time_limit_s * time_share)
            )
        )
        for w in waves
    ]
    season = plan_season(shortened, distances=provider)
    ordered = sorted(waves, key=lambda s: 0 if s.direction == "home" else 1)
    trips = [t for p in season.waves for t in p.trips]
    return advice_from_trips(trips, merged_fleet(ordered), ordered[0], distances=provider)


def with_advice(plan: Plan, advice: Sequence[FleetAdvice]) -> Plan:
    """`plan` whose fleet figures carry `advice` (a plan without fleet figures is returned as
    it is: there are no duties to advise on)."""
    if plan.fleet_kpis is None or not advice:
        return plan
    return plan.replace(fleet_kpis=dataclasses.replace(plan.fleet_kpis, advice=tuple(advice)))


def advice_text(advice: FleetAdvice) -> str:
    """The advice in words, e.g. "add 35 coach-53 from 02-14" (English; the catalogue's key
    is `fleet_advice`)."""
    return f"add {advice.add} {advice.vehicle_type} from {advice.from_date:%m-%d}"


def season_with_advice(season: SeasonPlan, advice: Sequence[FleetAdvice]) -> SeasonPlan:
    """`season` whose season-wide fleet figures and waves carry `advice`."""
    if not advice:
        return season
    kpis = dataclasses.replace(season.duties.kpis, advice=tuple(advice))
    return dataclasses.replace(
        season,
        waves=tuple(with_advice(w, advice) for w in season.waves),
        duties=dataclasses.replace(season.duties, kpis=kpis),
    )
