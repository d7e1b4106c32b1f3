"""Route patterns: the dates of a binding fleet from a time-indexed coach flow (issue 11).

A *route pattern* is a coach type, a departure date and up to `stop_limit` counties in route
order: each county alone, with each of its `nearest` closest counties, and in threes among
them, kept only when some order passes the relaxed detour test of
`optimizer.lp_bound.corridors` (the corridor a planner's coach must keep). `route_hold` gives
the hours the pattern holds its coach (`optimizer.servable.hold_of` of the route's driving:
out from the origin side, through the counties, back; on a return wave the coach first drives
out empty to the farthest pickup), the same turn the servable diagnostic
(`benchmarks.servable_routes`) prices.

`pattern_spread` decides each unit's departure date when the fleet binds, with an LP:

- y[g, d]: seats of group g (units of one stop county and one window) departing on date d of
  its window; sum_d y[g, d] <= the group's seats.
- x[p, d, k]: coaches of type k driving pattern p departing on date d (at the earliest
  departure hour, or `DEPARTURE_DELAYS_H` later); it holds the coach over
  [start, end) = [departure - before, departure + after), widened outward to `SLOT_HOURS`
  slots (so a coach returning at slot s + ceil(hold / slot) departs again from there).
- Coach flow per type: in every slot the patterns holding a coach of type k are at most the
  coaches of k neither away on the ledger's trips (held waves, locked trips) then nor outside
  their availability (`Ledger.free`); patterns departing on date d at most `count_on(d)`.
  Coaches are interchangeable within a type, so any such family of intervals is driven by that
  many coaches (an interval graph's colouring), which is the coach-flow model in its
  occupancy form, written cumulatively (`_flow_rows`: two nonzeros a column).
- Seats: a pattern of one county c carries fill(c) of its coach's seats there; a pattern of
  several splits them (z[p, d, c], sum_c z / fill(c) <= seats x). fill(c) is the share of
  their coaches' seats c's workers filled on trips already built (`county_fill`, given in
  `Availability.fill` by the second planning pass and the top-up), else `PATTERN_FILL`: the
  planner's coaches are not full, and a model that fills every seat promises dates whose
  trips do not chain. On each (county, date) the groups' seats are at most
  what the patterns visiting it carry. A coach that carries a load alone counts the riders
  it really takes (`coach_share`): a pattern whose counties' seats of the date fit one coach,
  and, while no fill is measured, a lone county's coaches (its whole coaches fill, its last,
  partial one takes the remainder), so the fill applies to pooled coaches and measured
  counties only.
  A county served on a date takes a whole stop:
  f[c, d] in [0, 1], y[g, d] <= |g| f[c, d] and f[c, d] <= the coaches of the patterns
  visiting c on d (a small county cannot ride a twentieth of a coach); and a county whose
  workers board at many gates needs a coach per `boarding_limit` of them (the share of its
  load placed on d times ceil(points / limit) at most the coaches visiting it on d).
- Objective: seat the most (one per seat, `FIRST_CHOICE_BONUS` more on a unit's first-choice
  date), then the fewest coaches (`COACH_WEIGHT` a coach).

The model is sized to its time box (`model_size`): at most `COLUMNS_PER_SECOND` coach columns a
second of the box, reached by dropping the later departure hour, then partners one at a time
down to `LEAST_PARTNERS`; when even that is over the budget the spread declines at once and the
seat-pricing spread runs (wide seasons of 300-700 counties: 15,000-38,000 columns at two
partners and one hour against a 12 s box of about 11,000).

GLOP solves it (`optimizer.routing.solve_lp`) within a time box; the rounding puts whole units
on dates (each group's units, largest first, on the date with the most of its seats left, never
more seats than the LP placed for the group), and leaves the rest out with the slots that ran
full. So the LP's seated value is never below the rounded one. The coaches the flow departs per
(date, type), rounded up, are returned too (`PatternSpread.departures`): the planner builds no
more than those on that date (`DEPARTURE_CAPS`), so its trips are ones the coaches chain. (A MIP
with whole coaches, SCIP for 20 s on near-50-tight's model of 9,204 coach columns, seated 7,979
against the LP's 8,024: no better dates for the time, so the LP is rounded instead.)
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from optimizer.geography.distance import DistanceProvider
from optimizer.groups import Unit, county_site, gate_site, hub_site
from optimizer.ledger import Availability, Spread, at_most_stops, seats_by_home
from optimizer.lp_bound import Corridors, corridors, metric_closure
from optimizer.model import Policy, Scenario, Trip
from optimizer.places import county_seats
from optimizer.routing import LinearProgram, LpNotSolved, solve_lp
from optimizer.servable import Hold, Turn, _closure, boarding_sites, hold_of

# The switch: a binding fleet's dates come from the route-pattern LP (False: the seat-pricing
# spread of `optimizer.ledger.spread_dates` alone, exactly as before). Off: with its model sized
# to its box (`model_size`; docs/benchmarks.md, "spread"), switch on against off, same code,
# both sides at once, load 3-13, near-50-tight seated +318, +184, +188 in three pairs, burst-20k-80
# -28 and +167 (on 26 more trips in the second), ample-15k-99 unchanged (not called), and on
# wide-6k-610, far-mountain, return-far-half and return-3k-711 the spread declines in under a
# second (noise only). But main's refill (merged after that table) replans a freed coach with
# it: a lone coach for 50 + 8 waiting workers was counted at `PATTERN_FILL` (45 of 53 seats),
# so tests/optimizer/test_refill.py's thin-trip season seated 90 with it against 96 without;
# a coach carrying a load alone now counts its riders (`coach_share`: 95 and more seated).
# Measured with refill and the relay: docs/benchmarks.md, "spread2".
ROUTE_PATTERN_SPREAD = False
# Partners per county in the candidate patterns (pairs with each, threes among them).
NEAREST_PARTNERS = 4
# The LP's size: at most this many coach columns per second of its time box (`model_size`
# drops the later departure hour, then partners, until the model fits).
COLUMNS_PER_SECOND = 1_000.0
# The fewest partners a county keeps in the sized model: below it the spread declines at once
# (the seat-pricing spread runs). Lone counties and pairs pool too little where counties are
# small: on return-3k-711 (4 workers a county) the LP seated 1,790 with lone counties, 2,119
# with one partner, 2,486 with two, 2,766 with four, against 2,176 the old spread's plan seated.
LEAST_PARTNERS = 2
# The coach-flow slots, hours: a hold is widened outward to whole slots.
SLOT_HOURS = 2.0
# Departure hours a pattern may start at, hours after the earliest departure hour (within the
# latest): a coach back at noon can take an afternoon trip.
DEPARTURE_DELAYS_H = (0.0, 8.0)
# The LP's time box: this share of the season's time limit, at most `PATTERN_LP_SECONDS`.
PATTERN_LP_SHARE = 0.2
PATTERN_LP_SECONDS = 30.0
# The share of its seats a pattern's coach is counted to carry (before any trips are built; then
# each county's measured `county_fill`): the planner's coaches are not
# full (a county's workers wait at many gates, a coach stops at a few; near-50-tight's
# unlimited plan seats 31.5 a coach of about 44 seats), and a model that fills every seat
# promises dates whose trips do not chain.
PATTERN_FILL = 0.85
# A county's measured fill (`county_fill`) is kept within these.
FILL_RANGE = (0.3, 1.0)
# With `DEPARTURE_CAPS`, the planner builds at most the LP's coaches of a type on a date (rounded
# up) plus this many.
DEPARTURE_CAPS = True
DEPARTURE_SLACK = 0
# A realistic hold's turn is rounded up to this many hours (so its `hold_of` is computed once
# per rounded turn).
HOLD_STEP_H = 0.1
# The objective's weights (a seat is 1).
COACH_WEIGHT = 0.05
FIRST_CHOICE_BONUS = 0.001
# The LP's upper bound on one coach variable (the coach rows bind long before it).
MOST_COACHES_PER_COLUMN = 10_000.0


@dataclass(frozen=True)
class Roads:
    """Day-speed hours from the origin side to each county (`out`), back (`back`) and between
    counties (`between[a, b]`, road direction a to b), over the provider's shortest-path
    closure; `out_far` / `back_far` the same from / to the farthest origin-side place (where
    the coach's next trip may start); `corridor` the relaxed detour test in the passengers'
    direction. Counties are `codes` (indices into the arrays)."""

    codes: tuple[str, ...]
    out: npt.NDArray[np.float64]
    back: npt.NDArray[np.float64]
    out_far: npt.NDArray[np.float64]
    back_far: npt.NDArray[np.float64]
    between: npt.NDArray[np.float64]
    corridor: Corridors


# The last `road_times` answer: (its provider, its key, the roads). The spread runs in every
# planning pass of one season (first, second, top-up): on 711 counties the closure alone is
# 3 s of CPU a call.
_LAST_ROADS: list[tuple[DistanceProvider, object, Roads]] = []


def road_times(scenario: Scenario, provider: DistanceProvider) -> Roads:
    """The `Roads` of the home counties of `scenario`'s workers (one matrix call; the last
    answer is kept for the same provider and the same counties, places and policy)."""
    key = (
        scenario.direction,
        scenario.policy,
        scenario.companies,
        scenario.hubs,
        frozenset((w.home_adcode, w.company_id) for w in scenario.workers),
    )
    for known, known_key, roads in _LAST_ROADS:
        if known is provider and known_key == key:
            return roads
    roads = _road_times(scenario, provider)
    _LAST_ROADS[:] = [(provider, key, roads)]
    return roads


def _road_times(scenario: Scenario, provider: DistanceProvider) -> Roads:
    policy = scenario.policy
    homes = sorted({w.home_adcode for w in scenario.workers if w.home_adcode})
    seats = county_seats(homes)
    codes = tuple(sorted(seats))
    origin = [gate_site(c).location for c in scenario.companies]
    origin += [hub_site(h).location for h in scenario.hubs]
    count = len(origin)
    places = [*origin, *(county_site(code, seats[code]).location for code in codes)]
    seconds = np.asarray(provider.matrix(places).duration_s, dtype=np.int64)
    out = _closure(seconds, range(count))[count:] / 3600
    back = _closure(seconds.T.copy(), range(count))[count:] / 3600
    if count and codes:
        out_far = seconds[:count, count:].max(axis=0).astype(np.float64) / 3600
        back_far = seconds[count:, :count].max(axis=1).astype(np.float64) / 3600
    else:
        out_far, back_far = out.copy(), back.copy()
    # One closure: the return wave's (of the transposed matrix) is its transpose.
    closed = metric_closure(seconds)
    between = closed[count:, count:] / 3600
    sites = [f"o{i}" for i in range(count)] + [f"county:{c}" for c in codes]
    boards = boarding_sites(scenario)
    boarding: dict[str, set[str]] = {f"county:{c}": set() for c in codes}
    for worker in scenario.workers:
        if worker.home_adcode in seats and worker.company_id in boards:
            boarding[f"county:{worker.home_adcode}"] |= boards[worker.company_id]
    for options in boarding.values():
        if not options:  # workers of unknown companies: any origin-side place
            options.update(sites[:count])
    stops = at_most_stops(scenario) or 1
    corridor = corridors(
        [f"county:{c}" for c in codes],
        sites=sites,
        leg_s=seconds if scenario.direction == "home" else seconds.T,
        closure=closed if scenario.direction == "home" else closed.T,
        boarding_sites=sites[:count],
        boarding_of=boarding,
        county_stop_limit=stops,
        detour_ratio=policy.detour_ratio,
        detour_grace_s=policy.detour_grace_minutes * 60.0,
    )
    return Roads(codes, out, back, out_far, back_far, between, corridor)


def passes(corridor: Corridors, order: Sequence[int]) -> bool:
    """Whether counties in this passenger order pass the relaxed detour test."""
    elapsed = float(corridor.reach[order[0]])
    if elapsed > corridor.allowed[order[0]]:
        return False
    for a, b in itertools.pairwise(order):
        elapsed += float(corridor.between[a, b])
        if elapsed > corridor.allowed[b]:
            return False
    return True


def route_hold(
    roads: Roads, members: Sequence[int], home: bool, policy: Policy, *, far_ends: bool = False
) -> Hold | None:
    """The least `Hold` over the orders of `members` that pass the detour test (None: none).

    Homeward in order c1..ck the coach drives out to c1, through to ck, and back from ck: the
    county turn (out(c1) + path, back(ck)). Return wave the passengers' order c1..ck (nearest
    the origin side first, as `corridors` reads the transposed matrix) is driven ck..c1: empty
    out to ck, loaded through to c1 and back (out(ck), path + back(c1)). Each part is a least
    driving time of the closure, so `hold_of` of that turn is what the route forces; the least
    over orders of each field is below the hold of the order a plan drives. With `far_ends`
    the empty drive (back homeward, out on a return wave) is to / from the farthest origin-side
    place, as the ledger's busy interval counts it, for the order with the least driving (a
    realistic hold for the spread, no longer a bound: `_realistic_hold`)."""
    if far_ends:
        return _realistic_hold(roads, members, home, policy)
    best: Hold | None = None
    for turn in _turns(roads, members, home, far_ends=False):
        hold = hold_of(turn, home, policy)
        if best is None:
            best = hold
        else:
            best = Hold(
                min(best.before, hold.before),
                min(best.after_earliest, hold.after_earliest),
                min(best.length, hold.length),
            )
    return best


def _turns(roads: Roads, members: Sequence[int], home: bool, *, far_ends: bool) -> Iterator[Turn]:
    """The county turn of each order of `members` that passes the detour test (as `route_hold`
    reads it); with `far_ends` the empty drive is to / from the farthest origin-side place."""
    back_home = roads.back_far if far_ends else roads.back
    out_return = roads.out_far if far_ends else roads.out
    for order in itertools.permutations(members):
        if not passes(roads.corridor, order):
            continue
        road = order if home else order[::-1]
        path = sum(float(roads.between[a, b]) for a, b in itertools.pairwise(road))
        if home:
            yield Turn(float(roads.out[road[0]]) + path, float(back_home[road[-1]]))
        else:
            yield Turn(float(out_return[road[0]]), path + float(roads.back[road[-1]]))


def _realistic_hold(
    roads: Roads, members: Sequence[int], home: bool, policy: Policy
) -> Hold | None:
    """`route_hold` with `far_ends`, fast: the hold of the passing order with the least
    driving, its turn rounded up to `HOLD_STEP_H` so that `hold_of` is computed once per
    rounded turn (a realistic hold, not a bound)."""
    best: tuple[float, Turn] | None = None
    for turn in _turns(roads, members, home, far_ends=True):
        if best is None or turn.out_h + turn.back_h < best[0]:
            best = (turn.out_h + turn.back_h, turn)
    if best is None:
        return None
    turn = best[1]
    steps = (math.ceil(turn.out_h / HOLD_STEP_H), math.ceil(turn.back_h / HOLD_STEP_H))
    return _rounded_hold(steps, home, policy)


@functools.lru_cache(maxsize=65_536)
def _rounded_hold(steps: tuple[int, int], home: bool, policy: Policy) -> Hold:
    return hold_of(Turn(steps[0] * HOLD_STEP_H, steps[1] * HOLD_STEP_H), home, policy)


def candidate_sets(
    roads: Roads, stops: int, nearest: int, among: Sequence[int] | None = None
) -> set[tuple[int, ...]]:
    """County sets (sorted indices) of the candidate patterns: each county alone, with each of
    its `nearest` closest counties (closure hours both ways), and (three stops) with two of
    them; only counties of `among` (None: all)."""
    pool = np.asarray(range(len(roads.codes)) if among is None else sorted(among), dtype=np.int64)
    sets: set[tuple[int, ...]] = {(int(i),) for i in pool}
    if stops < 2 or len(pool) < 2:
        return sets
    spread = roads.corridor.between + roads.corridor.between.T
    for i in pool:
        distances = spread[int(i), pool]
        order = np.argsort(distances, kind="stable")[: nearest + 1]
        near = [int(pool[j]) for j in order if int(pool[j]) != int(i)][:nearest]
        sets.update(tuple(sorted((int(i), j))) for j in near)
        if stops >= 3:
            sets.update(tuple(sorted((int(i), j, k))) for j, k in itertools.combinations(near, 2))
    return sets


def model_size(
    roads: Roads,
    stop_limit: int,
    days_of: Mapping[int, set[dt.date]],
    types_on: Mapping[dt.date, int],
    delays: Sequence[float],
    budget: float,
) -> tuple[set[tuple[int, ...]], list[float]] | None:
    """The county sets and departure delays of the richest model whose coach columns (a
    column per set, shared date of its counties, coach type on the date and delay) are
    within `budget`: first `NEAREST_PARTNERS` with every delay, then the first delay only,
    then one partner fewer at a time down to `LEAST_PARTNERS`; None when even that is over
    the budget. GLOP's time grows faster than its columns (9,204 columns 1 s of CPU, 24,780
    10 s), so the model is sized to its time box, not by season."""
    levels = [(NEAREST_PARTNERS, list(delays))]
    levels += [(n, list(delays[:1])) for n in range(NEAREST_PARTNERS, LEAST_PARTNERS - 1, -1)]
    for partners, hours in levels:
        sets = candidate_sets(roads, stop_limit, partners, sorted(days_of))
        columns = len(hours) * sum(
            types_on.get(day, 0)
            for members in sets
            for day in set.intersection(*(days_of[c] for c in members))
        )
        if columns <= budget:
            return sets, hours
    return None


def county_fill(trips: Iterable[Trip], scenario: Scenario) -> dict[str, float]:
    """Per home county, the share of the seats of the coaches carrying its workers that they
    fill: its seats taken over the coach seats apportioned to it (each trip's seats shared
    among its counties by the seats they take), on built `trips`. A county's partial last
    coach of a date (the trip taking the fewest of its riders that date) is counted at the
    riders it takes: its empty seats are the county's load not dividing into whole coaches,
    not seats the planner failed to fill (8 workers alone on a 53-seat coach fill it at 1,
    not 0.15)."""
    home_of = {w.worker_id: w.home_adcode for w in scenario.workers}
    seats_of = {v.vehicle_type: v.seats for v in scenario.fleet}
    taken: dict[str, float] = defaultdict(float)
    offered: dict[str, float] = defaultdict(float)
    # Per (county, date): the riders and apportioned seats of its thinnest trip.
    thinnest: dict[tuple[str, dt.date], tuple[int, float]] = {}
    for trip in trips:
        by_county = seats_by_home(trip, home_of)
        total = sum(by_county.values())
        coach = seats_of.get(trip.vehicle_type, total)
        for county, n in by_county.items():
            share = coach * n / total
            taken[county] += n
            offered[county] += share
            key = (county, trip.departure_date)
            if key not in thinnest or n < thinnest[key][0]:
                thinnest[key] = (n, share)
    for (county, _), (n, share) in thinnest.items():
        offered[county] -= share - n
    return {c: taken[c] / offered[c] for c in taken if offered[c] > 0}


@dataclass(frozen=True)
class PatternSpread:
    """The route-pattern spread's dates (`spread`) and what its LP did: the seats it placed
    (`lp_seated`), the seats the rounding kept on whole unit dates (`rounded_seats`), its
    columns (coach variables) and its seconds (columns and LP together)."""

    spread: Spread
    lp_seated: float
    rounded_seats: int
    columns: int
    seconds: float
    # Coaches of each type the LP's flow departs on each date, rounded up (date, type) -> count.
    departures: Mapping[tuple[dt.date, str], int] = field(default_factory=dict)


def coach_share(load: float, seats: int, fill: float, *, alone: bool, measured: bool) -> float:
    """The share of its `seats` a coach is counted to carry for a pattern (`alone`: of one
    county) whose counties can put `load` seats on its date, their `fill` (`measured`, or
    `PATTERN_FILL`).

    A load that one coach carries alone (`load` <= `seats`: a county's, or a pattern's,
    remainder) counts the riders it really takes: the whole share (the load's own row caps
    the seats at the load). A lone county whose fill is not measured counts the whole share
    too: its whole coaches fill, and its last, partial coach takes the remainder alone (the
    fill's 85 % of a 53-seat coach for 50 waiting workers left 5 of them out). Else `fill`:
    a pooled coach, or a county whose coaches were measured to run part empty."""
    if load <= seats + 1e-9 or (alone and not measured):
        return 1.0
    return fill


def _flow_rows(
    spans: Sequence[tuple[int, int, int, int]],
    capacity: Mapping[tuple[int, int], float],
    variable: Callable[[float, float], int],
) -> list[tuple[dict[int, float], float]]:
    """The coach-flow rows in their cumulative form: per type and slot t a variable h[t] in
    [0, capacity(t)] with h[t] >= h[t-1] + (columns starting at t) - (columns ending at t).
    h[t] is at least the coaches held at t (by induction), and the held count itself satisfies
    the rows, so the columns fit exactly when each slot's held coaches are within its
    capacity: the same feasible columns as one row per slot listing every column holding it,
    with two nonzeros a column instead of one per slot held (the whole LP's nonzeros 5.58 M to
    1.32 M on wide-6k-610)."""
    starting: dict[tuple[int, int], list[int]] = defaultdict(list)
    ending: dict[tuple[int, int], list[int]] = defaultdict(list)
    for kind, first, last, x in spans:
        if last > first:
            starting[(kind, first)].append(x)
            ending[(kind, last)].append(x)
    rows: list[tuple[dict[int, float], float]] = []
    previous: dict[int, tuple[int, int]] = {}
    for kind, slot in sorted(capacity):
        h = variable(0.0, capacity[(kind, slot)])
        row: dict[int, float] = {h: -1.0}
        before = previous.get(kind)
        if before is not None and before[0] == slot - 1:
            row[before[1]] = 1.0
        row.update({x: 1.0 for x in starting.get((kind, slot), ())})
        row.update({x: -1.0 for x in ending.get((kind, slot), ())})
        rows.append((row, 0.0))
        previous[kind] = (slot, h)
    return rows


def _day_label(day: dt.date) -> str:
    return day.strftime("%m-%d")


def _best_date(left: Mapping[dt.date, float], seats: int, first_choice: dt.date) -> dt.date | None:
    """The date whose seats left (of the LP's for a group) take a unit of `seats` (half a seat
    of rounding allowed): its first choice when it fits, else the one with the most left."""
    fitting = [d for d, share in left.items() if share >= seats - 0.5]
    if not fitting:
        return None
    return max(fitting, key=lambda d: (d == first_choice, left[d], -d.toordinal()))


def pattern_spread(
    units: Sequence[Unit],
    dates: Mapping[int, dt.date],
    stop_of: Mapping[str, str],
    allowed: Sequence[dt.date],
    availability: Availability,
    policy: Policy,
    home: bool,
    roads: Roads,
    stop_limit: int,
    time_limit_s: float,
    boarding: Callable[[Unit], str] | None = None,
    boarding_limit: int | None = None,
) -> PatternSpread | None:
    """Each unit of `dates` (index into `units` -> first-choice date) on a date of its window
    whose coaches chain, by the route-pattern LP of the module docstring; None when the LP is
    not solved within `time_limit_s` or a unit's stop county has no road times (the caller
    then keeps its own spread). `allowed` are the season's dates with a coach; `stop_limit`
    the county stops of a coach; `boarding` gives a unit's boarding point on the origin side
    (gate or hub) and `boarding_limit` the stops a coach makes there: a county's whole load
    then needs at least ceil(its boarding points / limit) coaches visiting it, a date's share
    of its load that share of them (None: no such rows)."""
    started = time.monotonic()
    ledger = availability.ledger
    fleet = [v for v in ledger.fleet if v.count > 0]
    index = {code: i for i, code in enumerate(roads.codes)}
    if not dates or not fleet or not allowed:
        return None
    if any(stop_of[units[i].home] not in index for i in dates):
        return None
    allowed_set = set(allowed)
    first = min(allowed)
    groups: dict[tuple[int, dt.date, dt.date], list[int]] = defaultdict(list)
    for i in sorted(dates):
        unit = units[i]
        groups[(index[stop_of[unit.home]], *unit.window)].append(i)
    keys = list(groups)
    days_of: dict[int, set[dt.date]] = defaultdict(set)
    for county, start, end in keys:
        days_of[county].update(d for d in allowed if start <= d <= end and d in allowed_set)
    counties = sorted(days_of)
    # The seats that may depart on a (county, date): its groups' whose window holds the date.
    reachable: dict[tuple[int, dt.date], float] = defaultdict(float)
    for county, start, end in keys:
        total = float(sum(units[i].seats for i in groups[(county, start, end)]))
        for day in days_of[county]:
            if start <= day <= end:
                reachable[(county, day)] += total
    low, high = FILL_RANGE
    measured = availability.fill or {}
    fill = {c: min(high, max(low, measured.get(roads.codes[c], PATTERN_FILL))) for c in counties}
    earliest = float(policy.earliest_departure_hour)
    delays = [h for h in DEPARTURE_DELAYS_H if earliest + h <= policy.latest_departure_hour]
    types_on = {day: sum(1 for v in fleet if v.count_on(day) > 0) for day in allowed}
    budget = COLUMNS_PER_SECOND * (time_limit_s - (time.monotonic() - started))
    size = model_size(roads, stop_limit, days_of, types_on, delays, budget)
    if size is None:
        return None
    sets, delays = size
    holds: dict[tuple[int, ...], Hold] = {}
    for members in sorted(sets):
        hold = route_hold(roads, members, home, policy, far_ends=True)
        if hold is not None:
            holds[members] = hold
        if time.monotonic() - started > time_limit_s:
            return None

    objective: list[float] = []
    upper: list[float] = []
    rows: list[tuple[dict[int, float], float]] = []

    def variable(weight: float, most: float) -> int:
        objective.append(weight)
        upper.append(most)
        return len(objective) - 1

    # The coach variables, their slots and the seats they carry to each county of a date.
    # Each coach column's type and its slots [first, last) (the flow rows: `_flow_rows`).
    spans: list[tuple[int, int, int, int]] = []
    departures: dict[tuple[int, dt.date], dict[int, float]] = defaultdict(dict)
    carried: dict[tuple[int, dt.date], dict[int, float]] = defaultdict(dict)
    visits: dict[tuple[int, dt.date], dict[int, float]] = defaultdict(dict)
    coach_vars: list[int] = []
    for members, hold in holds.items():
        if time.monotonic() - started > time_limit_s:
            return None
        shared = sorted(set.intersection(*(days_of[c] for c in members)))
        for day in shared:
            base = 24.0 * (day - first).days
            columns: list[tuple[int, float]] = []
            for kind, vehicle in enumerate(fleet):
                if vehicle.count_on(day) <= 0:
                    continue
                for delay in delays:
                    leave = base + earliest + delay - hold.before
                    back = max(base + hold.after_earliest + delay, leave + hold.length)
                    x = variable(-COACH_WEIGHT, MOST_COACHES_PER_COLUMN)
                    coach_vars.append(x)
                    columns.append((x, float(vehicle.seats)))
                    spans.append(
                        (kind, math.floor(leave / SLOT_HOURS), math.ceil(back / SLOT_HOURS), x)
                    )
                    departures[(kind, day)][x] = 1.0
            if not columns:
                continue
            for county in members:
                for x, _ in columns:
                    visits[(county, day)][x] = 1.0
            if len(members) == 1:
                county = members[0]
                for x, seats in columns:
                    carried[(county, day)][x] = seats * coach_share(
                        reachable[(county, day)],
                        int(seats),
                        fill[county],
                        alone=True,
                        measured=roads.codes[county] in measured,
                    )
                continue
            # z seats of each county, each taking 1 / share of a coach seat (the share is the
            # whole seat when the pattern's counties all fit one coach of the date's largest).
            together = sum(reachable[(c, day)] for c in members)
            largest = int(max(seats for _, seats in columns))
            split: dict[int, float] = {x: -seats for x, seats in columns}
            for county in members:
                z = variable(0.0, MOST_COACHES_PER_COLUMN)
                share = coach_share(
                    together,
                    largest,
                    fill[county],
                    alone=False,
                    measured=roads.codes[county] in measured,
                )
                split[z] = 1.0 / share
                carried[(county, day)][z] = 1.0
            rows.append((split, 0.0))

    seat_vars: dict[tuple[int, dt.date], int] = {}
    flags: dict[tuple[int, dt.date], int] = {}
    demand: dict[tuple[int, dt.date], dict[int, float]] = defaultdict(dict)
    for g, key in enumerate(keys):
        county, start, end = key
        members_g = groups[key]
        total = float(sum(units[i].seats for i in members_g))
        chosen = {dates[i] for i in members_g}
        row: dict[int, float] = {}
        for day in sorted(days_of[county]):
            if not start <= day <= end or (county, day) not in visits:
                continue
            bonus = FIRST_CHOICE_BONUS if day in chosen else 0.0
            y = variable(1.0 + bonus, total)
            seat_vars[(g, day)] = y
            row[y] = 1.0
            demand[(county, day)][y] = 1.0
            if (county, day) not in flags:
                flags[(county, day)] = variable(0.0, 1.0)
            rows.append(({y: 1.0, flags[(county, day)]: -total}, 0.0))
        if row:
            rows.append((row, total))
    # Coaches a county's whole load needs for its boarding points (gates, hubs) alone.
    needed: dict[int, float] = {}
    load: dict[int, float] = defaultdict(float)
    if boarding is not None and boarding_limit:
        points: dict[int, set[str]] = defaultdict(set)
        for key in keys:
            for i in groups[key]:
                points[key[0]].add(boarding(units[i]))
                load[key[0]] += units[i].seats
        needed = {c: float(math.ceil(len(p) / boarding_limit)) for c, p in points.items()}
    for stop_day, seats_terms in demand.items():
        county = stop_day[0]
        rows.append(({**seats_terms, **{v: -c for v, c in carried[stop_day].items()}}, 0.0))
        rows.append(({flags[stop_day]: 1.0, **{v: -1.0 for v in visits[stop_day]}}, 0.0))
        county = stop_day[0]
        if needed.get(county, 0.0) > 1.0:
            share = needed[county] / load[county]
            terms = {y: share for y in seats_terms}
            rows.append(({**terms, **{v: -1.0 for v in visits[stop_day]}}, 0.0))
    if time.monotonic() - started > time_limit_s:
        return None
    origin = dt.datetime.combine(first, dt.time())
    capacity: dict[tuple[int, int], float] = {}
    for kind, vehicle in enumerate(fleet):
        slots = [(first, last) for k, first, last, _ in spans if k == kind and last > first]
        if not slots:
            continue
        for slot in range(min(f for f, _ in slots), max(b for _, b in slots)):
            a = origin + dt.timedelta(hours=slot * SLOT_HOURS)
            b = origin + dt.timedelta(hours=(slot + 1) * SLOT_HOURS)
            capacity[(kind, slot)] = float(ledger.free(vehicle.vehicle_type, a, b))
    rows.extend(_flow_rows(spans, capacity, variable))
    for (kind, day), terms in departures.items():
        if fleet[kind].count_on(day) < fleet[kind].count:
            rows.append((terms, float(fleet[kind].count_on(day))))
    left_s = time_limit_s - (time.monotonic() - started)
    if not seat_vars or left_s <= 0:
        return None
    try:
        _, solution = solve_lp(
            LinearProgram(tuple(objective), tuple(upper), tuple(rows)), time_limit_s=left_s
        )
    except LpNotSolved:
        return None
    lp_seated = sum(solution[y] for y in seat_vars.values())
    held: dict[tuple[int, int], float] = defaultdict(float)
    for kind, first_slot, last_slot, x in spans:
        if solution[x] > 1e-9:
            for slot in range(first_slot, last_slot):
                held[(kind, slot)] += solution[x]
    full_slots = {slot for (kind, slot), n in held.items() if n >= capacity[(kind, slot)] - 0.01}
    full_days = sorted(
        {origin.date() + dt.timedelta(hours=slot * SLOT_HOURS) for slot in full_slots}
    )
    types = ", ".join(v.vehicle_type for v in fleet)

    result: dict[int, dt.date] = {}
    dropped: dict[int, str] = {}
    for g, key in enumerate(keys):
        county, start, end = key
        left = {d: solution[y] for (gg, d), y in seat_vars.items() if gg == g}
        quota = math.floor(sum(left.values()) + 1e-6)
        for i in sorted(groups[key], key=lambda i: (-units[i].seats, units[i].worker_ids)):
            seats = units[i].seats
            best = _best_date(left, seats, dates[i])
            if best is not None and seats <= quota:
                left[best] -= seats
                quota -= seats
                result[i] = best
                continue
            busy = [t for t in full_days if start <= t <= end]
            dropped[i] = f"coaches ({types}) all away or taken on " + (
                ", ".join(_day_label(t) for t in busy) or "every date of the window"
            )
    leaving: dict[tuple[dt.date, str], float] = defaultdict(float)
    for (kind, day), terms in departures.items():
        leaving[(day, fleet[kind].vehicle_type)] += sum(solution[x] for x in terms)
    moved = sum(units[i].seats for i, day in result.items() if day != dates[i])
    rounded = sum(units[i].seats for i in result)
    return PatternSpread(
        Spread(result, dropped, moved, True),
        lp_seated=lp_seated,
        rounded_seats=rounded,
        columns=len(coach_vars),
        seconds=time.monotonic() - started,
        departures={key: math.ceil(n - 1e-6) + DEPARTURE_SLACK for key, n in leaving.items()},
    )
