"""Hand adjustments of a finished plan: move a seated worker (with their party) to another trip,
possibly on another date, without re-planning.

A move never changes a coach's stops or timetable: the target trip must already stop where the
worker boards and alights, have the free seats, leave on a date of the worker's window, and the
worker's ride on it must stay within the detour limit (direct time x detour_ratio + grace), and,
given the season's charter-sign rule, its coach (the crew's operator, else the fleet's operator
of its coach type) must be one that may drive it (one end of the route where the operator is
registered; a move changes no stops, so this refuses only trips the rule already forbids, e.g.
after the fleet's registration places changed). Refusing, not warning, is the convention of
every manual change here (moves, crews): the dispatcher sees why and re-plans.

The source trip loses the stops where nobody boards or alights any more (the mover was the last
rider there: a coach never stops for nobody, and manifests, trip sheets and maps show no empty
stop) and is re-timed by the rule engine (`optimizer.timetable.build_timetable`: rests, the
02:00-05:00 park, crew size) on the road legs between the stops it keeps, leaving its first kept
stop when it left it before; its km, driving time, crew and cost follow. Should that timetable
be illegal or a remaining rider's ride exceed the detour limit (and be longer than before), the
move is refused. A trip left without passengers is dropped. Locked (published) trips are neither
source nor target: changing them is a re-plan. Pure: no I/O, no language; a refusal is a reason
code with values (the api layer words it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from optimizer.charter import SignRule, sign_breach
from optimizer.geography.distance import DistanceProvider
from optimizer.model import Passenger, Plan, Policy, Stop, Trip, VehicleType, Worker
from optimizer.retime import road_legs, service_stops
from optimizer.timetable import (
    ServiceStop,
    Timetable,
    build_timetable,
    fill_service,
    on_timetable,
)


class MoveReason(StrEnum):
    """Why a move was refused."""

    NOT_SEATED = "not_seated"  # the worker has no seat in this plan
    NO_TRIP = "no_trip"  # the target trip does not exist
    SAME_TRIP = "same_trip"  # the worker already sits on the target trip
    LOCKED = "locked"  # the source or target trip is locked
    OUTSIDE_WINDOW = "outside_window"  # the target leaves on a date outside the worker's window
    NO_BOARDING_STOP = "no_boarding_stop"  # the target does not stop where the worker boards
    NO_ALIGHTING_STOP = "no_alighting_stop"  # the target does not stop where the worker alights
    NO_SEATS = "no_seats"  # not enough free seats on the target
    RIDE_TOO_LONG = "ride_too_long"  # the worker's ride on the target exceeds the detour limit
    CHARTER_SIGN = "charter_sign"  # the target's coach may not drive its route (charter sign)
    # Without the stop(s) nobody rides from or to any more, the source trip has no legal
    # timetable, or a remaining rider's ride grows beyond the detour limit.
    SOURCE_UNTIMED = "source_untimed"


@dataclass(frozen=True)
class MoveRefused:
    """A refused move: the reason and the values that explain it."""

    reason: MoveReason
    values: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Moved:
    """A done move: the new plan, who moved, whether the source trip was dropped, and the
    names of the stops the source trip lost (it was re-timed without them)."""

    plan: Plan
    worker_ids: tuple[str, ...]
    from_trip: str
    to_trip: str
    dropped: bool
    removed_stops: tuple[str, ...] = ()


PlaceKey = tuple[str, str | None, str | None, str | None, float, float]


def place_key(stop: Stop | ServiceStop) -> PlaceKey:
    """What makes two stops the same place for a passenger (a move keeps a rider's places;
    `optimizer.eliminate` moves riders likewise)."""
    return (
        stop.kind,
        stop.company_id,
        stop.hub_id,
        stop.adcode,
        round(stop.lon, 5),
        round(stop.lat, 5),
    )


def on_new_stops(
    trip: Trip,
    stops: tuple[Stop, ...],
    moved_to: Mapping[int, int],
    table: Timetable,
    vehicle: VehicleType | None,
) -> Trip:
    """`trip` over other `stops` (`optimizer.timetable.on_timetable`) with the table's km, and
    the coach type's cost for them (fixed plus per km; kept as it was when `vehicle` is
    unknown)."""
    cost = (
        trip.cost
        if vehicle is None
        else round(vehicle.fixed_cost + vehicle.cost_per_km * table.distance_km, 2)
    )
    moved = on_timetable(trip, stops, moved_to, table)
    return dataclasses.replace(moved, distance_km=table.distance_km, cost=cost)


def _find(trip: Trip, stop: Stop, *, after: int = -1) -> int | None:
    for index, candidate in enumerate(trip.stops):
        if index > after and place_key(candidate) == place_key(stop):
            return index
    return None


def _free_seat(trip: Trip, count: int) -> int:
    """The first seat number from which `count` seats in a row are free."""
    taken = {p.seat + k for p in trip.passengers for k in range(p.seat_count)}
    seat = 1
    while any(seat + k in taken for k in range(count)):
        seat += 1
    return seat


def _without(stop: Stop, worker_ids: set[str]) -> Stop:
    return dataclasses.replace(
        stop,
        board=tuple(w for w in stop.board if w not in worker_ids),
        alight=tuple(w for w in stop.alight if w not in worker_ids),
    )


def _recount(plan: Plan, trips: tuple[Trip, ...]) -> Plan:
    offered = sum(t.seats for t in trips)
    used = sum(t.seats_used for t in trips)
    kpis = dataclasses.replace(
        plan.kpis,
        trips=len(trips),
        seats_offered=offered,
        seat_utilization=used / offered if offered else 0.0,
        coach_km=sum(t.distance_km for t in trips),
        cost=sum(t.cost for t in trips),
    )
    return plan.replace(trips=trips, kpis=kpis)


def _ride_minutes(trip: Trip, passenger: Passenger) -> float:
    board, alight = trip.stops[passenger.board_stop], trip.stops[passenger.alight_stop]
    return (alight.arrive - board.depart).total_seconds() / 60


def without_empty_stops(
    trip: Trip,
    *,
    policy: Policy,
    distances: DistanceProvider,
    direct_minutes: Callable[[Stop, Stop], float],
    fleet: Sequence[VehicleType] = (),
) -> Trip | MoveRefused:
    """`trip` without its pickups and drop-offs where nobody boards or alights, re-timed (or
    `trip` itself when it has none); a refusal (SOURCE_UNTIMED) when the timetable without them
    is illegal, longer than `policy.max_trip_km`, or lengthens a rider's ride beyond the detour
    limit (`direct_minutes(board, alight)`: direct driving minutes).

    The legs between the kept stops come from `distances` (metres, day-speed seconds, road
    line); the coach leaves its first kept stop when it left it in `trip`. Km, driving minutes
    and crew size are the new timetable's; the cost is the trip's coach type's (`fleet`: fixed
    cost plus cost per km), kept as it was when the type is no longer in `fleet`."""
    service = [(index, stop) for index, stop in enumerate(trip.stops) if stop.kind != "rest"]
    kept = [(index, stop) for index, stop in service if stop.board or stop.alight]
    if len(kept) == len(service):
        return trip
    removed = [stop for _, stop in service if not (stop.board or stop.alight)]
    refused = MoveRefused(
        MoveReason.SOURCE_UNTIMED,
        {"trip": trip.trip_id, "stop": ", ".join(s.name or s.adcode or "" for s in removed)},
    )
    kept_stops = [stop for _, stop in kept]
    service_kept = service_stops(kept_stops)
    table = build_timetable(
        service_kept, road_legs(service_kept, distances), kept_stops[0].depart, policy
    )
    too_long = policy.max_trip_km is not None and table.distance_km > policy.max_trip_km
    if not table.legal or too_long:
        return refused
    stops = fill_service(table.stops, kept_stops)
    new_index = [index for index, stop in enumerate(stops) if stop.kind != "rest"]
    index = {old: new for (old, _), new in zip(kept, new_index, strict=True)}
    vehicle = next((v for v in fleet if v.vehicle_type == trip.vehicle_type), None)
    shorter = on_new_stops(trip, stops, index, table, vehicle)
    for before, after in zip(trip.passengers, shorter.passengers, strict=True):
        ride = _ride_minutes(shorter, after)
        if ride <= _ride_minutes(trip, before):
            continue
        board, alight = stops[after.board_stop], stops[after.alight_stop]
        if ride > direct_minutes(board, alight) * policy.detour_ratio + policy.detour_grace_minutes:
            return refused
    return shorter


def move_passenger(
    plan: Plan,
    *,
    worker: Worker,
    to_trip_id: str,
    policy: Policy,
    direct_minutes: Callable[[Stop, Stop], float],
    distances: DistanceProvider,
    fleet: Sequence[VehicleType] = (),
    sign: SignRule | None = None,
) -> Moved | MoveRefused:
    """`plan` with `worker` (and the members of their party on the same trip) moved to the trip
    `to_trip_id`, or why not. `direct_minutes(board, alight)` is the direct driving time
    between two stops, for the detour limit; `distances` gives the road legs and `fleet` the
    coach types' costs for re-timing the source trip without a stop it no longer needs
    (`without_empty_stops`); `sign` the season's charter-sign rule for the plan's trips
    (`charter.sign_rule`; None: not checked)."""
    trips = {t.trip_id: t for t in plan.trips}
    source = next(
        (t for t in plan.trips if any(p.worker_id == worker.worker_id for p in t.passengers)),
        None,
    )
    if source is None:
        return MoveRefused(MoveReason.NOT_SEATED)
    target = trips.get(to_trip_id)
    if target is None:
        return MoveRefused(MoveReason.NO_TRIP, {"trip": to_trip_id})
    if target.trip_id == source.trip_id:
        return MoveRefused(MoveReason.SAME_TRIP, {"trip": to_trip_id})
    for trip in (source, target):
        if trip.locked:
            return MoveRefused(MoveReason.LOCKED, {"trip": trip.trip_id})
    breach = None if sign is None else sign_breach(target, sign)
    if breach is not None:
        return MoveRefused(
            MoveReason.CHARTER_SIGN,
            {
                "trip": breach.trip_id,
                "operator": breach.operator,
                "start": breach.start,
                "end": breach.end,
            },
        )
    if not worker.earliest <= target.departure_date <= worker.latest:
        return MoveRefused(
            MoveReason.OUTSIDE_WINDOW,
            {
                "date": target.departure_date.isoformat(),
                "earliest": worker.earliest.isoformat(),
                "latest": worker.latest.isoformat(),
            },
        )
    mover = next(p for p in source.passengers if p.worker_id == worker.worker_id)
    group = [
        p
        for p in source.passengers
        if p.worker_id == worker.worker_id
        or (mover.party and p.party == mover.party and p.company_id == mover.company_id)
    ]
    board = _find(target, source.stops[mover.board_stop])
    if board is None:
        return MoveRefused(MoveReason.NO_BOARDING_STOP, {"trip": target.trip_id})
    alight = _find(target, source.stops[mover.alight_stop], after=board)
    if alight is None:
        return MoveRefused(MoveReason.NO_ALIGHTING_STOP, {"trip": target.trip_id})
    seats = sum(p.seat_count for p in group)
    free = target.seats - target.seats_used
    if seats > free:
        return MoveRefused(MoveReason.NO_SEATS, {"needed": str(seats), "free": str(free)})
    on_board = target.stops[board], target.stops[alight]
    ride = (on_board[1].arrive - on_board[0].depart).total_seconds() / 60
    allowed = direct_minutes(*on_board) * policy.detour_ratio + policy.detour_grace_minutes
    if ride > allowed:
        return MoveRefused(
            MoveReason.RIDE_TOO_LONG, {"ride": f"{ride:.0f}", "allowed": f"{allowed:.0f}"}
        )
    moving = {p.worker_id for p in group}
    placed: list[Passenger] = []
    new_target = target
    for passenger in sorted(group, key=lambda p: p.seat):
        seat = _free_seat(new_target, passenger.seat_count)
        moved = dataclasses.replace(passenger, seat=seat, board_stop=board, alight_stop=alight)
        placed.append(moved)
        new_target = dataclasses.replace(new_target, passengers=(*new_target.passengers, moved))
    stops = list(target.stops)
    stops[board] = dataclasses.replace(stops[board], board=(*stops[board].board, *sorted(moving)))
    stops[alight] = dataclasses.replace(
        stops[alight], alight=(*stops[alight].alight, *sorted(moving))
    )
    new_target = dataclasses.replace(new_target, stops=tuple(stops))
    remaining = tuple(p for p in source.passengers if p.worker_id not in moving)
    emptied = dataclasses.replace(
        source, passengers=remaining, stops=tuple(_without(s, moving) for s in source.stops)
    )
    new_source: Trip | MoveRefused = emptied
    if remaining:
        new_source = without_empty_stops(
            emptied,
            policy=policy,
            distances=distances,
            direct_minutes=direct_minutes,
            fleet=fleet,
        )
    if isinstance(new_source, MoveRefused):
        return new_source
    removed = (
        ()
        if not remaining
        else tuple(
            s.name or s.adcode or ""
            for s in emptied.stops
            if s.kind != "rest" and not (s.board or s.alight)
        )
    )
    new_trips: list[Trip] = []
    for trip in plan.trips:
        if trip.trip_id == source.trip_id:
            if remaining:
                new_trips.append(new_source)
        elif trip.trip_id == target.trip_id:
            new_trips.append(new_target)
        else:
            new_trips.append(trip)
    return Moved(
        plan=_recount(plan, tuple(new_trips)),
        worker_ids=tuple(sorted(moving)),
        from_trip=source.trip_id,
        to_trip=target.trip_id,
        dropped=not remaining,
        removed_stops=removed,
    )
