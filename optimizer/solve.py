"""The planner: from a scenario's registered workers to full, legal coach trips.

Pipeline (each step keeps every worker either on a coach or in the unserved list with a reason):

1. units: parties and lone workers, with their gate, home county and window (`groups.py`);
2. stops: each home county's alighting stop (itself, or a busier county within drop_radius_km);
3. dates: per stop county the fewest departure dates that hit every window, on popular days;
4. direct coaches: full coaches from one gate, then from one boarding point (hub), then from up
   to `max_pickup_stops` boarding points, each to one county;
5. pooling: the remainders of each date, split by corridor (bearing from the origin) into small
   pickup-and-delivery models solved with OR-Tools (`routing.py`), several counties per coach;
6. absorbing: a part-full coach whose passengers all fit on other coaches of their windows (within
   their stop limits and detours) is given up, its passengers spread over them;
7. trips: each coach gets the cheapest coach type its load fits (coaches are built on the
   largest free type, which leaves pooling the most room), its stops a legal timetable
   (`timetable.py`) and its passengers seats (`seating.py`); coaches under min_load are
   cancelled, with that reason.

Direction "return" mirrors the geometry: coaches collect in the home counties and deliver to the
gates and hubs. Decomposed parts are plain picklable values solved by a top-level function, so
they run in a process pool when `SolverParams.workers` > 1, or on any `concurrent.futures`
executor the caller passes (a Dask cluster's `Client.get_executor()`: api/engine.py).
"""

from __future__ import annotations

import concurrent.futures
import ctypes
import ctypes.util
import dataclasses
import datetime as dt
import gc
import itertools
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from optimizer.bounds import Bounds, SeatedDemand, lower_bounds
from optimizer.dates import Window
from optimizer.geography.distance import (
    DistanceProvider,
    GreatCircleProvider,
    Location,
    great_circle_km,
)
from optimizer.groups import (
    Site,
    Unit,
    assign_dates,
    build_units,
    county_site,
    estimate_coaches,
    gate_site,
    hub_site,
    nearest_hubs,
    stop_counties,
)
from optimizer.ledger import Availability, spread_dates
from optimizer.lp_bound import LpBound, plan_lp_bound
from optimizer.model import (
    Kpis,
    Passenger,
    Plan,
    Scenario,
    Trip,
    Unserved,
    UnservedReason,
    VehicleType,
    Worker,
)
from optimizer.places import county_name, county_seats
from optimizer.routing import (
    PickupDeliveryProblem,
    PickupDeliverySolution,
    Request,
    RoutingParams,
    Vehicle,
    solve_pickup_delivery,
)
from optimizer.seating import assign_seats
from optimizer.timetable import Leg, ServiceStop, Timetable, plan_timetable

Progress = Callable[[float, str], None]

# A coach sent straight from one county's own demand must be at least this full; emptier ones
# are better pooled with other counties.
DIRECT_FILL = 0.95
# A coach pooled greedily across counties must be at least this full; emptier ones are routed.
POOL_FILL = 0.9
# The greedy then goes on with ever emptier coaches down to this fill, leaving the router the rest.
POOL_FLOOR = 0.0
POOL_STEP = 0.1
# Greedy pooled coaches at least this full are kept; emptier ones are offered to the router,
# whose answer replaces them when it needs fewer coaches (or as many with fewer km).
KEEP_FILL = 0.9
# The greedy tries the counties with most waiting seats as seeds, and their nearest neighbours
# as partners: enough for good coaches, few enough to stay fast on hundreds of counties.
COVER_SEEDS = 30
COVER_PARTNERS = 20
# Largest pickup-and-delivery model (requests) solved at once.
MAX_PART_REQUESTS = 80
# A date whose remainders make at most this many (boarding point, county) requests is routed as
# one model; larger dates are split into corridors of MAX_PART_REQUESTS.
WHOLE_DATE_REQUESTS = 800
# A date with at most this many requests in all (full coaches' loads included) is routed whole,
# so the router may also re-cut the coaches the direct phase sent full.
WHOLE_DATE_WITH_DIRECT = 150
# Inside the routing model one coach costs this much more than any tariff difference, so the
# solver first minimises coaches, then money.
COACH_WEIGHT = 1_000_000
DROP_PENALTY = 100 * COACH_WEIGHT
# Departure times tried per timetable (minutes apart, from the earliest departure hour).
TIMETABLE_STEP_MINUTES = 60
# Times units that found no coach on their date are moved to another date of their window.
SPILL_ROUNDS = 3
# Coaches less full than this are offered to the date's other coaches (`absorb`).
ABSORB_BELOW = 0.9
# Absorbing may move a receiving coach's stop county group of at most this many seats on.
EJECT_MAX_SEATS = 15
# Absorbing stops this long, plus a share per coach, before the time limit (timetables follow).
ABSORB_RESERVE_S = 3.0
TIMETABLE_S_PER_COACH = 0.02
# Share of the time limit given to OR-Tools (the rest builds timetables and seats).
ROUTING_SHARE = 0.5
# The LP lower bound runs only when its share of the time limit is at least this long (seconds).
LP_BOUND_MIN_S = 1.0


@dataclass
class Coach:
    """A coach decided but not yet timed: one date, boarding sites and stop counties in order."""

    day: dt.date
    near: list[str]
    far: list[str]
    loads: list[tuple[Unit, str, str]]  # unit, its boarding site key, its stop site key
    vehicle: VehicleType | None = None
    # Stop site keys in driving order when the router chose it; else derived from near and far.
    sequence: list[str] | None = None

    def stops(self, home: bool) -> list[str]:
        """Site keys in driving order."""
        if self.sequence is not None:
            return list(self.sequence)
        return [*self.near, *self.far] if home else [*self.far, *self.near]

    @property
    def seats(self) -> int:
        return sum(unit.seats for unit, _, _ in self.loads)


@dataclass
class _Fleet:
    """Coaches left per departure date and type (fleet counts hold per date)."""

    types: tuple[VehicleType, ...]
    used: dict[tuple[dt.date, str], int] = field(default_factory=lambda: defaultdict(int))

    def left(self, day: dt.date, vehicle: VehicleType) -> int:
        if not vehicle.available_on(day):
            return 0
        return max(0, vehicle.count_on(day) - self.used[(day, vehicle.vehicle_type)])

    def largest_type(self) -> int:
        return max((v.seats for v in self.types), default=0)

    def largest(self, day: dt.date) -> int:
        return max((v.seats for v in self.types if self.left(day, v) > 0), default=0)

    def take(self, day: dt.date, seats: int, km: float) -> VehicleType | None:
        """The largest type still free on `day` (it has at least `seats` seats), now taken.

        While coaches are being built the largest free coach leaves the most room for pooling;
        `downsize` gives each finished coach the cheapest type its load fits.
        """
        fitting = [v for v in self.types if v.seats >= seats and self.left(day, v) > 0]
        if not fitting:
            return None
        best = min(fitting, key=lambda v: (-v.seats, v.fixed_cost + v.cost_per_km * km))
        self.used[(day, best.vehicle_type)] += 1
        return best

    def downsize(self, coaches: Sequence[Coach], km: Callable[[Coach], float]) -> None:
        """Each coach's type, per date: the cheapest type its load fits, within the fleet.

        Coaches are served fullest first, each taking the smallest fitting type still free:
        the types that fit a load form nested sets, so this keeps every coach a type whenever
        the types they had were feasible.
        """
        by_day: dict[dt.date, list[Coach]] = defaultdict(list)
        for coach in coaches:
            if coach.vehicle is not None:
                by_day[coach.day].append(coach)
        for day, group in by_day.items():
            for coach in group:
                assert coach.vehicle is not None
                self.used[(day, coach.vehicle.vehicle_type)] -= 1
            for coach in sorted(group, key=lambda c: -c.seats):
                fitting = [v for v in self.types if v.seats >= coach.seats and self.left(day, v)]
                assert coach.vehicle is not None
                if fitting:
                    distance = km(coach)
                    coach.vehicle = min(
                        fitting,
                        key=lambda v: (v.seats, v.fixed_cost + v.cost_per_km * distance),
                    )
                self.used[(day, coach.vehicle.vehicle_type)] += 1


class _Geometry:
    """Sites in play, their travel matrix, and the direction's orientation."""

    def __init__(
        self, sites: Mapping[str, Site], provider: DistanceProvider, origin: tuple[float, float]
    ) -> None:
        self.keys = sorted(sites)
        self.sites = dict(sites)
        self.index = {key: i for i, key in enumerate(self.keys)}
        if self.keys:
            matrix = provider.matrix([self.sites[k].location for k in self.keys])
            self.distance_m: npt.NDArray[np.int64] = np.asarray(matrix.distance_m, dtype=np.int64)
            self.duration_s: npt.NDArray[np.int64] = np.asarray(matrix.duration_s, dtype=np.int64)
        else:
            self.distance_m = np.zeros((0, 0), dtype=np.int64)
            self.duration_s = np.zeros((0, 0), dtype=np.int64)
        self.origin = origin

    def km(self, a: str, b: str) -> float:
        return float(self.distance_m[self.index[a], self.index[b]]) / 1000.0

    def seconds(self, a: str, b: str) -> int:
        return int(self.duration_s[self.index[a], self.index[b]])

    def bearing(self, key: str) -> float:
        """Compass bearing (degrees) of a site seen from the origin."""
        site = self.sites[key]
        lon0, lat0 = self.origin
        phi1, phi2 = math.radians(lat0), math.radians(site.lat)
        dlon = math.radians(site.lon - lon0)
        y = math.sin(dlon) * math.cos(phi2)
        x = math.cos(phi1) * math.sin(phi2) - math.sin(phi1) * math.cos(phi2) * math.cos(dlon)
        return math.degrees(math.atan2(y, x)) % 360.0


def _chunks(near: str, far: str, units: Sequence[Unit], capacity: int) -> list[_Chunk]:
    """Units of one (boarding, stop) pair cut into chunks of at most one coach each (a unit
    larger than `capacity`, when no large coach is left, becomes a chunk of its own)."""
    size = max([capacity, *(u.seats for u in units)])
    chunks = []
    rest = list(units)
    while rest:
        taken, rest = _pack(rest, size)
        chunks.append(_Chunk(near, far, tuple(taken)))
    return chunks


def _pack(units: Sequence[Unit], capacity: int) -> tuple[list[Unit], list[Unit]]:
    """First-fit decreasing of atomic units into one coach: (on board, left over)."""
    taken: list[Unit] = []
    rest: list[Unit] = []
    load = 0
    for unit in sorted(units, key=lambda u: (-u.seats, u.worker_ids)):
        if load + unit.seats <= capacity:
            taken.append(unit)
            load += unit.seats
        else:
            rest.append(unit)
    return taken, rest


class _Planner:
    """One planning run. Not shared between runs; holds no global state."""

    def __init__(
        self,
        scenario: Scenario,
        provider: DistanceProvider,
        locked: Sequence[Trip],
        progress: Progress | None,
        availability: Availability | None = None,
        executor: concurrent.futures.Executor | None = None,
    ) -> None:
        self.scenario = scenario
        self.executor = executor
        self.availability = availability
        self.spread_out: set[int] = set()
        self.policy = scenario.policy
        self.provider = provider
        self.locked = tuple(locked)
        self.progress = progress
        self.started = time.monotonic()
        self.home = scenario.direction == "home"
        self.unserved: list[Unserved] = []
        self.notes: list[str] = []
        self.timetables: dict[tuple[tuple[str, ...], dt.date], Timetable] = {}
        self.fleet = _Fleet(tuple(v for v in scenario.fleet if v.count > 0))
        # Units that found no coach on their date, kept for another date of their window while
        # spilling is on (None: drop them as fleet_exhausted at once).
        self.spilled: list[tuple[Unit, dt.date, str]] | None = None
        self.tried: dict[int, set[dt.date]] = defaultdict(set)
        self.lines: dict[tuple[str, str], tuple[tuple[float, float], ...]] = {}
        self._pairs: dict[tuple[str, str, str], bool] = {}
        # On the gates' side the limit is on pickups going home and on drop-offs coming back.
        self.near_limit = (
            self.policy.max_pickup_stops if self.home else self.policy.max_dropoff_stops
        )
        self.far_limit = (
            self.policy.max_dropoff_stops if self.home else self.policy.max_pickup_stops
        )

    def report(self, fraction: float, message: str) -> None:
        if self.progress is not None:
            self.progress(min(1.0, max(0.0, fraction)), message)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    # ----------------------------------------------------------------------------- demand
    def prepare(self) -> list[Unit]:
        scenario = self.scenario
        known = {w.worker_id for w in scenario.workers}
        invalid = sorted(
            {
                p.worker_id
                for p in scenario.problems
                if p.table == "workers" and p.worker_id and p.worker_id not in known
            }
        )
        self.unserved.extend(
            Unserved(worker_id, UnservedReason.INVALID_ROW, self._row_detail(worker_id))
            for worker_id in invalid
        )
        on_locked = {p.worker_id for trip in self.locked for p in trip.passengers}
        for trip in self.locked:
            self.fleet.used[(trip.departure_date, trip.vehicle_type)] += 1
        open_workers = [w for w in scenario.workers if w.worker_id not in on_locked]
        homes = {w.home_adcode for w in open_workers if w.home_adcode}
        origin_seat = county_seats([scenario.origin]).get(scenario.origin)
        self.seats = county_seats(homes)
        largest = max((v.seats for v in self.fleet.types), default=0)
        units, unserved = build_units(scenario, open_workers, self.seats, max(largest, 1))
        self.unserved.extend(unserved)
        if origin_seat is None:
            companies = scenario.companies
            lon = sum(c.lon for c in companies) / len(companies) if companies else 121.27
            lat = sum(c.lat for c in companies) / len(companies) if companies else 30.17
            self.origin = (lon, lat)
        else:
            self.origin = (origin_seat.lon, origin_seat.lat)
        if not self.fleet.types:
            self._drop(units, UnservedReason.NO_COACH_IN_WINDOW, "the fleet has no coaches")
            return []
        return units

    def _row_detail(self, worker_id: str) -> str:
        rows = [
            f"row {p.row} {p.column}: {p.reason}"
            for p in self.scenario.problems
            if p.worker_id == worker_id
        ]
        return "; ".join(rows)

    def _drop(
        self,
        units: Iterable[Unit],
        reason: UnservedReason,
        detail: str,
        day: dt.date | None = None,
    ) -> None:
        if reason is UnservedReason.FLEET_EXHAUSTED and self.spilled is not None and day:
            self.spilled.extend((unit, day, detail) for unit in units)
            return
        for unit in units:
            self.unserved.extend(Unserved(w, reason, detail) for w in unit.worker_ids)

    def place(self, units: list[Unit]) -> list[tuple[Unit, dt.date]]:
        """Boarding and stop sites, geometry, and each unit's departure date."""
        scenario = self.scenario
        companies = {c.company_id: c for c in scenario.companies}
        self.hub_of = nearest_hubs(companies.values(), scenario.hubs, self.policy.hub_radius_km)
        seats_by_county: dict[str, int] = defaultdict(int)
        for unit in units:
            seats_by_county[unit.home] += unit.seats
        self.stop_of = stop_counties(seats_by_county, self.seats, self.policy.drop_radius_km)
        sites: dict[str, Site] = {}
        for unit in units:
            sites[unit.gate] = gate_site(companies[unit.company_id])
        hubs = {f"hub:{h.hub_id}": h for h in scenario.hubs}
        for key in set(self.hub_of.values()):
            sites[key] = hub_site(hubs[key])
        for county in set(self.stop_of.values()) | set(self.stop_of):
            sites[f"county:{county}"] = county_site(county, self.seats[county], county_name(county))
        self.geo = _Geometry(sites, self.provider, self.origin)

        # Dates with at least one coach; windows are cut to them.
        season = [
            scenario.first_departure + dt.timedelta(days=i)
            for i in range((scenario.last_departure - scenario.first_departure).days + 1)
        ]
        allowed = [d for d in season if self.fleet.largest(d) > 0]
        dates = self._choose_dates(units, allowed)
        placed: list[tuple[Unit, dt.date]] = []
        no_coach: list[Unit] = []
        too_far: list[Unit] = []
        for index, unit in enumerate(units):
            if index in self.spread_out:
                continue  # left out by the fleet spread, already unserved with its reason
            if index not in dates:
                no_coach.append(unit)
                continue
            if self.policy.max_trip_km is not None:
                far = f"county:{self.stop_of[unit.home]}"
                if self._direct_km(unit.gate, far) > self.policy.max_trip_km:
                    too_far.append(unit)
                    continue
            placed.append((unit, dates[index]))
        # Coaches exist on some date of the window but all are away or taken: fleet_exhausted.
        busy = [u for u in no_coach if self._fleet_busy_in(u.window, season)]
        idle = [u for u in no_coach if not self._fleet_busy_in(u.window, season)]
        self._drop(
            busy,
            UnservedReason.FLEET_EXHAUSTED,
            "every coach on every date in the window is away or taken",
        )
        self._drop(idle, UnservedReason.NO_COACH_IN_WINDOW, "no coach on any date in window")
        self._drop(
            too_far,
            UnservedReason.TOO_FAR,
            f"the direct trip exceeds max_trip_km = {self.policy.max_trip_km}",
        )
        return placed

    def _fleet_busy_in(self, window: tuple[dt.date, dt.date], season: Sequence[dt.date]) -> bool:
        """Whether some coach type exists on a date of `window` though none is free to depart."""
        return any(
            v.count > 0 and v.available_on(d)
            for d in season
            if window[0] <= d <= window[1]
            for v in self.fleet.types
        )

    def spill(self) -> list[tuple[Unit, dt.date]]:
        """Units that found no coach on their date, moved to another date of their window.

        Each goes to the date of its window, not tried before, with a coach large enough still
        free; among those, the date most of the spilled seats to the same stop county can take
        (so they pool again), then the nearest to the first choice. Units with no such date are
        dropped as fleet_exhausted.
        """
        spilled, self.spilled = self.spilled or [], []
        season = [
            self.scenario.first_departure + dt.timedelta(days=i)
            for i in range((self.scenario.last_departure - self.scenario.first_departure).days + 1)
        ]
        options: list[list[dt.date]] = []
        for unit, day, _ in spilled:
            self.tried[id(unit)].add(day)
            options.append(
                [
                    d
                    for d in season
                    if unit.window[0] <= d <= unit.window[1]
                    and d not in self.tried[id(unit)]
                    and self.fleet.largest(d) >= unit.seats
                ]
            )
        demand: dict[tuple[str, dt.date], int] = defaultdict(int)
        for (unit, _, _), days in zip(spilled, options, strict=True):
            for d in days:
                demand[(self.stop_of[unit.home], d)] += unit.seats
        moved: list[tuple[Unit, dt.date]] = []
        for (unit, day, detail), days in zip(spilled, options, strict=True):
            if not days:
                self._drop([unit], UnservedReason.FLEET_EXHAUSTED, detail)
                continue
            stop = self.stop_of[unit.home]
            best = max(days, key=lambda d: (demand[(stop, d)], -abs((d - day).days)))
            moved.append((unit, best))
        return moved

    def _choose_dates(
        self, units: Sequence[Unit], allowed: Sequence[dt.date]
    ) -> dict[int, dt.date]:
        """Departure dates by the strategy that promises the fewest coaches: each county alone,
        counties of a province together, or the whole season together."""
        stops = set(self.stop_of.values())
        strategies: dict[str, dict[str, str] | None] = {
            "county": None,
            "province": {s: s[:2] for s in stops},
            "season": {s: "" for s in stops},
        }
        capacity = max((v.seats for v in self.fleet.types), default=1)
        best: tuple[int, str, dict[int, dt.date]] | None = None
        for name, corridor_of in strategies.items():
            dates = assign_dates(
                units, self.stop_of, allowed, corridor_of=corridor_of, point_of=self.boarding
            )
            estimate = estimate_coaches(
                units, dates, self.stop_of, {s: s[:2] for s in stops}, capacity, self.far_limit
            )
            if best is None or estimate < best[0]:
                best = (estimate, name, dates)
        assert best is not None
        self.notes.append(f"departure dates: {best[1]} strategy, about {best[0]} coaches")
        if self.availability is None or not best[2]:
            return best[2]
        spread = spread_dates(
            units,
            best[2],
            self.stop_of,
            self.seats,
            allowed,
            self.availability,
            self.policy,
            self.home,
            self.far_limit,
        )
        if spread.binding:
            self.notes.append(
                f"fleet: departure dates spread over the coaches free, {spread.moved} seat(s) "
                f"moved to other dates of their windows, {len(spread.dropped)} unit(s) left out"
            )
        self.spread_out = set(spread.dropped)
        for index, detail in sorted(spread.dropped.items()):
            self._drop([units[index]], UnservedReason.FLEET_EXHAUSTED, detail)
        return spread.dates

    def _direct_km(self, near: str, far: str) -> float:
        return self.geo.km(near, far) if self.home else self.geo.km(far, near)

    def _direct_s(self, near: str, far: str) -> int:
        return self.geo.seconds(near, far) if self.home else self.geo.seconds(far, near)

    def boarding(self, unit: Unit) -> str:
        """Where the unit boards when pooled: its hub when near one, else its gate."""
        return self.hub_of.get(unit.company_id, unit.gate)

    # ----------------------------------------------------------------------------- direct
    def direct(self, placed: Sequence[tuple[Unit, dt.date]]) -> tuple[list[Coach], list[Coach]]:
        """Full coaches from one county's own demand; returns (coaches, remainders by stop).

        Remainders come back as pseudo-coaches without a vehicle: one per (date, stop county),
        their loads still to be pooled.
        """
        by_stop: dict[tuple[dt.date, str], list[Unit]] = defaultdict(list)
        for unit, day in placed:
            by_stop[(day, f"county:{self.stop_of[unit.home]}")].append(unit)
        coaches: list[Coach] = []
        remainders: list[Coach] = []
        for (day, far), units in sorted(by_stop.items()):
            left = self._fill_from_points(day, far, units, lambda u: u.gate, coaches)
            left = self._fill_absorbing(day, far, left, coaches)
            if left:
                remainders.append(Coach(day, [], [far], [(u, self.boarding(u), far) for u in left]))
        return coaches, remainders

    def _capacity(self, day: dt.date) -> int:
        return self.fleet.largest(day)

    def _accept(self, day: dt.date, near: list[str], far: str, units: list[Unit]) -> Coach | None:
        """A coach for `units` if it is full enough and a fitting coach is left on `day`."""
        seats = sum(u.seats for u in units)
        capacity = self._capacity(day)
        if capacity == 0:
            return None
        fitting = [
            v.seats for v in self.fleet.types if v.seats >= seats and self.fleet.left(day, v)
        ]
        if not fitting or seats < DIRECT_FILL * min(fitting):
            return None
        km = self._direct_km(near[0], far)
        vehicle = self.fleet.take(day, seats, km)
        if vehicle is None:
            return None
        return Coach(day, list(near), [far], [], vehicle)

    def _fill_from_points(
        self,
        day: dt.date,
        far: str,
        units: list[Unit],
        point: Callable[[Unit], str],
        coaches: list[Coach],
    ) -> list[Unit]:
        by_point: dict[str, list[Unit]] = defaultdict(list)
        for unit in units:
            by_point[point(unit)].append(unit)
        left: list[Unit] = []
        for key, group in sorted(by_point.items()):
            rest = group
            while True:
                capacity = self._capacity(day)
                if capacity == 0 or sum(u.seats for u in rest) < DIRECT_FILL * capacity:
                    break
                taken, remaining = _pack(rest, capacity)
                coach = self._accept(day, [key], far, taken)
                if coach is None:
                    break
                coach.loads = [(u, key, far) for u in taken]
                coaches.append(coach)
                rest = remaining
            left.extend(rest)
        return left

    def _fill_absorbing(
        self, day: dt.date, far: str, units: list[Unit], coaches: list[Coach]
    ) -> list[Unit]:
        """Full coaches to one county that sweep up the small boarding points.

        Each coach takes the smallest boarding points whole (up to the pickup limit less one)
        and fills up at the busiest point. What is left therefore sits at one busy boarding
        point (usually a hub), where the remainders of other counties sit too, so that pooling
        across counties needs few pickup stops.
        """
        by_point: dict[str, list[Unit]] = defaultdict(list)
        for unit in units:
            by_point[self.boarding(unit)].append(unit)
        while by_point:
            capacity = self._capacity(day)
            sizes = {k: sum(u.seats for u in g) for k, g in by_point.items()}
            if capacity == 0 or sum(sizes.values()) < DIRECT_FILL * capacity:
                break
            anchor = max(sizes, key=lambda k: (sizes[k], k.startswith("hub:"), k))
            smallest = sorted((k for k in sizes if k != anchor), key=lambda k: (sizes[k], k))
            largest = sorted((k for k in sizes if k != anchor), key=lambda k: (-sizes[k], k))
            chosen: list[str] = []
            # As many small points as still leave a full coach with the busiest ones.
            for count in range(min(self.near_limit - 1, len(smallest)), -1, -1):
                small = smallest[:count]
                candidate = list(small)
                for key in [anchor, *largest]:
                    if len(candidate) >= self.near_limit:
                        break
                    if key not in candidate:
                        candidate.append(key)
                if sum(sizes[k] for k in candidate) >= DIRECT_FILL * capacity:
                    chosen = candidate
                    break
            if not chosen:
                break
            taken: list[tuple[Unit, str]] = []
            room = capacity
            for key in chosen:  # small points whole first, then the fillers
                on, _ = _pack(by_point[key], room)
                taken.extend((u, key) for u in on)
                room -= sum(u.seats for u in on)
            near = [k for k in chosen if any(key == k for _, key in taken)]
            order = self._order_near(near, far)
            loads = [(u, k, far) for u, k in taken]
            sequence = [*order, far] if self.home else [far, *order]
            if not near or not self.ride_ok(sequence, loads):
                break
            coach = self._accept(day, order, far, [u for u, _ in taken])
            if coach is None:
                break
            coach.loads = loads
            coaches.append(coach)
            taken_ids = {u.worker_ids for u, _ in taken}
            for key in near:
                by_point[key] = [u for u in by_point[key] if u.worker_ids not in taken_ids]
                if not by_point[key]:
                    del by_point[key]
        return [u for group in by_point.values() for u in group]

    def _pair_km(self, a: str, b: str) -> float:
        return self.geo.km(a, b)

    def _order_near(self, near: Sequence[str], far: str) -> list[str]:
        """Boarding sites in the order that drives least (going home: last one nearest the road
        out; coming back: first one nearest the arriving road)."""
        if len(near) <= 1:
            return list(near)
        best: tuple[float, list[str]] | None = None
        for order in itertools.permutations(near):
            path = [*order, far] if self.home else [far, *order]
            km = sum(self.geo.km(a, b) for a, b in itertools.pairwise(path))
            if best is None or km < best[0]:
                best = (km, list(order))
        assert best is not None
        return best[1]

    # ----------------------------------------------------------------------------- pooling
    def pool(
        self, remainders: Sequence[Coach], time_budget_s: float, direct: Sequence[Coach] = ()
    ) -> list[Coach]:
        """Several counties per coach: the remainders of each date, routed as one model per
        date or by corridor on busy dates. `direct` are the date's full coaches: on a date
        small enough (WHOLE_DATE_WITH_DIRECT requests in all) the router may re-cut them too.
        Returns the pooled coaches and the direct ones, whichever the router kept."""
        direct_by_day: dict[dt.date, list[Coach]] = defaultdict(list)
        for coach in direct:
            direct_by_day[coach.day].append(coach)
        chunks_by_day: dict[dt.date, list[_Chunk]] = defaultdict(list)
        for remainder in remainders:
            capacity = max(self._capacity(remainder.day), 1)
            by_pair: dict[tuple[str, str], list[Unit]] = defaultdict(list)
            for unit, near, far in remainder.loads:
                by_pair[(near, far)].append(unit)
            for (near, far), units in sorted(by_pair.items()):
                chunks_by_day[remainder.day].extend(_chunks(near, far, units, capacity))
        coaches: list[Coach] = []
        parts: list[_Part] = []
        baselines: list[list[Coach]] = []
        if direct_by_day:
            # Dates without remainders keep their direct coaches as they are.
            for day in [d for d in direct_by_day if d not in chunks_by_day]:
                coaches.extend(direct_by_day.pop(day))
        # Per whole-date part: the units its greedy baseline could not seat (set aside for
        # other dates or dropped), withdrawn when the router seats the whole date.
        whole: dict[int, list[tuple[Unit, dt.date, str]]] = {}
        for day, chunks in sorted(chunks_by_day.items()):
            full = direct_by_day.get(day, [])
            full_chunks = self._chunks_of(full) if full else []
            if len(chunks) + len(full_chunks) <= WHOLE_DATE_WITH_DIRECT:
                direct_by_day.pop(day, None)
            else:
                full, full_chunks = [], []
            if len(chunks) <= WHOLE_DATE_REQUESTS:
                # One model for the whole date's remainders: bigger pools than any corridor
                # split. The complete greedy (covers, then one county per coach) is the
                # baseline the router must beat, with at most the coaches the greedy took.
                covered, left = self._cover(day, chunks)
                chunks = chunks + full_chunks
                mark = len(self.spilled) if self.spilled is not None else 0
                unseated_before = len(self.unserved)
                baseline = full + covered + self._fallback(day, left)
                if len(self.unserved) != unseated_before or not chunks:
                    coaches.extend(baseline)
                    continue
                if not baseline:
                    continue
                whole[len(parts)] = list(self.spilled[mark:]) if self.spilled is not None else []
                parts.append(_Part(day, tuple(chunks)))
                baselines.append(baseline)
                continue
            covered, left = self._cover(day, chunks)
            weak = []
            for coach in covered:
                assert coach.vehicle is not None
                if coach.seats >= KEEP_FILL * coach.vehicle.seats:
                    coaches.append(coach)
                else:
                    weak.append(coach)
            for group in self._coach_corridors(weak):
                parts.append(_Part(day, tuple(self._chunks_of(group))))
                baselines.append(group)
            for chunk_group in self._corridors(left):
                parts.append(_Part(day, tuple(chunk_group)))
                baselines.append([])
        total = sum(len(p.chunks) for p in parts) or 1
        jobs: list[tuple[PickupDeliveryProblem, RoutingParams]] = []
        vehicles_of: list[list[VehicleType]] = []
        reserved: dict[tuple[dt.date, str], int] = defaultdict(int)
        for part, baseline in zip(parts, baselines, strict=True):
            if baseline:
                # The router may use exactly the coaches the greedy took (they stay counted as
                # used until it is decided), so no other part's fleet is touched.
                vehicles = [c.vehicle for c in baseline if c.vehicle is not None]
            else:
                vehicles = self._vehicles_for(part, reserved)
            vehicles_of.append(vehicles)
            share = time_budget_s * len(part.chunks) / total * self.scenario.solver.workers
            # Small parts converge fast; their unused share is not worth waiting for.
            limit = max(0.2, min(share, time_budget_s, 0.5 + 0.1 * len(part.chunks)))
            params = RoutingParams(
                time_limit_s=limit, solution_limit=self.scenario.solver.part_solution_limit
            )
            jobs.append((self._problem(part, vehicles), params))
        solutions = self._run(jobs)
        dropped: dict[dt.date, list[_Chunk]] = defaultdict(list)
        improved = 0
        for index, (part, baseline, vehicles, solution) in enumerate(
            zip(parts, baselines, vehicles_of, solutions, strict=True)
        ):
            routed, left_out = self._coaches_from(part, vehicles, solution)
            if index in whole:
                set_aside = whole[index]
                keep = bool(left_out) or (not set_aside and not self._better(routed, baseline))
                if not keep and set_aside and self.spilled is not None:
                    gone = {id(entry) for entry in set_aside}
                    self.spilled = [e for e in self.spilled if id(e) not in gone]
                for coach in routed if keep else baseline:
                    assert coach.vehicle is not None
                    self.fleet.used[(part.day, coach.vehicle.vehicle_type)] -= 1
                if keep:
                    coaches.extend(baseline)
                    continue
                improved += len(baseline) - len(routed)
                coaches.extend(routed)
                continue
            if baseline:
                keep = bool(left_out) or not self._better(routed, baseline)
                for coach in routed if keep else baseline:  # give back the other's coaches
                    assert coach.vehicle is not None
                    self.fleet.used[(part.day, coach.vehicle.vehicle_type)] -= 1
                if keep:
                    coaches.extend(baseline)
                    continue
                improved += len(baseline) - len(routed)
            coaches.extend(routed)
            dropped[part.day].extend(left_out)
        if improved:
            self.notes.append(f"routing saved {improved} coach(es) over the greedy pooling")
        for kept in direct_by_day.values():
            coaches.extend(kept)
        # Only now, with every routed coach counted against the fleet, place what is left.
        for day, chunks in sorted(dropped.items()):
            coaches.extend(self._fallback(day, chunks))
        return coaches

    def _better(self, routed: Sequence[Coach], baseline: Sequence[Coach]) -> bool:
        """Fewer coaches, or as many with fewer km."""
        if len(routed) != len(baseline):
            return len(routed) < len(baseline)
        return self._coach_km(routed) < self._coach_km(baseline)

    def _coach_km(self, coaches: Sequence[Coach]) -> float:
        return sum(
            self.geo.km(a, b)
            for coach in coaches
            for a, b in itertools.pairwise(coach.stops(self.home))
        )

    def _chunks_of(self, coaches: Sequence[Coach]) -> list[_Chunk]:
        by_pair: dict[tuple[str, str], list[Unit]] = defaultdict(list)
        for coach in coaches:
            for unit, near, far in coach.loads:
                by_pair[(near, far)].append(unit)
        chunks = []
        for (near, far), units in sorted(by_pair.items()):
            chunks.extend(_chunks(near, far, units, self.fleet.largest_type()))
        return chunks

    def _coach_corridors(self, coaches: Sequence[Coach]) -> list[list[Coach]]:
        """Coaches grouped by the bearing of their first county, at most MAX_PART_REQUESTS
        (near, far) pairs per group."""
        ordered = sorted(coaches, key=lambda c: (self.geo.bearing(c.far[0]), c.far, c.near))
        groups: list[list[Coach]] = []
        size = 0
        for coach in ordered:
            pairs = len({(near, far) for _, near, far in coach.loads})
            if not groups or size + pairs > MAX_PART_REQUESTS:
                groups.append([])
                size = 0
            groups[-1].append(coach)
            size += pairs
        return groups

    def _cover(self, day: dt.date, chunks: Sequence[_Chunk]) -> tuple[list[Coach], list[_Chunk]]:
        """Nearly full coaches across counties, chosen greedily before routing the rest.

        Each coach is a choice of at most the pickup limit of boarding points and the drop-off
        limit of counties; it carries what waits at those points for those counties (units may
        be split between coaches, unlike routing requests). The coach covering the most seats
        is taken while it is at least POOL_FILL full and every ride stays within the detour.
        """
        waiting: dict[tuple[str, str], list[Unit]] = defaultdict(list)
        for chunk in chunks:
            waiting[(chunk.near, chunk.far)].extend(chunk.units)
        coaches: list[Coach] = []
        fill = POOL_FILL
        while True:
            capacity = self._capacity(day)
            if capacity == 0:
                break
            seats: dict[tuple[str, str], int] = {
                pair: sum(u.seats for u in units) for pair, units in waiting.items() if units
            }
            if not seats:
                break
            best = self._best_cover(seats, capacity, fill)
            if best is None:
                fill = round(fill - POOL_STEP, 6)
                if fill < POOL_FLOOR - 1e-9:
                    break
                continue
            near, far = best
            built = None
            # The final check of every ride; on failure, fewer counties, then one point.
            for near_try, far_try in [(near, far[:k]) for k in range(len(far), 0, -1)] + [
                (near[:1], far[:1])
            ]:
                built = self._cover_coach(waiting, near_try, far_try, capacity)
                if built is not None:
                    break
            if built is None:
                break
            pairs, loads, order, used_far, sequence = built
            taken_ids = {u.worker_ids for u, _, _ in loads}
            vehicle = self.fleet.take(day, sum(u.seats for u, _, _ in loads), 0.0)
            if vehicle is None:
                break
            coaches.append(Coach(day, order, used_far, loads, vehicle, sequence=sequence))
            for b, f in pairs:
                waiting[(b, f)] = [u for u in waiting[(b, f)] if u.worker_ids not in taken_ids]
        left: list[_Chunk] = []
        capacity = max(self._capacity(day), 1)
        for (near_key, far_key), units in sorted(waiting.items()):
            left.extend(_chunks(near_key, far_key, units, capacity))
        return coaches, left

    def _cover_coach(
        self,
        waiting: Mapping[tuple[str, str], list[Unit]],
        near: Sequence[str],
        far: Sequence[str],
        capacity: int,
    ) -> (
        tuple[list[tuple[str, str]], list[tuple[Unit, str, str]], list[str], list[str], list[str]]
        | None
    ):
        """What a coach over `near` x `far` carries and its stop order, if every ride is legal."""
        pairs = [(b, f) for b in near for f in far if waiting.get((b, f))]
        pool = [(u, b, f) for b, f in pairs for u in waiting[(b, f)]]
        taken, _ = _pack([u for u, _, _ in pool], capacity)
        if not taken:  # only units larger than any coach still free on this date
            return None
        taken_ids = {u.worker_ids for u in taken}
        loads = [item for item in pool if item[0].worker_ids in taken_ids]
        order, used_far, sequence = self._in_order(
            _dedupe(b for _, b, _ in loads), _dedupe(f for _, _, f in loads)
        )
        if not self.ride_ok(sequence, loads):
            return None
        return pairs, loads, order, used_far, sequence

    def _best_cover(
        self, seats: Mapping[tuple[str, str], int], capacity: int, fill: float
    ) -> tuple[list[str], list[str]] | None:
        by_far: dict[str, dict[str, int]] = defaultdict(dict)
        by_near: dict[str, int] = defaultdict(int)
        for (b, f), n in seats.items():
            by_far[f][b] = n
            by_near[b] += n
        busiest = sorted(by_near, key=lambda b: (-by_near[b], b))[: self.near_limit]
        best: tuple[int, list[str], list[str]] | None = None
        seeds = sorted(by_far, key=lambda f: (-sum(by_far[f].values()), f))[:COVER_SEEDS]
        for seed in seeds:
            own = sorted(by_far[seed], key=lambda b: (-by_far[seed][b], b))[: self.near_limit]
            if not self._cover_ok(own, [seed], seats):
                own = own[:1]
            neighbours = sorted(
                (f for f in by_far if f != seed), key=lambda f: (self.geo.km(seed, f), f)
            )[:COVER_PARTNERS]
            for near in (own, busiest):
                far = [seed]
                total = sum(by_far[seed].get(b, 0) for b in near)
                if total == 0 or (near is busiest and not self._cover_ok(near, far, seats)):
                    continue
                partners = sorted(
                    neighbours,
                    key=lambda f: (-sum(by_far[f].get(b, 0) for b in near), f),
                )
                for partner in partners:
                    if len(far) >= self.far_limit or total >= capacity:
                        break
                    extra = sum(by_far[partner].get(b, 0) for b in near)
                    if extra == 0:
                        break
                    if self._cover_ok(near, [*far, partner], seats):
                        far.append(partner)
                        total += extra
                covered = min(total, capacity)
                if best is None or covered > best[0]:
                    best = (covered, list(near), far)
            if best is not None and best[0] >= capacity:
                break
        if best is None or best[0] < fill * capacity:
            return None
        return best[1], best[2]

    def _cover_ok(
        self, near: Sequence[str], far: Sequence[str], seats: Mapping[tuple[str, str], int]
    ) -> bool:
        """Whether a coach over these points and counties keeps every ride within the detour."""
        used_near = [b for b in near if any(seats.get((b, f)) for f in far)]
        _, _, sequence = self._in_order(used_near, far)
        loads = [(_PROBE, b, f) for b in used_near for f in far if seats.get((b, f))]
        return self.ride_ok(sequence, loads)

    def _in_order(
        self, near: Sequence[str], far: Sequence[str]
    ) -> tuple[list[str], list[str], list[str]]:
        """Boarding points and counties in driving order, and the coach's whole stop sequence
        (boarding points first going home, counties first coming back)."""
        ordered_far = self._order_far(list(far))
        order = self._order_near(list(near), ordered_far[0])
        sequence = [*order, *ordered_far] if self.home else [*reversed(ordered_far), *order]
        return order, ordered_far, sequence

    def _order_far(self, far: list[str]) -> list[str]:
        """Counties in driving order going home: nearest the origin first (reversed coming
        back); the shortest order for three stops at most."""
        if len(far) <= 1:
            return list(far)
        best: tuple[float, list[str]] | None = None
        for order in itertools.permutations(far):
            km = self._origin_km(order[0]) + sum(
                self.geo.km(a, b) for a, b in itertools.pairwise(order)
            )
            if best is None or km < best[0]:
                best = (km, list(order))
        assert best is not None
        return best[1]

    def _origin_km(self, key: str) -> float:
        site = self.geo.sites[key]
        return great_circle_km(self.origin[0], self.origin[1], site.lon, site.lat)

    def _corridors(self, chunks: Sequence[_Chunk]) -> list[list[_Chunk]]:
        """Chunks of one date split into corridors (bearing sectors) of bounded size."""
        if len(chunks) <= MAX_PART_REQUESTS:
            return [list(chunks)]
        ordered = sorted(chunks, key=lambda c: (self.geo.bearing(c.far), c.far, c.near))
        bearings = [self.geo.bearing(c.far) for c in ordered]
        # Start the circle at its widest gap so no corridor straddles it.
        gaps = [
            (bearings[(i + 1) % len(bearings)] - bearings[i]) % 360.0 for i in range(len(ordered))
        ]
        start = (max(range(len(gaps)), key=lambda i: gaps[i]) + 1) % len(ordered)
        ordered = ordered[start:] + ordered[:start]
        bearings = bearings[start:] + bearings[:start]
        count = math.ceil(len(ordered) / MAX_PART_REQUESTS)
        size = len(ordered) / count
        cuts = [0]
        for k in range(1, count):
            ideal = round(k * size)
            low, high = max(cuts[-1] + 1, ideal - int(size * 0.25)), min(len(ordered) - 1, ideal)
            candidates = [
                i for i in range(low, high + 1) if ordered[i].far != ordered[i - 1].far
            ] or [ideal]
            cut = max(
                candidates, key=lambda i: ((bearings[i] - bearings[i - 1]) % 360.0, -abs(i - ideal))
            )
            cuts.append(cut)
        cuts.append(len(ordered))
        return [ordered[a:b] for a, b in itertools.pairwise(cuts) if b > a]

    def _vehicles_for(
        self, part: _Part, reserved: dict[tuple[dt.date, str], int]
    ) -> list[VehicleType]:
        """Coaches offered to one part: plenty for its requests, within what the fleet has left
        on that date after the parts before it (`reserved` is updated)."""
        offered: list[VehicleType] = []
        for vehicle in sorted(self.fleet.types, key=lambda v: -v.seats):
            key = (part.day, vehicle.vehicle_type)
            free = max(0, self.fleet.left(part.day, vehicle) - reserved[key])
            # A part rarely needs more coaches than a third of its requests; the rest of the
            # fleet stays free for the other corridors of the date and for the fallback.
            count = min(free, len(part.chunks) // 3 + 3)
            reserved[key] += count
            offered.extend([vehicle] * count)
        return offered

    def _problem(self, part: _Part, vehicles: Sequence[VehicleType]) -> PickupDeliveryProblem:
        """The part as a pickup-and-delivery model, always shaped "going home": picked up at the
        gates' side, delivered in the counties. Coming back is solved on the transposed matrices
        and the routes reversed, so one model shape serves both directions.

        Pickups get a time window that closes soon after the first one, so a coach cannot
        deliver in a county and come back for a second load (each coach is one trip).
        """
        keys = sorted({c.near for c in part.chunks} | {c.far for c in part.chunks})
        local = {key: i + 1 for i, key in enumerate(keys)}  # location 0: where coaches appear
        index = [self.geo.index[k] for k in keys]
        size = len(keys) + 1
        distance = np.zeros((size, size), dtype=np.int64)
        duration = np.zeros((size, size), dtype=np.int64)
        distance[1:, 1:] = self.geo.distance_m[np.ix_(index, index)]
        duration[1:, 1:] = self.geo.duration_s[np.ix_(index, index)]
        if not self.home:
            distance, duration = distance.T.copy(), duration.T.copy()
        service = np.zeros(size, dtype=np.int64)
        near_locations = [local[k] for k in keys if not k.startswith("county:")]
        for key in keys:
            service[local[key]] = self._dwell_s(key)
        gather = int(duration[np.ix_(near_locations, near_locations)].max(initial=0))
        gather = (gather + int(service[near_locations].max(initial=0))) * self.near_limit + 60
        horizon = 14 * 86_400
        windows = [(0, horizon)] * size
        for location in near_locations:
            windows[location] = (0, gather)
        requests = []
        for chunk in part.chunks:
            direct = self._direct_s(chunk.near, chunk.far)
            ride = int(direct * self.policy.detour_ratio + self.policy.detour_grace_minutes * 60)
            requests.append(
                Request(
                    local[chunk.near], local[chunk.far], chunk.seats, DROP_PENALTY, max_ride_s=ride
                )
            )
        fleet = tuple(
            Vehicle(
                capacity=v.seats,
                fixed_cost=COACH_WEIGHT + round(v.fixed_cost),
                cost_per_km=v.cost_per_km,
                start=0,
                end=None,
            )
            for v in vehicles
        )
        return PickupDeliveryProblem(
            distance_m=distance,
            duration_s=duration,
            requests=tuple(requests),
            vehicles=fleet,
            service_s=service,
            time_windows=tuple(windows),
            max_pickup_stops=self.near_limit,
            max_dropoff_stops=self.far_limit,
        )

    def _run(
        self, jobs: Sequence[tuple[PickupDeliveryProblem, RoutingParams]]
    ) -> list[PickupDeliverySolution]:
        workers = self.scenario.solver.workers
        results: list[PickupDeliverySolution] = []
        if self.executor is not None and jobs:
            return self._collect(self.executor, jobs)
        if workers > 1 and len(jobs) > 1:
            with concurrent.futures.ProcessPoolExecutor(max_workers=workers) as pool:
                return self._collect(pool, jobs)
        for done, (problem, params) in enumerate(jobs, start=1):
            results.append(solve_part(problem, params))
            self.report(0.3 + 0.4 * done / len(jobs), f"pooled part {done}/{len(jobs)}")
        return results

    def _collect(
        self,
        executor: concurrent.futures.Executor,
        jobs: Sequence[tuple[PickupDeliveryProblem, RoutingParams]],
    ) -> list[PickupDeliverySolution]:
        """Every part submitted at once, results in submission order (so the plan does not
        depend on which part finishes first)."""
        futures = [executor.submit(solve_part, problem, params) for problem, params in jobs]
        results: list[PickupDeliverySolution] = []
        try:
            for done, future in enumerate(futures, start=1):
                results.append(future.result())
                self.report(0.3 + 0.4 * done / len(jobs), f"pooled part {done}/{len(jobs)}")
        finally:
            for future in futures:  # a cancelled job stops queued parts from starting
                future.cancel()
        return results

    def _coaches_from(
        self, part: _Part, vehicles: Sequence[VehicleType], solution: PickupDeliverySolution
    ) -> tuple[list[Coach], list[_Chunk]]:
        """Coaches of the routes, and the chunks the router left out."""
        coaches: list[Coach] = []
        rejected: list[int] = []
        for route in solution.routes:
            vehicle = vehicles[route.vehicle]
            served = sorted(set(route.requests))
            loads = [
                (u, part.chunks[r].near, part.chunks[r].far)
                for r in served
                for u in part.chunks[r].units
            ]
            sequence: list[str] = []
            keys = {r: (part.chunks[r].near, part.chunks[r].far) for r in served}
            seen: dict[int, int] = defaultdict(int)
            for r in route.requests:
                key = keys[r][seen[r]]
                seen[r] += 1
                if not sequence or sequence[-1] != key:
                    sequence.append(key)
            near = [k for k in sequence if not k.startswith("county:")]
            far = [k for k in sequence if k.startswith("county:")]
            if sequence[: len(near)] != near:  # a second load after a delivery: not one trip
                rejected.extend(served)
                continue
            # The router may come back to a boarding point (or county) it already visited,
            # for another request there; one visit serves them all. Keeping a boarding point's
            # last visit and a county's first never lengthens a ride (triangle inequality), and
            # leaves no stop where nobody boards or alights.
            near = _dedupe(reversed(near))[::-1]
            far = _dedupe(far)
            sequence = [*near, *far]
            if not self.home:
                sequence.reverse()
            coach = Coach(part.day, near, far, loads, vehicle)
            coach.sequence = sequence
            self.fleet.used[(part.day, vehicle.vehicle_type)] += 1
            coaches.append(coach)
        return coaches, [part.chunks[r] for r in [*solution.dropped, *rejected]]

    def _fallback(self, day: dt.date, chunks: Sequence[_Chunk]) -> list[Coach]:
        """Coaches for chunks the router left out: one stop county each, always legal."""
        coaches: list[Coach] = []
        by_far: dict[str, list[_Chunk]] = defaultdict(list)
        for chunk in chunks:
            by_far[chunk.far].append(chunk)
        for far, group in sorted(by_far.items()):
            pending = sorted(group, key=lambda c: -c.seats)
            while pending:
                capacity = self._capacity(day)
                if capacity == 0:
                    units = [u for c in pending for u in c.units]
                    self._drop(
                        units,
                        UnservedReason.FLEET_EXHAUSTED,
                        f"every coach on {day.isoformat()} is taken",
                        day,
                    )
                    break
                chosen: list[_Chunk] = []
                load = 0
                for chunk in list(pending):
                    near_count = len({c.near for c in chosen} | {chunk.near})
                    if load + chunk.seats <= capacity and near_count <= self.near_limit:
                        chosen.append(chunk)
                        load += chunk.seats
                        pending.remove(chunk)
                if not chosen:  # the next chunk is larger than any coach still free
                    chunk = pending.pop(0)
                    self._drop(
                        chunk.units,
                        UnservedReason.FLEET_EXHAUSTED,
                        f"no coach large enough left on {day.isoformat()}",
                        day,
                    )
                    continue
                near = self._order_near(_dedupe([c.near for c in chosen]), far)
                probe = [(_PROBE, c.near, far) for c in chosen]
                sequence = [*near, far] if self.home else [far, *near]
                if len(near) > 1 and not self.ride_ok(sequence, probe):
                    pending.extend(chosen[1:])  # one boarding point: always within the detour
                    chosen = chosen[:1]
                    load = chosen[0].seats
                    near = [chosen[0].near]
                vehicle = self.fleet.take(day, load, self._direct_km(near[0], far))
                if vehicle is None:  # only smaller coaches left: give back the tail
                    pending.extend(chosen[1:])
                    chosen = chosen[:1]
                    load = chosen[0].seats
                    near = [chosen[0].near]
                    vehicle = self.fleet.take(day, load, self._direct_km(near[0], far))
                    if vehicle is None:
                        self._drop(
                            chosen[0].units,
                            UnservedReason.FLEET_EXHAUSTED,
                            f"no coach large enough left on {day.isoformat()}",
                            day,
                        )
                        continue
                loads = [(u, c.near, c.far) for c in chosen for u in c.units]
                coaches.append(Coach(day, near, [far], loads, vehicle))
        return coaches

    # ----------------------------------------------------------------------------- absorbing
    def absorb(self, coaches: list[Coach], deadline: float = math.inf) -> list[Coach]:
        """Coaches whose passengers all fit on other coaches, given up.

        Routing keeps each (boarding point, county) request on one coach and each date apart;
        here a part-full coach's passengers may be spread over several coaches with room, on
        its date or on another date of their windows, each receiving coach within the stop
        limits and with every ride (theirs and the others') within the detour. The emptiest
        coaches are tried first, in up to two passes, until `deadline` (time.monotonic()); a
        coach goes only when all its passengers find a seat, so nobody is left behind.
        """
        group = [c for c in coaches if c.vehicle is not None]
        kept = [c for c in coaches if c.vehicle is None]
        by_day: dict[dt.date, list[Coach]] = defaultdict(list)
        for coach in group:
            by_day[coach.day].append(coach)
        seats = {id(c): c.seats for c in group}
        gone: set[int] = set()
        removed = moved_days = 0
        for _ in range(2):
            before = removed
            for victim in sorted(group, key=lambda c: (c.seats, c.day, id(c))):
                assert victim.vehicle is not None
                if time.monotonic() > deadline:
                    break
                if id(victim) in gone or seats[id(victim)] >= ABSORB_BELOW * victim.vehicle.seats:
                    continue
                first = min(u.window[0] for u, _, _ in victim.loads)
                last = max(u.window[1] for u, _, _ in victim.loads)
                others = [
                    c
                    for day, on_day in by_day.items()
                    if first <= day <= last
                    for c in on_day
                    if c is not victim and id(c) not in gone
                ]
                moves = self._rehome(victim, others, seats)
                if moves is None:
                    continue
                for coach, (near, far, sequence, loads) in moves:
                    coach.near, coach.far, coach.sequence, coach.loads = near, far, sequence, loads
                    seats[id(coach)] = coach.seats
                    moved_days += coach.day != victim.day
                gone.add(id(victim))
                self.fleet.used[(victim.day, victim.vehicle.vehicle_type)] -= 1
                removed += 1
            if removed == before:
                break
        if removed:
            self.notes.append(
                f"{removed} part-full coach(es) shared out among other coaches "
                f"({moved_days} receiving coach(es) on another date of the windows)"
            )
        return kept + [c for c in group if id(c) not in gone]

    def _pair_ok(self, board: str, a: str, b: str) -> bool:
        """Whether one coach from `board` may serve counties `a` and `b` within the detour (a
        quick necessary test before the full check of a coach's stops)."""
        key = (board, a, b) if a < b else (board, b, a)
        known = self._pairs.get(key)
        if known is None:
            known = self._cover_ok([board], [a, b], {(board, a): 1, (board, b): 1})
            self._pairs[key] = known
        return known

    def _rehome(
        self, victim: Coach, others: Sequence[Coach], seats: Mapping[int, int]
    ) -> list[tuple[Coach, _CoachState]] | None:
        """New stops and loads of the coaches that take `victim`'s passengers, or None when
        someone would find no seat.

        A group goes to a coach with room that can add its stops; failing that, to a coach that
        can once a small group of its own (one stop county) moves on to a third coach
        (an ejection chain of depth one).
        """
        state: dict[int, _CoachState] = {}
        by_id = {id(c): c for c in others}

        def current(coach: Coach) -> _CoachState:
            if id(coach) in state:
                return state[id(coach)]
            return (list(coach.near), list(coach.far), coach.stops(self.home), list(coach.loads))

        def room_of(coach: Coach, loads: Sequence[tuple[Unit, str, str]] | None = None) -> int:
            """Free seats: of `loads` when given, else of the coach as it stands now."""
            assert coach.vehicle is not None
            if loads is None:
                if id(coach) in state:
                    loads = state[id(coach)][3]
                else:
                    return coach.vehicle.seats - seats[id(coach)]
            return coach.vehicle.seats - sum(u.seats for u, _, _ in loads)

        def restop(
            near: Sequence[str], far: Sequence[str], loads: Sequence[tuple[Unit, str, str]]
        ) -> tuple[list[str], list[str], list[str]] | None:
            """Stops in driving order for `loads`, if within the limits and every ride legal."""
            used_near = _dedupe([n for _, n, _ in loads] + list(near))
            used_far = _dedupe([x for _, _, x in loads] + list(far))
            if len(used_near) > self.near_limit or len(used_far) > self.far_limit:
                return None
            stops = self._in_order(used_near, used_far)
            pairs = {(n, x) for _, n, x in loads}
            if not self.ride_ok(stops[2], [(_PROBE, n, x) for n, x in pairs]):
                return None
            return stops

        def put(coach: Coach, b: str, f: str, pending: list[Unit]) -> bool:
            """Seat as many of `pending` as fit on `coach` (removed from `pending`)."""
            near, far, sequence, loads = current(coach)
            room = room_of(coach, loads)
            taking: list[Unit] = []
            for unit in list(pending):
                if unit.seats <= room:
                    taking.append(unit)
                    room -= unit.seats
                    pending.remove(unit)
            if not taking:
                return False
            new_loads = [*loads, *((u, b, f) for u in taking)]
            if b in near and f in far:
                state[id(coach)] = (near, far, sequence, new_loads)
                return True
            stops = restop(near, far, new_loads)
            if stops is None:
                pending.extend(taking)
                pending.sort(key=lambda u: -u.seats)
                return False
            state[id(coach)] = (*stops, new_loads)
            return True

        def place(
            b: str, f: str, window: Window, units: list[Unit], exclude: set[int], depth: int
        ) -> bool:
            pending = sorted(units, key=lambda u: -u.seats)
            while pending:
                options: list[tuple[tuple[int, bool, int], int]] = []
                blocked: list[int] = []
                for coach in others:
                    if id(coach) in exclude or not window[0] <= coach.day <= window[1]:
                        continue
                    room = room_of(coach)
                    if room < pending[-1].seats:
                        continue
                    near, far = (
                        (state[id(coach)][:2]) if id(coach) in state else (coach.near, coach.far)
                    )
                    if (
                        len(set(near) | {b}) > self.near_limit
                        or len(set(far) | {f}) > self.far_limit
                    ):
                        if b in near and f not in far:
                            blocked.append(id(coach))
                        continue
                    if f not in far and not all(self._pair_ok(b, f, g) for g in far):
                        continue
                    added = (b not in near) + (f not in far)
                    options.append(((added, coach.day != victim.day, -room), id(coach)))
                if any(put(by_id[key], b, f, pending) for _, key in sorted(options)):
                    continue
                if depth > 0 and any(eject(by_id[key], b, f, pending, exclude) for key in blocked):
                    continue
                return False
            return True

        def eject(coach: Coach, b: str, f: str, pending: list[Unit], exclude: set[int]) -> bool:
            """Move one small stop county's group off `coach` so that `f` fits, then seat."""
            _, far, _, loads = current(coach)
            for g in sorted(far, key=lambda x: sum(u.seats for u, _, y in loads if y == x)):
                leaving = [(u, n, x) for u, n, x in loads if x == g]
                if sum(u.seats for u, _, _ in leaving) > EJECT_MAX_SEATS:
                    break
                staying = [item for item in loads if item[2] != g]
                if room_of(coach, staying) < pending[-1].seats:
                    continue
                stops = restop([], [], [*staying, (_PROBE, b, f)])
                if stops is None:
                    continue
                snapshot = dict(state)
                state[id(coach)] = (*stops, staying)
                groups: dict[tuple[str, str, Window], list[Unit]] = defaultdict(list)
                for unit, n, x in leaving:
                    groups[(n, x, unit.window)].append(unit)
                inner = exclude | {id(coach)}
                if all(place(n, x, w, us, inner, 0) for (n, x, w), us in groups.items()) and put(
                    coach, b, f, pending
                ):
                    return True
                state.clear()
                state.update(snapshot)
            return False

        by_pair: dict[tuple[str, str, Window], list[Unit]] = defaultdict(list)
        for unit, board, alight in victim.loads:
            by_pair[(board, alight, unit.window)].append(unit)
        for (b, f, window), units in sorted(by_pair.items(), key=lambda item: -len(item[1])):
            if not place(b, f, window, units, set(), 1):
                return None
        return [(by_id[key], value) for key, value in state.items()]

    # ----------------------------------------------------------------------------- trips
    def ride_ok(self, sequence: Sequence[str], loads: Sequence[tuple[Unit, str, str]]) -> bool:
        """Every passenger's ride (legs and dwell between their stops) within the detour limit."""
        position = {key: i for i, key in enumerate(sequence)}
        dwell = [self._dwell_s(key) for key in sequence]
        legs = [self.geo.seconds(a, b) for a, b in itertools.pairwise(sequence)]
        for _unit, near, far in loads:
            start, end = (near, far) if self.home else (far, near)
            a, b = position[start], position[end]
            ride = sum(legs[a:b]) + sum(dwell[a + 1 : b])
            direct = self.geo.seconds(start, end)
            allowed = direct * self.policy.detour_ratio + self.policy.detour_grace_minutes * 60
            if ride > allowed:
                return False
        return True

    def _line(self, a: str, b: str) -> tuple[tuple[float, float], ...]:
        """The road line between two sites, so rests are placed on the road (cached: many
        coaches drive the same pair)."""
        line = self.lines.get((a, b))
        if line is None:
            start, end = self.geo.sites[a], self.geo.sites[b]
            line = tuple(
                self.provider.route_line(
                    Location(start.lon, start.lat, start.adcode),
                    Location(end.lon, end.lat, end.adcode),
                )
            )
            self.lines[(a, b)] = line
        return line

    def _dwell_s(self, key: str) -> int:
        near_side = not key.startswith("county:")
        boarding = near_side == self.home
        return (self.policy.boarding_minutes if boarding else self.policy.alighting_minutes) * 60

    def build_trips(self, coaches: Sequence[Coach], workers: Mapping[str, Worker]) -> list[Trip]:
        """Timetables and seats for every coach; coaches that cannot run are reported."""
        taken_ids = {trip.trip_id for trip in self.locked}
        counters: dict[dt.date, int] = defaultdict(int)
        trips: list[Trip] = []
        ordered = sorted(
            coaches,
            key=lambda c: (c.day, min(self.geo.bearing(k) for k in c.far), c.far, c.near),
        )
        self.balance(ordered)
        self.fleet.downsize(ordered, lambda c: self._coach_km([c]))
        for done, coach in enumerate(ordered, start=1):
            if done % 25 == 0 or done == len(ordered):
                self.report(0.7 + 0.28 * done / len(ordered), f"timetabled {done}/{len(ordered)}")
            units = [u for u, _, _ in coach.loads]
            if coach.seats < self.policy.min_load:
                self._cancel(coach, units, workers)
                continue
            while True:
                counters[coach.day] += 1
                trip_id = f"{coach.day:%m%d}-{counters[coach.day]:03d}"
                if trip_id not in taken_ids:
                    break
            taken_ids.add(trip_id)
            trip = self._trip(coach, trip_id, workers)
            if trip is None:
                continue
            trips.append(trip)
        return trips

    def balance(self, coaches: list[Coach]) -> None:
        """Lift coaches under min_load by moving workers off fuller coaches of the same date
        going to the same stop, when both stay at or above min_load and every ride stays legal."""
        minimum = self.policy.min_load
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
            near_sites = _dedupe([*small.near, near])
            if len(near_sites) > self.near_limit:
                continue
            near_order = self._order_near(near_sites, small.far[0])
            far_order = [k for k in small.stops(self.home) if k in small.far]
            sequence = [*near_order, *far_order] if self.home else [*far_order, *near_order]
            loads = [*small.loads, load]
            if not self.ride_ok(sequence, loads):
                continue
            small.loads = loads
            small.near = near_order
            small.sequence = sequence
            donor.loads = [item for item in donor.loads if item is not load]

    def _timetable(
        self,
        sequence: tuple[str, ...],
        day: dt.date,
        service: Sequence[ServiceStop],
        legs: Sequence[Leg],
    ) -> Timetable:
        """The legal timetable of a stop sequence on `day`; coaches driving the same stops on the
        same day share it (only who boards and alights differs)."""
        cached = self.timetables.get((sequence, day))
        if cached is None:
            cached = plan_timetable(
                service, legs, day, self.policy, step_minutes=TIMETABLE_STEP_MINUTES
            )
            self.timetables[(sequence, day)] = cached
        served = iter(service)
        stops = tuple(
            stop
            if stop.kind == "rest"
            else dataclasses.replace(stop, board=(own := next(served)).board, alight=own.alight)
            for stop in cached.stops
        )
        return dataclasses.replace(cached, stops=stops)

    def _cancel(self, coach: Coach, units: Sequence[Unit], workers: Mapping[str, Worker]) -> None:
        assert coach.vehicle is not None
        self.fleet.used[(coach.day, coach.vehicle.vehicle_type)] -= 1
        self._drop(
            units,
            UnservedReason.BELOW_MIN_LOAD,
            f"{coach.seats} seats on {coach.day.isoformat()} to "
            f"{', '.join(self.geo.sites[k].name for k in coach.far)}, under min_load "
            f"{self.policy.min_load}, and no pooling partner within the detour limit",
        )

    def _trip(self, coach: Coach, trip_id: str, workers: Mapping[str, Worker]) -> Trip | None:
        assert coach.vehicle is not None
        sequence = coach.stops(self.home)
        board: dict[int, list[str]] = defaultdict(list)
        alight: dict[int, list[str]] = defaultdict(list)
        for unit, near, far in coach.loads:
            start, end = (near, far) if self.home else (far, near)
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
            site = self.geo.sites[key]
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
                int(self.geo.distance_m[self.geo.index[a], self.geo.index[b]]),
                max(
                    int(self.geo.duration_s[self.geo.index[a], self.geo.index[b]]),
                    1
                    if a != b and self.geo.distance_m[self.geo.index[a], self.geo.index[b]]
                    else 0,
                ),
                line=self._line(a, b),
            )
            for a, b in itertools.pairwise(sequence)
        ]
        table = self._timetable(tuple(sequence), coach.day, service, legs)
        units = [u for u, _, _ in coach.loads]
        vehicle = coach.vehicle
        if not table.legal:
            self.fleet.used[(coach.day, vehicle.vehicle_type)] -= 1
            self._drop(units, UnservedReason.TOO_FAR, "; ".join(table.notes) or "no legal crew")
            return None
        if self.policy.max_trip_km is not None and table.distance_km > self.policy.max_trip_km:
            self.fleet.used[(coach.day, vehicle.vehicle_type)] -= 1
            self._drop(
                units,
                UnservedReason.TOO_FAR,
                f"trip of {table.distance_km:.0f} km exceeds max_trip_km {self.policy.max_trip_km}",
            )
            return None
        trip = Trip(
            trip_id=trip_id,
            vehicle_type=vehicle.vehicle_type,
            seats=vehicle.seats,
            drivers=table.drivers,
            departure_date=coach.day,
            stops=table.stops,
            distance_km=table.distance_km,
            driving_minutes=table.driving_minutes,
            cost=round(vehicle.fixed_cost + vehicle.cost_per_km * table.distance_km, 2),
        )
        parties = {w: u.party for u in units for w in u.worker_ids if u.party}
        return _seat(trip, parties, workers)

    # ----------------------------------------------------------------------------- bounds
    def bounds(self, trips: Sequence[Trip], workers: Mapping[str, Worker]) -> Bounds:
        """Lower bounds over the workers the plan seats (see optimizer.bounds)."""
        scenario = self.scenario
        companies = {c.company_id: c for c in scenario.companies}
        hubs = {f"hub:{h.hub_id}": h for h in scenario.hubs}
        seated: dict[tuple[str, ...], list[Worker]] = defaultdict(list)
        for trip in trips:
            for passenger in trip.passengers:
                worker = workers.get(passenger.worker_id)
                if worker is None or worker.home_adcode is None:
                    continue
                key = (worker.party,) if worker.party else ("", worker.worker_id)
                seated[key].append(worker)
        homes = {w.home_adcode for group in seated.values() for w in group if w.home_adcode}
        seats = county_seats(homes)
        hub_radius = self.policy.hub_radius_km
        radius = self.policy.drop_radius_km
        demands: list[SeatedDemand] = []
        provider_km: dict[tuple[str, str], float] = {}
        geo = getattr(self, "geo", None)
        for group in seated.values():
            first = group[0]
            company = companies.get(first.company_id)
            if company is None or first.home_adcode not in seats:
                continue
            window = (max(w.earliest for w in group), min(w.latest for w in group))
            if window[0] > window[1]:
                continue
            gate = f"company:{company.company_id}"
            options = [gate]
            hub = None
            if hub_radius > 0 and not company.no_hub:
                options += [
                    key
                    for key, h in hubs.items()
                    if great_circle_km(company.lon, company.lat, h.lon, h.lat) <= hub_radius
                ]
                hub = len(options) > 1
            seat = seats[first.home_adcode]
            county = f"county:{first.home_adcode}"
            best = math.inf
            for option in options:
                if radius > 0 or geo is None or option not in geo.index or county not in geo.index:
                    point = company if option == gate else hubs[option]
                    km = great_circle_km(point.lon, point.lat, seat.lon, seat.lat) - radius
                else:
                    cached = provider_km.get((option, county))
                    km = cached if cached is not None else self._direct_km(option, county)
                    provider_km[(option, county)] = km
                best = min(best, km)
            demands.append(
                SeatedDemand(
                    seats=sum(w.seats for w in group),
                    county=first.home_adcode,
                    window=window,
                    boarding=None if hub else gate,
                    direct_km=max(0.0, best),
                )
            )
        largest = max((v.seats for v in scenario.fleet if v.count > 0), default=1)
        return lower_bounds(
            demands,
            largest_coach=max(largest, 1),
            county_stop_limit=self.far_limit,
            boarding_stop_limit=self.near_limit,
            county_stops_fixed=radius <= 0,
        )


_PROBE = Unit((), 0, "", "", "", (dt.date.min, dt.date.min))
# A coach's stops and loads while absorbing: boarding points, counties, driving order, loads.
_CoachState = tuple[list[str], list[str], list[str], list[tuple[Unit, str, str]]]


def _dedupe(keys: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(keys))


@dataclass(frozen=True)
class _Chunk:
    """Units sharing a boarding site and a stop county on one date, at most one coach full."""

    near: str
    far: str
    units: tuple[Unit, ...]

    @property
    def seats(self) -> int:
        return sum(u.seats for u in self.units)


@dataclass(frozen=True)
class _Part:
    """One date's corridor: a small routing problem."""

    day: dt.date
    chunks: tuple[_Chunk, ...]


def solve_part(problem: PickupDeliveryProblem, params: RoutingParams) -> PickupDeliverySolution:
    """Solve one decomposed part (top-level so a process pool can run it)."""
    solution = solve_pickup_delivery(problem, params)
    _release_memory()
    return solution


def _release_memory() -> None:
    """Hand the freed OR-Tools model back to the system: glibc keeps freed heap otherwise, and
    one model per date would add up to gigabytes over a season."""
    gc.collect()
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


# --------------------------------------------------------------------------------- trips
def _seat(trip: Trip, parties: Mapping[str, str], workers: Mapping[str, Worker]) -> Trip:
    """The trip's passengers, from its stops' board and alight lists, with assigned seats."""
    board = {w: i for i, stop in enumerate(trip.stops) for w in stop.board}
    alight = {w: i for i, stop in enumerate(trip.stops) for w in stop.alight}
    passengers = tuple(
        Passenger(
            worker_id=worker_id,
            company_id=workers[worker_id].company_id,
            seat=0,
            board_stop=board[worker_id],
            alight_stop=alight[worker_id],
            seat_count=workers[worker_id].seats,
            party=parties.get(worker_id, ""),
        )
        for worker_id in sorted(board, key=lambda w: (board[w], alight[w], w))
    )
    seat_counts = {p.worker_id: p.seat_count for p in passengers}
    return assign_seats(dataclasses.replace(trip, passengers=passengers), parties, seat_counts)


def default_distance_provider() -> DistanceProvider:
    """The road graph when it is installed, else great-circle x detour factor."""
    try:
        from optimizer.geography.providers import default_provider
    except ImportError:
        return GreatCircleProvider()
    provider: DistanceProvider = default_provider()
    return provider


def solve(
    scenario: Scenario,
    *,
    distances: DistanceProvider | None = None,
    locked: Sequence[Trip] = (),
    progress: Progress | None = None,
    availability: Availability | None = None,
    executor: concurrent.futures.Executor | None = None,
) -> Plan:
    """Plan the scenario's coach trips: fewest coaches, then least cost, every trip legal.

    Parameters
    ----------
    scenario
        What is asked; `scenario.solver` bounds the time (seconds) and the process count.
    distances
        Road metres and driving seconds; default: the road graph (great-circle x 1.3 without it).
    locked
        Published trips, kept unchanged; only workers not on them are placed, and their coaches
        count against the fleet of their date.
    progress
        Called with (fraction done 0..1, message) as the work advances.
    availability
        Coaches already away (earlier waves, published trips) and how to time drives: when
        given, departure dates are spread so that the coaches each day's trips keep busy fit
        the coaches free (`optimizer.ledger.spread_dates`); without it, fleet counts hold per
        departure date only.
    executor
        Where the decomposed routing parts run (any `concurrent.futures.Executor`, e.g. a Dask
        client's); default: a process pool of `scenario.solver.workers`, or this process.

    Returns a Plan: every worker seated once or listed unserved with a reason. Infeasibility is
    a result, never an exception; only invalid input raises.
    """
    planner = _Planner(
        scenario, distances or default_distance_provider(), locked, progress, availability, executor
    )
    planner.report(0.0, "grouping workers")
    units = planner.prepare()
    planner.report(0.05, "travel matrix and departure dates")
    placed = planner.place(units) if units else []
    planner.report(0.2, "full coaches")
    coaches, remainders = planner.direct(placed) if placed else ([], [])
    left = scenario.solver.time_limit_s - planner.elapsed()
    planner.report(0.3, "pooling remainders")
    budget = max(0.5, left * ROUTING_SHARE) / max(1, scenario.solver.workers)
    planner.spilled = []
    if remainders:
        coaches = planner.pool(remainders, budget, direct=coaches)
    # Units that found no coach on their date try the other dates of their window.
    for _ in range(SPILL_ROUNDS):
        moved = planner.spill()
        if not moved:
            break
        more, rest = planner.direct(moved)
        coaches.extend(more)
        left = scenario.solver.time_limit_s - planner.elapsed()
        spill_budget = max(0.5, left * ROUTING_SHARE / SPILL_ROUNDS) / max(
            1, scenario.solver.workers
        )
        coaches.extend(planner.pool(rest, spill_budget) if rest else [])
    spilled, planner.spilled = planner.spilled or [], None
    for unit, _, detail in spilled:
        planner._drop([unit], UnservedReason.FLEET_EXHAUSTED, detail)
    # Absorbing uses what is left of the time limit, less a reserve for timetables and seats.
    lp_reserve = scenario.solver.lower_bound_share * scenario.solver.time_limit_s
    lp_reserve = lp_reserve if lp_reserve >= LP_BOUND_MIN_S else 0.0
    deadline = (
        planner.started
        + scenario.solver.time_limit_s
        - ABSORB_RESERVE_S
        - TIMETABLE_S_PER_COACH * len(coaches)
        - lp_reserve
    )
    coaches = planner.absorb(coaches, deadline)
    workers = {w.worker_id: w for w in scenario.workers}
    trips = planner.build_trips(coaches, workers) if coaches else []
    all_trips = tuple(sorted([*locked, *trips], key=lambda t: (t.departure_date, t.trip_id)))
    unserved = tuple(sorted(planner.unserved, key=lambda u: u.worker_id))
    bounds = planner.bounds(all_trips, workers)
    # The LP bound gets its reserve, never more than what is left of the time limit.
    lp_box = min(lp_reserve, scenario.solver.time_limit_s - planner.elapsed())
    lp = LpBound(0, 0.0, 0.0, False, 0, 0, 0, 0.0, "not run: no time reserved")
    if lp_box >= LP_BOUND_MIN_S and all_trips:
        lp = plan_lp_bound(scenario, all_trips, workers, planner.provider, lp_box)
    kpis = _with_lp(_kpis(all_trips, unserved, bounds, planner.elapsed()), lp)
    planner.report(1.0, "done")
    notes = [
        f"distances: {planner.provider.name}",
        f"lower bound parts: seats {bounds.seat_bound}, county stops {bounds.county_stop_bound}, "
        f"boarding stops {bounds.boarding_stop_bound}, date intervals {bounds.date_bound}, "
        f"LP {lp.trips} ({lp.value:.3f} proven, {lp.seconds:.1f} s"
        + (f", {lp.note}" if lp.note else ", converged" if lp.converged else "")
        + ")",
        *planner.notes,
    ]
    return Plan(
        scenario=scenario.name,
        direction=scenario.direction,
        trips=all_trips,
        unserved=unserved,
        kpis=kpis,
        problems=scenario.problems,
        notes=tuple(notes),
    )


def _with_lp(kpis: Kpis, lp: LpBound) -> Kpis:
    """The best of the counting bound and the LP bound, saying which gave it."""
    better = lp.trips > kpis.lower_bound_trips
    return dataclasses.replace(
        kpis,
        lower_bound_trips=max(kpis.lower_bound_trips, lp.trips),
        lower_bound_source="lp" if better else "counting",
        lower_bound_seconds=round(lp.seconds, 2),
    )


def _passenger_km(trip: Trip) -> float:
    km = [stop.km_from_previous for stop in trip.stops]
    cumulative = list(itertools.accumulate(km))
    return sum(
        p.seat_count * (cumulative[p.alight_stop] - cumulative[p.board_stop])
        for p in trip.passengers
    )


def _kpis(
    trips: Sequence[Trip], unserved: Sequence[Unserved], bounds: Bounds, seconds: float
) -> Kpis:
    seated = sum(len(t.passengers) for t in trips)
    offered = sum(t.seats for t in trips)
    used = sum(t.seats_used for t in trips)
    return Kpis(
        workers=seated + len(unserved),
        seated=seated,
        unserved=len(unserved),
        trips=len(trips),
        seats_offered=offered,
        seat_utilization=round(used / offered, 4) if offered else 0.0,
        coach_km=round(sum(t.distance_km for t in trips), 1),
        passenger_km=round(sum(_passenger_km(t) for t in trips), 1),
        cost=round(sum(t.cost for t in trips), 2),
        lower_bound_trips=bounds.trips,
        lower_bound_coach_km=bounds.coach_km,
        solve_seconds=round(seconds, 2),
    )
