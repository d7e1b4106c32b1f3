"""What every planning stage shares: the run's immutable context, the sites in play, the
explicit work state (fleet counters, unserved workers, notes), and the coach values stages pass
on to each other."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from optimizer.geography.distance import (
    DistanceProvider,
    Location,
)
from optimizer.groups import (
    Site,
    Unit,
)
from optimizer.ledger import Availability
from optimizer.model import (
    Policy,
    Scenario,
    Trip,
    Unserved,
    UnservedReason,
    VehicleType,
)

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
# Coaches timed and seated per part (`trips.time_trips`): a part is a few seconds of work and
# a few hundred kB to send, so a cluster's scheduling overhead stays small next to it.
TIMETABLE_PART_TRIPS = 200
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
# Of its reserve, what the LP bound still gets when the stages before used up the time limit.
LP_BOUND_LATE_SHARE = 0.5


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
class Fleet:
    """Coaches left per departure date and type (fleet counts hold per date)."""

    types: tuple[VehicleType, ...]
    used: dict[tuple[dt.date, str], int] = field(default_factory=lambda: defaultdict(int))
    # Departures per (date, type) at most, below the fleet's counts: the coach flow of the
    # route-pattern spread (`optimizer.patterns`), so a date's trips are ones the coaches chain.
    caps: dict[tuple[dt.date, str], int] = field(default_factory=dict)

    def left(self, day: dt.date, vehicle: VehicleType) -> int:
        if not vehicle.available_on(day):
            return 0
        count = vehicle.count_on(day)
        cap = self.caps.get((day, vehicle.vehicle_type))
        if cap is not None:
            count = min(count, cap)
        return max(0, count - self.used[(day, vehicle.vehicle_type)])

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


class Geometry:
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


def cut_chunks(near: str, far: str, units: Sequence[Unit], capacity: int) -> list[Chunk]:
    """Units of one (boarding, stop) pair cut into chunks of at most one coach each (a unit
    larger than `capacity`, when no large coach is left, becomes a chunk of its own)."""
    size = max([capacity, *(u.seats for u in units)])
    chunks = []
    rest = list(units)
    while rest:
        taken, rest = pack(rest, size)
        chunks.append(Chunk(near, far, tuple(taken)))
    return chunks


def pack(units: Sequence[Unit], capacity: int) -> tuple[list[Unit], list[Unit]]:
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


PROBE = Unit((), 0, "", "", "", (dt.date.min, dt.date.min))
# A coach's stops and loads while absorbing: boarding points, counties, driving order, loads.
CoachState = tuple[list[str], list[str], list[str], list[tuple[Unit, str, str]]]


def dedupe(keys: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(keys))


@dataclass(frozen=True)
class Chunk:
    """Units sharing a boarding site and a stop county on one date, at most one coach full."""

    near: str
    far: str
    units: tuple[Unit, ...]

    @property
    def seats(self) -> int:
        return sum(u.seats for u in self.units)


@dataclass(frozen=True)
class Part:
    """One date's corridor: a small routing problem."""

    day: dt.date
    chunks: tuple[Chunk, ...]


@dataclass(frozen=True)
class Context:
    """One planning run's inputs, fixed for the whole run."""

    scenario: Scenario
    provider: DistanceProvider
    locked: tuple[Trip, ...]
    progress: Progress | None
    availability: Availability | None
    started: float  # time.monotonic() when the run began
    # Where the routing parts run (e.g. a Dask client's executor); None: the solver's own pool.
    executor: concurrent.futures.Executor | None = None

    @classmethod
    def of(
        cls,
        scenario: Scenario,
        provider: DistanceProvider,
        locked: Sequence[Trip] = (),
        progress: Progress | None = None,
        availability: Availability | None = None,
        executor: concurrent.futures.Executor | None = None,
    ) -> Context:
        """The context of a run starting now."""
        return cls(
            scenario, provider, tuple(locked), progress, availability, time.monotonic(), executor
        )

    @property
    def policy(self) -> Policy:
        return self.scenario.policy

    @property
    def home(self) -> bool:
        return self.scenario.direction == "home"

    @property
    def near_limit(self) -> int:
        """Stops on the gates' side: pickups going home, drop-offs coming back."""
        policy = self.policy
        return policy.max_pickup_stops if self.home else policy.max_dropoff_stops

    @property
    def far_limit(self) -> int:
        """Stops on the counties' side: drop-offs going home, pickups coming back."""
        policy = self.policy
        return policy.max_dropoff_stops if self.home else policy.max_pickup_stops

    @property
    def time_limit_s(self) -> float:
        return self.scenario.solver.time_limit_s

    def report(self, fraction: float, message: str) -> None:
        if self.progress is not None:
            self.progress(min(1.0, max(0.0, fraction)), message)

    def elapsed(self) -> float:
        return time.monotonic() - self.started


@dataclass(frozen=True)
class Places:
    """The sites in play: county seats, the origin, each company's hub, each county's stop
    county, and the travel matrix between them (built once by `demand.locate`)."""

    seats: Mapping[str, Location]
    origin: tuple[float, float]
    hub_of: Mapping[str, str]
    stop_of: Mapping[str, str]
    geo: Geometry


@dataclass
class Work:
    """The state stages really share and change: coaches taken per date and type, workers
    unserved with their reason, notes for the plan, and units set aside for other dates."""

    fleet: Fleet
    unserved: list[Unserved] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Units that found no coach on their date, kept for another date of their window while
    # spilling is on (None: drop them as fleet_exhausted at once).
    spilled: list[tuple[Unit, dt.date, str]] | None = None
    tried: dict[int, set[dt.date]] = field(default_factory=lambda: defaultdict(set))
    # Units the fleet spread left out (already unserved with their reason).
    spread_out: set[int] = field(default_factory=set)
    # Dates the fleet spread fills (`optimizer.ledger.Spread.full`): pooling keeps the day
    # before's coaches that can turn in time apart from the others (`optimizer.planning.turns`),
    # and records each date so split with its turners' stop site keys.
    tight: frozenset[dt.date] = frozenset()
    turners: dict[dt.date, frozenset[str]] = field(default_factory=dict)
    # (stop county, date) pairs the fleet spread placed mostly at the date's evening departure
    # (`optimizer.ledger.Spread.evening`): a coach carrying only such loads is timed from the
    # evening (`optimizer.planning.trips`).
    evening: frozenset[tuple[str, dt.date]] = frozenset()

    @classmethod
    def of(cls, scenario: Scenario) -> Work:
        """Nothing planned yet: the scenario's coach types with a count, none taken."""
        return cls(Fleet(tuple(v for v in scenario.fleet if v.count > 0)))

    def drop(
        self,
        units: Iterable[Unit],
        reason: UnservedReason,
        detail: str,
        day: dt.date | None = None,
    ) -> None:
        """Units unserved with a reason; fleet_exhausted ones set aside while spilling is on."""
        if reason is UnservedReason.FLEET_EXHAUSTED and self.spilled is not None and day:
            self.spilled.extend((unit, day, detail) for unit in units)
            return
        for unit in units:
            self.unserved.extend(Unserved(w, reason, detail) for w in unit.worker_ids)
