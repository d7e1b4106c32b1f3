"""Coach availability: when each coach of the fleet is away, and what that leaves free.

A trip holds a coach over a *busy interval*: from the time it leaves the depot (on a return wave
it first drives out empty to the pickup) until it is back at the depot with its crew rested
(`busy_interval`). A `Ledger` holds the busy intervals of trips already decided (an earlier
wave, published trips) and answers how many coaches of a type are free over a time span.

For planning, `estimated_span` gives the realistic busy span of a coach serving one county
(legal drives with rests and layovers, both ways); `day_weights` spreads a span over departure
days, the unit the date choice works in. For the servable bound, `min_span_hours` gives a span
no coach serving the county can beat (straight line at the legal top speed, both ways).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from optimizer.duties import EmptyDriveTimer, layover_minutes, origin_side
from optimizer.geography.distance import Location
from optimizer.groups import Unit, consolidate_dates
from optimizer.model import Policy, Scenario, Trip, UnservedReason, VehicleType
from optimizer.routing import LinearProgram, solve_lp

# Road km are never shorter than this share of the great-circle km (the road graph snaps points
# to nodes, which may bring two places a little closer than their coordinates).
ROAD_OVER_LINE = 0.95


def layover(driving_minutes: int, policy: Policy, at_origin: bool = False) -> dt.timedelta:
    """Rest between two legs of a coach (the duties' rule; `at_origin`: the leg ends on the
    origin side, where `Policy.fresh_crew_at_origin` leaves only the turnaround)."""
    return dt.timedelta(minutes=layover_minutes(driving_minutes, policy, at_origin))


def origin_places(scenario: Scenario) -> tuple[Location, ...]:
    """Where a coach of the season may start or end a trip on the origin side: every company
    gate and hub (located as the planner's sites are, so the empty-drive timer keys them alike)."""
    gates = (Location(c.lon, c.lat) for c in scenario.companies)
    hubs = (Location(h.lon, h.lat) for h in scenario.hubs)
    return tuple(dict.fromkeys((*gates, *hubs)))


def busy_interval(
    trip: Trip,
    depot: Location,
    timer: EmptyDriveTimer,
    policy: Policy,
    places: Sequence[Location] = (),
) -> tuple[dt.datetime, dt.datetime]:
    """When the coach of `trip`, driving it alone, leaves home and is back and rested.

    Home is the depot and the origin's `places` (gates, hubs: `origin_places`), wherever the
    coach's next trip may start. It leaves in time to drive out empty to the pickup from the
    farthest of them (a return-wave trip from Guizhou needs a coach that left Cixi days before)
    and is back after the trip, its layover, the empty drive to the farthest of them and that
    drive's layover: the duties' link rule (`optimizer.duties._links`: the crew rest after more
    than `crew_rest_after_driving_minutes` of driving included). So a coach the ledger has free
    at an instant can be linked by the duties to any trip leaving home then: the ledger is never
    optimistic about the exact chaining (timing the drive to the depot alone was, where the
    drive to a gate crosses the crew-rest threshold and the drive to the depot does not)."""
    first, last = trip.stops[0], trip.stops[-1]
    start = Location(first.lon, first.lat, first.adcode)
    end = Location(last.lon, last.lat, last.adcode)
    homes = _distinct(timer, (depot, *places))
    leave = trip.departure
    for place in homes:
        out = timer(place, start, trip.departure)
        if out.distance_km:
            lead = (
                out.arrive - out.depart + layover(out.driving_minutes, policy, origin_side(first))
            )
            leave = min(leave, trip.departure - lead)
    ready = trip.arrival + layover(trip.driving_minutes, policy, origin_side(last))
    back = ready
    for place in homes:
        drive = timer(end, place, ready)
        if drive.distance_km:
            back = max(back, drive.arrive + layover(drive.driving_minutes, policy, True))
    return leave, back


def _prepare(
    timer: EmptyDriveTimer, depot: Location, places: Sequence[Location], trips: Sequence[Trip]
) -> None:
    """Road km among the depot, `places` and the trips' ends in one matrix call, when the timer
    can (one call per pair otherwise)."""
    prepare = getattr(timer, "prepare", None)
    if prepare is None or not trips:
        return
    ends = (
        Location(stop.lon, stop.lat, stop.adcode)
        for trip in trips
        for stop in (trip.stops[0], trip.stops[-1])
    )
    prepare([depot, *places, *ends])


def _distinct(timer: EmptyDriveTimer, places: Iterable[Location]) -> list[Location]:
    """`places` less those the timer times alike (one key: one drive)."""
    key = getattr(timer, "place_key", None)
    if not callable(key):
        return list(dict.fromkeys(places))
    return list({key(p): p for p in reversed(list(places))}.values())


@dataclass(frozen=True)
class Ledger:
    """Busy intervals per coach type, and the fleet they come out of."""

    fleet: tuple[VehicleType, ...]
    busy: Mapping[str, tuple[tuple[dt.datetime, dt.datetime], ...]]

    @classmethod
    def of_trips(
        cls,
        trips: Iterable[Trip],
        fleet: Sequence[VehicleType],
        depot: Location,
        timer: EmptyDriveTimer,
        policy: Policy,
        places: Sequence[Location] = (),
    ) -> Ledger:
        """The ledger of `trips`, each on a coach of its own type from `depot` (and the origin's
        `places`, see `busy_interval`)."""
        trips = list(trips)
        _prepare(timer, depot, places, trips)
        busy: dict[str, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
        for trip in trips:
            busy[trip.vehicle_type].append(busy_interval(trip, depot, timer, policy, places))
        return cls(tuple(fleet), {k: tuple(sorted(v)) for k, v in busy.items()})

    def away(self, vehicle_type: str, at: dt.datetime) -> int:
        """Coaches of the type away at the instant `at`."""
        return sum(1 for leave, home in self.busy.get(vehicle_type, ()) if leave <= at < home)

    def free(self, vehicle_type: str, start: dt.datetime, end: dt.datetime) -> int:
        """Coaches of the type at the depot over the whole of [start, end] (its count less the
        most that are away at any instant of the span)."""
        spec = next((v for v in self.fleet if v.vehicle_type == vehicle_type), None)
        if spec is None:
            return 0
        spans = self.busy.get(vehicle_type, ())
        instants = {start, *(leave for leave, _ in spans if start <= leave <= end)}
        return max(0, spec.count - max(self.away(vehicle_type, at) for at in instants))


@dataclass(frozen=True)
class Span:
    """A coach's busy span around a trip's departure, in hours: it leaves the depot `before`
    hours ahead (return wave: the empty drive to the pickup) and is back `after` hours later."""

    before: float
    after: float


def estimated_span(
    origin: Location,
    county: Location,
    home: bool,
    day: dt.date,
    timer: EmptyDriveTimer,
    policy: Policy,
    hour: int | None = None,
) -> Span:
    """The busy span of a coach driving one load between the origin and `county` on `day`,
    leaving at `hour` (None: the earliest departure hour): legal drives (rests, night rules)
    both ways, each followed by its layover."""
    start = policy.earliest_departure_hour if hour is None else hour
    depart = dt.datetime.combine(day, dt.time(start))
    out = timer(origin if home else county, county if home else origin, depart)
    drive = out.arrive - out.depart
    # The far end's layover (the crew rests there) and the origin side's (the turnaround, with a
    # fresh crew at the origin: `Policy.fresh_crew_at_origin`).
    far = (drive + layover(out.driving_minutes, policy)).total_seconds() / 3600
    near = (drive + layover(out.driving_minutes, policy, True)).total_seconds() / 3600
    # The empty leg takes about as long as the loaded one (same road, other way).
    if home:
        return Span(0.0, far + near)
    return Span(far, near)


def busy_limit(vehicle: VehicleType, day: dt.date) -> int:
    """Coaches of `vehicle`'s type that may be busy on `day`: those that may depart then
    (`count_on`) or, on a day outside the type's availability dates, every one of them: a
    coach that departs on its last available date still drives on the days after it (and a
    return-wave coach drives out empty on the days before its first), so the dates limit its
    departures, not its coach-days."""
    return vehicle.count_on(day) if vehicle.available_on(day) else vehicle.count


def day_weights(span: Span, policy: Policy) -> dict[int, float]:
    """Coach-days a trip departing at the earliest hour of day 0 keeps its coach busy, per day
    offset: the share of each departure day [earliest hour, +24 h) its busy span covers."""
    start = policy.earliest_departure_hour - span.before
    end = policy.earliest_departure_hour + span.after
    weights: dict[int, float] = {}
    first = math.floor((start - policy.earliest_departure_hour) / 24)
    last = math.floor((end - policy.earliest_departure_hour) / 24)
    for k in range(first, last + 1):
        lo = 24 * k + policy.earliest_departure_hour
        covered = max(0.0, min(end, lo + 24) - max(start, lo))
        if covered > 0:
            weights[k] = covered / 24
    return weights or {0: 0.0}


def great_circle_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle km between two (lon, lat) points."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))


def min_span_hours(
    origin_points: Sequence[tuple[float, float]], county: tuple[float, float], policy: Policy
) -> float:
    """Hours no coach serving `county` can beat, one way: the straight line from the nearest
    boarding point of the origin side to within `drop_radius_km` of the county seat, at the
    legal top speed (`max_speed_kmh`), roads never shorter than `ROAD_OVER_LINE` of the line."""
    if not origin_points:
        return 0.0
    km = min(great_circle_km(p, county) for p in origin_points)
    km = max(0.0, km * ROAD_OVER_LINE - policy.drop_radius_km)
    return km / policy.max_speed_kmh


def sure_offsets(before_h: float, after_h: float, policy: Policy) -> range:
    """Day offsets k such that a coach whose first stop is reached at any time s of day d's
    departure hours, busy over [s - before_h, s + after_h), is surely busy at day d+k's
    latest departure hour."""
    earliest, latest = policy.earliest_departure_hour, policy.latest_departure_hour
    low = -math.floor(before_h / 24)
    # The largest k with 24 k + latest < earliest + after_h.
    high = math.ceil((earliest - latest + after_h) / 24) - 1
    return range(low, high + 1)


@dataclass(frozen=True)
class Availability:
    """What the planner needs to keep within the fleet: the coaches already away (`ledger`), the
    depot they leave from, and the timer of legal drives."""

    ledger: Ledger
    depot: Location
    timer: EmptyDriveTimer
    # Keep the dates of planning without a fleet when even the optimistic estimate (no slack,
    # full pooling) fits: the caller then checks the exact chaining and re-plans with
    # `optimistic=False` only if it does not fit (`optimizer.season.solve_within_fleet`).
    optimistic: bool = False
    # Coach-days per seat by day offset, per stop county, measured on trips already built
    # (`measured_costs`): used instead of the estimate for the counties it has.
    measured: Mapping[str, Mapping[int, float]] | None = None
    # Count a coach free on a day when the ledger has it back by this clock hour (None: by the
    # earliest departure hour). A top-up of a short fleet's unseated workers counts coaches
    # back by the evening (`READY_BY_EVENING_HOUR`): its trips are built at the day's best
    # hour, and the fit re-times them to a departure after their coach is back
    # (`optimizer.retime`), or cancels them.
    ready_by_hour: int | None = None
    # The share of its coaches' seats each home county's workers filled on trips already built
    # (`optimizer.patterns.county_fill`): the route-pattern spread counts a coach carrying the
    # county to hold that share of its seats (None: `optimizer.patterns.PATTERN_FILL`).
    fill: Mapping[str, float] | None = None


@dataclass(frozen=True)
class Spread:
    """Departure dates fitted to the coaches free: each kept unit's date, the units left out
    (index -> why), the seats moved off their first-choice date, and whether the fleet bound."""

    dates: dict[int, dt.date]
    dropped: dict[int, str]
    moved: int
    binding: bool
    # The realistic estimate said the fleet binds, the optimistic one that it does not: the
    # dates were kept (`Availability.optimistic`).
    uncertain: bool = False
    # County dates saved by gathering a county's units onto fewer dates (`consolidate_dates`).
    merged: int = 0
    # Dates whose coaches the LP's placement fills (busy coach-days at the coaches free): the
    # fleet binds there, so a coach back on such a date is worth another trip
    # (`optimizer.planning.turns`).
    full: frozenset[dt.date] = frozenset()
    # (stop county, date) pairs whose seats the LP placed mostly at the date's evening
    # departure (`HALF_DAY_SPREAD`): their coaches are timed from the evening.
    evening: frozenset[tuple[str, dt.date]] = frozenset()


# Coaches are busy longer than the estimated drives (detours to several stops, waiting for a
# departure hour): a day a coach is partly away on is counted this much more (never more than
# the whole day). Measured on the robustness family's near-50-tight: the planned trips' busy
# intervals were 1.19x their estimated spans.
ESTIMATE_SLACK = 1.2
# Coaches pooling small counties carry less than the stop limit times their loads (gates,
# corridors and detours split them): measured on the robustness family's wide-6k-610, whose
# unlimited plan drove 669 trips where full pooling promised 390, 1.7x.
POOLED_SHORTFALL = 1.5
# The plan's note when the dates were kept although the realistic estimate said the fleet binds.
UNCERTAIN_SPREAD_NOTE = (
    "fleet: dates kept as without a fleet (only the realistic estimate says the fleet binds); "
    "the exact chaining decides"
)
# A seat moved off its first-choice date costs this share of a seated worker: seat the most,
# then keep the dates that promise the fewest coaches.
MOVE_PENALTY = 0.01
# The seat LP prices a county's stop on a date as a whole (`_stop_priced`): a stop takes
# POOLED_SHORTFALL / stop_limit of a coach however few board there, and its seats at least
# their share of the fleet's mean coach. Off (the default): the county's seats priced alike
# on every date by its mean load (`fill`). Off because it did not win across the family: side
# by side, 2 pairs (2026-12-08, load 8.6-12.7), return-far-half 3,662 -> 3,723.5 seated, but
# return-3k-711 2,230 -> 2,228.5 and near-50-tight 7,201 -> 7,136.5, and the one-coach season
# of tests/optimizer/test_sparse.py seats 15 against 16 (docs/benchmarks.md, "retgates").
STOP_PRICED_SPREAD = False
# The stop and coach variables' small costs: keep them at what the seats placed need.
STOP_COST = 1e-5
# The seat LP's capacity at two instants of each date, its earliest departure hour (morning)
# and its latest (evening), with a date's seats leaving at either, and coaches whose loads it
# placed mostly at the evening timed from `EVENING_FROM_HOUR` (`Spread.evening`,
# `optimizer.planning.trips`). Why: one row per date charges a coach whose morning trip is back
# before the next date's evening a share of the next date's coach (near-50-tight: 0.44 of it,
# seat-weighted, for the counties a lone coach turns) and cannot tell its free evening from its
# busy morning; with coaches interchangeable and a trip holding its coach over one interval,
# coaches away at each departure instant within the count is what chaining the placed trips
# needs (`busy_instants`). Off: it lost side by side on near-50-tight, the season it was built
# for (3 pairs each, 2026-12-08, load 8-16): the LP alone 7,374 -> 7,180 seated (medians,
# lower in every pair), with the evening timing 7,320 -> 7,228 (-117, -92, +19). The LP puts
# 2,570 of the 8,027 seats at evening departures; trips timed there take the first peak day's
# coaches but hold them over the next date's morning (docs/benchmarks.md, "evening: the fleet
# spread's morning and evening rows").
HALF_DAY_SPREAD = False
EVENING_FROM_HOUR = 18
# A seat placed at a date's evening departure costs this share of a seated worker: the
# morning, where the coaches allow it.
EVENING_PENALTY = 0.001


def busy_instants(span: Span, hour: int, policy: Policy) -> list[tuple[int, int]]:
    """The departure instants at which a coach leaving at `hour` of day 0 is away: (day offset,
    0 for the earliest departure hour, 1 for the latest), its `span` lengthened by
    `ESTIMATE_SLACK` (the planned trips' busy intervals against their estimated spans)."""
    start = hour - span.before * ESTIMATE_SLACK
    end = hour + span.after * ESTIMATE_SLACK
    hours = (policy.earliest_departure_hour, policy.latest_departure_hour)
    return [
        (k, half)
        for k in range(math.floor(start / 24) - 1, math.ceil(end / 24) + 1)
        for half, h in enumerate(hours)
        if start <= 24 * k + h < end
    ]


def seats_by_home(trip: Trip, home_of: Mapping[str, str | None]) -> dict[str, int]:
    """The seats `trip`'s passengers take per home county (`home_of`: worker id -> county
    adcode; a passenger whose worker is not there, or has no county, is left out)."""
    taken: dict[str, int] = defaultdict(int)
    for passenger in trip.passengers:
        county = home_of.get(passenger.worker_id)
        if county is not None:
            taken[county] += passenger.seat_count
    return taken


def measured_costs(
    trips: Iterable[Trip], scenario: Scenario, depot: Location, timer: EmptyDriveTimer
) -> dict[str, dict[int, float]]:
    """Coach-days per seat by day offset (as `day_weights`, from the earliest departure hour of
    the trip's date), per home county, measured on built `trips`: each trip's busy interval
    (`busy_interval`) shared among its counties by the seats they take on it."""
    policy = scenario.policy
    places = origin_places(scenario)
    trips = list(trips)
    _prepare(timer, depot, places, trips)
    home_of = {w.worker_id: w.home_adcode for w in scenario.workers}
    days: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    seats: dict[str, float] = defaultdict(float)
    for trip in trips:
        taken = seats_by_home(trip, home_of)
        total = sum(taken.values())
        if not total:
            continue
        leave, back = busy_interval(trip, depot, timer, policy, places)
        base = dt.datetime.combine(trip.departure_date, dt.time(policy.earliest_departure_hour))
        span = Span(
            max(0.0, (base - leave).total_seconds() / 3600),
            max(0.0, (back - base).total_seconds() / 3600),
        )
        for k, w in day_weights(span, policy).items():
            for county, n in taken.items():
                days[county][k] += w * n / total
        for county, n in taken.items():
            seats[county] += n
    return {
        county: {k: w / seats[county] for k, w in by_day.items()}
        for county, by_day in days.items()
        if seats[county]
    }


def _day_label(day: dt.date) -> str:
    return day.strftime("%m-%d")


def spread_dates(
    units: Sequence[Unit],
    dates: Mapping[int, dt.date],
    stop_of: Mapping[str, str],
    county_location: Mapping[str, Location],
    allowed: Sequence[dt.date],
    availability: Availability,
    policy: Policy,
    home: bool,
    stop_limit: int,
    binding: Callable[[], Spread | None] | None = None,
) -> Spread:
    """Move units to other dates of their windows so that, day by day, the coaches their trips
    keep busy (estimated) fit the coaches free; units that fit no date are left out.

    Model (an LP over (group, date), groups = units of one stop county and one window, in seat
    units): a seat to county c departing on day d keeps `1 / fill(c)` of a coach busy on each
    day d + k in proportion `day_weights(estimated_span(c))[k]`, where fill(c) is the seats a
    coach carrying county c holds: the fleet's mean coach, or less when c's load of a date is
    small (a coach stops at most `stop_limit` counties). On every day the busy coaches must not
    exceed the coaches free that day (the count less those away on trips of the ledger).
    Maximise seats placed, less `MOVE_PENALTY` per seat moved off the date the planner chose.
    When the first choice already fits, nothing changes (the fleet is not binding).

    `binding`, when given, is asked for the dates once the fleet binds (the route-pattern
    spread, `optimizer.patterns.pattern_spread`); its None falls back to the LP above.
    """
    ledger = availability.ledger
    if not dates:
        return Spread(dict(dates), {}, 0, False)
    allowed_set = set(allowed)
    weights: dict[str, dict[int, float]] = {}
    first = min(allowed)
    for index in dates:
        stop = stop_of[units[index].home]
        if stop not in weights:
            span = estimated_span(
                availability.depot, county_location[stop], home, first, availability.timer, policy
            )
            weights[stop] = {
                k: min(1.0, w * ESTIMATE_SLACK) for k, w in day_weights(span, policy).items()
            }
    horizon = sorted(
        {d + dt.timedelta(days=k) for d in allowed for w in weights.values() for k in w}
        | set(allowed)
    )
    capacity: dict[dt.date, float] = {}
    ready_hour = (
        policy.earliest_departure_hour
        if availability.ready_by_hour is None
        else max(policy.earliest_departure_hour, availability.ready_by_hour)
    )
    for day in horizon:
        at = dt.datetime.combine(day, dt.time(ready_hour))
        capacity[day] = sum(
            max(0, min(busy_limit(v, day), v.count - ledger.away(v.vehicle_type, at)))
            for v in ledger.fleet
        )
    coaches = sum(v.count for v in ledger.fleet)
    mean_seats = sum(v.count * v.seats for v in ledger.fleet) / max(1, coaches)
    county_seats_: dict[str, int] = defaultdict(int)
    county_days: dict[str, set[dt.date]] = defaultdict(set)
    for index, day in dates.items():
        stop = stop_of[units[index].home]
        county_seats_[stop] += units[index].seats
        county_days[stop].add(day)
    # A coach carrying county c holds the fleet's mean coach, or, when c's load of a date is
    # small, the loads of at most `stop_limit` such counties.
    fill = {
        stop: max(
            1.0,
            min(mean_seats, stop_limit * demand / len(county_days[stop]) / POOLED_SHORTFALL),
        )
        for stop, demand in county_seats_.items()
    }
    # Groups: one stop county, one window.
    groups: dict[tuple[str, dt.date, dt.date], list[int]] = defaultdict(list)
    for index in sorted(dates):
        unit = units[index]
        groups[(stop_of[unit.home], *unit.window)].append(index)
    if availability.measured:
        for stop in list(weights):
            if stop in availability.measured:
                weights[stop] = dict(availability.measured[stop])
                fill[stop] = 1.0
    load: dict[dt.date, float] = defaultdict(float)
    for index, day in dates.items():
        stop = stop_of[units[index].home]
        for k, w in weights[stop].items():
            load[day + dt.timedelta(days=k)] += units[index].seats * w / fill[stop]
    if all(load[t] <= capacity.get(t, 0.0) + 1e-9 for t in load):
        return Spread(dict(dates), {}, 0, False)
    if availability.optimistic:
        # The same load with the drives as estimated and coaches pooled to the stop limit.
        bare: dict[dt.date, float] = defaultdict(float)
        for index, day in dates.items():
            stop = stop_of[units[index].home]
            span = estimated_span(
                availability.depot, county_location[stop], home, first, availability.timer, policy
            )
            fill_bare = max(
                1.0, min(mean_seats, stop_limit * county_seats_[stop] / len(county_days[stop]))
            )
            for k, w in day_weights(span, policy).items():
                bare[day + dt.timedelta(days=k)] += units[index].seats * w / fill_bare
        if all(bare[t] <= capacity.get(t, 0.0) + 1e-9 for t in bare):
            return Spread(dict(dates), {}, 0, False, uncertain=True)
    if binding is not None:
        decided = binding()
        if decided is not None:
            return decided

    # The LP: y[g, d] seats of group g on date d (and e[g, d] at its evening departure, with
    # `HALF_DAY_SPREAD`); m[g, d] seats moved off first choice d. Capacity rows per date, or
    # per (date, half) with `HALF_DAY_SPREAD`: keys (date, 0) and (date, 1).
    # (Not when coaches count free by a later hour, `Availability.ready_by_hour`: its rows are
    # the top-up's, whose trips the fit re-times anyway.)
    halves = (
        HALF_DAY_SPREAD
        and availability.ready_by_hour is None
        and policy.latest_departure_hour > policy.earliest_departure_hour
    )
    objective: list[float] = []
    upper: list[float] = []
    rows: list[tuple[dict[int, float], float]] = []
    on_day: dict[tuple[dt.date, int], dict[int, float]] = defaultdict(dict)
    y_index: dict[tuple[int, dt.date], int] = {}
    evening_index: dict[tuple[int, dt.date], int] = {}
    instants: dict[tuple[str, int], list[tuple[int, int]]] = {}

    def busy_at(stop: str, hour: int) -> list[tuple[int, int]]:
        if (stop, hour) not in instants:
            span = estimated_span(
                availability.depot,
                county_location[stop],
                home,
                first,
                availability.timer,
                policy,
                hour,
            )
            instants[(stop, hour)] = busy_instants(span, hour, policy)
        return instants[(stop, hour)]

    def charge(var: int, stop: str, day: dt.date, hour: int) -> None:
        """Charge seat variable `var` (county `stop`, leaving on `day` at `hour`) on the rows."""
        measured = stop in (availability.measured or {})
        if halves and not measured:
            for k, half in busy_at(stop, hour):
                t = (day + dt.timedelta(days=k), half)
                on_day[t][var] = on_day[t].get(var, 0.0) + 1.0 / fill[stop]
            return
        for k, w in weights[stop].items():
            for half in (0, 1) if halves else (0,):
                t = (day + dt.timedelta(days=k), half)
                if w > 0:
                    on_day[t][var] = on_day[t].get(var, 0.0) + w / fill[stop]

    keys = list(groups)
    # (stop county, date) -> the seat variables of its groups and their groups' seats, when
    # the stop is priced as a whole (counties with measured costs keep theirs per seat).
    priced: dict[tuple[str, dt.date], list[tuple[int, float]]] = defaultdict(list)
    for g, key in enumerate(keys):
        stop, start, end = key
        by_stop = (
            STOP_PRICED_SPREAD and stop_limit > 0 and stop not in (availability.measured or {})
        )
        members = groups[key]
        total = float(sum(units[i].seats for i in members))
        chosen: dict[dt.date, float] = defaultdict(float)
        for i in members:
            chosen[dates[i]] += units[i].seats
        days = [d for d in allowed if start <= d <= end and d in allowed_set]
        row: dict[int, float] = {}
        evenings = halves and not by_stop and stop not in (availability.measured or {})
        for day in days:
            var = len(objective)
            objective.append(1.0)
            upper.append(total)
            y_index[(g, day)] = var
            row[var] = 1.0
            if by_stop:
                priced[(stop, day)].append((var, total))
                continue
            charge(var, stop, day, policy.earliest_departure_hour)
            if evenings:
                late = len(objective)
                objective.append(1.0 - EVENING_PENALTY)
                upper.append(total)
                evening_index[(g, day)] = late
                row[late] = 1.0
                charge(late, stop, day, policy.latest_departure_hour)
        rows.append((row, total))
        for day, seats in chosen.items():
            if (g, day) not in y_index:
                continue
            moved = len(objective)
            objective.append(-MOVE_PENALTY)
            upper.append(seats)
            placed_row = {y_index[(g, day)]: -1.0, moved: -1.0}
            if (g, day) in evening_index:
                placed_row[evening_index[(g, day)]] = -1.0
            rows.append((placed_row, -seats))
    if priced:
        _stop_priced(
            priced, weights, mean_seats, stop_limit, objective, upper, rows, on_day, halves
        )
    evening_capacity: dict[dt.date, float] = {}
    for day, half in on_day:
        # Instants past the horizon (an evening trip's span reaches a day later than a
        # morning trip's) count the coaches free there as well.
        hour = policy.latest_departure_hour if half else ready_hour
        if (evening_capacity if half else capacity).get(day) is None and halves:
            at = dt.datetime.combine(day, dt.time(hour))
            (evening_capacity if half else capacity)[day] = sum(
                max(0, min(busy_limit(v, day), v.count - ledger.away(v.vehicle_type, at)))
                for v in ledger.fleet
            )

    def free_at(key: tuple[dt.date, int]) -> float:
        day, half = key
        return evening_capacity[day] if half else capacity.get(day, 0.0)

    for t, row in on_day.items():
        rows.append((row, free_at(t)))
    _, x = solve_lp(LinearProgram(tuple(objective), tuple(upper), tuple(rows)))
    used = {t: sum(x[v] * c for v, c in row.items()) for t, row in on_day.items()}
    late_seats: dict[tuple[str, dt.date], float] = defaultdict(float)
    all_seats: dict[tuple[str, dt.date], float] = defaultdict(float)
    for (g, day), var in y_index.items():
        all_seats[(keys[g][0], day)] += x[var]
        if (g, day) in evening_index:
            late_seats[(keys[g][0], day)] += x[evening_index[(g, day)]]
            all_seats[(keys[g][0], day)] += x[evening_index[(g, day)]]
    evening = frozenset(
        key for key, seats in late_seats.items() if seats > 0.5 and seats >= all_seats[key] / 2
    )
    full = sorted({t[0] for t in on_day if used[t] >= free_at(t) - 0.01})
    types = ", ".join(v.vehicle_type for v in ledger.fleet if v.count > 0)

    result: dict[int, dt.date] = {}
    dropped: dict[int, str] = {}
    moved_seats = 0
    for g, key in enumerate(keys):
        members = groups[key]
        left = {
            d: x[v] + (x[evening_index[(gg, d)]] if (gg, d) in evening_index else 0.0)
            for (gg, d), v in y_index.items()
            if gg == g
        }
        pending: list[int] = []
        for i in sorted(members, key=lambda i: (-units[i].seats, units[i].worker_ids)):
            day = dates[i]
            if left.get(day, 0.0) >= units[i].seats - 0.5:
                left[day] -= units[i].seats
                result[i] = day
            else:
                pending.append(i)
        for i in pending:
            best = max(
                left,
                key=lambda d: (left[d], -abs((d - dates[i]).days)),
                default=None,
            )
            if best is not None and left[best] >= units[i].seats - 0.5:
                left[best] -= units[i].seats
                result[i] = best
                moved_seats += units[i].seats
            else:
                _, start, end = key
                busy = [t for t in full if start <= t <= end] or [t for t in full if t >= start][:3]
                dropped[i] = f"coaches ({types}) all away or taken on " + (
                    ", ".join(_day_label(t) for t in busy) or "every date of the window"
                )
    # The LP prices seats, not stops: gather each county's kept units onto fewer dates.
    cost = {s: {k: w / fill[s] for k, w in by_day.items()} for s, by_day in weights.items()}
    placed: dict[dt.date, float] = defaultdict(float)
    for index, day in result.items():
        for k, c in cost[stop_of[units[index].home]].items():
            placed[day + dt.timedelta(days=k)] += units[index].seats * c
    largest = max((v.seats for v in ledger.fleet if v.count > 0), default=1)
    result, merged = consolidate_dates(
        units, result, stop_of, allowed, cost, placed, capacity, largest
    )
    moved_seats = sum(units[i].seats for i, day in result.items() if day != dates[i])
    return Spread(
        result,
        dropped,
        moved_seats,
        True,
        merged=merged,
        full=frozenset(full),
        evening=evening,
    )


def _stop_priced(
    priced: Mapping[tuple[str, dt.date], Sequence[tuple[int, float]]],
    weights: Mapping[str, Mapping[int, float]],
    mean_seats: float,
    stop_limit: int,
    objective: list[float],
    upper: list[float],
    rows: list[tuple[dict[int, float], float]],
    on_day: dict[tuple[dt.date, int], dict[int, float]],
    halves: bool = False,
) -> None:
    """Add the whole-stop pricing of the seat LP (in place; `halves`: rows at both departure
    instants of a date, the coaches charged on each): per (county, date) a stop share
    f in [0, 1] at least each group's placed share (y[g, d] <= |g| f: groups of one county
    share its stop on a date) and the coaches u it keeps busy, at least f's share of a coach
    (POOLED_SHORTFALL / stop_limit: a pooled coach serves about stop_limit / POOLED_SHORTFALL
    stops) and the seats' share of the fleet's mean coach; u is charged on the days of the
    county's busy span. Why: on sparse seasons (a county's 4 workers on 1-4 day windows) a
    stop is what a coach spends, not a seat, so the LP should gather a county's workers onto
    one date and give up the thin stops of the far counties first; pricing a county's seats
    alike by its mean load (`fill`) sees neither."""
    per_stop = POOLED_SHORTFALL / stop_limit
    for (stop, day), variables in priced.items():
        share = len(objective)
        objective.append(-STOP_COST)
        upper.append(1.0)
        coaches = len(objective)
        objective.append(-STOP_COST)
        upper.append(math.inf)
        for var, total in variables:
            rows.append(({var: 1.0 / max(total, 1.0), share: -1.0}, 0.0))
        seats_row = {var: 1.0 / max(mean_seats, 1.0) for var, _ in variables}
        seats_row[coaches] = -1.0
        rows.append((seats_row, 0.0))
        rows.append(({share: per_stop, coaches: -1.0}, 0.0))
        for k, w in weights[stop].items():
            for half in (0, 1) if halves else (0,):
                t = (day + dt.timedelta(days=k), half)
                if w > 0:
                    on_day[t][coaches] = on_day[t].get(coaches, 0.0) + w


# Reasons that hold for every plan: they come from the input alone (rows, homes, companies,
# parties, windows against the season and the fleet's dates, roads), never from planning choices.
INPUT_REASONS = frozenset(
    {
        UnservedReason.INVALID_ROW,
        UnservedReason.UNKNOWN_HOME,
        UnservedReason.AMBIGUOUS_HOME,
        UnservedReason.UNKNOWN_COMPANY,
        UnservedReason.PARTY_CONFLICT,
        UnservedReason.PARTY_TOO_LARGE,
        UnservedReason.NO_DATE_IN_WINDOW,
        UnservedReason.NO_COACH_IN_WINDOW,
        UnservedReason.TOO_FAR,
        UnservedReason.UNREACHABLE,
    }
)


def _hours(minutes: float) -> float:
    return minutes / 60


def at_most_stops(scenario: Scenario) -> int | None:
    """County stops a trip makes at most on the far side (drop-offs going home, pickups coming
    back), or None when a stop may serve several counties (`drop_radius_km` > 0)."""
    if scenario.policy.drop_radius_km > 0:
        return None
    policy = scenario.policy
    return policy.max_dropoff_stops if scenario.direction == "home" else policy.max_pickup_stops
