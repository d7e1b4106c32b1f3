"""Late registrations on a published plan: free seats first, new trips only for the rest.

The rule (docs/operations.md): a published trip is locked (its coach, times, stops, crew and
every passenger already on it stay as printed), yet a late worker may take a free seat on it,
because that changes nothing anyone holds: the trip sheet's route and timetable stay the same and
the manifest gains a row (listed as a change). A late worker (a party as one unit) boards at a
stop the trip already makes for the worker's company (its gate, or a gathering point where its
workers already board on a homeward trip; the home county on a return trip), alights at a stop
it already makes in the worker's home county, departs on a date in the worker's window, and
takes the lowest free seats. So stop counts, timetable and crew need no new check, and the ride
limit is checked for the new passenger's own ride: a board/alight pair someone already rides was
checked by the planner; another pair must keep the planner's detour rule (driving time between
its stops, rests left out, within `direct x detour_ratio + detour_grace_minutes`).

Trips in `closed` (e.g. already on the road, or closed by the dispatcher) take nobody. Workers
left over go to `optimizer.solve.solve` with every existing trip passed as locked (its coaches
count against the fleet of their date); their new trips get ids that do not clash with the
published ones.
"""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from optimizer.charter import apply_sign_rule, refusal_detail, sign_rule
from optimizer.geography.distance import DistanceProvider, Location
from optimizer.model import (
    Passenger,
    Plan,
    Scenario,
    Stop,
    Trip,
    Unserved,
    UnservedReason,
    Worker,
)


@dataclass(frozen=True)
class LatePlacement:
    """What `place_late` did: the plan's trips after it, who went where, who is left."""

    trips: tuple[Trip, ...]
    into_free_seats: dict[str, str]  # worker_id -> trip_id of a published trip
    into_new_trips: dict[str, str]  # worker_id -> trip_id of a new trip
    unserved: tuple[Unserved, ...]
    seconds: float
    free_seat_seconds: float = 0.0


def _units(workers: Sequence[Worker]) -> list[list[Worker]]:
    """Parties travel together: one unit per party, one per lone traveller."""
    parties: dict[tuple[str, str], list[Worker]] = defaultdict(list)
    units: list[list[Worker]] = []
    for worker in workers:
        if worker.party:
            parties[(worker.company_id, worker.party)].append(worker)
        else:
            units.append([worker])
    return units + list(parties.values())


def _free_block(trip: Trip, seats: int) -> int | None:
    """The lowest first seat of `seats` consecutive free seats, or None."""
    taken: set[int] = set()
    for p in trip.passengers:
        taken.update(range(p.seat, p.seat + p.seat_count))
    run = 0
    for seat in range(1, trip.seats + 1):
        run = 0 if seat in taken else run + 1
        if run == seats:
            return seat - seats + 1
    return None


class _RideCheck:
    def __init__(self, scenario: Scenario, distances: DistanceProvider) -> None:
        self.policy = scenario.policy
        self.distances = distances
        self.cache: dict[tuple[float, float, float, float], int] = {}

    def direct_s(self, a: Stop, b: Stop) -> int:
        key = (a.lon, a.lat, b.lon, b.lat)
        if key not in self.cache:
            matrix = self.distances.matrix(
                [Location(a.lon, a.lat, a.adcode), Location(b.lon, b.lat, b.adcode)]
            )
            self.cache[key] = int(matrix.duration_s[0][1])
        return self.cache[key]

    def ok(self, trip: Trip, board: int, alight: int) -> bool:
        if any(p.board_stop == board and p.alight_stop == alight for p in trip.passengers):
            return True
        stops = trip.stops
        ride = (stops[alight].arrive - stops[board].depart).total_seconds()
        ride -= sum(
            (s.depart - s.arrive).total_seconds()
            for s in stops[board + 1 : alight]
            if s.kind == "rest"
        )
        allowed = (
            self.direct_s(stops[board], stops[alight]) * self.policy.detour_ratio
            + self.policy.detour_grace_minutes * 60
        )
        return ride <= allowed


def _stops_for(trip: Trip, worker: Worker, direction: str) -> tuple[int, int] | None:
    """The indices of the trip's stops where `worker` would board and alight, or None."""
    # The company's gate, or a gathering point (hub) where its workers already get on/off.
    used = {
        p.board_stop if direction == "home" else p.alight_stop
        for p in trip.passengers
        if p.company_id == worker.company_id
    }
    gate = [
        i
        for i, s in enumerate(trip.stops)
        if s.kind != "rest" and (s.company_id == worker.company_id or i in used)
    ]
    county = [
        i
        for i, s in enumerate(trip.stops)
        if s.kind != "rest" and s.adcode is not None and s.adcode == worker.home_adcode
    ]
    if not gate or not county:
        return None
    if direction == "home":
        board, alight = gate[0], county[-1]
    else:
        board, alight = county[0], gate[-1]
    return (board, alight) if board < alight else None


def _seat_unit(trip: Trip, unit: Sequence[Worker], board: int, alight: int) -> Trip | None:
    passengers = list(trip.passengers)
    current = trip
    for worker in unit:
        seat = _free_block(current, worker.seats)
        if seat is None:
            return None
        passengers.append(
            Passenger(
                worker_id=worker.worker_id,
                company_id=worker.company_id,
                seat=seat,
                board_stop=board,
                alight_stop=alight,
                seat_count=worker.seats,
                party=worker.party,
                late=True,
            )
        )
        current = dataclasses.replace(current, passengers=tuple(passengers))
    new = {w.worker_id for w in unit}
    stops = tuple(
        dataclasses.replace(
            s,
            board=s.board + tuple(w for w in new if i == board),
            alight=s.alight + tuple(w for w in new if i == alight),
        )
        if i in (board, alight)
        else s
        for i, s in enumerate(trip.stops)
    )
    return dataclasses.replace(current, stops=stops)


def place_in_free_seats(
    trips: Sequence[Trip],
    workers: Sequence[Worker],
    scenario: Scenario,
    distances: DistanceProvider,
    *,
    closed: Iterable[str] = (),
) -> tuple[tuple[Trip, ...], dict[str, str], list[Worker]]:
    """Seat late workers in free seats of `trips`, locked ones included (their stops, times,
    crew and passengers stay as they are), never of `closed` ones. Returns the trips,
    worker_id -> trip_id of everyone seated, and the workers left over."""
    closed_ids = set(closed)
    by_id = {t.trip_id: t for t in trips}
    rides = _RideCheck(scenario, distances)
    placed: dict[str, str] = {}
    left: list[Worker] = []
    order = sorted(by_id.values(), key=lambda t: (t.departure, t.trip_id))
    for unit in _units(workers):
        lead = unit[0]
        if not lead.home_adcode:
            left.extend(unit)
            continue
        seats = sum(w.seats for w in unit)
        done = False
        for candidate in order:
            trip = by_id[candidate.trip_id]
            if trip.trip_id in closed_ids or trip.seats - trip.seats_used < seats:
                continue
            if not lead.earliest <= trip.departure_date <= lead.latest:
                continue
            where = _stops_for(trip, lead, scenario.direction)
            if where is None or not rides.ok(trip, *where):
                continue
            seated = _seat_unit(trip, unit, *where)
            if seated is None:
                continue
            by_id[trip.trip_id] = seated
            placed.update({w.worker_id: trip.trip_id for w in unit})
            done = True
            break
        if not done:
            left.extend(unit)
    return tuple(by_id[t.trip_id] for t in trips), placed, left


def place_late(
    plan_trips: Sequence[Trip],
    late: Sequence[Worker],
    scenario: Scenario,
    distances: DistanceProvider,
    *,
    closed: Iterable[str] = (),
    new_trips: bool = True,
) -> LatePlacement:
    """Place `late` workers on a published plan: free seats first (on any trip not `closed`,
    locked or not), then new trips (solve on the rest, every existing trip locked). `scenario`
    supplies policy, companies, fleet and dates; `distances` the ride-limit check."""
    started = time.monotonic()
    trips, placed, left = place_in_free_seats(plan_trips, late, scenario, distances, closed=closed)
    free_seat_seconds = time.monotonic() - started
    fresh: dict[str, str] = {}
    unserved: tuple[Unserved, ...] = ()
    if left and new_trips:
        from optimizer.solve import solve

        locked = tuple(dataclasses.replace(t, locked=True) for t in trips)
        plan: Plan = solve(
            scenario.replace(workers=tuple(left), problems=()),
            distances=distances,
            locked=locked,
        )
        existing = {t.trip_id for t in trips}
        added = [t for t in plan.trips if t.trip_id not in existing]
        added, refused = _signed(added, scenario)
        trips = trips + tuple(_unclashed(added, existing))
        fresh = {p.worker_id: t.trip_id for t in trips[len(plan_trips) :] for p in t.passengers}
        unserved = (*plan.unserved, *refused)
    elif left:
        unserved = tuple(
            Unserved(
                w.worker_id, UnservedReason.FLEET_EXHAUSTED, "no free seat on a published trip"
            )
            for w in left
        )
    return LatePlacement(
        trips, placed, fresh, unserved, time.monotonic() - started, free_seat_seconds
    )


def _signed(added: Sequence[Trip], scenario: Scenario) -> tuple[list[Trip], list[Unserved]]:
    """New trips under the charter-sign rule (optimizer/charter.py): each on a type whose
    operator is registered at one end of its route; a trip none may drive is dropped and its
    riders unserved as charter_sign."""
    kept, refusals = apply_sign_rule(added, scenario.fleet, sign_rule(scenario, added))
    refused = {r.trip_id for r in refusals}
    unserved = [
        Unserved(p.worker_id, UnservedReason.CHARTER_SIGN, refusal_detail(t, scenario))
        for t in kept
        if t.trip_id in refused
        for p in t.passengers
    ]
    return [t for t in kept if t.trip_id not in refused], unserved


def _unclashed(added: Sequence[Trip], taken: set[str]) -> list[Trip]:
    out = []
    for trip in added:
        trip_id, n = trip.trip_id, 1
        while trip_id in taken:
            n += 1
            trip_id = f"{trip.trip_id}-L{n}"
        taken.add(trip_id)
        out.append(dataclasses.replace(trip, trip_id=trip_id))
    return out
