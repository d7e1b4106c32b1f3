"""Emptying thin trips when the fleet binds, then seating the fleet-exhausted on the seats left.

When the fleet is short, every trip costs a coach for one to four days, and a plan with many
thin trips leaves workers `fleet_exhausted` while seats ride empty. `eliminate_thin_trips` works
on a plan already fitted to the fleet (`optimizer.fleet_passes.FleetContext.fit`):

1. Thinnest trip first (never a locked or kept one), each party of its riders moves to another
   trip departing on a date of every member's window: onto stops that trip already makes where
   it has the seats, or by inserting one new stop (their boarding or their alighting place)
   where the stop limits (`max_pickup_stops`, `max_dropoff_stops`), every rider's detour limit,
   the legal timetable at the trip's own departure (driver hours, the 02:00-05:00 park, crew;
   no more extra rest than before, `max_trip_km`) and the charter-sign rule all still hold, and
   the coach chain the trip rides in (`optimizer.duties.fleet_chains`) still links before and
   after it. A trip goes only when all its riders move; its coach time is then free.
2. The fleet-exhausted workers (parties together) take free seats the same way: an existing
   stop or one inserted stop, on a trip of their window.

Both steps stop cleanly when the time budget runs out (the trip being emptied keeps its riders).
The caller chains the result again (exact) and keeps it only when it still fits the fleet.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass

from optimizer.adjust import PlaceKey, on_new_stops, place_key
from optimizer.charter import SignRule, route_ends
from optimizer.duties import EmptyDriveTimer, fleet_chains, link_earliest
from optimizer.geography.distance import DistanceProvider, Location, great_circle_km
from optimizer.model import (
    Passenger,
    Scenario,
    Stop,
    StopKind,
    Trip,
    Unserved,
    UnservedReason,
    VehicleType,
    Worker,
)
from optimizer.places import county_name, county_seats
from optimizer.retime import Shape, trip_shape
from optimizer.timetable import Leg, ServiceStop, build_timetable, fill_service

# Insertions tried per party, cheapest added great-circle km first: each costs a timetable and a
# detour check of every rider, and the first legal one is taken.
MAX_INSERTIONS_TRIED = 50
# Share of the pass's budget the emptying of trips may use; the seating of the fleet-exhausted
# gets the rest (and whatever the emptying left).
EMPTYING_SHARE = 0.6


@dataclass(frozen=True)
class Eliminated:
    """What the pass did: the trips (emptied ones gone), the unserved left, how many trips were
    emptied, how many fleet-exhausted workers were seated, and whether the budget ran out."""

    trips: list[Trip]
    unserved: list[Unserved]
    emptied: int
    seated: int
    out_of_time: bool


@dataclass(frozen=True)
class _Group:
    """A party (or one worker) to seat: the passengers (seat numbers to be given), the stops
    they may board and alight at (templates: their gate or a hub in reach, their county's
    stop), and the dates every member's window allows."""

    riders: tuple[Passenger, ...]
    boards: tuple[Stop, ...]
    alights: tuple[Stop, ...]
    first: dt.date
    last: dt.date

    @property
    def seats(self) -> int:
        return sum(p.seat_count for p in self.riders)


class _Road:
    """Road seconds, metres and lines between stops, from the provider (cached per pair)."""

    def __init__(self, provider: DistanceProvider) -> None:
        self.provider = provider
        self.pairs: dict[tuple[Location, Location], tuple[int, int]] = {}

    @staticmethod
    def location(stop: Stop | ServiceStop) -> Location:
        return Location(stop.lon, stop.lat, stop.adcode)

    def between(self, a: Stop | ServiceStop, b: Stop | ServiceStop) -> tuple[int, int]:
        key = (self.location(a), self.location(b))
        if key not in self.pairs:
            matrix = self.provider.matrix(list(key))
            self.pairs[key] = (int(matrix.distance_m[0, 1]), int(matrix.duration_s[0, 1]))
        return self.pairs[key]

    def leg(self, a: Stop | ServiceStop, b: Stop | ServiceStop, line: bool = True) -> Leg:
        """The leg from `a` to `b` as the planner builds it (`optimizer.retime.trip_shape`),
        with its road line unless not `line`."""
        metres, seconds = self.between(a, b)
        seconds = max(seconds, 1 if (a.lon, a.lat) != (b.lon, b.lat) and metres else 0)
        if not line:
            return Leg(metres, seconds)
        return Leg(
            metres, seconds, line=tuple(self.provider.route_line(*map(self.location, (a, b))))
        )


def rides_within_detour(
    trip: Trip, passengers: Sequence[Passenger], road: _Road, scenario: Scenario
) -> bool:
    """Whether each of `passengers` rides `trip` within the detour limit: day-speed road time of
    the legs between the service stops they ride plus the dwell at the service stops between,
    against the direct road time x detour_ratio + grace (the independent checker's rule)."""
    policy = scenario.policy
    service = [i for i, stop in enumerate(trip.stops) if stop.kind != "rest"]
    position = {index: k for k, index in enumerate(service)}
    for passenger in passengers:
        a, b = position.get(passenger.board_stop), position.get(passenger.alight_stop)
        if a is None or b is None or a >= b:
            return False
        ride = float(
            sum(
                road.between(trip.stops[service[k]], trip.stops[service[k + 1]])[1]
                for k in range(a, b)
            )
        )
        ride += sum(
            (trip.stops[service[k]].depart - trip.stops[service[k]].arrive).total_seconds()
            for k in range(a + 1, b)
        )
        direct = road.between(trip.stops[service[a]], trip.stops[service[b]])[1]
        if ride > direct * policy.detour_ratio + policy.detour_grace_minutes * 60:
            return False
    return True


def _free_seat(trip: Trip, count: int, taken: set[int]) -> int | None:
    for first in range(1, trip.seats - count + 2):
        if all(first + i not in taken for i in range(count)):
            return first
    return None


def _seated(trip: Trip, riders: Sequence[Passenger], board: int, alight: int) -> Trip | None:
    """`trip` with `riders` on free seats, boarding at stop `board` and alighting at `alight`
    (indices of `trip.stops`), or None when the seats are short."""
    taken = {p.seat + i for p in trip.passengers for i in range(p.seat_count)}
    added: list[Passenger] = []
    for rider in riders:
        seat = _free_seat(trip, rider.seat_count, taken)
        if seat is None:
            return None
        taken.update(seat + i for i in range(rider.seat_count))
        added.append(dataclasses.replace(rider, seat=seat, board_stop=board, alight_stop=alight))
    ids = tuple(p.worker_id for p in added)
    stops = list(trip.stops)
    stops[board] = dataclasses.replace(stops[board], board=(*stops[board].board, *ids))
    stops[alight] = dataclasses.replace(stops[alight], alight=(*stops[alight].alight, *ids))
    return dataclasses.replace(
        trip,
        stops=tuple(stops),
        passengers=tuple(sorted((*trip.passengers, *added), key=lambda p: p.seat)),
    )


def _without(trip: Trip, worker_ids: Set[str]) -> Trip:
    return dataclasses.replace(
        trip,
        passengers=tuple(p for p in trip.passengers if p.worker_id not in worker_ids),
        stops=tuple(
            dataclasses.replace(
                s,
                board=tuple(w for w in s.board if w not in worker_ids),
                alight=tuple(w for w in s.alight if w not in worker_ids),
            )
            for s in trip.stops
        ),
    )


class _Pass:
    """The working state of one pass: trips by id, the coach chains, caches."""

    def __init__(
        self,
        trips: Sequence[Trip],
        scenario: Scenario,
        *,
        held: Sequence[Trip],
        keep: Set[str],
        provider: DistanceProvider,
        timer: EmptyDriveTimer,
        depot: Location,
        rule: SignRule | None,
    ) -> None:
        self.scenario = scenario
        self.policy = scenario.policy
        self.provider = provider
        self.timer = timer
        self.rule = rule
        self.keep = keep
        self.road = _Road(provider)
        self.types: dict[str, VehicleType] = {v.vehicle_type: v for v in scenario.fleet}
        self.trips: dict[str, Trip] = {t.trip_id: t for t in trips}
        self.order = [t.trip_id for t in trips]
        chains = fleet_chains(
            [*held, *trips],
            scenario.fleet,
            depot=depot,
            timer=timer,
            policy=scenario.policy,
            keep=keep,
        )
        # Per trip: its chain (a list of trip ids in order), shared by the chain's trips.
        self.chain_of: dict[str, list[str]] = {}
        self.held = {t.trip_id: t for t in held}
        for by_type in chains.values():
            for chain in by_type:
                ids = [t.trip_id for t in chain]
                for trip_id in ids:
                    self.chain_of[trip_id] = ids
        self.shapes: dict[str, tuple[Trip, tuple[Shape, int] | None]] = {}
        self.stop_keys: dict[str, tuple[Trip, list[PlaceKey]]] = {}

    # -- what may change ------------------------------------------------------------------------

    def changeable(self, trip: Trip) -> bool:
        return not trip.locked and trip.trip_id not in self.keep

    def _trip(self, trip_id: str) -> Trip:
        return self.trips.get(trip_id) or self.held[trip_id]

    def links_hold(self, trip: Trip) -> bool:
        """Whether `trip` (changed in place) still follows its chain's trip before it and
        reaches the one after it."""
        chain = self.chain_of.get(trip.trip_id)
        if chain is None:
            return True
        index = chain.index(trip.trip_id)
        start = Location(trip.stops[0].lon, trip.stops[0].lat, trip.stops[0].adcode)
        if index > 0:
            before = self._trip(chain[index - 1])
            if link_earliest(before, start, self.timer, self.policy) > trip.departure:
                return False
        if index + 1 < len(chain):
            after = self._trip(chain[index + 1])
            first = after.stops[0]
            where = Location(first.lon, first.lat, first.adcode)
            if link_earliest(trip, where, self.timer, self.policy) > after.departure:
                return False
        return True

    def may_leave_chain(self, trip_id: str) -> bool:
        """Whether the chain of `trip_id` still links without it."""
        chain = self.chain_of.get(trip_id)
        if chain is None:
            return True
        index = chain.index(trip_id)
        if index == 0 or index + 1 == len(chain):
            return True
        before, after = self._trip(chain[index - 1]), self._trip(chain[index + 1])
        first = after.stops[0]
        where = Location(first.lon, first.lat, first.adcode)
        return link_earliest(before, where, self.timer, self.policy) <= after.departure

    def drop(self, trip_id: str) -> None:
        del self.trips[trip_id]
        chain = self.chain_of.pop(trip_id, None)
        if chain is not None:
            chain.remove(trip_id)

    # -- placing a group -----------------------------------------------------------------------

    def place(self, group: _Group, exclude: str | None) -> Trip | None:
        """`group` seated on another trip of its window (existing stops first, then one
        inserted stop, cheapest first): the changed trip, or None. Nothing is applied."""
        board_keys = {place_key(stop): stop for stop in group.boards}
        alight_keys = {place_key(stop): stop for stop in group.alights}
        inserts: list[tuple[float, str, int, PlaceKey, PlaceKey]] = []
        for trip_id in self.order:
            trip = self.trips.get(trip_id)
            if trip is None or trip_id == exclude or not self.changeable(trip):
                continue
            if not group.first <= trip.departure_date <= group.last:
                continue
            if trip.seats - trip.seats_used < group.seats:
                continue
            keys = self.keys(trip)
            boards_at = [i for i, k in enumerate(keys) if k in board_keys]
            alights_at = [i for i, k in enumerate(keys) if k in alight_keys]
            if boards_at and alights_at:
                for board, alight in itertools.product(boards_at, alights_at):
                    if board >= alight:
                        continue
                    seated = _seated(trip, group.riders, board, alight)
                    if seated is None:
                        break
                    added = [p for p in seated.passengers if p.worker_id in _ids(group)]
                    if rides_within_detour(seated, added, self.road, self.scenario):
                        return seated
                continue
            if alights_at:
                anchor = alights_at[0]
                missing = board_keys
            elif boards_at:
                anchor = boards_at[-1]
                missing = alight_keys
            else:
                continue
            for key, stop in missing.items():
                inserts.extend(
                    (km, trip_id, position, key, keys[anchor])
                    for km, position in self._insert_costs(trip, stop, anchor)
                )
        inserts.sort(key=lambda insert: (insert[0], insert[1], insert[2]))
        for _, trip_id, position, key, other in inserts[:MAX_INSERTIONS_TRIED]:
            stop = board_keys.get(key) or alight_keys[key]
            changed = self._inserted(self.trips[trip_id], group, position, stop, other)
            if changed is not None:
                return changed
        return None

    def _insert_costs(self, trip: Trip, stop: Stop, anchor: int) -> list[tuple[float, int]]:
        """(added great-circle km, service position) of every place a new stop
        like `stop` may go in `trip`: a pickup among the pickups before the rider's alighting
        stop (`anchor`, an index of `trip.stops`), a drop-off among the drop-offs after the
        boarding stop; none beyond the stop limits."""
        service = [s for s in trip.stops if s.kind != "rest"]
        service_index = [i for i, s in enumerate(trip.stops) if s.kind != "rest"]
        anchor_position = service_index.index(anchor)
        kinds = [s.kind for s in service]
        if stop.kind == "pickup":
            if kinds.count("pickup") >= self.policy.max_pickup_stops:
                return []
            last = min(anchor_position, kinds.index("dropoff") if "dropoff" in kinds else 0)
            positions = range(0, last + 1)
        else:
            if kinds.count("dropoff") >= self.policy.max_dropoff_stops:
                return []
            first_drop = max(
                anchor_position + 1,
                (max(i for i, k in enumerate(kinds) if k == "pickup") + 1)
                if "pickup" in kinds
                else 0,
            )
            positions = range(first_drop, len(service) + 1)
        out = []
        for position in positions:
            before = service[position - 1] if position > 0 else None
            after = service[position] if position < len(service) else None
            added = 0.0
            if before is not None:
                added += great_circle_km(before.lon, before.lat, stop.lon, stop.lat)
            if after is not None:
                added += great_circle_km(stop.lon, stop.lat, after.lon, after.lat)
            if before is not None and after is not None:
                added -= great_circle_km(before.lon, before.lat, after.lon, after.lat)
            out.append((added, position))
        return out

    def _bare_rides_ok(
        self, bare: Sequence[ServiceStop], legs: Sequence[Leg], rides: Sequence[tuple[int, int]]
    ) -> bool:
        """Whether each ride (board, alight: positions in `bare`) keeps within the detour
        limit, counting each stop's service dwell between."""
        policy = self.policy
        for a, b in rides:
            ride = sum(leg.duration_s for leg in legs[a:b]) + sum(
                stop.dwell_s for stop in bare[a + 1 : b]
            )
            direct = self.road.between(bare[a], bare[b])[1]
            if ride > direct * policy.detour_ratio + policy.detour_grace_minutes * 60:
                return False
        return True

    def keys(self, trip: Trip) -> list[PlaceKey]:
        """The place of each of `trip`'s stops (cached per trip version)."""
        cached = self.stop_keys.get(trip.trip_id)
        if cached is not None and cached[0] is trip:
            return cached[1]
        keys = [place_key(s) for s in trip.stops]
        self.stop_keys[trip.trip_id] = (trip, keys)
        return keys

    def _shape(self, trip: Trip) -> tuple[Shape, int] | None:
        """`trip`'s shape and the extra rest its timetable has (cached per trip version)."""
        cached = self.shapes.get(trip.trip_id)
        if cached is not None and cached[0] is trip:
            return cached[1]
        shape = trip_shape(trip, self.provider, self.policy)
        found = None
        if shape is not None:
            table = build_timetable(shape.service, shape.legs, trip.departure, self.policy)
            found = (shape, table.extra_rest_minutes)
        self.shapes[trip.trip_id] = (trip, found)
        return found

    def _inserted(
        self, trip: Trip, group: _Group, position: int, stop: Stop, other_key: PlaceKey
    ) -> Trip | None:
        """`trip` with a new stop like `stop` (where `group` boards or alights; the other end
        is its stop at place `other_key`) at service position `position`, re-timed at its own
        departure, `group` seated; None when a rule breaks."""
        found = self._shape(trip)
        if found is None:
            return None
        shape, extra_rest = found
        policy = self.policy
        service_index = [i for i, s in enumerate(trip.stops) if s.kind != "rest"]
        minutes = policy.boarding_minutes if stop.kind == "pickup" else policy.alighting_minutes
        new_stop = ServiceStop(
            kind="pickup" if stop.kind == "pickup" else "dropoff",
            lon=stop.lon,
            lat=stop.lat,
            dwell_s=minutes * 60,
            company_id=stop.company_id,
            hub_id=stop.hub_id,
            adcode=stop.adcode,
            name=stop.name,
        )
        bare = [*shape.service[:position], new_stop, *shape.service[position:]]

        def legs_of(lines: bool) -> list[Leg]:
            return [
                *shape.legs[: max(0, position - 1)],
                *(self.road.leg(a, b, lines) for a, b in _new_pairs(bare, position)),
                *shape.legs[position:],
            ]

        # Cheap first: every ride on the bare stops (dwell at least the service dwell) within
        # the detour limit, a necessary condition of the check on the timetable.
        legs = legs_of(False)
        old_position = {i: k for k, i in enumerate(service_index)}
        shifted = [
            (
                old_position[p.board_stop] + (old_position[p.board_stop] >= position),
                old_position[p.alight_stop] + (old_position[p.alight_stop] >= position),
            )
            for p in trip.passengers
        ]
        other = [place_key(s) for s in shape.service].index(other_key)
        other += other >= position
        if stop.kind == "pickup":
            shifted.append((position, other))
        else:
            shifted.append((other, position))
        if not self._bare_rides_ok(bare, legs, shifted):
            return None
        table = build_timetable(bare, legs, trip.departure, policy)
        if (
            not table.legal
            or table.extra_rest_minutes > extra_rest
            or table.departure != trip.departure
            or (policy.max_trip_km is not None and table.distance_km > policy.max_trip_km)
        ):
            return None
        # The road lines place the rests (the times are the same without them).
        table = build_timetable(bare, legs_of(True), trip.departure, policy)
        if not table.legal or table.extra_rest_minutes > extra_rest:
            return None
        timed = fill_service(table.stops, bare)
        new_service_index = [i for i, s in enumerate(timed) if s.kind != "rest"]
        old_to_new = {
            old: new_service_index[k + (1 if k >= position else 0)]
            for k, old in enumerate(service_index)
        }
        vehicle = self.types.get(trip.vehicle_type)
        if vehicle is None:
            return None
        moved = on_new_stops(trip, timed, old_to_new, table, vehicle)
        new_at, other_at = new_service_index[position], new_service_index[other]
        board, alight = (new_at, other_at) if stop.kind == "pickup" else (other_at, new_at)
        seated = _seated(moved, group.riders, board, alight)
        if seated is None:
            return None
        if not rides_within_detour(seated, seated.passengers, self.road, self.scenario):
            return None
        if self.rule is not None:
            places = self.rule.places.get(seated.vehicle_type)
            ends = route_ends(seated, self.scenario)
            if places is not None and ends and not any(end in places for end in ends):
                return None
        if not self.links_hold(seated):
            return None
        return seated


def _new_pairs(bare: Sequence[ServiceStop], position: int) -> list[tuple[ServiceStop, ServiceStop]]:
    """The legs a stop inserted at `position` of `bare` (its service stops) drives: from the
    stop before it and to the stop after it, those that exist."""
    pairs = []
    if position > 0:
        pairs.append((bare[position - 1], bare[position]))
    if position + 1 < len(bare):
        pairs.append((bare[position], bare[position + 1]))
    return pairs


def _ids(group: _Group) -> set[str]:
    return {p.worker_id for p in group.riders}


class _GateSide:
    """Where each company's workers may board going home (alight coming back): its gate and
    the hubs of its origin county within `hub_radius_km` unless it keeps to its gate (the
    independent checker's rule), as stop templates."""

    def __init__(self, scenario: Scenario, moment: dt.datetime) -> None:
        self.scenario = scenario
        self.moment = moment
        self.companies = {c.company_id: c for c in scenario.companies}
        self.cache: dict[str, tuple[Stop, ...]] = {}

    def of(self, company_id: str) -> tuple[Stop, ...]:
        if company_id not in self.cache:
            self.cache[company_id] = self._stops(company_id)
        return self.cache[company_id]

    def _stops(self, company_id: str) -> tuple[Stop, ...]:
        scenario = self.scenario
        company = self.companies.get(company_id)
        if company is None:
            return ()
        kind: StopKind = "pickup" if scenario.direction == "home" else "dropoff"
        stops = [
            Stop(
                kind=kind,
                lon=company.lon,
                lat=company.lat,
                arrive=self.moment,
                depart=self.moment,
                company_id=company.company_id,
                name=company.name,
            )
        ]
        radius = scenario.policy.hub_radius_km
        if radius > 0 and not company.no_hub:
            for hub in scenario.hubs:
                if scenario.hub_county(hub) != scenario.company_county(company):
                    continue
                if great_circle_km(company.lon, company.lat, hub.lon, hub.lat) > radius:
                    continue
                stops.append(
                    Stop(
                        kind=kind,
                        lon=hub.lon,
                        lat=hub.lat,
                        arrive=self.moment,
                        depart=self.moment,
                        hub_id=hub.hub_id,
                        name=hub.name,
                    )
                )
        return tuple(stops)


def _rider_groups(
    trip: Trip, workers: Mapping[str, Worker], scenario: Scenario, gates: _GateSide
) -> list[_Group] | None:
    """The parties (or lone riders) of `trip` as groups to move, or None when one cannot move
    (a rider who is not a worker of the season, or a party boarding at several places)."""
    parties: dict[str, list[Passenger]] = defaultdict(list)
    for passenger in trip.passengers:
        parties[passenger.party or f"worker:{passenger.worker_id}"].append(passenger)
    groups = []
    for members in parties.values():
        known = [workers.get(p.worker_id) for p in members]
        if any(w is None for w in known):
            return None
        places = {(p.board_stop, p.alight_stop) for p in members}
        if len(places) != 1:
            return None
        board, alight = trip.stops[members[0].board_stop], trip.stops[members[0].alight_stop]
        gate_side = gates.of(members[0].company_id)
        home = scenario.direction == "home"
        boards = gate_side if home and gate_side else (board,)
        alights = gate_side if not home and gate_side else (alight,)
        groups.append(
            _Group(
                riders=tuple(members),
                boards=boards,
                alights=alights,
                first=max([scenario.first_departure, *(w.earliest for w in known if w)]),
                last=min([scenario.last_departure, *(w.latest for w in known if w)]),
            )
        )
    return groups


def _unserved_groups(
    unserved: Sequence[Unserved],
    departure: dt.datetime,
    workers: Mapping[str, Worker],
    scenario: Scenario,
    gates: _GateSide,
) -> list[_Group]:
    """The fleet-exhausted parties (or lone workers) with their stops: their company's gate and
    their home county's seat (the planner's own sites; `departure` only fills the stop times of
    these templates). Parties with a member seated or unserved for another reason are left
    out, as are workers whose county has no known seat."""
    home = scenario.direction == "home"
    seats = county_seats({w.home_adcode for w in workers.values() if w.home_adcode})

    def county(adcode: str | None) -> Stop | None:
        seat = seats.get(adcode or "")
        if seat is None or adcode is None:
            return None
        return Stop(
            kind="dropoff" if home else "pickup",
            lon=seat.lon,
            lat=seat.lat,
            arrive=departure,
            depart=departure,
            adcode=adcode,
            name=county_name(adcode),
        )

    exhausted = {u.worker_id for u in unserved if u.reason is UnservedReason.FLEET_EXHAUSTED}
    parties: dict[str, list[Worker]] = defaultdict(list)
    for member in workers.values():
        if member.party:
            parties[member.party].append(member)
    groups: list[_Group] = []
    done: set[str] = set()
    for worker_id in sorted(exhausted):
        found = workers.get(worker_id)
        if found is None or worker_id in done:
            continue
        worker = found
        members = parties[worker.party] if worker.party else [worker]
        done.update(m.worker_id for m in members)
        if any(m.worker_id not in exhausted for m in members):
            continue
        at_gate, at_home = gates.of(worker.company_id), county(worker.home_adcode)
        if not at_gate or at_home is None:
            continue
        if any(
            m.company_id != worker.company_id or m.home_adcode != worker.home_adcode
            for m in members
        ):
            continue
        riders = tuple(
            Passenger(
                worker_id=m.worker_id,
                company_id=m.company_id,
                seat=0,
                board_stop=0,
                alight_stop=0,
                seat_count=m.seats,
                party=m.party,
            )
            for m in members
        )
        boards, alights = (at_gate, (at_home,)) if home else ((at_home,), at_gate)
        groups.append(
            _Group(
                riders=riders,
                boards=boards,
                alights=alights,
                first=max([scenario.first_departure, *(m.earliest for m in members)]),
                last=min([scenario.last_departure, *(m.latest for m in members)]),
            )
        )

    # Stops are what runs out (most trips make as many as the limits allow): the places shared
    # by the most seats come first, and the groups of one place pair follow each other, so a
    # stop inserted for one is there for the next.
    def pair(group: _Group) -> str:
        return repr((group.boards[0], group.alights[0]))

    by_pair: dict[str, int] = defaultdict(int)
    for group in groups:
        by_pair[pair(group)] += group.seats
    groups.sort(key=lambda g: (-by_pair[pair(g)], pair(g), g.last, g.first))
    return groups


def eliminate_thin_trips(
    trips: Sequence[Trip],
    unserved: Sequence[Unserved],
    scenario: Scenario,
    *,
    held: Sequence[Trip],
    keep: Set[str],
    provider: DistanceProvider,
    timer: EmptyDriveTimer,
    depot: Location,
    budget_s: float,
    rule: SignRule | None = None,
) -> Eliminated:
    """Empty thin trips onto others of their riders' windows, then seat fleet-exhausted workers
    on the free seats (module docstring); within `budget_s` wall seconds.

    `trips` must fit the fleet with `held` (a plan after `FleetContext.fit`); trips in `keep` and
    locked trips neither lose nor gain riders. `rule` is the season's charter-sign rule (None:
    not checked). The result's trips keep their order; the caller re-chains them (exact)."""
    started = time.monotonic()
    deadline = started + budget_s
    workers = {w.worker_id: w for w in scenario.workers}
    state = _Pass(
        trips,
        scenario,
        held=held,
        keep=keep,
        provider=provider,
        timer=timer,
        depot=depot,
        rule=rule,
    )
    moment = dt.datetime.combine(scenario.first_departure, dt.time())
    gates = _GateSide(scenario, moment)
    out_of_time = False
    emptied = 0
    emptying_deadline = started + EMPTYING_SHARE * budget_s
    candidates = sorted(
        (t for t in trips if state.changeable(t) and t.passengers),
        key=lambda t: (t.seats_used, -t.seats, t.trip_id),
    )
    for candidate in candidates:
        if time.monotonic() > emptying_deadline:
            out_of_time = True
            break
        trip = state.trips.get(candidate.trip_id)
        if trip is None or not state.may_leave_chain(trip.trip_id):
            continue
        groups = _rider_groups(trip, workers, scenario, gates)
        if groups is None:
            continue
        # Tentative: each group's receiving trip is applied at once (the next group sees its
        # seats taken), and undone when any group finds none.
        saved: dict[str, Trip] = {}
        moved_all = True
        for group in sorted(groups, key=lambda g: -g.seats):
            if time.monotonic() > emptying_deadline:
                moved_all = False
                out_of_time = True
                break
            receiver = state.place(
                dataclasses.replace(
                    group,
                    riders=tuple(dataclasses.replace(p, seat=0) for p in group.riders),
                ),
                exclude=trip.trip_id,
            )
            if receiver is None:
                moved_all = False
                break
            saved.setdefault(receiver.trip_id, state.trips[receiver.trip_id])
            state.trips[receiver.trip_id] = receiver
        if not moved_all:
            state.trips.update(saved)
            if out_of_time:
                break
            continue
        state.drop(trip.trip_id)
        emptied += 1
    seated_ids: set[str] = set()
    for group in _unserved_groups(unserved, moment, workers, scenario, gates):
        if time.monotonic() > deadline:
            out_of_time = True
            break
        receiver = state.place(group, exclude=None)
        if receiver is None:
            continue
        state.trips[receiver.trip_id] = receiver
        seated_ids |= _ids(group)
    kept = [state.trips[t] for t in state.order if t in state.trips]
    left = [u for u in unserved if u.worker_id not in seated_ids]
    return Eliminated(kept, left, emptied, len(seated_ids), out_of_time)
