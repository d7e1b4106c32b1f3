"""The servable bound: a proven upper bound on the workers any plan can seat with a fleet.

Two stages, each usable alone:

- `county_turns` gives, per home county c, what no coach carrying a worker of c can beat: the
  road driving time from the origin side (gates, hubs) to c's stop and from there back to the
  origin side, as shortest paths over the SAME distance provider's matrix among every place a
  trip can stop at (so no triangle inequality of the provider is assumed), plus the duties'
  layovers, the 02:00-05:00 park and the slower night driving (`earliest_back`).
- `servable_bound_of_turns` is the LP over (group of workers, departure day) that counts, in
  windows of time, the coach time those turns force on the fleet (docs/plan-format.md gives
  the proof). `servable_bound` wires the two. By default the LP is the tightened one: a
  county's stop of a day is whole (not a fraction by its workers), a turn lasts at least the
  least clock time of its driving (`least_span`), and windows run up to the whole season;
  `tightened=False` is the first version, kept to measure against.

Without a provider (or when the provider cannot answer for some place) a county falls back to
the straight line at the legal top speed (`optimizer.ledger.min_span_hours`), still a valid
lower bound, only weaker.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from optimizer.duties import layover_minutes
from optimizer.errors import ChunyunError
from optimizer.geography.distance import DistanceProvider, Location, great_circle_km
from optimizer.groups import county_site, gate_site, hub_site
from optimizer.ledger import at_most_stops, min_span_hours
from optimizer.model import Policy, Scenario, VehicleType
from optimizer.places import county_seats
from optimizer.routing import LinearProgram, LpNotSolved, solve_lp

# Coach-time windows from day t to day t + j: [E_t - X, L_{t+j} + X) for the X (hours) listed
# at j. Every window gives a valid row; several let the LP pick the one that binds (short turns
# bind in short windows, long ones in long windows, chains of trips over several days).
WINDOW_HOURS = ((4.0, 12.0, 24.0), (12.0, 24.0), (24.0,))
# Tightened bound: also windows of these many days after the first (and the whole season), with
# these margins: a coach's chain of several multi-day turns binds only over a long window.
LONG_SPANS = (4, 6, 9)
LONG_MARGINS = (24.0, 48.0, 72.0)
# GLOP's seconds for the tightened LP; past them the first version (smaller, always solved to
# the end) is the bound.
TIGHTENED_LP_SECONDS = 60.0
# Whole-cycle rows (a coach's departures within a few days, `_cycle_rows`) and the return
# wave's split cover (`split_cover`); both on, switches kept for `benchmarks.servable` to
# measure against (docs/benchmarks.md, "servint").
CYCLE_ROWS = True
RETURN_COVER = True
# Departure spans (days after the first) of the cycle rows, and how many trips a coach makes
# at most in a row's days (q: trips whose cycle is above the span's hours / q).
CYCLE_SPANS = (1, 2, 3)
CYCLE_TRIPS = (1, 2)


@dataclass(frozen=True)
class Turn:
    """What no coach carrying a worker of one county can beat, in hours.

    `out_h`: day-speed driving from any origin-side place to the county's stop (through any
    places); `back_h`: from the stop back to any origin-side place. `empty_layover`: whether an
    empty drive between the far side and the origin side always has positive length (then a
    layover follows it)."""

    out_h: float
    back_h: float
    empty_layover: bool = True
    # The counties a trip carrying this one may also stop at (pairs one coach can serve within
    # the detour limit, `optimizer.lp_bound.county_sets`); None: any.
    partners: frozenset[str] | None = None
    # The longest direct drive (the provider's own entry, day speed) from any origin-side place
    # to the county's stop: a worker of the county rides at most `detour_ratio` times that plus
    # the grace. None: unknown (no limit is used).
    reach_h: float | None = None


def _progress_rate(hour: float, policy: Policy) -> float:
    """Day-speed driving a coach can do per clock hour at `hour` (0-24): none in the park
    window, `night_speed_factor` at night, 1 by day."""
    if _inside(hour, policy.park_start_hour, policy.park_end_hour):
        return 0.0
    if _inside(hour, policy.night_start_hour, policy.night_end_hour):
        return policy.night_speed_factor
    return 1.0


def _inside(hour: float, start: int, end: int) -> bool:
    if start == end:
        return False
    if start < end:
        return start <= hour < end
    return hour >= start or hour < end


def _edges(policy: Policy) -> list[float]:
    return sorted(
        {
            float(policy.park_start_hour),
            float(policy.park_end_hour),
            float(policy.night_start_hour),
            float(policy.night_end_hour),
            0.0,
        }
    )


def earliest_back(start_h: float, drive_h: float, policy: Policy) -> float:
    """The earliest clock hour (counted from the midnight before `start_h`'s day) at which a
    coach leaving at `start_h` can have done `drive_h` hours of day-speed driving: it makes no
    progress in the park window and `night_speed_factor` per hour at night (rests ignored)."""
    edges = _edges(policy)
    t = start_h
    left = drive_h
    for _ in range(10_000):
        if left <= 1e-12:
            return t
        day = math.floor(t / 24)
        hour = t - 24 * day
        following = next((e for e in edges if e > hour + 1e-12), 24.0)
        span = following - hour
        rate = _progress_rate(hour, policy)
        if rate * span >= left:
            return t + left / rate
        left -= rate * span
        t += span
    raise ValueError("drive too long to time")  # pragma: no cover - 10,000 segments is > 2 years


def least_progress(pause_h: float, policy: Policy) -> float:
    """The least day-speed driving any `pause_h`-hour stretch of clock time allows (the pause
    placed where it costs the least: over the park, at night). Exact: the progress over
    [a, a + pause) is piecewise linear in a, so its minimum is at a breakpoint."""
    if pause_h <= 0:
        return 0.0
    edges = _edges(policy)
    starts = {e for e in edges} | {(e - pause_h) % 24 for e in edges}
    best = math.inf
    for a in starts:
        done = earliest_progress(a, a + pause_h, policy)
        best = min(best, done)
    return max(0.0, best)


def earliest_progress(start_h: float, end_h: float, policy: Policy) -> float:
    """Day-speed driving possible over clock hours [start_h, end_h)."""
    edges = _edges(policy)
    t = start_h
    done = 0.0
    while t < end_h - 1e-12:
        day = math.floor(t / 24)
        hour = t - 24 * day
        following = next((e for e in edges if e > hour + 1e-12), 24.0)
        step = min(following - hour, end_h - t)
        done += _progress_rate(hour, policy) * step
        t += step
    return done


def latest_start(end_h: float, drive_h: float, policy: Policy) -> float:
    """The latest clock hour from which `drive_h` hours of day-speed driving can be done by
    `end_h` (the inverse of `earliest_back`: the same progress rates, walked backwards)."""
    edges = _edges(policy)
    t = end_h
    left = drive_h
    for _ in range(10_000):
        if left <= 1e-12:
            return t
        day = math.floor(t / 24)
        hour = t - 24 * day
        if hour <= 1e-12:
            day -= 1
            hour = 24.0
        previous = max((e for e in edges if e < hour - 1e-12), default=0.0)
        span = hour - previous
        rate = _progress_rate(previous, policy)
        if rate * span >= left:
            return t - left / rate
        left -= rate * span
        t -= span
    raise ValueError("drive too long to time")  # pragma: no cover - 10,000 segments is > 2 years


def least_span(drive_h: float, policy: Policy, starts: tuple[float, float] | None = None) -> float:
    """The least clock time any stretch holding `drive_h` hours of day-speed driving lasts,
    over starts at clock hours within `starts` (hours of one day, inclusive; None: any hour).

    Exact: A(a, D) - a is piecewise linear in the start a, its pieces end where a or A(a, D)
    crosses a rate change (`_edges`), so its least value is at such an a or an end of `starts`."""
    if drive_h <= 0:
        return 0.0
    low, high = (0.0, 24.0) if starts is None else starts
    daily = earliest_progress(0.0, 24.0, policy)
    if daily <= 0:
        raise ValueError("the policy leaves no hour to drive")
    days = math.ceil(drive_h / daily) + 2
    candidates = {low, high}
    for day in range(days + 1):
        for edge in _edges(policy):
            candidates.add(24.0 * day + edge)
            candidates.add(latest_start(24.0 * day + edge, drive_h, policy))
    best = math.inf
    for a in candidates:
        # Rates repeat every 24 h: with any start allowed, a start is its hour of the day.
        start = a % 24 if starts is None else a
        if low - 1e-9 <= start <= high + 1e-9:
            best = min(best, earliest_back(start, drive_h, policy) - start)
    return best


def _closure(duration_s: npt.NDArray[np.int64], sources: Sequence[int]) -> npt.NDArray[np.float64]:
    """Shortest durations from any of `sources` to every place over the complete graph of
    `duration_s` (dense Dijkstra): a lower bound on any chain of legs between those places."""
    size = duration_s.shape[0]
    weights = duration_s.astype(np.float64)
    best = np.full(size, np.inf)
    best[list(sources)] = 0.0
    done = np.zeros(size, dtype=bool)
    for _ in range(size):
        open_ = np.where(done, np.inf, best)
        u = int(np.argmin(open_))
        if not np.isfinite(open_[u]):
            break
        done[u] = True
        best = np.minimum(best, best[u] + weights[u])
    return best


def county_turns(
    scenario: Scenario, provider: DistanceProvider | None, counties: Iterable[str]
) -> dict[str, Turn]:
    """The `Turn` of each county among `counties` that has a seat (drop radius 0: a worker
    alights at their own county's stop, the county seat). Without a provider, or with
    `drop_radius_km` > 0, or when the provider fails, the straight line at the legal top speed
    (`min_span_hours`) is used instead."""
    policy = scenario.policy
    wanted = sorted(set(counties))
    seats = county_seats(wanted)
    origin_sites = [gate_site(c).location for c in scenario.companies]
    origin_sites += [hub_site(h).location for h in scenario.hubs]
    if provider is not None and policy.drop_radius_km == 0 and origin_sites and seats:
        far_sites = [county_site(code, seats[code]).location for code in sorted(seats)]
        places: list[Location] = [*origin_sites, *far_sites]
        try:
            matrix = provider.matrix(places)
        except (ChunyunError, ValueError):
            # A place the provider cannot reach: its workers are unserved as unreachable; the
            # straight line below stays valid for the others.
            matrix = None
        if matrix is not None:
            seconds = np.asarray(matrix.duration_s, dtype=np.int64)
            metres = np.asarray(matrix.distance_m, dtype=np.int64)
            sources = range(len(origin_sites))
            out = _closure(seconds, sources)
            back = _closure(seconds.T.copy(), sources)
            cross = metres[: len(origin_sites), len(origin_sites) :]
            positive = bool(
                (cross > 0).all() and (metres[len(origin_sites) :, : len(origin_sites)] > 0).all()
            )
            partners = _partners(scenario, seconds, len(origin_sites), sorted(seats))
            # Homeward a worker rides from an origin-side place to the county's stop.
            reach = seconds[: len(origin_sites), len(origin_sites) :].max(axis=0)
            turns: dict[str, Turn] = {}
            for n, code in enumerate(sorted(seats)):
                j = len(origin_sites) + n
                mates = None if partners is None else frozenset(partners.get(code, ()))
                turns[code] = Turn(
                    float(out[j]) / 3600,
                    float(back[j]) / 3600,
                    positive,
                    mates,
                    float(reach[n]) / 3600,
                )
            return turns
    points = [(c.lon, c.lat) for c in scenario.companies] + [(h.lon, h.lat) for h in scenario.hubs]
    points += [(p.lon, p.lat) for p in county_seats(scenario.origins).values()]
    turns = {}
    for code, seat in seats.items():
        one_way = min_span_hours(points, (seat.lon, seat.lat), policy)
        turns[code] = Turn(one_way, one_way, True)
    return turns


def boarding_sites(scenario: Scenario) -> dict[str, set[str]]:
    """Where each company's workers may board, as origin-side site labels "o<i>": its gate
    (i = the company's index) and the hubs within `hub_radius_km` (i = companies + the hub's
    index), unless the company keeps to its gate."""
    policy = scenario.policy
    gate_index = {c.company_id: i for i, c in enumerate(scenario.companies)}
    hub_index = {h.hub_id: len(scenario.companies) + i for i, h in enumerate(scenario.hubs)}
    boards: dict[str, set[str]] = {}
    for company in scenario.companies:
        options = {f"o{gate_index[company.company_id]}"}
        if policy.hub_radius_km > 0 and not company.no_hub:
            for hub in scenario.hubs:
                km = great_circle_km(company.lon, company.lat, hub.lon, hub.lat)
                if km <= policy.hub_radius_km:
                    options.add(f"o{hub_index[hub.hub_id]}")
        boards[company.company_id] = options
    return boards


def _partners(
    scenario: Scenario,
    seconds: npt.NDArray[np.int64],
    origin_count: int,
    counties: Sequence[str],
) -> dict[str, set[str]] | None:
    """The other counties each county can share one coach with: the pairs one coach can
    serve in some order with every passenger's ride within the detour limit, in the relaxed
    sense of `optimizer.lp_bound.county_sets` (any legal coach's pair is among them, and any
    two counties of a legal coach form such a pair). None when the pairs are too many."""
    from optimizer.lp_bound import county_sets

    policy = scenario.policy
    home = scenario.direction == "home"
    sites = [f"o{i}" for i in range(origin_count)] + [f"county:{c}" for c in counties]
    boarding: dict[str, set[str]] = defaultdict(set)
    wanted = set(counties)
    boards = boarding_sites(scenario)
    for worker in scenario.workers:
        county = worker.home_adcode
        if county not in wanted or county is None or worker.company_id not in boards:
            continue
        boarding[f"county:{county}"] |= boards[worker.company_id]
    keys = [f"county:{c}" for c in counties if f"county:{c}" in boarding]
    if not keys:
        return {}
    leg = seconds if home else seconds.T
    found = county_sets(
        keys,
        sites=sites,
        leg_s=leg,
        boarding_sites=sites[:origin_count],
        boarding_of=boarding,
        county_stop_limit=2,
        detour_ratio=policy.detour_ratio,
        detour_grace_s=policy.detour_grace_minutes * 60.0,
    )
    if found is None:
        return None
    partners: dict[str, set[str]] = {k.removeprefix("county:"): set() for k in keys}
    for pair in found:
        if len(pair) == 2:
            a, b = (keys[i].removeprefix("county:") for i in pair)
            partners[a].add(b)
            partners[b].add(a)
    return partners


@dataclass(frozen=True)
class Hold:
    """How a trip of one county holds its coach, in hours from the midnight of its departure
    day: from `before` hours before its departure s in [E, L] until at least `after(s)`;
    `after_earliest` is that for s = E (the least, later departures end no earlier), and
    `length` a length the whole busy interval (which contains s) surely has."""

    before: float
    after_earliest: float
    length: float
    # The least time from a departure s in [E, L] to the end of the interval (after(s) - s), 0:
    # unknown (nothing is derived from it).
    least_after: float = 0.0


def hold_of(
    turn: Turn,
    home: bool,
    policy: Policy,
    mate_out_h: float | None = None,
    mate_back_h: float | None = None,
    *,
    tightened: bool = True,
    ends: Sequence[tuple[float, float]] | None = None,
) -> Hold:
    """The `Hold` of a trip carrying a worker of a county with `turn`; `mate_out_h` and
    `mate_back_h` are the least `out_h` and `back_h` over the county and the counties it can
    share a coach with (default: the county's own, valid only when it shares with none).

    Homeward: from the departure s the coach drives at least `out_h` to the county's stop,
    stands the layover of a trip with that much driving, drives at least `back_h` to a gate or
    hub (the next trip's first stop; the empty part from the last stop, a mate, at least
    `mate_back_h`) and stands that drive's layover: the layover at the far end costs no less
    than the least driving it prevents (`least_progress`). Return wave: before s the coach drove
    out empty to the first pickup (a mate: at least `mate_out_h`) and stood that drive's
    layover; from s at least `back_h` of driving to the origin side, then the layover of that
    trip; the whole interval is at least `out_h + back_h` of driving and both layovers long.

    `ends` (homeward, tightened): the cases of where the empty drive home starts, as (driving
    the case adds to `out_h + back_h`, least empty drive); the hold is the least over them
    (`homeward_ends`). None: one case, (0, `mate_back_h`)."""
    earliest = float(policy.earliest_departure_hour)
    mate_out = turn.out_h if mate_out_h is None else mate_out_h
    mate_back = turn.back_h if mate_back_h is None else mate_back_h
    if home:
        far_rest = layover_minutes(math.floor(turn.out_h * 60), policy) / 60
        drive = turn.out_h + turn.back_h + least_progress(far_rest, policy)
        end_rest = (
            layover_minutes(math.floor(mate_back * 60), policy, True) / 60
            if turn.empty_layover
            else 0.0
        )
        after = earliest_back(earliest, drive, policy) + end_rest
        if not tightened:
            return Hold(0.0, after, drive + end_rest)
        # The busy interval starts at the departure (within [E, L]): the driving with the far
        # layover's least progress lasts at least its least clock span from such a start; or,
        # the coach drives, stands at the far end and at the origin side, never at once.
        window = (earliest, float(policy.latest_departure_hour))
        cases = [(0.0, mate_back)] if ends is None else list(ends)
        afters: list[float] = []
        lengths: list[float] = []
        for extra, empty in cases:
            rest = (
                layover_minutes(math.floor(empty * 60), policy, True) / 60
                if turn.empty_layover
                else 0
            )
            afters.append(earliest_back(earliest, drive + extra, policy) + rest)
            lengths.append(
                max(
                    least_span(drive + extra, policy, window) + rest,
                    turn.out_h + turn.back_h + extra + far_rest + rest,
                )
            )
        # Homeward the interval starts at the departure: it ends at least `length` after it.
        return Hold(0.0, min(afters), min(lengths), min(lengths))
    loaded_rest = layover_minutes(math.floor(turn.back_h * 60), policy, True) / 60
    after = earliest_back(earliest, turn.back_h, policy) + loaded_rest
    empty_rest = (
        layover_minutes(math.floor(mate_out * 60), policy) / 60 if turn.empty_layover else 0.0
    )
    before = mate_out + empty_rest
    length = turn.out_h + turn.back_h + empty_rest + loaded_rest
    if tightened:
        # The empty drive out may start at any hour; its driving and the loaded drive, with the
        # empty drive's layover between them, last at least their least clock span.
        drive = turn.out_h + turn.back_h + least_progress(empty_rest, policy)
        length = max(length, least_span(drive, policy) + loaded_rest)
        # From any departure s in [E, L] the loaded drive back lasts its least clock span.
        window = (earliest, float(policy.latest_departure_hour))
        return Hold(before, after, length, least_span(turn.back_h, policy, window) + loaded_rest)
    # The first version stays as it was (no split cover: `least_after` unknown).
    return Hold(before, after, length)


def homeward_ends(
    county: str, turns: Mapping[str, Turn], policy: Policy
) -> list[tuple[float, float]] | None:
    """The cases of where a homeward trip carrying `county` starts its empty drive home (its
    last stop l, the county or a partner), as (driving the case adds to the county's out + back,
    least empty drive back(l)), one case per layover length (the least added driving of those
    with that layover). None when the county's partners are unknown (any county).

    l = c: nothing added. l a partner reached after c with no origin-side place between: the
    workers alighting at l (a stop where nobody alights is no stop) boarded on the origin side
    before c, so they ride at least out(c), and at most `detour_ratio` x their direct drive
    (at most reach(l)) + grace: when out(c) is longer, l cannot end such a trip. Otherwise the
    coach passes an origin-side place o between c and l: c to o, o to l and l's empty drive
    add out(l) + back(l) to out(c) + back(c) (docs/plan-format.md, "Last stop")."""
    turn = turns[county]
    if turn.partners is None:
        return None
    grace = policy.detour_grace_minutes / 60
    least_of: dict[int, tuple[float, float]] = {}

    def keep(extra: float, empty: float) -> None:
        # Cases with the same layover differ only by the driving they add: keep the least.
        rest = layover_minutes(math.floor(empty * 60), policy, True)
        known = least_of.get(rest)
        if known is None or extra < known[0]:
            least_of[rest] = (extra, empty)

    keep(0.0, turn.back_h)
    for mate in sorted(turn.partners):
        other = turns.get(mate)
        if other is None:
            continue
        direct = other.reach_h
        if direct is None or turn.out_h <= policy.detour_ratio * direct + grace:
            keep(0.0, other.back_h)
        else:
            keep(other.out_h + other.back_h, other.back_h)
    return sorted(least_of.values())


def _overlap(
    hold: Hold, day: int, window: tuple[float, float], home: bool, policy: Policy
) -> float:
    """Hours of the window [a, b) (hours from day 0's midnight) that a trip departing on day
    `day` surely holds its coach for."""
    a, b = window
    earliest = 24 * day + policy.earliest_departure_hour
    latest = 24 * day + policy.latest_departure_hour
    # [L - before, after(E)) is inside [s - before, after(s)) for every departure s in [E, L].
    sure = max(0.0, min(24 * day + hold.after_earliest, b) - max(latest - hold.before, a))
    if earliest >= a and latest <= b:
        # The busy interval contains s and is at least `length` long (homeward it starts at s).
        reach = b - latest if home else min(b - latest, earliest - a)
        sure = max(sure, min(hold.length, reach))
        if not home and RETURN_COVER and hold.least_after > 0:
            sure = max(sure, min(split_cover(hold, s, a, b) for s in (earliest, latest)))
    return sure


def split_cover(hold: Hold, s: float, a: float, b: float) -> float:
    """The least |[s - B, s + A) ∩ [a, b)| over B >= before, A >= least_after, A + B >= length,
    for a <= s <= b (a return trip departing at s). The overlap, min(A, b - s) + min(B, s - a),
    never decreases in A or B, so the least is on A + B = max(length, before + least_after), and
    along that segment it is concave: at one of its two ends (all the spare length after s, or
    all before it). Over s in [E, L] the overlap of each (A, B) is concave in s, so its least is
    at s = E or s = L (the caller takes both)."""
    alpha, beta = hold.least_after, hold.before
    spare = max(0.0, hold.length - alpha - beta)
    late = min(alpha + spare, b - s) + min(beta, s - a)
    early = min(alpha, b - s) + min(beta + spare, s - a)
    return min(late, early)


def _stops_with(
    county: str,
    day: dt.date,
    turn: Turn,
    most: Mapping[tuple[str, dt.date], float],
    stops: int,
) -> int:
    """County stops a trip of `day` carrying `county` makes at most."""
    if turn.partners is None:
        return stops
    mates = 0
    for other in turn.partners:
        if (other, day) in most:
            mates += 1
            if mates + 1 >= stops:
                return stops
    return 1 + mates


def _covers(
    hold: Hold,
    day: int,
    windows: Sequence[tuple[float, float]],
    home: bool,
    policy: Policy,
    longest: float,
    *,
    spans: npt.NDArray[np.float64] | None = None,
) -> list[tuple[int, float]]:
    """(window, hours held) of a trip departing on day `day`, for the windows it surely holds
    (a zero-length window is an instant: 1 when held). `spans`: `windows` as an (n, 2) array
    (the caller's, built once). The same figures as `_overlap` window by window
    (`_covers_one_by_one`), computed for all windows at once: the same IEEE operations in the
    same order, so the same floats."""
    edges = np.asarray(windows, dtype=np.float64).reshape(-1, 2) if spans is None else spans
    a, b = edges[:, 0], edges[:, 1]
    start = 24.0 * day
    earliest = start + policy.earliest_departure_hour
    latest = start + policy.latest_departure_hour
    near = ~((b < start - longest - 24) | (a > start + longest + 48))
    instant = a == b
    held_until = start + hold.after_earliest
    # [L - before, after(E)) is inside [s - before, after(s)) for every departure s in [E, L].
    sure = np.maximum(0.0, np.minimum(held_until, b) - np.maximum(latest - hold.before, a))
    inside = (earliest >= a) & (latest <= b)
    # The busy interval contains s and is at least `length` long (homeward it starts at s).
    reach = b - latest if home else np.minimum(b - latest, earliest - a)
    sure = np.where(inside, np.maximum(sure, np.minimum(hold.length, reach)), sure)
    if not home and RETURN_COVER and hold.least_after > 0:
        split = np.minimum(_split_covers(hold, earliest, a, b), _split_covers(hold, latest, a, b))
        sure = np.where(inside, np.maximum(sure, split), sure)
    cover = np.where(instant, np.where((latest <= a) & (a < held_until), 1.0, 0.0), sure)
    keep = np.flatnonzero(near & (cover > 1e-9))
    return [(int(w), float(cover[w])) for w in keep]


def _split_covers(
    hold: Hold, s: float, a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """`split_cover` for every window [a, b) at once."""
    alpha, beta = hold.least_after, hold.before
    spare = max(0.0, hold.length - alpha - beta)
    late = np.minimum(alpha + spare, b - s) + np.minimum(beta, s - a)
    early = np.minimum(alpha, b - s) + np.minimum(beta + spare, s - a)
    least: npt.NDArray[np.float64] = np.minimum(late, early)
    return least


def _covers_one_by_one(
    hold: Hold,
    day: int,
    windows: Sequence[tuple[float, float]],
    home: bool,
    policy: Policy,
    longest: float,
) -> list[tuple[int, float]]:
    """`_covers` window by window with `_overlap` (its first form, kept for the tests)."""
    found: list[tuple[int, float]] = []
    latest = 24 * day + policy.latest_departure_hour
    for w, (a, b) in enumerate(windows):
        if b < 24 * day - longest - 24 or a > 24 * day + longest + 48:
            continue
        if a == b:
            cover = 1.0 if latest <= a < 24 * day + hold.after_earliest else 0.0
        else:
            cover = _overlap(hold, day, (a, b), home, policy)
        if cover > 1e-9:
            found.append((w, cover))
    return found


def servable_bound(
    scenario: Scenario,
    unservable: Iterable[str] = (),
    distances: DistanceProvider | None = None,
    *,
    time_limit_s: float = TIGHTENED_LP_SECONDS,
) -> int:
    """A proven upper bound on the workers any plan can seat with the scenario's fleet.

    `unservable` are workers no plan can seat for reasons of the input alone; `distances` is the
    provider the plan is made with (without it, straight lines at top speed: valid, weaker);
    `time_limit_s` GLOP's seconds for the tightened LP (`servable_bound_of_turns`)."""
    return boxed_servable_bound(scenario, unservable, distances, time_limit_s=time_limit_s)[0]


def boxed_servable_bound(
    scenario: Scenario,
    unservable: Iterable[str] = (),
    distances: DistanceProvider | None = None,
    *,
    time_limit_s: float = TIGHTENED_LP_SECONDS,
) -> tuple[int, bool]:
    """`servable_bound` and whether the tightened LP ran out of its `time_limit_s` (then the
    figure is the first version's, proven and looser)."""
    homes = {w.home_adcode for w in scenario.workers if w.home_adcode}
    turns = county_turns(scenario, distances, homes)
    cut: list[bool] = []
    value = servable_bound_of_turns(scenario, turns, unservable, time_limit_s=time_limit_s, cut=cut)
    return value, bool(cut)


def servable_bound_of_turns(
    scenario: Scenario,
    turns: Mapping[str, Turn],
    unservable: Iterable[str] = (),
    *,
    tightened: bool = True,
    time_limit_s: float = TIGHTENED_LP_SECONDS,
    cut: list[bool] | None = None,
) -> int:
    """The LP bound for given county turns (`county_turns`; tests pass others to check that an
    unsound turn is caught). docs/plan-format.md gives the model and its proof.

    `tightened` False is the first version of the bound (fractional stops, windows of at most
    three days), kept to measure what the tightening buys: with the same turns the tightened
    bound is never above it (its LP has every row of the old one's in a stronger form). When
    GLOP has not proved the tightened LP's optimum within `time_limit_s`, the first version is
    returned (a value of an unfinished LP proves nothing) and `True` appended to `cut`."""
    policy = scenario.policy
    home = scenario.direction == "home"
    fleet = [v for v in scenario.fleet if v.count > 0]
    if not fleet:
        return 0
    skip = set(unservable)
    first = scenario.first_departure
    season = [
        first + dt.timedelta(days=i) for i in range((scenario.last_departure - first).days + 1)
    ]
    season = [d for d in season if any(v.available_on(d) for v in fleet)]
    groups: dict[tuple[str, dt.date, dt.date, int], int] = defaultdict(int)
    for worker in scenario.workers:
        county = worker.home_adcode
        if worker.worker_id in skip or county is None or county not in turns:
            continue
        start = max(worker.earliest, scenario.first_departure)
        end = min(worker.latest, scenario.last_departure)
        if start > end:
            continue
        groups[(county, start, end, worker.seats)] += 1
    if not groups or not season:
        return 0
    present = {key[0] for key in groups}
    least_out = min(turns[c].out_h for c in present)
    least_back = min(turns[c].back_h for c in present)
    holds: dict[str, Hold] = {}
    for county in present:
        turn = turns[county]
        mates = [county] if turn.partners is None else [county, *turn.partners]
        mates = [m for m in mates if m in turns]
        holds[county] = hold_of(
            turn,
            home,
            policy,
            least_out if turn.partners is None else min(turns[m].out_h for m in mates),
            least_back if turn.partners is None else min(turns[m].back_h for m in mates),
            tightened=tightened,
            ends=homeward_ends(county, turns, policy) if home and tightened else None,
        )
    most: dict[tuple[str, dt.date], float] = defaultdict(float)
    for (county, start, end, seats), count in groups.items():
        for day in season:
            if start <= day <= end:
                most[(county, day)] += seats * count
    largest = max(v.seats for v in fleet)
    stops = at_most_stops(scenario)

    def index(day: dt.date) -> int:
        return (day - first).days

    windows = _windows(season, first, policy, tightened)
    spans = np.asarray(windows, dtype=np.float64).reshape(-1, 2)
    objective: list[float] = []
    upper: list[float] = []
    rows: list[tuple[dict[int, float], float]] = []
    seat_rows: list[dict[int, float]] = [{} for _ in windows]
    stop_rows: list[dict[int, float]] = [{} for _ in windows]
    row_days: list[set[int]] = [set() for _ in windows]
    longest = max((h.after_earliest for h in holds.values()), default=0.0)
    longest = max(longest, max((h.length for h in holds.values()), default=0.0))
    covers: dict[tuple[str, int], list[tuple[int, float]]] = {}
    stops_with: dict[tuple[str, dt.date], int] = {}
    # Tightened stop counting: per (county, day) a stop variable y in [0, 1] (whether some
    # trip of the day stops at the county) and a count n >= y, n >= seats / largest.
    stop_of: dict[tuple[str, dt.date], tuple[int, int]] = {}
    carried: dict[tuple[str, dt.date], dict[int, float]] = defaultdict(dict)

    def stop_variables(county: str, day: dt.date) -> tuple[int, int]:
        if (county, day) not in stop_of:
            flag = len(objective)
            objective.extend((0.0, 0.0))
            upper.extend((1.0, float(len(scenario.workers))))
            count_var = flag + 1
            rows.append(({flag: 1.0, count_var: -1.0}, 0.0))
            stop_of[(county, day)] = (flag, count_var)
            for w, cover in covers[(county, index(day))]:
                stop_rows[w][count_var] = stops_share(county, day) * cover
        return stop_of[(county, day)]

    def stops_share(county: str, day: dt.date) -> float:
        # A trip of day d carrying county c stops at most at k[c, d] counties: c and its
        # partners with workers free on d (`Turn.partners`), at most the stop limit.
        assert stops is not None
        if (county, day) not in stops_with:
            stops_with[(county, day)] = _stops_with(county, day, turns[county], most, stops)
        return stops / stops_with[(county, day)]

    for (county, start, end, seats), count in groups.items():
        hold = holds[county]
        members: dict[int, float] = {}
        for day in season:
            if not start <= day <= end:
                continue
            var = len(objective)
            objective.append(1.0)
            upper.append(float(count))
            members[var] = 1.0
            d = index(day)
            if (county, d) not in covers:
                covers[(county, d)] = _covers(hold, d, windows, home, policy, longest, spans=spans)
            for w, cover in covers[(county, d)]:
                seat_rows[w][var] = seats * cover
                row_days[w].add(d)
            if stops is None:
                continue
            if tightened:
                flag, _ = stop_variables(county, day)
                rows.append(({var: 1.0, flag: -workers_per_stop(count)}, 0.0))
                carried[(county, day)][var] = float(seats)
                continue
            share = seats / min(largest, most[(county, day)]) * stops_share(county, day)
            for w, cover in covers[(county, d)]:
                stop_rows[w][var] = share * cover
        rows.append((members, float(count)))
    for key, seat_terms in carried.items():
        _, count_var = stop_of[key]
        rows.append(({**seat_terms, count_var: -float(largest)}, 0.0))
    if tightened and stops is not None and CYCLE_ROWS:
        least_before = min(h.before for h in holds.values())
        cycles = {c: coach_cycle(h, least_before, home) for c, h in holds.items()}
        trips_of = {
            (county, index(day)): {count_var: 1.0 / stops_with[(county, day)]}
            for (county, day), (_, count_var) in stop_of.items()
        }
        rows.extend(_cycle_rows(trips_of, cycles, season, first, fleet, policy))
        seats_of = {
            (county, index(day)): terms for (county, day), terms in carried.items() if terms
        }
        rows.extend(_cycle_rows(seats_of, cycles, season, first, fleet, policy, seats=True))
    for w, (a, b) in enumerate(windows):
        if not seat_rows[w]:
            continue
        usable = [
            v
            for v in fleet
            if any(v.available_on(first + dt.timedelta(days=d)) for d in row_days[w])
        ]
        length = 1.0 if a == b else b - a
        rows.append((seat_rows[w], float(sum(v.count * v.seats for v in usable)) * length))
        if stops is not None:
            rows.append((stop_rows[w], float(stops * sum(v.count for v in usable)) * length))
    program = LinearProgram(tuple(objective), tuple(upper), tuple(rows))
    if not tightened:
        value, _ = solve_lp(program)
        return math.floor(value + 1e-6)
    try:
        value, _ = solve_lp(program, time_limit_s=time_limit_s)
    except LpNotSolved:
        if cut is not None:
            cut.append(True)
        return servable_bound_of_turns(scenario, turns, unservable, tightened=False)
    return math.floor(value + 1e-6)


def _cycle_rows(
    trips_of: Mapping[tuple[str, int], Mapping[int, float]],
    cycles: Mapping[str, float],
    season: Sequence[dt.date],
    first: dt.date,
    fleet: Sequence[VehicleType],
    policy: Policy,
    *,
    seats: bool = False,
) -> list[tuple[dict[int, float], float]]:
    """Whole coach cycles: a coach's departures on days t..t+j lie within H = 24 j + L - E
    hours, and after a trip carrying c its next departure is at least `cycles[c]` later, so of
    its trips in those days at most q carry a county whose cycle is above H / q. With
    `trips_of[(c, d)]` = {n[c, d]: 1 / k[c, d]} each row reads Σ n[c, d] / k[c, d] over those
    counties and days <= q x the coaches available then; with `seats`, `trips_of[(c, d)]` =
    {x[g, d]: q_g} and the right side is q x their seats (docs/plan-format.md, "Whole
    cycles")."""
    found: list[tuple[dict[int, float], float]] = []
    days = sorted((day - first).days for day in season)
    by_day: dict[int, list[tuple[str, int, float]]] = defaultdict(list)
    for (county, day), terms in trips_of.items():
        by_day[day].extend((county, var, share) for var, share in terms.items())
    for t in days:
        for span in CYCLE_SPANS:
            if t + span > days[-1]:
                continue
            inside = [d for d in days if t <= d <= t + span]
            hours = 24.0 * span + policy.latest_departure_hour - policy.earliest_departure_hour
            coaches = sum(
                v.count * (v.seats if seats else 1)
                for v in fleet
                if any(v.available_on(first + dt.timedelta(days=d)) for d in inside)
            )
            for most in CYCLE_TRIPS:
                above = hours / most
                terms = {
                    var: share
                    for d in inside
                    for county, var, share in by_day.get(d, ())
                    if cycles[county] > above + 1e-9
                }
                if terms:
                    found.append((terms, float(most * coaches)))
    return found


def coach_cycle(hold: Hold, least_before: float, home: bool) -> float:
    """Hours from a trip's departure to its coach's next departure, at least (the cycle rows'
    `cycles`). Homeward the busy interval starts at the departure and the next trip's at the
    next one: `length`. Return wave the interval runs `least_after` past the departure, then
    the next trip's own part before its departure, its empty drive out and that layover, at
    least `least_before`, the least `before` of any county. Its own function so that tests can
    substitute an unsound cycle (three times as long) and see the soundness check catch it."""
    return hold.least_after + (0.0 if home else least_before)


def workers_per_stop(group_size: int) -> float:
    """How many of a group's workers one county stop of a day can take at most in the LP's
    stop count: all of them (x[g, d] <= |g| y[c, d]). Its own function so that tests can
    substitute an unsound count (one stop per worker) and see the soundness check catch it."""
    return float(group_size)


def _windows(
    season: Sequence[dt.date], first: dt.date, policy: Policy, tightened: bool
) -> list[tuple[float, float]]:
    """The windows of the LP's coach-time rows, hours from the first season day's midnight:
    the instant L_t of each day (a zero-length window, rows count coaches) and
    [E_t - X, L_{t+j} + X) for each j and X of `WINDOW_HOURS`; tightened, also windows of
    `LONG_SPANS` days (a chain of turns longer than three days) and the whole season."""
    windows: list[tuple[float, float]] = []
    seen: set[tuple[float, float]] = set()
    last = (season[-1] - first).days
    for day in season:
        t = (day - first).days
        latest = 24 * t + policy.latest_departure_hour
        windows.append((latest, latest))
        spans: list[tuple[int, tuple[float, ...]]] = list(enumerate(WINDOW_HOURS))
        if tightened:
            spans += [(span, LONG_MARGINS) for span in LONG_SPANS if span >= len(WINDOW_HOURS)]
            if t == 0 and last >= len(WINDOW_HOURS):
                spans.append((last, LONG_MARGINS))
        for span, margins in spans:
            if t + span > last:
                continue
            close = 24 * (t + span) + policy.latest_departure_hour
            for x in margins:
                window = (24 * t + policy.earliest_departure_hour - x, close + x)
                if window not in seen:
                    seen.add(window)
                    windows.append(window)
    return windows
