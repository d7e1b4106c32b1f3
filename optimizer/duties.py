"""Coach duties: chain a season's trips into the work of physical coaches.

A duty is the sequence of trips one coach drives, with the empty (deadhead) drives between them and
from and back to its depot. Chaining is a minimum path cover of the "can follow" graph of trips,
solved exactly as a min-cost flow per coach type: first the fewest coaches, then the fewest deadhead
km. A link i -> j exists when the coach, after trip i, its crew's layover and a legal empty drive to
the start of j, is there before j departs.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from optimizer.charter import SignRefusal, SignRule, assign_types
from optimizer.geography.distance import DistanceProvider, Location, great_circle_km
from optimizer.model import Duty, DutyLeg, FleetKpis, Plan, Policy, Stop, Trip, VehicleType
from optimizer.routing import min_cost_flow


@dataclass(frozen=True)
class EmptyDrive:
    """A legal empty drive: when it leaves and arrives, its road km, driving and crew."""

    depart: dt.datetime
    arrive: dt.datetime
    distance_km: float
    driving_minutes: int
    drivers: int


EmptyDriveTimer = Callable[[Location, Location, dt.datetime], EmptyDrive]


def _place_key(location: Location) -> tuple[object, ...]:
    # Empty drives between places of one county time alike at county level; gates in the origin
    # city share one key so a season needs few timetable computations.
    return (
        (location.adcode,) if location.adcode else (round(location.lon, 3), round(location.lat, 3))
    )


@dataclass
class TimetableEmptyDriveTimer:
    """Times empty drives with the legal timetable engine (rests, night rules, 02:00-05:00 park).

    Road km come from `provider` once per pair of places. The timetable of an empty drive depends
    only on its length, its day-speed time and the clock time it leaves, so timetables are cached by
    those, rounded up (5 km, 10 min, `slot_minutes`): a rounded-up drive is never shorter than the
    real one, so a link accepted here is legal.
    """

    provider: DistanceProvider
    policy: Policy
    slot_minutes: int = 30
    _tables: dict[tuple[int, int, int], tuple[dt.timedelta, dt.timedelta, int, int]] = field(
        default_factory=dict, repr=False
    )
    _road: dict[tuple[object, ...], tuple[int, int]] = field(default_factory=dict, repr=False)

    def prepare(self, locations: Iterable[Location]) -> None:
        """Compute road km among all `locations` in one matrix call (much faster than by pair)."""
        unique = {_place_key(p): p for p in locations}
        places = list(unique.values())
        if len(places) < 2:
            return
        matrix = self.provider.matrix(places)
        keys = list(unique)
        for i, a in enumerate(keys):
            for j, b in enumerate(keys):
                self._road[(a, b)] = (int(matrix.distance_m[i, j]), int(matrix.duration_s[i, j]))

    def place_key(self, location: Location) -> tuple[object, ...]:
        """Places with one key are timed alike: a drive to or from them is the same drive."""
        return _place_key(location)

    def road(self, origin: Location, destination: Location) -> tuple[int, int]:
        """Road metres and day-speed seconds between two places (cached per place pair)."""
        key = (_place_key(origin), _place_key(destination))
        if key not in self._road:
            matrix = self.provider.matrix([origin, destination])
            self._road[key] = (int(matrix.distance_m[0, 1]), int(matrix.duration_s[0, 1]))
        return self._road[key]

    def __call__(self, origin: Location, destination: Location, depart: dt.datetime) -> EmptyDrive:
        metres, seconds = self.road(origin, destination)
        if metres == 0:
            return EmptyDrive(depart, depart, 0.0, 0, 1)
        slot_s = self.slot_minutes * 60
        day_start = depart.replace(hour=0, minute=0, second=0, microsecond=0)
        since_midnight = int((depart - day_start).total_seconds())
        slot = -(-since_midnight // slot_s)
        key = (-(-metres // 5000), -(-seconds // 600), slot)
        if key not in self._tables:
            from optimizer.timetable import Leg, ServiceStop, build_timetable

            leave = dt.datetime(2000, 1, 3) + dt.timedelta(seconds=slot * slot_s)
            stops = [
                ServiceStop(kind="pickup", lon=origin.lon, lat=origin.lat, dwell_s=0),
                ServiceStop(kind="dropoff", lon=destination.lon, lat=destination.lat, dwell_s=0),
            ]
            leg = Leg(distance_m=key[0] * 5000, duration_s=key[1] * 600)
            table = build_timetable(stops, [leg], leave, self.policy)
            self._tables[key] = (
                table.departure - leave,
                table.arrival - leave,
                table.driving_minutes,
                table.drivers,
            )
        wait, span, driving, drivers = self._tables[key]
        leave_at = day_start + dt.timedelta(seconds=slot * slot_s)
        return EmptyDrive(
            depart=leave_at + wait,
            arrive=leave_at + span,
            distance_km=metres / 1000,
            driving_minutes=driving,
            drivers=drivers,
        )


def _start(trip: Trip) -> Location:
    first = trip.stops[0]
    return Location(first.lon, first.lat, first.adcode)


def _end(trip: Trip) -> Location:
    last = trip.stops[-1]
    return Location(last.lon, last.lat, last.adcode)


def origin_side(stop: Stop) -> bool:
    """Whether `stop` is on the origin side: a company gate or a hub (where homeward trips start
    and return trips end); a county stop is the far end."""
    return bool(stop.company_id or stop.hub_id)


def layover_minutes(driving_minutes: int, policy: Policy, at_origin: bool = False) -> int:
    """Minutes a coach stands after a drive before it may move again (crew rest or turnaround).

    `at_origin`: the drive ends on the origin side (a return trip, an empty drive to a homeward
    trip's start or to the depot); with `policy.fresh_crew_at_origin` a fresh crew takes the
    coach there, so only the turnaround is stood. At the far end the crew stays and rests."""
    if at_origin and policy.fresh_crew_at_origin:
        return policy.turnaround_minutes
    if driving_minutes > policy.crew_rest_after_driving_minutes:
        return max(policy.crew_rest_minutes, policy.turnaround_minutes)
    return policy.turnaround_minutes


def overlap_bound(trips: Iterable[Trip]) -> int:
    """The largest number of trips whose time spans overlap: a lower bound on coaches."""
    events: list[tuple[dt.datetime, int]] = []
    for trip in trips:
        events.append((trip.departure, 1))
        events.append((trip.arrival, -1))
    events.sort(key=lambda e: (e[0], e[1]))  # an arrival frees its coach before a departure
    best = current = 0
    for _, delta in events:
        current += delta
        best = max(best, current)
    return best


@dataclass(frozen=True)
class DutyResult:
    """Duties of a season and their figures; `shortages` says where the fleet is too small."""

    duties: tuple[Duty, ...]
    kpis: FleetKpis
    # Trips the charter-sign rule left without a coach (build_duties' `sign`).
    refused: tuple[SignRefusal, ...] = ()
    # Coaches whose chain links only because a fresh crew takes them on the origin side
    # (`Policy.fresh_crew_at_origin`): the dispatcher must book their spare drivers.
    fresh_crews: frozenset[str] = frozenset()


def build_duties(
    trips: Sequence[Trip],
    fleet: Sequence[VehicleType],
    *,
    depot: Location,
    timer: EmptyDriveTimer,
    policy: Policy,
    sign: SignRule | None = None,
) -> DutyResult:
    """Chain `trips` into coach duties: fewest coaches per type, then fewest deadhead km.

    Parameters:
        trips: the season's trips (both waves may be mixed); each keeps its own vehicle type.
        fleet: coach types with counts; a type's `depot_lon/lat` overrides `depot`.
        depot: where coaches start and end their duties (default: the origin city).
        timer: times a legal empty drive between two places from a departure time.
        policy: turnaround and crew-rest minutes between drives.
        sign: the charter-sign rule (optimizer/charter.py): a coach drives a trip only when one
            end of the route lies in its operator's registration place. A trip whose planned
            type's operator may not drive it goes to another type (same seats first) whose
            operator may; a trip no type may drive is chained into no duty and listed in
            `kpis.sign_refused`. None: not checked.

    The chaining per type is an exact minimum-cost path cover (min-cost flow), so the number of
    coaches is the fewest possible under the link rule; `overlap_bound_by_type` is the trivial lower
    bound for comparison. Fleet counts are not enforced here: a type needing more coaches than it
    has is listed in `kpis.shortages` (the planner must move or refuse workers instead).
    """
    prepare = getattr(timer, "prepare", None)
    if prepare is not None:
        depots = [depot] + [
            Location(v.depot_lon, v.depot_lat)
            for v in fleet
            if v.depot_lon is not None and v.depot_lat is not None
        ]
        prepare([*depots, *(_start(t) for t in trips), *(_end(t) for t in trips)])
    chosen = {t.trip_id: t.vehicle_type for t in trips}
    refused: list[SignRefusal] = []
    if sign is not None:
        chosen, refused = assign_types(trips, fleet, sign)
    by_type: dict[str, list[Trip]] = defaultdict(list)
    for trip in trips:
        if trip.trip_id in chosen:
            by_type[chosen[trip.trip_id]].append(trip)
    types = {v.vehicle_type: v for v in fleet}

    duties: list[Duty] = []
    fresh_crews: set[str] = set()
    shortages: list[str] = []
    bounds: dict[str, int] = {}
    for vehicle_type in sorted(by_type):
        group = sorted(by_type[vehicle_type], key=lambda t: (t.departure, t.trip_id))
        spec = types.get(vehicle_type)
        type_depot = depot
        if spec is not None and spec.depot_lon is not None and spec.depot_lat is not None:
            type_depot = Location(spec.depot_lon, spec.depot_lat)
        chains = _chain(group, type_depot, timer, policy)
        bounds[vehicle_type] = overlap_bound(group)
        for number, chain in enumerate(chains, start=1):
            if policy.fresh_crew_at_origin and _needs_fresh_crew(chain, timer, policy):
                fresh_crews.add(f"{vehicle_type}-{number:03d}")
            duties.append(
                _duty(
                    f"{vehicle_type}-{number:03d}",
                    vehicle_type,
                    spec.operator if spec else "",
                    chain,
                    type_depot,
                    timer,
                    policy,
                )
            )
        if spec is not None and len(chains) > spec.count:
            shortages.append(
                f"coach type {vehicle_type}: duties need {len(chains)} coaches, "
                f"the fleet has {spec.count}"
            )
        if spec is None:
            shortages.append(f"coach type {vehicle_type}: not in the fleet")

    kpis = _kpis(duties, bounds, shortages)
    if refused:
        kpis = dataclasses.replace(kpis, sign_refused=tuple(r.trip_id for r in refused))
    return DutyResult(tuple(duties), kpis, tuple(refused), frozenset(fresh_crews))


def _needs_fresh_crew(chain: Sequence[Trip], timer: EmptyDriveTimer, policy: Policy) -> bool:
    """Whether some link of `chain` holds only with a fresh crew on the origin side: under the
    same policy without the setting, the coach would not be ready for the next trip."""
    plain = dataclasses.replace(policy, fresh_crew_at_origin=False)
    return any(
        link_earliest(before, _start(after), timer, plain, origin_side(after.stops[0]))
        > after.departure
        for before, after in itertools.pairwise(chain)
    )


def with_crew_note(plan: Plan, result: DutyResult) -> Plan:
    """`plan` (carrying its coaches from `result`) with the note of how many of them relied on
    a fresh crew on the origin side, so the dispatcher books those drivers; none when none. A
    plan given new duties keeps one such note, the latest."""
    kept = [n for n in plan.notes if not n.startswith(CREW_NOTE_HEAD)]
    count = sum(1 for d in plan.coaches if d.coach_id in result.fresh_crews)
    if not count:
        return plan.replace(notes=(*kept,))
    note = (
        f"crews: {count} coach(es) changed crews on the origin side "
        "(fresh_crew_at_origin): book their spare drivers"
    )
    return plan.replace(notes=(*kept, note))


# How the note of `with_crew_note` begins (a plan given new duties drops its old one by it).
CREW_NOTE_HEAD = "crews: "


@dataclass(frozen=True)
class _Links:
    """The can-follow graph of trips sorted by departure, with its empty metres.

    `out_m[i]` is the drive from the depot to trip i's start, `back_m[i]` from its end home;
    link k lets trip `tail[k]`'s coach take trip `head[k]`, driving `link_m[k]` metres empty.
    """

    out_m: np.ndarray
    back_m: np.ndarray
    tail: np.ndarray
    head: np.ndarray
    link_m: np.ndarray

    @property
    def saving(self) -> np.ndarray:
        """Metres saved by each link over driving home and out again."""
        saving: np.ndarray = self.back_m[self.tail] + self.out_m[self.head] - self.link_m
        return saving


def _links(trips: list[Trip], depot: Location, timer: EmptyDriveTimer, policy: Policy) -> _Links:
    """Every link allowed by the link rule; none is pruned.

    The empty drive from trip i to a start place depends only on i and that place (and, for a
    timer with `place_key`, only on the place's key), so it is timed once per (i, place) rather
    than once per pair of trips, and every trip j starting there that departs after the coach
    arrives (plus layover) is linked.
    """
    count = len(trips)
    out_m = np.array(
        [round(timer(depot, _start(t), t.departure).distance_km * 1000) for t in trips],
        dtype=np.int64,
    )
    back_m = np.array(
        [round(timer(_end(t), depot, t.arrival).distance_km * 1000) for t in trips],
        dtype=np.int64,
    )
    place_key = getattr(timer, "place_key", None)
    starts: dict[tuple[object, bool], tuple[Location, list[int]]] = {}
    for j, trip in enumerate(trips):
        start = _start(trip)
        key = place_key(start) if callable(place_key) else start
        starts.setdefault((key, origin_side(trip.stops[0])), (start, []))[1].append(j)
    # Trips are sorted by departure, so each place's list is too.
    places = [
        (location, side, np.array(js, dtype=np.int64), [trips[j].departure for j in js])
        for (_, side), (location, js) in starts.items()
    ]
    tails: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    heads: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    metres: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    for i in range(count):
        before = trips[i]
        ready = before.arrival + dt.timedelta(
            minutes=layover_minutes(before.driving_minutes, policy, origin_side(before.stops[-1]))
        )
        end = _end(before)
        for location, side, js, departures in places:
            if departures[-1] < ready:
                continue  # no trip leaves this place after the coach is ready: no drive to time
            drive = timer(end, location, ready)
            earliest = ready
            if drive.distance_km:
                earliest = max(
                    ready,
                    drive.arrive
                    + dt.timedelta(minutes=layover_minutes(drive.driving_minutes, policy, side)),
                )
            after = js[bisect.bisect_left(departures, earliest) :]
            after = after[after != i]
            if after.size == 0:
                continue
            tails.append(np.full(after.size, i, dtype=np.int64))
            heads.append(after)
            metres.append(np.full(after.size, round(drive.distance_km * 1000), dtype=np.int64))
    return _Links(
        out_m, back_m, np.concatenate(tails), np.concatenate(heads), np.concatenate(metres)
    )


def _chains_from(
    trips: list[Trip], successor: dict[int, int], used: Iterable[int]
) -> list[list[Trip]]:
    """The chains of `successor` links over the trips with index in `used`."""
    members = sorted(used)
    has_predecessor = set(successor.values())
    chains = []
    for i in members:
        if i in has_predecessor:
            continue
        chain = [trips[i]]
        while i in successor:
            i = successor[i]
            chain.append(trips[i])
        chains.append(chain)
    chains.sort(key=lambda c: (c[0].departure, c[0].trip_id))
    return chains


def _flow(
    nodes: int, supply: int, groups: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
) -> list[np.ndarray]:
    """Min-cost flow of `supply` units from node 0 to node 1 over arc groups (tails, heads,
    capacities, costs); the flows of each group, in order."""
    tails, heads, capacities, costs = (
        np.concatenate([np.asarray(g[k], dtype=np.int64) for g in groups]) for k in range(4)
    )
    supplies = np.zeros(nodes, dtype=np.int64)
    supplies[0], supplies[1] = supply, -supply
    flows = min_cost_flow(tails, heads, capacities, costs, supplies)
    bounds = np.cumsum([0, *(len(g[0]) for g in groups)])
    return [flows[bounds[k] : bounds[k + 1]] for k in range(len(groups))]


def _chain(
    trips: list[Trip], depot: Location, timer: EmptyDriveTimer, policy: Policy
) -> list[list[Trip]]:
    """Minimum-cost path cover of the can-follow graph of `trips` (sorted by departure).

    The cover is an assignment: each trip hands its coach to at most one later trip. It is
    solved exactly as a min-cost flow (`optimizer.routing.min_cost_flow`, OR-Tools) on the
    bipartite graph "trip i's coach" -> "trip j",
    whose arc i -> j costs `-(bonus + saving)`, saving being the deadhead metres saved by
    driving from i to j instead of home and out again. Every link saves one coach; `bonus` is
    more than twice the largest total saving any set of links can reach (each trip is the tail
    of at most one link, so a cover's savings are bounded by the sum of each trip's largest
    |saving|), so the fewest coaches come first and the least deadhead km second, exactly.
    """
    count = len(trips)
    if count == 0:
        return []
    links = _links(trips, depot, timer, policy)
    tail, head, saving = links.tail, links.head, links.saving
    largest = np.zeros(count, dtype=np.int64)
    np.maximum.at(largest, tail, np.abs(saving))
    bonus = 2 * int(largest.sum()) + 1

    # Nodes: 0 source, 1 sink, 2 + i trip i's coach, 2 + count + j trip j.
    nodes = np.arange(count, dtype=np.int64)
    zeros = np.zeros(count, dtype=np.int64)
    ones = np.ones(count, dtype=np.int64)
    *_, links_flow = _flow(
        2 + 2 * count,
        count,
        [
            (zeros, 2 + nodes, ones, zeros),
            (2 + count + nodes, ones, ones, zeros),
            (np.array([0]), np.array([1]), np.array([count]), np.array([0])),
            (2 + tail, 2 + count + head, np.ones(tail.size), -(bonus + saving)),
        ],
    )
    used = links_flow > 0
    successor = dict(zip(tail[used].tolist(), head[used].tolist(), strict=True))
    return _chains_from(trips, successor, range(count))


def _cover_within(
    trips: list[Trip],
    coaches: int,
    weight: Sequence[int],
    depot: Location,
    timer: EmptyDriveTimer,
    policy: Policy,
) -> list[list[Trip]]:
    """At most `coaches` chains over `trips` (sorted by departure) of the largest total `weight`,
    then the fewest deadhead km; trips left out are in no chain.

    Exact, as a min-cost flow of `coaches` units through the node-split can-follow graph: a
    unit is one coach, from the source out to a first trip (its out drive), along links, home
    (its back drive) to the sink, or straight from source to sink (a coach left unused).
    Passing trip v earns `weight[v] * scale`, `scale` being more than any set of chains' total
    deadhead km (each trip is first, last and a link's tail at most once), so weight comes
    first and km second. Km here are whole km, which keeps `weight * scale` times the node
    count (OR-Tools' cost-scaling range) far inside 64 bits.
    """
    count = len(trips)
    if count == 0 or coaches <= 0:
        return []
    links = _links(trips, depot, timer, policy)
    tail, head = links.tail, links.head
    out_km, back_km, link_km = (
        (m + 500) // 1000 for m in (links.out_m, links.back_m, links.link_m)
    )
    worst = np.zeros(count, dtype=np.int64)
    np.maximum.at(worst, tail, link_km)
    scale = int(out_km.sum() + back_km.sum() + worst.sum()) + 1
    # Nodes: 0 source, 1 sink, 2 + v into trip v, 2 + count + v out of trip v.
    nodes = np.arange(count, dtype=np.int64)
    ones = np.ones(count, dtype=np.int64)
    _, through, _, _, links_flow = _flow(
        2 + 2 * count,
        coaches,
        [
            (np.zeros(count), 2 + nodes, ones, out_km),
            (2 + nodes, 2 + count + nodes, ones, -np.asarray(weight, dtype=np.int64) * scale),
            (2 + count + nodes, ones, ones, back_km),
            (np.array([0]), np.array([1]), np.array([coaches]), np.array([0])),
            (2 + count + tail, 2 + head, np.ones(tail.size), link_km),
        ],
    )
    kept = np.flatnonzero(through > 0).tolist()
    used = links_flow > 0
    successor = dict(zip(tail[used].tolist(), head[used].tolist(), strict=True))
    return _chains_from(trips, successor, kept)


def trips_beyond_fleet(
    trips: Sequence[Trip],
    fleet: Sequence[VehicleType],
    *,
    depot: Location,
    timer: EmptyDriveTimer,
    policy: Policy,
    keep: Iterable[str] = (),
) -> set[str]:
    """Trip ids to cancel so that every coach type's duties fit its fleet count.

    Per type with more trips than one coach per trip would cover, the trips kept are those of
    at most `count` chains carrying the most passengers (seats taken), then the fewest
    deadhead km (`_cover_within`, exact). Trips in `keep` (e.g. filed trips, or another wave's
    plan) weigh more than all others together, so they are kept whenever they fit at all.
    """
    chains = fleet_chains(trips, fleet, depot=depot, timer=timer, policy=policy, keep=keep)
    covered = {t.trip_id for by_type in chains.values() for chain in by_type for t in chain}
    types = {v.vehicle_type for v in fleet}
    return {t.trip_id for t in trips if t.vehicle_type in types and t.trip_id not in covered}


def fleet_chains(
    trips: Sequence[Trip],
    fleet: Sequence[VehicleType],
    *,
    depot: Location,
    timer: EmptyDriveTimer,
    policy: Policy,
    keep: Iterable[str] = (),
    weigh: Mapping[str, int] | None = None,
) -> dict[str, list[list[Trip]]]:
    """Per coach type of the fleet, the chains its coaches drive: for a type with more trips
    than coaches, the at most `count` chains `trips_beyond_fleet` keeps (trips in no chain are
    beyond the fleet); for another, one chain per trip (each may have its own coach). A trip
    weighs its seats taken, or its `weigh` by trip id when given there."""
    prepare = getattr(timer, "prepare", None)
    if prepare is not None:
        prepare([depot, *(_start(t) for t in trips), *(_end(t) for t in trips)])
    kept = set(keep)
    types = {v.vehicle_type: v for v in fleet}
    by_type: dict[str, list[Trip]] = defaultdict(list)
    for trip in trips:
        by_type[trip.vehicle_type].append(trip)
    chains: dict[str, list[list[Trip]]] = {}
    for vehicle_type, group in sorted(by_type.items()):
        spec = types.get(vehicle_type)
        if spec is None:
            continue
        group.sort(key=lambda t: (t.departure, t.trip_id))
        if len(group) <= spec.count:
            chains[vehicle_type] = [[t] for t in group]
            continue
        type_depot = depot
        if spec.depot_lon is not None and spec.depot_lat is not None:
            type_depot = Location(spec.depot_lon, spec.depot_lat)
        given = weigh or {}
        seats = [max(1, given.get(t.trip_id, t.seats_used)) for t in group]
        heavy = sum(seats) + 1  # one kept trip outweighs all the others together
        weight = [heavy if t.trip_id in kept else s for t, s in zip(group, seats, strict=True)]
        chains[vehicle_type] = _cover_within(group, spec.count, weight, type_depot, timer, policy)
    return chains


def link_earliest(
    before: Trip,
    start: Location,
    timer: EmptyDriveTimer,
    policy: Policy,
    at_origin: bool | None = None,
) -> dt.datetime:
    """The earliest departure from `start` of a trip the coach of `before` may drive next:
    after `before`, its layover, the empty drive to `start` and that drive's layover (the link
    rule of the duties, `_links`, to the minute). `at_origin`: whether `start` is on the origin
    side (`origin_side` of the next trip's first stop); None: when it has no county code (the
    planner's gates and hubs carry none, a county stop its own)."""
    start_at_origin = not start.adcode if at_origin is None else at_origin
    at_end = origin_side(before.stops[-1])
    ready = before.arrival + dt.timedelta(
        minutes=layover_minutes(before.driving_minutes, policy, at_end)
    )
    drive = timer(_end(before), start, ready)
    if not drive.distance_km:
        return ready
    rest = layover_minutes(drive.driving_minutes, policy, start_at_origin)
    return max(ready, drive.arrive + dt.timedelta(minutes=rest))


def _duty(
    coach_id: str,
    vehicle_type: str,
    operator: str,
    chain: list[Trip],
    depot: Location,
    timer: EmptyDriveTimer,
    policy: Policy,
) -> Duty:
    legs: list[DutyLeg] = []

    def empty(
        origin: Location, destination: Location, depart: dt.datetime, arrive_by: dt.datetime | None
    ) -> None:
        drive = timer(origin, destination, depart)
        if drive.distance_km == 0:
            return
        start, end = drive.depart, drive.arrive
        if arrive_by is not None:
            # Drive out as late as allowed so the coach is not away longer than needed.
            shift = arrive_by - end
            start, end = start + shift, end + shift
        legs.append(
            DutyLeg(
                "deadhead",
                start,
                end,
                origin.lon,
                origin.lat,
                destination.lon,
                destination.lat,
                drive.distance_km,
                drivers=drive.drivers,
            )
        )

    first = chain[0]
    out = timer(depot, _start(first), first.departure)
    lead = out.arrive - out.depart
    empty(depot, _start(first), first.departure - lead, first.departure)
    for index, trip in enumerate(chain):
        start, end = _start(trip), _end(trip)
        legs.append(
            DutyLeg(
                "trip",
                trip.departure,
                trip.arrival,
                start.lon,
                start.lat,
                end.lon,
                end.lat,
                trip.distance_km,
                trip_id=trip.trip_id,
                drivers=trip.drivers,
            )
        )
        rest = layover_minutes(trip.driving_minutes, policy, origin_side(trip.stops[-1]))
        ready = trip.arrival + dt.timedelta(minutes=rest)
        if index + 1 < len(chain):
            empty(end, _start(chain[index + 1]), ready, None)
        else:
            empty(end, depot, ready, None)
    deadhead = sum(leg.distance_km for leg in legs if leg.kind == "deadhead")
    loaded = sum(leg.distance_km for leg in legs if leg.kind == "trip")
    busy = _busy_days(legs, depot)
    return Duty(
        coach_id=coach_id,
        vehicle_type=vehicle_type,
        operator=operator,
        trip_ids=tuple(t.trip_id for t in chain),
        legs=tuple(legs),
        deadhead_km=round(deadhead, 1),
        loaded_km=round(loaded, 1),
        days_busy=len(busy),
    )


# A coach standing within this distance of its depot (e.g. at a gate in the origin city) between
# two legs is idle at home, not away.
AT_DEPOT_KM = 30.0


def _days(start: dt.datetime, end: dt.datetime) -> set[dt.date]:
    last = (end - dt.timedelta(microseconds=1)).date() if end > start else start.date()
    return {start.date() + dt.timedelta(days=n) for n in range((last - start.date()).days + 1)}


def _busy_days(legs: Sequence[DutyLeg], depot: Location) -> set[dt.date]:
    """Calendar days a coach drives or stands away from its depot: the coach-days of a duty."""
    busy: set[dt.date] = set()
    for index, leg in enumerate(legs):
        busy |= _days(leg.start, leg.end)
        if index + 1 < len(legs):
            home = great_circle_km(leg.to_lon, leg.to_lat, depot.lon, depot.lat) <= AT_DEPOT_KM
            if not home:
                busy |= _days(leg.end, legs[index + 1].start)
    return busy


def _kpis(duties: Sequence[Duty], bounds: dict[str, int], shortages: list[str]) -> FleetKpis:
    by_type: dict[str, int] = defaultdict(int)
    for duty in duties:
        by_type[duty.vehicle_type] += 1
    # Summed from the legs, not from each duty's rounded figure, so rounding does not add up.
    deadhead = sum(leg.distance_km for d in duties for leg in d.legs if leg.kind == "deadhead")
    loaded = sum(leg.distance_km for d in duties for leg in d.legs if leg.kind == "trip")
    total = deadhead + loaded
    return FleetKpis(
        coaches_by_type=dict(sorted(by_type.items())),
        coaches=len(duties),
        coach_days=sum(d.days_busy for d in duties),
        deadhead_km=round(deadhead, 1),
        loaded_km=round(loaded, 1),
        loaded_km_share=round(loaded / total, 4) if total else 0.0,
        overlap_bound_by_type=dict(sorted(bounds.items())),
        shortages=tuple(shortages),
    )
