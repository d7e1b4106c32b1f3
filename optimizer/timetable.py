"""The legal timetable of one coach trip: rests, the 02:00-05:00 park, night speed, crew size.

A deterministic rule engine. Given the service stops of a trip (pickups and drop-offs, in order),
the day-speed driving legs between them and a departure time, it drives the coach forward in time
and inserts a rest stop wherever a rule of DOMAIN.md demands one:

- continuous driving at most `day_max_continuous_driving_minutes` (a stretch with no night driving)
  or `night_max_continuous_driving_minutes` (a stretch that drives at any moment between
  `night_start_hour` and `night_end_hour`), then a rest of at least `min_rest_minutes`; a service
  stop whose dwell is at least `min_rest_minutes` counts as a rest, a shorter one does not;
- no driving between `park_start_hour` and `park_end_hour`: the coach parks (a rest stop);
- driving during the night is slower: day-speed driving time is stretched by 1/`night_speed_factor`;
- each driver drives at most `max_driving_per_driver_24h_minutes` in any 24 h and
  `max_driving_per_driver_7d_minutes` in any 7 days; drivers change only at rests;
- 2 drivers when the trip is longer than `two_driver_km`, more when the hours need it, up to
  `max_drivers`; when even `max_drivers` cannot cover the hours, the coach rests longer (reported in
  `Timetable.extra_rest_minutes` and `Timetable.notes`) rather than run an illegal trip.

docs/timetable-rules.md gives each rule's source and exact interpretation; tests/checker.py checks
the result independently from the stop times alone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from optimizer.errors import InvalidInput
from optimizer.geography.distance import great_circle_km
from optimizer.model import Policy, Stop, Trip

DAY_S = 86_400
WEEK_S = 7 * DAY_S
# A rest that would end this close to the park window is stretched through it, so the coach does
# not drive a few minutes only to stop again.
PARK_MERGE_S = 30 * 60
# A driver is put behind the wheel only with at least this much of their hours left (or the rest of
# the trip, if shorter), so a crew short of hours rests instead of changing drivers every minute.
MIN_DRIVING_CHUNK_S = 30 * 60


@dataclass(frozen=True)
class ServiceStop:
    """A stop where passengers board or alight; `dwell_s` is the time the coach stands there.

    The caller sets `dwell_s` (policy boarding_minutes at pickups, alighting_minutes at drop-offs).
    """

    kind: Literal["pickup", "dropoff"]
    lon: float
    lat: float
    dwell_s: int
    company_id: str | None = None
    hub_id: str | None = None
    adcode: str | None = None
    name: str = ""
    board: tuple[str, ...] = ()
    alight: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in ("pickup", "dropoff"):
            raise InvalidInput(
                f"service stop kind must be 'pickup' or 'dropoff', not {self.kind!r}"
            )
        if self.dwell_s < 0:
            raise InvalidInput("dwell_s must not be negative")


@dataclass(frozen=True)
class Leg:
    """The road between two consecutive service stops: metres and day-speed driving seconds.

    `line` is the road polyline as (lon, lat) pairs, ends included; rests are placed on it. Without
    it, rests are placed on the straight line between the stops.
    """

    distance_m: int
    duration_s: int
    line: tuple[tuple[float, float], ...] = ()

    def __post_init__(self) -> None:
        if self.distance_m < 0 or self.duration_s < 0:
            raise InvalidInput("leg distance_m and duration_s must not be negative")
        if self.distance_m > 0 and self.duration_s == 0:
            raise InvalidInput("a leg with distance must take driving time")


@dataclass(frozen=True)
class Timetable:
    """A trip's legal timetable.

    `stops` are the service stops plus the inserted rest stops (kind "rest", `note` says which
    rest), with arrive/depart times and `km_from_previous`. `driving_minutes` is clock time behind
    the wheel (night driving included at its slower pace). `extra_rest_minutes` is rest beyond what
    the rules alone demand, forced because even `max_drivers` could not cover the hours; `legal` is
    False only when no crew within `max_drivers` can run the trip at all (the 2-driver rule).
    """

    stops: tuple[Stop, ...]
    drivers: int
    driving_minutes: int
    distance_km: float
    departure: dt.datetime
    arrival: dt.datetime
    extra_rest_minutes: int = 0
    legal: bool = True
    notes: tuple[str, ...] = field(default=())

    @property
    def rests(self) -> tuple[Stop, ...]:
        """The inserted rest stops, park included."""
        return tuple(stop for stop in self.stops if stop.kind == "rest")

    @property
    def duration_minutes(self) -> int:
        """Minutes from departure at the first stop to arrival at the last."""
        return int((self.arrival - self.departure).total_seconds() // 60)


def crew_size(distance_km: float, driving_minutes: int, span_minutes: int, policy: Policy) -> int:
    """Fewest drivers the rules allow for a trip, before any timetable is built.

    `distance_km` is the trip's road km, `driving_minutes` its total time behind the wheel and
    `span_minutes` departure to arrival. 2 drivers above `policy.two_driver_km`; and since some
    24 h (7 day) window holds at least the trip's driving divided by the number of such windows
    the span needs, enough drivers for that share at `max_driving_per_driver_24h_minutes` each.
    A lower bound, not capped at `max_drivers`: build_timetable confirms it.
    """
    if distance_km < 0 or driving_minutes < 0 or span_minutes < 0:
        raise InvalidInput("distance_km, driving_minutes and span_minutes must not be negative")
    needed = 2 if distance_km > policy.two_driver_km else 1
    for window_minutes, limit in (
        (DAY_S // 60, policy.max_driving_per_driver_24h_minutes),
        (WEEK_S // 60, policy.max_driving_per_driver_7d_minutes),
    ):
        windows = max(1, math.ceil(span_minutes / window_minutes))
        densest = driving_minutes / windows
        needed = max(needed, math.ceil(densest / limit - 1e-9))
    return needed


class _Windows:
    """The policy's clock windows in seconds of the day, half-open [start, end), wrapping."""

    def __init__(self, policy: Policy) -> None:
        self.night = (policy.night_start_hour * 3600, policy.night_end_hour * 3600)
        self.park = (policy.park_start_hour * 3600, policy.park_end_hour * 3600)
        self.edges = sorted({*self.night, *self.park})

    @staticmethod
    def _inside(window: tuple[int, int], t: int) -> bool:
        start, end = window
        tod = t % DAY_S
        if start == end:
            return False
        if start < end:
            return start <= tod < end
        return tod >= start or tod < end

    def is_night(self, t: int) -> bool:
        return self._inside(self.night, t)

    def is_park(self, t: int) -> bool:
        return self._inside(self.park, t)

    @staticmethod
    def _next_time_of_day(t: int, tod: int) -> int:
        """The first absolute second strictly after `t` falling on second-of-day `tod`."""
        base = t - t % DAY_S + tod
        return base if base > t else base + DAY_S

    def next_edge(self, t: int) -> int:
        """The next absolute second after `t` where night or park status may change."""
        return min(self._next_time_of_day(t, edge) for edge in self.edges)

    def until_park(self, t: int) -> float:
        if self.park[0] == self.park[1]:
            return math.inf
        if self.is_park(t):
            return 0
        return self._next_time_of_day(t, self.park[0]) - t

    def park_end(self, t: int) -> int:
        """End of the park window containing `t`."""
        return self._next_time_of_day(t, self.park[1]) if self.is_park(t) else t


@dataclass
class _Driver:
    intervals: list[tuple[int, int]] = field(default_factory=list)

    def driven(self, since: int, until: int) -> int:
        """Seconds driven inside (since, until]."""
        total = 0
        for start, end in reversed(self.intervals):
            if end <= since:
                break
            total += min(end, until) - max(start, since)
        return total

    def drive(self, start: int, end: int) -> None:
        if self.intervals and self.intervals[-1][1] == start:
            self.intervals[-1] = (self.intervals[-1][0], end)
        else:
            self.intervals.append((start, end))


def _hhmm(seconds: float) -> str:
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    return f"{hours} h" if hours else f"{minutes} min"


def _great_circle_point(
    a: tuple[float, float], b: tuple[float, float], share: float
) -> tuple[float, float]:
    """The point at `share` of the great-circle arc from `a` to `b` (lon, lat degrees).

    On the arc, not on the straight lon/lat line, so the great-circle km from `a` is exactly
    `share` of the arc: a rest never sits further than the km the coach has driven to it.
    """
    lon1, lat1, lon2, lat2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    v1 = (math.cos(lat1) * math.cos(lon1), math.cos(lat1) * math.sin(lon1), math.sin(lat1))
    v2 = (math.cos(lat2) * math.cos(lon2), math.cos(lat2) * math.sin(lon2), math.sin(lat2))
    dot = max(-1.0, min(1.0, sum(x * y for x, y in zip(v1, v2, strict=True))))
    omega = math.acos(dot)
    if omega < 1e-12:
        return a
    k1 = math.sin((1 - share) * omega) / math.sin(omega)
    k2 = math.sin(share * omega) / math.sin(omega)
    x, y, z = (k1 * p + k2 * q for p, q in zip(v1, v2, strict=True))
    return (math.degrees(math.atan2(y, x)), math.degrees(math.atan2(z, math.hypot(x, y))))


def _point_along(line: Sequence[tuple[float, float]], fraction: float) -> tuple[float, float]:
    """The point at `fraction` of the polyline's great-circle length."""
    if len(line) == 1 or fraction <= 0:
        return line[0]
    lengths, total = _segment_km(tuple(line))
    if total == 0:
        return line[0]
    target = min(fraction, 1.0) * total
    for (a, b), length in zip(itertools.pairwise(line), lengths, strict=True):
        if target <= length and length > 0:
            return _great_circle_point(a, b, target / length)
        target -= length
    return line[-1]


@functools.lru_cache(maxsize=8192)
def _segment_km(
    line: tuple[tuple[float, float], ...],
) -> tuple[tuple[float, ...], float]:
    """Each segment's great-circle km and their sum: one road line is asked for a point at
    every rest of every departure time and crew tried, so its lengths are computed once."""
    lengths = tuple(great_circle_km(a[0], a[1], b[0], b[1]) for a, b in itertools.pairwise(line))
    return lengths, sum(lengths)


class _CrewTooSmall(Exception):
    """Internal: this crew would need rest beyond the rules; try a larger one."""


class _Run:
    """One simulation of the trip with a fixed crew."""

    def __init__(
        self,
        stops: Sequence[ServiceStop],
        legs: Sequence[Leg],
        departure: dt.datetime,
        policy: Policy,
        drivers: int,
        *,
        give_up_on_extra_rest: bool = False,
    ) -> None:
        self.give_up_on_extra_rest = give_up_on_extra_rest
        self.service = stops
        self.legs = legs
        self.policy = policy
        self.windows = _Windows(policy)
        self.anchor = departure.replace(hour=0, minute=0, second=0, microsecond=0)
        self.t = int((departure.replace(microsecond=0) - self.anchor).total_seconds())
        self.drivers = [_Driver() for _ in range(drivers)]
        self.current = 0
        self.stretch_s = 0
        self.stretch_night = False
        self.min_rest_s = policy.min_rest_minutes * 60
        self.extra_rest_s = 0
        self.driving_s = 0
        self.out: list[Stop] = []
        self.remaining_work = float(sum(leg.duration_s for leg in legs))

    # -- helpers ---------------------------------------------------------------------------------

    def _time(self, t: int) -> dt.datetime:
        return self.anchor + dt.timedelta(seconds=t)

    def _allowance(self, driver: _Driver, t: int) -> int:
        """Seconds `driver` may still drive from `t`, counting past driving in the trailing windows
        (conservative: driving that slides out of the window while driving is not credited)."""
        policy = self.policy
        return min(
            policy.max_driving_per_driver_24h_minutes * 60 - driver.driven(t - DAY_S, t),
            policy.max_driving_per_driver_7d_minutes * 60 - driver.driven(t - WEEK_S, t),
        )

    def _chunk(self) -> int:
        policy = self.policy
        return int(
            max(
                1,
                min(
                    MIN_DRIVING_CHUNK_S,
                    math.ceil(self.remaining_work),
                    policy.max_driving_per_driver_24h_minutes * 60,
                    policy.max_driving_per_driver_7d_minutes * 60,
                ),
            )
        )

    def _available_from(self, driver: _Driver, t: int, need: int) -> int:
        """Earliest second >= t at which `driver` has `need` seconds of allowance (no driving
        in between); allowance only grows while nobody drives, so bisect."""
        if self._allowance(driver, t) >= need:
            return t
        low, high = t, t + WEEK_S + 1
        while low < high:
            mid = (low + high) // 2
            if self._allowance(driver, mid) >= need:
                high = mid
            else:
                low = mid + 1
        return low

    def _continuous_cap(self) -> float:
        """Seconds the coach may still drive before the continuous-driving rule needs a rest.

        A driving step never crosses a window edge, so by day the day limit is enough: on
        reaching nightfall the stretch turns night and, if already beyond the night limit, rests
        right there (a stretch ending at 22:00 has not driven at night).
        """
        policy = self.policy
        if self.stretch_night or self.windows.is_night(self.t):
            return policy.night_max_continuous_driving_minutes * 60 - self.stretch_s
        return policy.day_max_continuous_driving_minutes * 60 - self.stretch_s

    def _position(
        self, origin: ServiceStop, target: ServiceStop, leg: Leg, fraction: float
    ) -> tuple[float, float]:
        line = leg.line or ((origin.lon, origin.lat), (target.lon, target.lat))
        return _point_along(line, fraction)

    def _rest(
        self, until_at_least: int, lon: float, lat: float, km: float, *, crew_hours: bool = False
    ) -> None:
        """Stop here from now until `until_at_least` (at least the minimum rest), stretching the
        stop through the park window when it ends in or just before it."""
        start = self.t
        end = max(until_at_least, start + self.min_rest_s)
        if self.windows.is_park(end):
            end = self.windows.park_end(end)
        else:
            to_park = self.windows.until_park(end)
            if to_park < PARK_MERGE_S and self.remaining_work > to_park:
                end = self.windows.park_end(end + int(to_park))
        if self._overlaps_park(start, end):
            p = self.policy
            note = f"park {p.park_start_hour:02d}:00-{p.park_end_hour:02d}:00"
        else:
            note = f"rest {_hhmm(end - start)}"
        notes = [note]
        if crew_hours:
            notes.append("crew out of driving hours")
        self.t = end
        if self._reset_stretch():
            notes.append("driver change")
        self.out.append(
            Stop(
                kind="rest",
                lon=lon,
                lat=lat,
                arrive=self._time(start),
                depart=self._time(end),
                km_from_previous=km,
                name="rest",
                note="; ".join(notes),
            )
        )

    def _overlaps_park(self, start: int, end: int) -> bool:
        if self.windows.is_park(start):
            return True
        return self.windows.until_park(start) < end - start

    def _reset_stretch(self) -> bool:
        """A rest ends the driving stretch; the driver with the most hours left takes the wheel
        (ties go to the next driver in turn, so a crew alternates). True if the driver changed."""
        self.stretch_s = 0
        self.stretch_night = False
        count = len(self.drivers)
        order = [(self.current + 1 + k) % count for k in range(count)]
        best = max(order, key=lambda k: (self._allowance(self.drivers[k], self.t), -order.index(k)))
        changed = best != self.current
        self.current = best
        return changed

    # -- the simulation --------------------------------------------------------------------------

    def run(self) -> list[Stop]:
        first = self.service[0]
        self.out.append(self._service_stop(first, self.t - first.dwell_s, self.t, 0.0))
        for index, leg in enumerate(self.legs):
            self._drive_leg(self.service[index], self.service[index + 1], leg)
        return self.out

    def _service_stop(self, stop: ServiceStop, arrive: int, depart: int, km: float) -> Stop:
        return Stop(
            kind=stop.kind,
            lon=stop.lon,
            lat=stop.lat,
            arrive=self._time(arrive),
            depart=self._time(depart),
            km_from_previous=km,
            company_id=stop.company_id,
            hub_id=stop.hub_id,
            adcode=stop.adcode,
            name=stop.name,
            board=stop.board,
            alight=stop.alight,
        )

    def _drive_leg(self, origin: ServiceStop, target: ServiceStop, leg: Leg) -> None:
        windows = self.windows
        work_total = float(leg.duration_s)
        work_done = 0.0
        placed_m = 0

        def here() -> tuple[float, float, float]:
            nonlocal placed_m
            fraction = work_done / work_total if work_total else 0.0
            lon, lat = self._position(origin, target, leg, fraction)
            at_m = min(leg.distance_m, round(leg.distance_m * fraction))
            km = (at_m - placed_m) / 1000
            placed_m = at_m
            return lon, lat, km

        while work_done < work_total:
            if windows.is_park(self.t):
                self._rest(windows.park_end(self.t), *here())
                continue
            cap = self._continuous_cap()
            if cap <= 0:
                self._rest(self.t, *here())
                continue
            driver = self.drivers[self.current]
            allowance = self._allowance(driver, self.t)
            chunk = self._chunk()
            if allowance < chunk:
                ready = min(self._available_from(d, self.t, chunk) for d in self.drivers)
                extra = ready - (self.t + self.min_rest_s)
                if extra > 0:
                    if self.give_up_on_extra_rest:
                        raise _CrewTooSmall
                    self.extra_rest_s += extra
                self._rest(ready, *here(), crew_hours=extra > 0)
                continue
            rate = self.policy.night_speed_factor if windows.is_night(self.t) else 1.0
            to_finish = math.ceil((work_total - work_done) / rate - 1e-9)
            step = int(min(cap, allowance, windows.next_edge(self.t) - self.t, to_finish))
            step = max(step, 1)
            if windows.is_night(self.t):
                self.stretch_night = True
            driver.drive(self.t, self.t + step)
            self.t += step
            self.stretch_s += step
            self.driving_s += step
            if step >= to_finish:
                self.remaining_work -= work_total - work_done
                work_done = work_total
            else:
                self.remaining_work -= step * rate
                work_done += step * rate
        km = (leg.distance_m - placed_m) / 1000
        arrive = self.t
        self.t += target.dwell_s
        stop = self._service_stop(target, arrive, self.t, km)
        if target.dwell_s >= self.min_rest_s and self._reset_stretch():
            stop = dataclasses.replace(stop, note="driver change")
        self.out.append(stop)


def _validate(stops: Sequence[ServiceStop], legs: Sequence[Leg]) -> None:
    if not stops:
        raise InvalidInput("a trip needs at least one stop")
    if len(legs) != len(stops) - 1:
        raise InvalidInput(
            f"a trip with {len(stops)} stops needs {len(stops) - 1} legs, not {len(legs)}"
        )


def build_timetable(
    stops: Sequence[ServiceStop],
    legs: Sequence[Leg],
    departure: dt.datetime,
    policy: Policy,
    *,
    drivers: int | None = None,
) -> Timetable:
    """The legal timetable of a trip leaving its first stop at `departure` (local time).

    `legs[i]` is the road from `stops[i]` to `stops[i + 1]` at day speed. The first stop is
    reached `dwell_s` before `departure`. The crew is the fewest drivers (from 2 above
    `two_driver_km`) that need no rest beyond the rules, up to `max_drivers`; pass `drivers` to
    impose a crew. Deterministic: the same input gives the same timetable.
    """
    _validate(stops, legs)
    distance_m = sum(leg.distance_m for leg in legs)
    distance_km = distance_m / 1000
    minimum = 2 if distance_km > policy.two_driver_km else 1
    notes: list[str] = []
    legal = True
    if drivers is not None:
        if drivers < 1:
            raise InvalidInput("drivers must be at least 1")
        crews = [drivers]
        if drivers < minimum:
            legal = False
            notes.append(
                f"{drivers} driver(s) on a {distance_km:.0f} km trip: the rules need {minimum}"
            )
    else:
        if minimum > policy.max_drivers:
            legal = False
            notes.append(
                f"a {distance_km:.0f} km trip needs {minimum} drivers but max_drivers is "
                f"{policy.max_drivers}"
            )
        crews = list(range(min(minimum, policy.max_drivers), policy.max_drivers + 1))
    for crew in crews:
        # A smaller crew is abandoned at its first extra rest: the next size is tried instead.
        run = _Run(stops, legs, departure, policy, crew, give_up_on_extra_rest=crew != crews[-1])
        try:
            run.run()
        except _CrewTooSmall:
            continue
        break
    if run.extra_rest_s:
        notes.append(
            f"a crew of {len(run.drivers)} cannot cover the driving hours: "
            f"{_hhmm(run.extra_rest_s)} of extra rest"
        )
    out = tuple(run.out)
    return Timetable(
        stops=out,
        drivers=len(run.drivers),
        driving_minutes=round(run.driving_s / 60),
        distance_km=distance_km,
        departure=out[0].depart,
        arrival=out[-1].arrive,
        extra_rest_minutes=math.ceil(run.extra_rest_s / 60),
        legal=legal,
        notes=tuple(notes),
    )


def departure_candidates(day: dt.date, policy: Policy, step_minutes: int = 30) -> list[dt.datetime]:
    """Departure times on `day` from `earliest_departure_hour`:00 to `latest_departure_hour`:00
    inclusive, every `step_minutes`."""
    if step_minutes <= 0:
        raise InvalidInput("step_minutes must be positive")
    start = dt.datetime.combine(day, dt.time(policy.earliest_departure_hour))
    end = dt.datetime.combine(day, dt.time(policy.latest_departure_hour))
    times = []
    at = start
    while at <= end:
        times.append(at)
        at += dt.timedelta(minutes=step_minutes)
    return times


def plan_timetable(
    stops: Sequence[ServiceStop],
    legs: Sequence[Leg],
    day: dt.date,
    policy: Policy,
    *,
    step_minutes: int = 30,
) -> Timetable:
    """The best legal timetable departing on `day` within the policy's departure hours.

    Tries every `step_minutes` from `earliest_departure_hour`:00 to `latest_departure_hour`:00 and
    keeps, in this order of preference: a legal crew, the least extra rest, the fewest drivers, the
    earliest arrival, the earliest departure. Deterministic. The rules do not depend on the date,
    so the answer is computed once per trip shape and shifted to `day` (cached).
    """
    _validate(stops, legs)
    # Only place, kind and dwell shape the timetable: who boards does not, so cache without it.
    bare = tuple(ServiceStop(s.kind, s.lon, s.lat, s.dwell_s) for s in stops)
    reference = _plan_on_reference_day(bare, tuple(legs), policy, step_minutes)
    shifted = _shift(reference, day - _REFERENCE_DAY)
    return dataclasses.replace(shifted, stops=fill_service(shifted.stops, stops))


def fill_service(timed: Sequence[Stop], service: Iterable[ServiceStop | Stop]) -> tuple[Stop, ...]:
    """The `timed` stops with each non-rest stop's who-and-where (company, hub, county, name,
    boarders, alighters) taken in order from `service`; rests stay as they are."""
    own_stops = iter(service)
    filled = []
    for stop in timed:
        if stop.kind != "rest":
            own = next(own_stops)
            stop = dataclasses.replace(
                stop,
                company_id=own.company_id,
                hub_id=own.hub_id,
                adcode=own.adcode,
                name=own.name,
                board=own.board,
                alight=own.alight,
            )
        filled.append(stop)
    return tuple(filled)


_REFERENCE_DAY = dt.date(2000, 1, 3)


@functools.lru_cache(maxsize=4096)
def _plan_on_reference_day(
    stops: tuple[ServiceStop, ...], legs: tuple[Leg, ...], policy: Policy, step_minutes: int
) -> Timetable:
    best: Timetable | None = None
    best_key: tuple[bool, int, int, dt.datetime, dt.datetime] | None = None
    for departure in departure_candidates(_REFERENCE_DAY, policy, step_minutes):
        table = build_timetable(stops, legs, departure, policy)
        key = (not table.legal, table.extra_rest_minutes, table.drivers, table.arrival, departure)
        if best_key is None or key < best_key:
            best, best_key = table, key
    assert best is not None
    return best


def _shift(table: Timetable, delta: dt.timedelta) -> Timetable:
    if not delta:
        return table
    stops = tuple(
        dataclasses.replace(stop, arrive=stop.arrive + delta, depart=stop.depart + delta)
        for stop in table.stops
    )
    return dataclasses.replace(
        table, stops=stops, departure=table.departure + delta, arrival=table.arrival + delta
    )


def on_timetable(
    trip: Trip, stops: tuple[Stop, ...], moved_to: Mapping[int, int], table: Timetable
) -> Trip:
    """`trip` over `stops` (the timetable `table`'s, its service stops filled in), each rider
    boarding and alighting at the index `moved_to` gives their old one, with the table's crew
    and driving minutes."""
    passengers = tuple(
        dataclasses.replace(
            p, board_stop=moved_to[p.board_stop], alight_stop=moved_to[p.alight_stop]
        )
        for p in trip.passengers
    )
    return dataclasses.replace(
        trip,
        stops=stops,
        passengers=passengers,
        drivers=table.drivers,
        driving_minutes=table.driving_minutes,
    )
