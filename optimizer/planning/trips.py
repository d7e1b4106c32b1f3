"""Trips and timetables: each coach a type, a legal timetable and seats."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from optimizer.groups import (
    Unit,
)
from optimizer.ledger import EVENING_FROM_HOUR
from optimizer.model import (
    Passenger,
    Policy,
    Trip,
    UnservedReason,
    VehicleType,
    Worker,
)
from optimizer.planning.context import (
    TIMETABLE_PART_TRIPS,
    TIMETABLE_STEP_MINUTES,
    Coach,
    Context,
    Places,
    Work,
    dedupe,
)
from optimizer.planning.parts import run_parts
from optimizer.planning.stage import Stage
from optimizer.seating import assign_seats
from optimizer.timetable import Leg, ServiceStop, Timetable, plan_timetable


class Trips(Stage):
    """Coaches made trips: types, timetables, seats; coaches under min_load cancelled."""

    def __init__(self, ctx: Context, work: Work, places: Places) -> None:
        super().__init__(ctx, work, places)
        self.timetables: dict[tuple[tuple[str, ...], dt.date], Timetable] = {}

    def build_trips(self, coaches: Sequence[Coach], workers: Mapping[str, Worker]) -> list[Trip]:
        """Timetables and seats for every coach; coaches that cannot run are reported.

        Coaches are ordered, balanced, given their type and trip id here; their timetables and
        seats are independent of each other, so they are built in parts of
        TIMETABLE_PART_TRIPS coaches (`time_trips`) on the run's executor, process pool or
        here, and applied in coach order: the plan is the same wherever the parts ran.
        """
        # The stage starts here (road lines and jobs come before the first part's result).
        self.ctx.report(0.7, f"timetabled 0/{-(-len(coaches) // TIMETABLE_PART_TRIPS)}")
        taken_ids = {trip.trip_id for trip in self.ctx.locked}
        counters: dict[dt.date, int] = defaultdict(int)
        ordered = sorted(
            coaches,
            key=lambda c: (c.day, min(self.places.geo.bearing(k) for k in c.far), c.far, c.near),
        )
        self.balance(ordered)
        self.work.fleet.downsize(ordered, lambda c: self._coach_km([c]))
        jobs: list[tuple[Coach, TripJob]] = []
        for coach in ordered:
            units = [u for u, _, _ in coach.loads]
            if coach.seats < self.ctx.policy.min_load:
                self._cancel(coach, units, workers)
                continue
            while True:
                counters[coach.day] += 1
                trip_id = f"{coach.day:%m%d}-{counters[coach.day]:03d}"
                if trip_id not in taken_ids:
                    break
            taken_ids.add(trip_id)
            jobs.append((coach, self._job(coach, trip_id, workers)))
        parts = [
            (tuple(job for _, job in jobs[start : start + TIMETABLE_PART_TRIPS]), self.ctx.policy)
            for start in range(0, len(jobs), TIMETABLE_PART_TRIPS)
        ]

        def timed(done: int, total: int) -> None:
            self.ctx.report(0.7 + 0.28 * done / total, f"timetabled {done}/{total}")

        results = [
            outcome for part in run_parts(self.ctx, time_trips, parts, timed) for outcome in part
        ]
        trips: list[Trip] = []
        for (coach, _), outcome in zip(jobs, results, strict=True):
            if isinstance(outcome, Trip):
                trips.append(outcome)
                continue
            assert coach.vehicle is not None
            self.work.fleet.used[(coach.day, coach.vehicle.vehicle_type)] -= 1
            self.work.drop([u for u, _, _ in coach.loads], outcome.reason, outcome.detail)
        return trips

    def balance(self, coaches: list[Coach]) -> None:
        """Lift coaches under min_load by moving workers off fuller coaches of the same date
        going to the same stop, when both stay at or above min_load and every ride stays legal."""
        minimum = self.ctx.policy.min_load
        if minimum <= 0:
            return
        by_day: dict[dt.date, list[Coach]] = defaultdict(list)
        for coach in coaches:
            by_day[coach.day].append(coach)
        for day_coaches in by_day.values():
            for small in sorted(day_coaches, key=lambda c: c.seats):
                if small.seats >= minimum or small.vehicle is None:
                    continue
                for donor in sorted(day_coaches, key=lambda c: -c.seats):
                    if small.seats >= minimum:
                        break
                    if donor is small or donor.seats <= minimum:
                        continue
                    self._move(donor, small, minimum)

    def _move(self, donor: Coach, small: Coach, minimum: int) -> None:
        assert small.vehicle is not None
        movable = [load for load in donor.loads if load[2] in small.far]
        for load in sorted(movable, key=lambda item: -item[0].seats):
            unit, near, _ = load
            need = minimum - small.seats
            if need <= 0:
                return
            if donor.seats - unit.seats < minimum or small.seats + unit.seats > small.vehicle.seats:
                continue
            near_sites = dedupe([*small.near, near])
            if len(near_sites) > self.ctx.near_limit:
                continue
            near_order = self._order_near(near_sites, small.far[0])
            far_order = [k for k in small.stops(self.ctx.home) if k in small.far]
            sequence = [*near_order, *far_order] if self.ctx.home else [*far_order, *near_order]
            loads = [*small.loads, load]
            if not self.ride_ok(sequence, loads):
                continue
            small.loads = loads
            small.near = near_order
            small.sequence = sequence
            donor.loads = [item for item in donor.loads if item is not load]

    def _cancel(self, coach: Coach, units: Sequence[Unit], workers: Mapping[str, Worker]) -> None:
        assert coach.vehicle is not None
        self.work.fleet.used[(coach.day, coach.vehicle.vehicle_type)] -= 1
        self.work.drop(
            units,
            UnservedReason.BELOW_MIN_LOAD,
            f"{coach.seats} seats on {coach.day.isoformat()} to "
            f"{', '.join(self.places.geo.sites[k].name for k in coach.far)}, under min_load "
            f"{self.ctx.policy.min_load}, and no pooling partner within the detour limit",
        )

    def _job(self, coach: Coach, trip_id: str, workers: Mapping[str, Worker]) -> TripJob:
        """What `time_trips` needs to time and seat the coach: its stops, the legs between
        them (road lines included), its type and its riders; nothing else of the season."""
        assert coach.vehicle is not None
        sequence = coach.stops(self.ctx.home)
        board: dict[int, list[str]] = defaultdict(list)
        alight: dict[int, list[str]] = defaultdict(list)
        for unit, near, far in coach.loads:
            start, end = (near, far) if self.ctx.home else (far, near)
            # A site the route passes twice: board at the last visit that still reaches the
            # stop, alight at the first visit after it (the shortest ride the route allows).
            for first in reversed([i for i, k in enumerate(sequence) if k == start]):
                later = [j for j in range(first + 1, len(sequence)) if sequence[j] == end]
                if later:
                    board[first].extend(unit.worker_ids)
                    alight[later[0]].extend(unit.worker_ids)
                    break
        # A site the route passes twice keeps only the visit where someone boards or alights.
        kept = [i for i in range(len(sequence)) if board[i] or alight[i]]
        sequence = [sequence[i] for i in kept]
        board = defaultdict(list, {n: board[i] for n, i in enumerate(kept)})
        alight = defaultdict(list, {n: alight[i] for n, i in enumerate(kept)})
        service = []
        for index, key in enumerate(sequence):
            site = self.places.geo.sites[key]
            picking = bool(board[index])
            service.append(
                ServiceStop(
                    kind="pickup" if picking else "dropoff",
                    lon=site.lon,
                    lat=site.lat,
                    dwell_s=self._dwell_s(key),
                    company_id=site.company_id,
                    hub_id=site.hub_id,
                    adcode=site.adcode,
                    name=site.name,
                    board=tuple(sorted(board[index])),
                    alight=tuple(sorted(alight[index])),
                )
            )
        legs = [
            Leg(
                int(self.places.geo.distance_m[self.places.geo.index[a], self.places.geo.index[b]]),
                max(
                    int(
                        self.places.geo.duration_s[
                            self.places.geo.index[a], self.places.geo.index[b]
                        ]
                    ),
                    1
                    if a != b
                    and self.places.geo.distance_m[
                        self.places.geo.index[a], self.places.geo.index[b]
                    ]
                    else 0,
                ),
                line=self._line(a, b),
            )
            for a, b in itertools.pairwise(sequence)
        ]
        units = [u for u, _, _ in coach.loads]
        riders = tuple(
            (w, workers[w].company_id, workers[w].seats) for u in units for w in u.worker_ids
        )
        late = self.work.evening and all(
            (self.places.stop_of.get(u.home, u.home), coach.day) in self.work.evening for u in units
        )
        return TripJob(
            trip_id=trip_id,
            day=coach.day,
            vehicle=coach.vehicle,
            sequence=tuple(sequence),
            service=tuple(service),
            legs=tuple(legs),
            parties=tuple((w, u.party) for u in units for w in u.worker_ids if u.party),
            riders=riders,
            from_hour=EVENING_FROM_HOUR if late else None,
        )


@dataclass(frozen=True)
class TripJob:
    """One coach to time and seat (a `time_trips` part holds a few hundred): small and
    picklable, so parts can run in other processes or on other machines."""

    trip_id: str
    day: dt.date
    vehicle: VehicleType
    sequence: tuple[str, ...]  # site keys in driving order (shared timetables are keyed on them)
    service: tuple[ServiceStop, ...]
    legs: tuple[Leg, ...]
    parties: tuple[tuple[str, str], ...]  # worker_id, party
    riders: tuple[tuple[str, str, int], ...]  # worker_id, company_id, seats
    # Time the coach from this clock hour (the fleet spread placed its loads at the evening
    # departure, `optimizer.ledger.Spread.evening`); None: the date's best departure.
    from_hour: int | None = None


@dataclass(frozen=True)
class TripRefused:
    """A coach no legal timetable can run: its riders' reason and detail."""

    reason: UnservedReason
    detail: str


def time_trips(jobs: Sequence[TripJob], policy: Policy) -> list[Trip | TripRefused]:
    """Each coach's legal timetable, trip and seats, in the order of `jobs` (a part: top-level
    and deterministic, so it runs the same in any process)."""
    timetables: dict[tuple[tuple[str, ...], dt.date, int | None], Timetable] = {}
    return [_time_trip(job, policy, timetables) for job in jobs]


def _time_trip(
    job: TripJob,
    policy: Policy,
    timetables: dict[tuple[tuple[str, ...], dt.date, int | None], Timetable],
) -> Trip | TripRefused:
    table = _timetable(job, policy, timetables)
    if not table.legal:
        return TripRefused(UnservedReason.TOO_FAR, "; ".join(table.notes) or "no legal crew")
    limit_km = policy.max_trip_km
    if limit_km is not None and table.distance_km > limit_km:
        return TripRefused(
            UnservedReason.TOO_FAR,
            f"trip of {table.distance_km:.0f} km exceeds max_trip_km {limit_km}",
        )
    vehicle = job.vehicle
    trip = Trip(
        trip_id=job.trip_id,
        vehicle_type=vehicle.vehicle_type,
        seats=vehicle.seats,
        drivers=table.drivers,
        departure_date=job.day,
        stops=table.stops,
        distance_km=table.distance_km,
        driving_minutes=table.driving_minutes,
        cost=round(vehicle.fixed_cost + vehicle.cost_per_km * table.distance_km, 2),
    )
    return _seat(trip, dict(job.parties), {w: (c, n) for w, c, n in job.riders})


def _timetable(
    job: TripJob,
    policy: Policy,
    timetables: dict[tuple[tuple[str, ...], dt.date, int | None], Timetable],
) -> Timetable:
    """The legal timetable of the job's stop sequence on its day (from its `from_hour`, or the
    earliest hour when none is legal from then); coaches driving the same stops on the same
    day share it (only who boards and alights differs)."""
    key = (job.sequence, job.day, job.from_hour)
    cached = timetables.get(key)
    if cached is None:
        if job.from_hour is not None and job.from_hour <= policy.latest_departure_hour:
            late = dataclasses.replace(
                policy, earliest_departure_hour=max(policy.earliest_departure_hour, job.from_hour)
            )
            cached = plan_timetable(
                job.service, job.legs, job.day, late, step_minutes=TIMETABLE_STEP_MINUTES
            )
        if cached is None or not cached.legal:
            cached = plan_timetable(
                job.service, job.legs, job.day, policy, step_minutes=TIMETABLE_STEP_MINUTES
            )
        timetables[key] = cached
    served = iter(job.service)
    stops = tuple(
        stop
        if stop.kind == "rest"
        else dataclasses.replace(stop, board=(own := next(served)).board, alight=own.alight)
        for stop in cached.stops
    )
    return dataclasses.replace(cached, stops=stops)


# --------------------------------------------------------------------------------- trips
def _seat(trip: Trip, parties: Mapping[str, str], riders: Mapping[str, tuple[str, int]]) -> Trip:
    """The trip's passengers, from its stops' board and alight lists, with assigned seats
    (`riders`: worker_id to company_id and seats taken)."""
    board = {w: i for i, stop in enumerate(trip.stops) for w in stop.board}
    alight = {w: i for i, stop in enumerate(trip.stops) for w in stop.alight}
    passengers = tuple(
        Passenger(
            worker_id=worker_id,
            company_id=riders[worker_id][0],
            seat=0,
            board_stop=board[worker_id],
            alight_stop=alight[worker_id],
            seat_count=riders[worker_id][1],
            party=parties.get(worker_id, ""),
        )
        for worker_id in sorted(board, key=lambda w: (board[w], alight[w], w))
    )
    seat_counts = {p.worker_id: p.seat_count for p in passengers}
    return assign_seats(dataclasses.replace(trip, passengers=passengers), parties, seat_counts)
