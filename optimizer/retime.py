"""Re-timing before cancelling: a trip no coach can drive at its planned departure may still be
driven later the same day, by a coach back in the meantime.

Every trip is timetabled at the best departure of its date (`optimizer.timetable.plan_timetable`:
the earliest arrival, so mostly the earliest departure hour). When the exact chaining of a short
fleet (`optimizer.duties.fleet_chains`) leaves a trip without a coach, a coach of its type (or a
larger one) may be back from an earlier trip a few hours after that departure: a coach back at
15:00 can take an evening departure, one whose crew rest ends at 07:10 a 07:00-slot departure an
hour later. `retime_into_gaps` finds such a coach and departure for each trip beyond the fleet
and re-times the trip there; the caller chains again to confirm (only trips that still do not
fit are then cancelled).

A re-timed trip keeps its date, stops, order, riders and seats; only the clock moves, and its
timetable is the rule engine's own (`optimizer.timetable.build_timetable`: rests, the 02:00-05:00
park, night speed, crew size) at the new departure.

`reschedule_into_chains` goes further for the trips still left out: a trip may move to any
legal hour of any date all its riders' windows allow, into a chain whose trips are first
compressed (each at its earliest legal departure after its coach is ready) and whose later
trips are pushed, within their own windows, where they must make room. Locked and kept trips
never move, and no move puts more trips of a type on one date than its count.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass

from optimizer.duties import EmptyDriveTimer, fleet_chains, link_earliest
from optimizer.geography.distance import DistanceProvider, Location
from optimizer.model import Policy, Stop, Trip, VehicleType
from optimizer.timetable import (
    Leg,
    ServiceStop,
    Timetable,
    build_timetable,
    departure_candidates,
    fill_service,
    on_timetable,
)

# Departures tried on a trip's date, minutes apart from the earliest departure hour (the
# planner's own timetable step, `optimizer.planning.context.TIMETABLE_STEP_MINUTES`, is an hour;
# a coach ready at 07:10 is worth a departure at 07:30).
RETIME_STEP_MINUTES = 30
# `retime_into_gaps` also hands a chained trip that blocks a gap to another coach back later
# on its date (`_relay`): near-50-tight's coaches of the first peak day were chained to the
# third day's 06:00 trips, so none took the second day's evening trip it was back for.
RETIME_RELAY = True


@dataclass(frozen=True)
class Shape:
    """What a trip's timetable is built from: its service stops and the legs between them."""

    service: tuple[ServiceStop, ...]
    legs: tuple[Leg, ...]


def service_stops(stops: Iterable[Stop]) -> tuple[ServiceStop, ...]:
    """The service stops (pickups and drop-offs, rests left out) of a timetabled trip's
    `stops`, each standing as long as it stood there (its dwell)."""
    return tuple(
        ServiceStop(
            kind="pickup" if stop.kind == "pickup" else "dropoff",
            lon=stop.lon,
            lat=stop.lat,
            dwell_s=int((stop.depart - stop.arrive).total_seconds()),
            company_id=stop.company_id,
            hub_id=stop.hub_id,
            adcode=stop.adcode,
            name=stop.name,
            board=stop.board,
            alight=stop.alight,
        )
        for stop in stops
        if stop.kind != "rest"
    )


def road_legs(service: Sequence[ServiceStop], provider: DistanceProvider) -> tuple[Leg, ...]:
    """The road legs between consecutive `service` stops from `provider`, as the planner's
    travel matrix and road lines give them (`optimizer.planning.trips`): metres, day-speed
    seconds (at least one between two different places) and the road line."""
    legs = []
    for a, b in itertools.pairwise(service):
        start, end = Location(a.lon, a.lat, a.adcode), Location(b.lon, b.lat, b.adcode)
        matrix = provider.matrix([start, end])
        metres, seconds = int(matrix.distance_m[0, 1]), int(matrix.duration_s[0, 1])
        seconds = max(seconds, 1 if (a.lon, a.lat) != (b.lon, b.lat) and metres else 0)
        legs.append(Leg(metres, seconds, line=tuple(provider.route_line(start, end))))
    return tuple(legs)


def trip_shape(trip: Trip, provider: DistanceProvider, policy: Policy) -> Shape | None:
    """The service stops and road legs `trip` was timetabled from, or None when rebuilding its
    timetable at its own departure does not give the same stops and times (then it is not
    re-timed: only a timetable the engine reproduces exactly is moved).

    Legs come from `provider` between consecutive service stops (`road_legs`)."""
    service = service_stops(trip.stops)
    if len(service) < 2:
        return None
    shape = Shape(service, road_legs(service, provider))
    again = build_timetable(shape.service, shape.legs, trip.departure, policy)
    if again.drivers != trip.drivers or _times(again.stops) != _times(trip.stops):
        return None
    return shape


def _times(stops: Iterable[Stop]) -> list[tuple[str, dt.datetime, dt.datetime, float]]:
    return [(s.kind, s.arrive, s.depart, round(s.km_from_previous, 3)) for s in stops]


def retimed(trip: Trip, table: Timetable) -> Trip:
    """`trip` on the timetable `table` of its own stops (riders, seats, date unchanged)."""
    old_index = [i for i, s in enumerate(trip.stops) if s.kind != "rest"]
    new_index = [i for i, s in enumerate(table.stops) if s.kind != "rest"]
    # Riders board and alight at the same service stops, whose indices move with the rests.
    index = dict(zip(old_index, new_index, strict=True))
    stops = fill_service(table.stops, (s for s in trip.stops if s.kind != "rest"))
    return on_timetable(trip, stops, index, table)


def _start(trip: Trip) -> Location:
    first = trip.stops[0]
    return Location(first.lon, first.lat, first.adcode)


@dataclass(frozen=True)
class _Slot:
    """A re-timed trip and the chain gap it goes into."""

    trip: Trip
    vehicle_type: str
    chain: int
    position: int


def retime_into_gaps(
    trips: Sequence[Trip],
    held: Sequence[Trip],
    fleet: Sequence[VehicleType],
    *,
    depot: Location,
    timer: EmptyDriveTimer,
    policy: Policy,
    provider: DistanceProvider,
    keep: Iterable[str] = (),
    retype: Callable[[Trip, VehicleType], Trip],
    allows: Callable[[Trip, str], bool] | None = None,
    relay_budget_s: float | None = None,
) -> tuple[list[Trip], int]:
    """`trips` with those beyond the fleet re-timed into a coach's free time on their date:
    (trips, how many were re-timed).

    The chains of the coaches (`fleet_chains`, with the `held` trips of earlier waves and the
    `keep` trips weighing most) leave some of `trips` in no chain. Each of them, most riders
    first, is tried in every gap of a chain of its own type or a larger one available on its
    date (between two trips, or after a coach's last): at the first legal departure of its
    date (`departure_candidates`, every `RETIME_STEP_MINUTES`), later than planned, at which
    the coach is ready at its first stop after the trip before (`link_earliest`, the duties'
    rule), with no extra rest beyond what the planned timetable had, and whose arrival still
    lets the coach reach the chain's next trip. The gap with the earliest such departure wins
    (own type before larger); the trip takes it, and later trips see the gap taken. A trip
    moved to a larger type is `retype`d (seats, cost), and only to a type `allows(trip, type)`
    (the charter-sign rule; None: any). Trips in `keep` (held, locked, filed,
    a top-up's earlier trips) and locked trips never move, nor do trips whose timetable the
    engine does not reproduce (`trip_shape`).

    A trip that finds no gap may still take one whose next trip blocks it (`_relay`, while
    `RETIME_RELAY`): that next trip of `trips` is handed, later on its own date, to another
    chain of the type whose coach is back by then. The count includes the trips handed on.
    With `relay_budget_s`, no relay is tried once that many wall seconds have passed.
    """
    deadline = None if relay_budget_s is None else time.monotonic() + relay_budget_s
    kept = set(keep)
    chains = fleet_chains(
        [*held, *trips], fleet, depot=depot, timer=timer, policy=policy, keep=kept
    )
    covered = {t.trip_id for by_type in chains.values() for chain in by_type for t in chain}
    types = {v.vehicle_type: v for v in fleet}
    beyond = sorted(
        (
            t
            for t in trips
            if t.trip_id not in covered
            and t.trip_id not in kept
            and not t.locked
            and t.vehicle_type in types
        ),
        key=lambda t: (-t.seats_used, t.departure, t.trip_id),
    )
    if not beyond:
        return list(trips), 0
    by_size = sorted(fleet, key=lambda v: (v.seats, v.fixed_cost, v.vehicle_type))
    # The independent checker holds a type to its count of trips on any one date: a coach
    # back the same day takes a second trip of that date only while the type has room.
    per_day = Counter(
        (t.vehicle_type, t.departure_date)
        for by_type in chains.values()
        for chain in by_type
        for t in chain
    )
    moved: dict[str, Trip] = {}
    wave = {t.trip_id for t in trips}
    for trip in beyond:
        mine = types[trip.vehicle_type]
        shape = trip_shape(trip, provider, policy)
        if shape is None:
            continue
        table_at = _Timetables(shape, policy, trip.departure)
        candidates = [
            at
            for at in departure_candidates(trip.departure_date, policy, RETIME_STEP_MINUTES)
            if at > trip.departure
        ]
        best: _Slot | None = None
        best_key: tuple[dt.datetime, int] | None = None
        vehicles = [mine] + [
            v
            for v in by_size
            if v.vehicle_type != mine.vehicle_type
            and v.seats >= trip.seats
            and v.available_on(trip.departure_date)
            and (allows is None or allows(trip, v.vehicle_type))
        ]
        for rank, vehicle in enumerate(vehicles):
            if per_day[(vehicle.vehicle_type, trip.departure_date)] >= vehicle.count:
                continue
            for number, chain in enumerate(chains.get(vehicle.vehicle_type, [])):
                slot = _best_in_chain(trip, chain, candidates, table_at, timer, policy)
                if slot is None:
                    continue
                position, table = slot
                key = (table.departure, rank)
                if best_key is None or key < best_key:
                    moved_trip = retimed(trip, table)
                    if vehicle.vehicle_type != trip.vehicle_type:
                        moved_trip = retype(moved_trip, vehicle)
                    best = _Slot(moved_trip, vehicle.vehicle_type, number, position)
                    best_key = key
        if best is None and RETIME_RELAY:
            for vehicle in vehicles:
                if per_day[(vehicle.vehicle_type, trip.departure_date)] >= vehicle.count:
                    continue
                candidate = trip if vehicle is mine else retype(trip, vehicle)
                relay = _relay(
                    candidate,
                    chains.get(vehicle.vehicle_type, []),
                    candidates,
                    table_at,
                    timer=timer,
                    policy=policy,
                    provider=provider,
                    kept=kept,
                    mine=wave,
                    deadline=deadline,
                )
                if relay is None:
                    continue
                number, chain, other, other_chain, shifted = relay
                chains[vehicle.vehicle_type][number] = chain
                chains[vehicle.vehicle_type][other] = other_chain
                per_day[(vehicle.vehicle_type, trip.departure_date)] += 1
                moved[trip.trip_id] = next(t for t in chain if t.trip_id == trip.trip_id)
                moved[shifted.trip_id] = shifted
                break
            continue
        if best is None:
            continue
        chains[best.vehicle_type][best.chain].insert(best.position, best.trip)
        per_day[(best.vehicle_type, trip.departure_date)] += 1
        moved[trip.trip_id] = best.trip
    return [moved.get(t.trip_id, t) for t in trips], len(moved)


def _relay(
    trip: Trip,
    chains: Sequence[list[Trip]],
    candidates: Sequence[dt.datetime],
    table_at: Callable[[dt.datetime], Timetable | None],
    *,
    timer: EmptyDriveTimer,
    policy: Policy,
    provider: DistanceProvider,
    kept: Set[str],
    mine: Set[str],
    deadline: float | None = None,
) -> tuple[int, list[Trip], int, list[Trip], Trip] | None:
    """`trip` re-timed into a chain whose coach is back in time but whose next trip (`after`)
    it cannot then reach, that next trip handed, later on its own date, to another chain of the
    type whose coach is back by then: (chain index, its new trips, other chain index, its new
    trips, the handed trip), or None. The coach back from a far trip of one peak day takes a
    second, evening trip the next day; the trip of the day after it was chained to goes to a
    coach back from that next day's early trip (each trip keeps its date, riders and stops).
    Only trips of `mine` (this wave's) not in `kept` nor locked are handed on; None once the
    clock passes `deadline` (`time.monotonic`)."""
    for number, chain in enumerate(chains):
        if deadline is not None and time.monotonic() > deadline:
            return None
        for index, after in enumerate(chain):
            if index == 0 or after.departure <= trip.departure:
                continue
            if after.trip_id in kept or after.trip_id not in mine or after.locked:
                break
            without = [*chain[:index], *chain[index + 1 :]]
            slot = _best_in_chain(trip, without, candidates, table_at, timer, policy)
            if slot is None or slot[0] != index:
                continue
            shape = trip_shape(after, provider, policy)
            if shape is None:
                break
            tables = _Timetables(shape, policy, after.departure)
            later = [
                at
                for at in departure_candidates(after.departure_date, policy, RETIME_STEP_MINUTES)
                if at > after.departure
            ]
            for other, other_chain in enumerate(chains):
                if other == number:
                    continue
                handed = _best_in_chain(after, other_chain, later, tables, timer, policy)
                if handed is None:
                    continue
                position, table = handed
                shifted = retimed(after, table)
                placed = retimed(trip, slot[1])
                return (
                    number,
                    [*without[:index], placed, *without[index:]],
                    other,
                    [*other_chain[:position], shifted, *other_chain[position:]],
                    shifted,
                )
            break
    return None


class _Timetables:
    """A trip's timetables by departure (built once each); None where the engine finds no
    legal crew or needs more extra rest than at the planned departure."""

    def __init__(self, shape: Shape, policy: Policy, planned: dt.datetime) -> None:
        self.shape = shape
        self.policy = policy
        self.extra = build_timetable(shape.service, shape.legs, planned, policy).extra_rest_minutes
        self.tables: dict[dt.datetime, Timetable | None] = {}

    def __call__(self, at: dt.datetime) -> Timetable | None:
        if at not in self.tables:
            table = build_timetable(self.shape.service, self.shape.legs, at, self.policy)
            legal = table.legal and table.extra_rest_minutes <= self.extra
            self.tables[at] = table if legal else None
        return self.tables[at]


def _best_in_chain(
    trip: Trip,
    chain: Sequence[Trip],
    candidates: Sequence[dt.datetime],
    table_at: Callable[[dt.datetime], Timetable | None],
    timer: EmptyDriveTimer,
    policy: Policy,
) -> tuple[int, Timetable] | None:
    """The earliest re-timing of `trip` into a gap of `chain` (sorted by departure): (index to
    insert at, timetable), or None."""
    if not candidates:
        return None
    start = _start(trip)
    last_at = candidates[-1]
    best: tuple[int, Timetable] | None = None
    for position in range(1, len(chain) + 1):
        before = chain[position - 1]
        after = chain[position] if position < len(chain) else None
        if before.departure >= last_at:
            break
        if after is not None and after.departure <= trip.departure:
            continue
        ready = link_earliest(before, start, timer, policy)
        if ready > last_at:
            continue
        for at in candidates:
            if at < ready:
                continue
            table = table_at(at)
            if table is None:
                continue
            if after is not None:
                moved = dataclasses.replace(
                    trip, stops=table.stops, driving_minutes=table.driving_minutes
                )
                if link_earliest(moved, _start(after), timer, policy) > after.departure:
                    break  # a later departure reaches the next trip no sooner
            if best is None or table.departure < best[1].departure:
                best = (position, table)
            break
    return best


# -- Moving dates and compressing chains ---------------------------------------------------------


@dataclass(frozen=True)
class _Insertion:
    """A chain with a trip beyond the fleet put in: the chain's trips in order, how many of its
    trips already in it moved, and the inserted trip."""

    chain: list[Trip]
    moved: list[Trip]
    trip: Trip


class _Mover:
    """The earliest legal departure of a trip at or after an instant, on a date its riders'
    windows allow, with the engine's own timetable (cached per trip and departure)."""

    def __init__(
        self,
        windows: Mapping[str, tuple[dt.date, dt.date]],
        policy: Policy,
        provider: DistanceProvider,
        keep: Set[str],
    ) -> None:
        self.windows = windows
        self.policy = policy
        self.provider = provider
        self.keep = keep
        self.tables: dict[str, _Timetables | None] = {}

    def movable(self, trip: Trip) -> bool:
        return (
            trip.trip_id in self.windows
            and trip.trip_id not in self.keep
            and not trip.locked
            and self._tables(trip) is not None
        )

    def may_leave_earlier(self, trip: Trip) -> bool:
        """Whether `trip`'s window has a departure before its own (cheap: no timetable)."""
        window = self.windows.get(trip.trip_id)
        if window is None:
            return False
        dawn = dt.datetime.combine(
            trip.departure_date, dt.time(self.policy.earliest_departure_hour)
        )
        return window[0] < trip.departure_date or trip.departure > dawn

    def may_leave_by(self, trip: Trip, ready: dt.datetime) -> bool:
        """Whether `trip`'s window has a departure hour at or after `ready` (cheap)."""
        window = self.windows.get(trip.trip_id)
        if window is None:
            return False
        return ready <= dt.datetime.combine(window[1], dt.time(self.policy.latest_departure_hour))

    def _tables(self, trip: Trip) -> _Timetables | None:
        if trip.trip_id not in self.tables:
            shape = trip_shape(trip, self.provider, self.policy)
            self.tables[trip.trip_id] = (
                None if shape is None else _Timetables(shape, self.policy, trip.departure)
            )
        return self.tables[trip.trip_id]

    def earliest(
        self,
        trip: Trip,
        ready: dt.datetime | None,
        vehicle: VehicleType,
        open_on: Callable[[dt.date], bool] = lambda day: True,
    ) -> Trip | None:
        """`trip` at its earliest legal departure not before `ready` (None: any) on a date of
        its window on which `vehicle`'s type may depart and that is `open_on`, or None."""
        tables = self._tables(trip)
        if tables is None or trip.trip_id not in self.windows:
            return None
        first, last = self.windows[trip.trip_id]
        day = first if ready is None else max(first, ready.date())
        while day <= last:
            if vehicle.available_on(day) and (day == trip.departure_date or open_on(day)):
                for at in departure_candidates(day, self.policy, RETIME_STEP_MINUTES):
                    if ready is not None and at < ready:
                        continue
                    table = tables(at)
                    if table is None:
                        continue
                    if at == trip.departure:
                        return trip
                    return dataclasses.replace(retimed(trip, table), departure_date=day)
            day += dt.timedelta(days=1)
        return None


def _ready(
    before: Trip | None, trip: Trip, timer: EmptyDriveTimer, policy: Policy
) -> dt.datetime | None:
    return None if before is None else link_earliest(before, _start(trip), timer, policy)


def _compressed(
    chain: Sequence[Trip],
    mover: _Mover,
    vehicle: VehicleType,
    timer: EmptyDriveTimer,
    policy: Policy,
    open_on: Callable[[dt.date], bool],
) -> list[Trip]:
    """`chain` with every trip that may move at its earliest legal departure after the coach is
    ready (never later than planned): the chain then ends as early as it can."""
    out: list[Trip] = []
    for trip in chain:
        before = out[-1] if out else None
        if mover.may_leave_earlier(trip) and mover.movable(trip):
            earlier = mover.earliest(trip, _ready(before, trip, timer, policy), vehicle, open_on)
            if earlier is not None and earlier.departure < trip.departure:
                trip = earlier
        out.append(trip)
    return out


def _insert(
    chain: Sequence[Trip],
    trip: Trip,
    mover: _Mover,
    vehicle: VehicleType,
    timer: EmptyDriveTimer,
    policy: Policy,
    open_on: Callable[[dt.date], bool],
) -> _Insertion | None:
    """`trip` put into `chain` where it moves the fewest of the chain's trips (then departs
    earliest): at its earliest legal departure of its window after the coach is ready, the
    chain's later trips pushed to their earliest legal departure after it where they must be
    (each within its own window). None when no position works."""
    best: _Insertion | None = None
    for position in range(len(chain) + 1):
        before = chain[position - 1] if position else None
        ready = _ready(before, trip, timer, policy)
        if ready is not None and not mover.may_leave_by(trip, ready):
            break  # later positions have the coach ready later still
        placed = mover.earliest(trip, ready, vehicle, open_on)
        if placed is None:
            continue
        out, moved, previous = [*chain[:position], placed], [], placed
        for index in range(position, len(chain)):
            after = chain[index]
            ready = link_earliest(previous, _start(after), timer, policy)
            if after.departure >= ready:
                out.extend(chain[index:])
                break
            pushed = (
                mover.earliest(after, ready, vehicle, open_on)
                if mover.may_leave_by(after, ready) and mover.movable(after)
                else None
            )
            if pushed is None:
                out = []
                break
            out.append(pushed)
            moved.append(pushed)
            previous = pushed
        if not out:
            continue
        candidate = _Insertion(out, moved, placed)
        if best is None or (len(moved), placed.departure) < (
            len(best.moved),
            best.trip.departure,
        ):
            best = candidate
    return best


def reschedule_into_chains(
    trips: Sequence[Trip],
    held: Sequence[Trip],
    fleet: Sequence[VehicleType],
    *,
    depot: Location,
    timer: EmptyDriveTimer,
    policy: Policy,
    provider: DistanceProvider,
    windows: Mapping[str, tuple[dt.date, dt.date]],
    keep: Iterable[str] = (),
    retype: Callable[[Trip, VehicleType], Trip],
    allows: Callable[[Trip, str], bool] | None = None,
    budget_s: float | None = None,
) -> tuple[list[Trip], int, int]:
    """`trips` with those beyond the fleet put into the coaches' chains by moving departures:
    (trips, how many were put in, how many chained trips moved to make room).

    Where `retime_into_gaps` only moves a trip later on its own date, this moves dates and
    chains too: each trip beyond the fleet (most riders first) may depart at any legal hour of
    any date of `windows[trip_id]` (the dates all its riders' windows allow, within the
    season), and a chain it goes into is first compressed (each of its movable trips at the
    earliest legal departure after its coach is ready, so the chain ends early) and its later
    trips pushed to their earliest legal departure after the new one where they must (each
    within its own window). The chain moving the fewest trips wins, then the earliest
    departure, own type before a larger one (`retype`, only where `allows`); chains that take
    nothing keep their trips as planned. Timetables are the engine's own
    (`build_timetable`: rests, the 02:00-05:00 park, crew; no more extra rest than planned)
    and links the duties' rule (`link_earliest`); the caller chains again to confirm. Trips in
    `keep`, locked trips, trips without a window and trips whose timetable the engine does not
    reproduce never move. With `budget_s`, no further trip is tried once that many wall seconds
    have passed (the trips already put in stay).
    """
    deadline = None if budget_s is None else time.monotonic() + budget_s
    kept = set(keep)
    chains = fleet_chains(
        [*held, *trips], fleet, depot=depot, timer=timer, policy=policy, keep=kept
    )
    covered = {t.trip_id for by_type in chains.values() for chain in by_type for t in chain}
    types = {v.vehicle_type: v for v in fleet}
    mover = _Mover(windows, policy, provider, kept)
    beyond = sorted(
        (t for t in trips if t.trip_id not in covered and t.vehicle_type in types),
        key=lambda t: (-t.seats_used, t.departure, t.trip_id),
    )
    beyond = [t for t in beyond if mover.movable(t)]
    if not beyond:
        return list(trips), 0, 0
    by_size = sorted(fleet, key=lambda v: (v.seats, v.fixed_cost, v.vehicle_type))
    # Trips per type and date: the independent checker holds a type to its count of trips on
    # any one date, so a move never fills a date beyond it (a date the trip already has is
    # always open to it; the whole chain is checked before it is taken).
    per_day: Counter[tuple[str, dt.date]] = Counter(
        (t.vehicle_type, t.departure_date)
        for by_type in chains.values()
        for chain in by_type
        for t in chain
    )

    def open_on(vehicle: VehicleType) -> Callable[[dt.date], bool]:
        return lambda day: per_day[(vehicle.vehicle_type, day)] < vehicle.count

    def within_days(vehicle: VehicleType, old: Sequence[Trip], new: Sequence[Trip]) -> bool:
        after = per_day.copy()
        after.subtract((vehicle.vehicle_type, t.departure_date) for t in old)
        after.update((vehicle.vehicle_type, t.departure_date) for t in new)
        return all(after[(vehicle.vehicle_type, t.departure_date)] <= vehicle.count for t in new)

    compressed: dict[tuple[str, int], list[Trip]] = {}
    replaced: dict[str, Trip] = {}
    placed = 0
    for trip in beyond:
        if deadline is not None and time.monotonic() > deadline:
            break
        mine = types[trip.vehicle_type]
        vehicles = [mine] + [
            v
            for v in by_size
            if v.vehicle_type != mine.vehicle_type
            and v.seats >= trip.seats
            and (allows is None or allows(trip, v.vehicle_type))
        ]
        options: list[tuple[tuple[int, int, dt.datetime], int, VehicleType, _Insertion]] = []
        for rank, vehicle in enumerate(vehicles):
            candidate = trip if rank == 0 else retype(trip, vehicle)
            ok = open_on(vehicle)
            for number, chain in enumerate(chains.get(vehicle.vehicle_type, [])):
                key = (vehicle.vehicle_type, number)
                if key not in compressed:
                    compressed[key] = _compressed(chain, mover, vehicle, timer, policy, ok)
                insertion = _insert(compressed[key], candidate, mover, vehicle, timer, policy, ok)
                if insertion is None:
                    continue
                score = (len(insertion.moved), rank, insertion.trip.departure)
                options.append((score, number, vehicle, insertion))
        options.sort(key=lambda o: (o[0], o[2].vehicle_type, o[1]))
        for _, number, vehicle, insertion in options:
            old = chains[vehicle.vehicle_type][number]
            if not within_days(vehicle, old, insertion.chain):
                continue
            per_day.subtract((vehicle.vehicle_type, t.departure_date) for t in old)
            per_day.update((vehicle.vehicle_type, t.departure_date) for t in insertion.chain)
            chains[vehicle.vehicle_type][number] = insertion.chain
            compressed[(vehicle.vehicle_type, number)] = insertion.chain
            for moved in insertion.chain:
                replaced[moved.trip_id] = moved
            placed += 1
            break
    changed = {
        t.trip_id
        for t in trips
        if t.trip_id in replaced and replaced[t.trip_id] != t and t.trip_id in covered
    }
    return [replaced.get(t.trip_id, t) for t in trips], placed, len(changed)


# -- Evening departures before the chaining ------------------------------------------------------

# `evening_departures` offers the exact chaining each movable trip of a short type at evening
# departures too (the first legal one from this clock hour, and the day's last legal one), so a
# coach back from the day before's early trip takes it in the evening. Off: on near-50-tight's
# first plan (same input) its fit seated 6,986 -> 7,090, but side by side with main over three
# pairs the whole plan seated 7,135 / 7,211 / 7,171 -> 7,060 / 7,199 / 7,135 (the later passes,
# eliminate and the top-up, found less coach time after it) and took 1.22x the wall time;
# burst-20k-80 +577 and -255 in two pairs (docs/benchmarks.md, "evening").
RETIME_EVENINGS = False
EVENING_FROM_HOUR = 18
EVENING_ROUNDS = 8
# Marks a trip's evening variant while the chaining compares them (never in a plan).
_VARIANT = "~evening"


def _evening_tables(trip: Trip, provider: DistanceProvider, policy: Policy) -> list[Timetable]:
    """`trip`'s legal timetables at evening departures of its date (no more extra rest than
    planned, later than planned): the first from `EVENING_FROM_HOUR` and the last of the day."""
    shape = trip_shape(trip, provider, policy)
    if shape is None:
        return []
    table_at = _Timetables(shape, policy, trip.departure)
    evening = [
        at
        for at in departure_candidates(trip.departure_date, policy, RETIME_STEP_MINUTES)
        if at > trip.departure and at.hour >= EVENING_FROM_HOUR
    ]
    first = next((t for t in (table_at(at) for at in evening) if t is not None), None)
    last = next((t for t in (table_at(at) for at in reversed(evening)) if t is not None), None)
    tables = [t for t in (first, last) if t is not None]
    return list({t.departure: t for t in tables}.values())


def evening_departures(
    trips: Sequence[Trip],
    held: Sequence[Trip],
    fleet: Sequence[VehicleType],
    *,
    depot: Location,
    timer: EmptyDriveTimer,
    policy: Policy,
    provider: DistanceProvider,
    keep: Iterable[str] = (),
) -> tuple[list[Trip], int]:
    """`trips` with some moved to an evening departure of their date so that the coaches of a
    short type carry more seats: (trips, how many moved).

    The first plan times every trip at its date's best departure (mostly the earliest hour), so
    the exact chaining sees the second peak day's trips leave at 06:00, when the first peak
    day's coaches are still away, although many are back for that day's evening. Here the
    chaining (`fleet_chains`, exact) is offered, for each trip of a type short of coaches (not
    kept, held or locked), its evening timetables too (`_evening_tables`: the engine's, no more
    extra rest than planned) as variants weighing the same seats. A trip whose variant is in a
    chain and whose planned timing is not moves to that variant (the earliest such); the chains
    of the moved trips are then compared with the plan's (the seats they carry, the same exact
    cover) and the moves kept only when more seats fit and no type then has more trips on one
    date than its count (the checker's rule). Dates, stops, riders and seats stay."""
    if not RETIME_EVENINGS:
        return list(trips), 0
    kept = set(keep)
    everything = [*held, *trips]

    def carried(chains: Mapping[str, list[list[Trip]]]) -> int:
        return sum(t.seats_used for by_type in chains.values() for c in by_type for t in c)

    count = {v.vehicle_type: v.count for v in fleet}

    def within_day_counts(chains: Mapping[str, list[list[Trip]]]) -> bool:
        # The independent checker holds a type to its count of trips on any one date: a coach
        # may now drive a morning and an evening trip of one date.
        per_day = Counter(
            (t.vehicle_type, t.departure_date)
            for by_type in chains.values()
            for c in by_type
            for t in c
        )
        return all(n <= count.get(vehicle_type, 0) for (vehicle_type, _), n in per_day.items())

    chains = fleet_chains(everything, fleet, depot=depot, timer=timer, policy=policy, keep=kept)
    counts = Counter(t.vehicle_type for t in everything)
    short = {v.vehicle_type for v in fleet if counts[v.vehicle_type] > v.count}
    variants: list[Trip] = []
    for trip in trips:
        if trip.trip_id in kept or trip.locked or trip.vehicle_type not in short:
            continue
        for number, table in enumerate(_evening_tables(trip, provider, policy)):
            variant = retimed(trip, table)
            variants.append(
                dataclasses.replace(variant, trip_id=f"{trip.trip_id}{_VARIANT}{number}")
            )
    if not variants:
        return list(trips), 0
    # A trip and its variants may be in several chains at once (the cover knows no "one of
    # them"): a trip in more than one chain weighs less, in all its timings, in the next round
    # (a Lagrangian price on "at most once"), one left out weighs more again. Each round
    # proposes the timings its chains use (the planned one where it is in a chain, else the
    # earliest variant in one); the proposal whose exact cover carries the most seats wins.
    movable = {t.trip_id: t for t in trips}
    of_trip: dict[str, list[Trip]] = defaultdict(list)
    for variant in variants:
        of_trip[variant.trip_id.split(_VARIANT)[0]].append(variant)
    price: dict[str, int] = dict.fromkeys(of_trip, 0)
    step = max(1, round(sum(movable[p].seats_used for p in of_trip) / len(of_trip) / 4))
    best: tuple[int, list[Trip], int] = (carried(chains), list(trips), 0)
    best_chains = chains
    tried: set[frozenset[tuple[str, str]]] = set()
    for _ in range(EVENING_ROUNDS):
        weight = {
            t.trip_id: max(1, t.seats_used - price[planned])
            for planned, found in of_trip.items()
            for t in (movable[planned], *found)
        }
        offered = fleet_chains(
            [*everything, *variants],
            fleet,
            depot=depot,
            timer=timer,
            policy=policy,
            keep=kept,
            weigh=weight,
        )
        in_chain = {t.trip_id for by_type in offered.values() for c in by_type for t in c}
        chosen: dict[str, Trip] = {}
        doubled: list[Trip] = []
        for planned, found in of_trip.items():
            inside = [v for v in sorted(found, key=lambda t: t.departure) if v.trip_id in in_chain]
            if inside and planned not in in_chain:
                chosen[planned] = dataclasses.replace(inside[0], trip_id=planned)
            elif inside:
                doubled.append(inside[0])
            times = len(inside) + (planned in in_chain)
            price[planned] = max(0, price[planned] + step * (times - 1))
        # A trip in a chain at its planned time and at an evening one: the evening place goes
        # to a trip of the same type and date in no chain, at its own evening timing.
        left = [
            t
            for t in trips
            if t.trip_id in of_trip and t.trip_id not in in_chain and t.trip_id not in chosen
        ]
        for variant in doubled:
            other = next(
                (
                    t
                    for t in left
                    if t.vehicle_type == variant.vehicle_type
                    and t.departure_date == variant.departure_date
                    and t.trip_id not in chosen
                ),
                None,
            )
            if other is None:
                continue
            timing = min(
                of_trip[other.trip_id],
                key=lambda t: (abs((t.departure - variant.departure).total_seconds()), t.departure),
            )
            chosen[other.trip_id] = dataclasses.replace(timing, trip_id=other.trip_id)
        key = frozenset((planned, str(t.departure)) for planned, t in chosen.items())
        if chosen and key not in tried:
            tried.add(key)
            moved = [chosen.get(t.trip_id, t) for t in trips]
            after = fleet_chains(
                [*held, *moved], fleet, depot=depot, timer=timer, policy=policy, keep=kept
            )
            if carried(after) > best[0] and within_day_counts(after):
                best = (carried(after), moved, len(chosen))
                best_chains = after
    if not best[2]:
        return list(trips), 0
    return _earliest_in_gaps(best[1], trips, best_chains, timer, policy, provider), best[2]


def _earliest_in_gaps(
    moved: Sequence[Trip],
    planned: Sequence[Trip],
    chains: Mapping[str, list[list[Trip]]],
    timer: EmptyDriveTimer,
    policy: Policy,
    provider: DistanceProvider,
) -> list[Trip]:
    """`moved` with each trip moved to the evening brought forward to the earliest legal
    departure (after its planned one) at which its chain's coach is ready and still reaches the
    chain's next trip (`_best_in_chain`): a coach back at 16:28 takes it at 16:30, not 18:00."""
    before = {t.trip_id: t for t in planned}
    out = list(moved)
    for by_type in chains.values():
        for chain in by_type:
            for index, trip in enumerate(chain):
                old = before.get(trip.trip_id)
                if old is None or old.departure == trip.departure or index == 0:
                    continue
                shape = trip_shape(old, provider, policy)
                if shape is None:
                    continue
                candidates = [
                    at
                    for at in departure_candidates(old.departure_date, policy, RETIME_STEP_MINUTES)
                    if old.departure < at < trip.departure
                ]
                without = [*chain[:index], *chain[index + 1 :]]
                table_at = _Timetables(shape, policy, old.departure)
                slot = _best_in_chain(old, without, candidates, table_at, timer, policy)
                if slot is None or slot[0] != index:
                    continue
                earlier = retimed(old, slot[1])
                chain[index] = earlier
                out = [earlier if t.trip_id == trip.trip_id else t for t in out]
    return out
