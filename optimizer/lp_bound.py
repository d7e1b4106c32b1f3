"""A proven lower bound on coaches from a linear-programming relaxation (column generation).

The counting bounds of `optimizer.bounds` see seats, stop counts and dates but no geography. This
module solves the LP relaxation of a covering model over *coach patterns*: a departure date, a
set of at most `county_stop_limit` counties that one coach can serve in some driving order
within the detour limit, and a loading of at most the date's largest coach. Workers' windows are
kept (a demand group may only ride a pattern whose date lies in its window). Columns are priced
exactly by extending labels (chains of counties in driving order) and dropping those whose upper
bound cannot beat the best set found, so the compatible county sets are never listed. The known
counting bound is a row of the LP, so the LP bound starts there.

Validity does not depend on convergence: at every iteration the restricted master's duals,
scaled by the exact pricing maximum (a Farley bound), are a feasible solution of the full dual,
so their objective is a lower bound on the LP, hence on any legal plan. The proof and the pattern
definition are in docs/plan-format.md ("LP bound").
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import itertools
import math
import time
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from optimizer.dates import Window, disjoint_interval_best, min_stabbing_count
from optimizer.geography.distance import DistanceProvider, Location, great_circle_km
from optimizer.model import Scenario, Trip, Worker
from optimizer.places import county_seats
from optimizer.routing import CoveringLp

# The proven bound is rounded up after this allowance for floating-point error in the duals.
ROUND_TOLERANCE = 1e-6
# A column enters the master when its priced value exceeds 1 by this much.
PRICE_TOLERANCE = 1e-7
# County sets `county_sets` lists at most (a listing for tests and checks; pricing lists none).
MAX_COUNTY_SETS = 400_000
# Columns added per pricing round at most.
COLUMNS_PER_ROUND = 400
# With pickup rows: sets of counties priced exactly per round only to give the master a column.
SPARE_SETS = 100
# With pickup rows and `stop_early`: once this many sets were priced exactly and enough improving
# columns were found, a round stops without the exact maximum (it proves nothing that round).
EXACT_SETS_PER_ROUND = 300
# Weight of the best dual found so far in the point priced each round (Wentges smoothing).
SMOOTHING = 0.8
# A passenger's ride may exceed the limit by one second (the plan checker's rounding allowance).
RIDE_ALLOWANCE_S = 1.0
# Hub stops in the pickup rows for at most this many hubs in a season (pricing enumerates the
# sets of at most `boarding_stop_limit` of them); beyond, hub seats fall back to unlimited rows.
MAX_HUB_STOPS = 10
# Joins a group's boarding options (own site first, then its hubs) into its key.
OPTION_SEPARATOR = "\x1f"

# A demand group: (alighting county, window, its boarding key: the one site its seats may use,
# or its own site and hubs joined by OPTION_SEPARATOR (hub stops), or "" when they may choose
# without limit: a gate near a hub without hub stops, or any seat when the pickup rows are off).
GroupKey = tuple[str, Window, str]


def boarding_key(options: Sequence[str], pickup_rows: bool, hub_stops: bool = True) -> str:
    """The boarding part of a group's key: its one site, or (with `hub_stops`) its options joined
    (the first is its own site, the gate; the others hubs it may use), or "" (no limit)."""
    distinct = tuple(dict.fromkeys(options))
    if not pickup_rows or not distinct:
        return ""
    if len(distinct) == 1:
        return distinct[0]
    return OPTION_SEPARATOR.join(distinct) if hub_stops else ""


@dataclass(frozen=True)
class LpDemand:
    """Seats that must ride together from boarding to a county within a window.

    `county` is the alighting county (a site key of the travel matrix), `window` the allowed
    departure dates, `boarding` every site key where these seats may board.
    """

    seats: int
    county: str
    window: Window
    boarding: tuple[str, ...]


@dataclass(frozen=True)
class FractionalPattern:
    """A pattern the LP uses: `coaches` (fractional) coaches on `day` serving `counties`."""

    day: dt.date
    counties: tuple[str, ...]
    coaches: float


@dataclass(frozen=True)
class LpBound:
    """The LP bound: `trips` = ⌈`value` - 1e-6⌉ is proven; 0 when not computed (see `note`).

    `value` is the best Farley dual bound found, `lp_value` the last restricted master optimum
    (equal to `value` up to tolerance when `converged`), `county_sets` the (date, county set)
    pairs priced exactly over all rounds, `seconds` the wall time spent.
    """

    trips: int
    value: float
    lp_value: float
    converged: bool
    iterations: int
    columns: int
    county_sets: int
    seconds: float
    note: str = ""
    patterns: tuple[FractionalPattern, ...] = ()
    # Of `seconds`: in the LP solver, and pricing.
    solver_seconds: float = 0.0
    pricing_seconds: float = 0.0
    # The seats in the rows, and of those the seats under the pickup rows (0 when they are off).
    seats: int = 0
    limited_seats: int = 0
    # Of `limited_seats`: seats that may board at a hub (under the pickup rows by hub stops).
    hub_seats: int = 0


def rounded_patterns(
    patterns: Sequence[FractionalPattern], minimum: float = 0.5
) -> list[tuple[dt.date, tuple[str, ...], int]]:
    """The LP's patterns rounded to whole coaches: (date, counties, coaches) for every (date,
    county set) whose summed value is at least `minimum`, round(value) coaches (at least one),
    the largest values first. Columns that differ only in their loading are one pattern here.

    This is the planner's use of the relaxation (pooling seeds), not part of the proof.
    """
    summed: dict[tuple[dt.date, tuple[str, ...]], float] = defaultdict(float)
    for pattern in patterns:
        summed[(pattern.day, tuple(sorted(pattern.counties)))] += pattern.coaches
    chosen = [(key, value) for key, value in summed.items() if value >= minimum - 1e-9]
    chosen.sort(key=lambda item: (-item[1], item[0][0], item[0][1]))
    return [(day, counties, max(1, math.floor(value + 0.5))) for (day, counties), value in chosen]


def _not_computed(note: str, started: float) -> LpBound:
    return LpBound(0, 0.0, 0.0, False, 0, 0, 0, time.monotonic() - started, note)


def metric_closure(seconds: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Shortest-path closure of a travel-time matrix (Floyd-Warshall): never above the matrix,
    and it obeys the triangle inequality even where the matrix does not (road times along
    km-shortest paths)."""
    closure = np.array(seconds, dtype=np.float64)
    for k in range(closure.shape[0]):
        np.minimum(closure, closure[:, k : k + 1] + closure[k : k + 1, :], out=closure)
    return closure


@dataclass(frozen=True)
class Corridors:
    """What decides whether one coach can serve a set of counties (docs/plan-format.md).

    `reach[c]`: the least driving seconds from any boarding site to county c (metric closure);
    `allowed[c]`: the longest ride a passenger of c may have (ratio x the slowest own boarding
    option's direct time + grace + the checker's 1 s); `between[a, b]`: the closure's seconds
    from county a to county b; `stop_limit`: counties per coach.
    """

    reach: npt.NDArray[np.float64]
    allowed: npt.NDArray[np.float64]
    between: npt.NDArray[np.float64]
    stop_limit: int


def corridors(
    counties: Sequence[str],
    *,
    sites: Sequence[str],
    leg_s: npt.ArrayLike,
    boarding_sites: Collection[str],
    boarding_of: Mapping[str, Collection[str]],
    county_stop_limit: int,
    detour_ratio: float,
    detour_grace_s: float,
) -> Corridors:
    """The corridor data of `counties` (keys into `sites`); `leg_s[i, j]` is the driving time
    from `sites[i]` to `sites[j]` in the passengers' direction (boarding points before counties;
    the transpose of the road matrix for return trips)."""
    index = {key: i for i, key in enumerate(sites)}
    closure = metric_closure(leg_s)
    raw = np.asarray(leg_s, dtype=np.float64)
    boards = [index[b] for b in boarding_sites]
    at = [index[c] for c in counties]
    reach = closure[np.ix_(boards, at)].min(axis=0) if at else np.zeros(0)
    allowed = np.array(
        [
            detour_ratio * max(raw[index[b], index[c]] for b in boarding_of[c])
            + detour_grace_s
            + RIDE_ALLOWANCE_S
            for c in counties
        ],
        dtype=np.float64,
    )
    return Corridors(reach, allowed, closure[np.ix_(at, at)], county_stop_limit)


def county_sets(
    counties: Sequence[str],
    *,
    sites: Sequence[str],
    leg_s: npt.ArrayLike,
    boarding_sites: Collection[str],
    boarding_of: Mapping[str, Collection[str]],
    county_stop_limit: int,
    detour_ratio: float,
    detour_grace_s: float,
    limit: int = MAX_COUNTY_SETS,
    deadline: float = math.inf,
) -> list[tuple[int, ...]] | None:
    """Every set of at most `county_stop_limit` counties (indices into `counties`) that one coach
    can serve in some order with every passenger's ride within the detour limit, in a relaxed
    sense that any legal coach satisfies (docs/plan-format.md); None when there are more than
    `limit` or when time.monotonic() passes `deadline`.

    A passenger alighting at the j-th county c_j rides at least
    min_b T(b, c_1) + Σ_{i<j} T(c_i, c_{i+1}) over the metric closure T, and may ride at most
    ratio x max_b t(b, c_j) + grace over the county's own boarding points b. The LP's pricing
    does not list these sets (it extends labels, `_price`); this listing serves tests and
    small checks.
    """
    corridor = corridors(
        counties,
        sites=sites,
        leg_s=leg_s,
        boarding_sites=boarding_sites,
        boarding_of=boarding_of,
        county_stop_limit=county_stop_limit,
        detour_ratio=detour_ratio,
        detour_grace_s=detour_grace_s,
    )
    size = len(counties)
    if size == 0:
        return []
    found: set[tuple[int, ...]] = {(c,) for c in range(size)}
    chains: list[tuple[tuple[int, ...], int, float]]
    chains = [((c,), c, float(corridor.reach[c])) for c in range(size)]
    for _ in range(2, county_stop_limit + 1):
        grown: dict[tuple[tuple[int, ...], int], float] = {}
        for served, last, elapsed in chains:
            if time.monotonic() > deadline:
                return None
            arrival = elapsed + corridor.between[last]
            for following in np.nonzero(arrival <= corridor.allowed)[0].tolist():
                if following in served:
                    continue
                key = (tuple(sorted((*served, following))), following)
                if grown.get(key, math.inf) > arrival[following]:
                    grown[key] = float(arrival[following])
        chains = [(served, last, elapsed) for (served, last), elapsed in grown.items()]
        found.update(served for served, _ in grown)
        if len(found) > limit:
            return None
    return sorted(found, key=lambda s: (len(s), s))


def lp_lower_bound(
    demands: Sequence[LpDemand],
    *,
    capacity_by_date: Mapping[dt.date, int],
    county_stop_limit: int,
    sites: Sequence[str],
    leg_s: npt.ArrayLike,
    detour_ratio: float,
    detour_grace_s: float,
    time_limit_s: float,
    boarding_sites: Collection[str] | None = None,
    warm_start: Sequence[tuple[dt.date, Mapping[GroupKey, int]]] = (),
    max_rounds: int | None = None,
    until_converged: bool = False,
    known_bound: int = 0,
    presolve: bool = True,
    boarding_stop_limit: int | None = None,
    hub_stops: bool = True,
) -> LpBound:
    """A lower bound on the coaches needed to carry `demands` (see the module docstring).

    Parameters
    ----------
    demands
        Seats by alighting county, window and boarding options (parties may be split: the LP is
        a relaxation).
    capacity_by_date
        The largest coach (seats) that may depart on each date; dates not listed have none.
    county_stop_limit
        Counties one coach may serve (max_dropoff_stops going home).
    sites, leg_s
        Site keys and driving seconds between them in the passengers' direction.
    detour_ratio, detour_grace_s
        A ride may last direct x ratio + grace seconds.
    time_limit_s
        Wall-clock box; the best bound proven so far is returned when it runs out.
    boarding_sites
        Every site where anyone may board (default: the demands' boarding options).
    warm_start
        Known coaches (e.g. the planner's): date and seats per group key (county, window, fixed
        boarding site or ""), as first columns.
    max_rounds
        Stop after this many pricing rounds (the bound is proven at every round).
    known_bound
        A proven lower bound on the coaches of any legal plan (the counting bound): added as
        the row Σ_p x_p >= known_bound, so the LP bound starts there and never falls below it.
    until_converged
        Go on after the proven bound has reached the restricted master's value rounded up
        (the integer bound cannot improve any more; by default the loop stops there).
    presolve
        GLOP's preprocessing (False: off, so GLOP keeps its basis between rounds).
    boarding_stop_limit
        Boarding points one coach may use (max_pickup_stops going home). When given, seats
        with one boarding option (a gate with no hub in reach) get rows per (county, window,
        gate), and a pattern carries a county's such seats from at most this many gates
        ("pickup rows", docs/plan-format.md); seats that may choose stay in (county, window)
        rows with no such limit. None: every group is a (county, window) row, as before.
    hub_stops
        With `boarding_stop_limit`: seats with several boarding options (the first is their own
        site, the gate; the others hubs) get rows per (county, window, options) too, and a
        pattern's boarding stops are gates or hubs, at most `boarding_stop_limit` in all; such a
        seat rides when its gate or one of its hubs is a stop ("hub stops"). With more than
        `MAX_HUB_STOPS` hubs, or False, those seats stay in the unlimited rows.
    """
    started = time.monotonic()
    deadline = started + time_limit_s
    # Demand groups: seats by (county, window) and, with pickup rows, by their one boarding site.
    seats_of: dict[GroupKey, int] = defaultdict(int)
    boarding_of: dict[str, set[str]] = defaultdict(set)
    hub_sites = sorted({b for d in demands for b in tuple(dict.fromkeys(d.boarding))[1:]})
    with_hubs = hub_stops and boarding_stop_limit is not None and len(hub_sites) <= MAX_HUB_STOPS
    for demand in demands:
        dates = [d for d in _days(demand.window) if capacity_by_date.get(d, 0) > 0]
        if demand.seats <= 0 or not dates:
            continue  # no pattern can carry it: leaving it out keeps a relaxation
        site = boarding_key(demand.boarding, boarding_stop_limit is not None, with_hubs)
        seats_of[(demand.county, demand.window, site)] += demand.seats
        boarding_of[demand.county].update(demand.boarding)
    if not seats_of:
        return _not_computed("no seated demand", started)
    counties = sorted(boarding_of)
    county_index = {c: i for i, c in enumerate(counties)}
    boards = (
        set(boarding_sites) if boarding_sites is not None else set().union(*boarding_of.values())
    )
    known = set(sites)
    missing = sorted((boards | set(counties)) - known)
    if missing:
        return _not_computed(f"sites without travel times: {', '.join(missing[:3])}", started)
    corridor = corridors(
        counties,
        sites=sites,
        leg_s=leg_s,
        boarding_sites=boards,
        boarding_of=boarding_of,
        county_stop_limit=county_stop_limit,
        detour_ratio=detour_ratio,
        detour_grace_s=detour_grace_s,
    )
    groups = sorted(seats_of)
    group_row = {g: i for i, g in enumerate(groups)}
    largest = max(capacity_by_date.values())
    # Visit rows: each county needs max(⌈seats / C⌉, stabbing count of its windows) coach visits.
    groups_of: dict[str, list[GroupKey]] = defaultdict(list)
    for group in groups:
        groups_of[group[0]].append(group)
    visits = []
    for county in counties:
        mine = groups_of[county]
        seats = sum(seats_of[g] for g in mine)
        visit = max(math.ceil(seats / largest), min_stabbing_count(g[1] for g in mine))
        if boarding_stop_limit is not None:
            visit = max(visit, _county_visits(mine, seats_of, largest, boarding_stop_limit))
        visits.append(visit)
    visit_row = len(groups)
    # The known bound as a row every pattern is in: a legal plan has at least that many coaches.
    total_row = visit_row + len(counties)
    totals = [float(known_bound)] if known_bound > 0 else []
    rhs = np.array([*(seats_of[g] for g in groups), *visits, *totals], dtype=np.float64)
    days = sorted(d for d, q in capacity_by_date.items() if q > 0)
    # Per date and county, the rows of the groups that may depart that date.
    eligible: dict[tuple[int, int], npt.NDArray[np.int64]] = {}
    for di, day in enumerate(days):
        by_county: dict[int, list[int]] = defaultdict(list)
        for row, (county, window, _) in enumerate(groups):
            if window[0] <= day <= window[1]:
                by_county[county_index[county]].append(row)
        for ci, rows in by_county.items():
            eligible[(di, ci)] = np.array(rows, dtype=np.int64)
    sizes = rhs[: len(groups)]
    # With pickup rows: each group's own boarding site as a number (-1: it may choose freely)
    # and, with hub stops, the hubs it may also board at as a bit mask.
    options = {g: g[2].split(OPTION_SEPARATOR) if g[2] else [] for g in groups}
    own_sites = sorted({o[0] for o in options.values() if o})
    site_number = {site: i for i, site in enumerate(own_sites)}
    hub_bit = {
        hub: 1 << i for i, hub in enumerate(sorted({h for o in options.values() for h in o[1:]}))
    }
    limits = (
        _PickupLimit(
            np.array(
                [site_number[options[g][0]] if options[g] else -1 for g in groups], dtype=np.int64
            ),
            boarding_stop_limit,
            np.array([sum(hub_bit[h] for h in options[g][1:]) for g in groups], dtype=np.int64),
        )
        if boarding_stop_limit is not None
        else None
    )

    lp = CoveringLp(rhs.tolist(), presolve=presolve)
    seen: set[tuple[int, tuple[int, ...], tuple[tuple[int, int], ...]]] = set()
    column_day: list[int] = []
    column_sets: list[tuple[int, ...]] = []

    def add(day_index: int, served: tuple[int, ...], loading: Mapping[int, int]) -> None:
        load = tuple(sorted((r, a) for r, a in loading.items() if a > 0))
        key = (day_index, served, load)
        if key in seen:
            return
        seen.add(key)
        rows = [r for r, _ in load] + [visit_row + c for c in served]
        rows += [total_row] if totals else []
        lp.add_column(rows, [a for _, a in load] + [1] * len(served) + [1] * len(totals))
        column_day.append(day_index)
        column_sets.append(served)

    day_index = {d: i for i, d in enumerate(days)}
    for day, loading in warm_start:
        if day not in day_index:
            continue
        carried_rows: dict[int, int] = defaultdict(int)
        for (county, window, site), seats in loading.items():
            if boarding_stop_limit is None or (OPTION_SEPARATOR in site and not with_hubs):
                site = ""
            key = (county, window, site)
            if key in group_row:
                carried_rows[group_row[key]] += seats
        served = tuple(sorted({county_index[groups[r][0]] for r in carried_rows}))
        if carried_rows:
            add(day_index[day], served, carried_rows)
    # One column per group so that every row can be covered from the start.
    for row, (county, window, _) in enumerate(groups):
        day = next(d for d in days if window[0] <= d <= window[1])
        carried = min(int(sizes[row]), capacity_by_date[day])
        add(day_index[day], (county_index[county],), {row: carried})

    best = 0.0
    center: npt.NDArray[np.float64] | None = None
    # While the centre is the known bound's dual (below), every pattern is worth exactly 1 at it.
    center_is_total = False
    if totals:
        # The known bound's dual alone is feasible (every pattern is worth 1): the first centre.
        center = np.zeros(len(rhs))
        center[total_row] = 1.0
        best = float(known_bound)
        center_is_total = True
    sets_priced = 0
    lp_value = 0.0
    solver_seconds = pricing_seconds = 0.0
    iterations = 0
    converged = False
    note = ""
    values: npt.NDArray[np.float64] = np.zeros(0)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            note = "time limit reached before the LP converged"
            break
        clock = time.monotonic()
        solved = lp.solve(left)
        solver_seconds += time.monotonic() - clock
        if solved is None:
            note = "time limit reached inside the LP solver"
            break
        lp_value, duals, values = solved
        iterations += 1
        duals = np.maximum(duals, 0.0)
        # Price at a point between the best dual found (the centre) and the master's duals
        # (Wentges smoothing): the master's duals jump about; the mixture is what the bound
        # is proven at, so every round's Farley value is still a valid bound.
        weight = SMOOTHING if center is not None else 0.0
        while True:
            point = (
                duals if center is None or weight == 0.0 else weight * center + (1 - weight) * duals
            )
            clock = time.monotonic()
            priced = _price(
                point[:total_row],
                sizes,
                visit_row,
                corridor,
                days,
                capacity_by_date,
                eligible,
                deadline,
                per_coach=float(point[total_row]) if totals else 0.0,
                limits=limits,
                stop_early=with_hubs,
            )
            pricing_seconds += time.monotonic() - clock
            if priced is None:
                break
            most, columns, evaluated = priced
            sets_priced += evaluated
            # Farley: point / max(1, most) is feasible for the full dual LP.
            proven = float(point @ rhs) / max(1.0, most)
            if proven > best:
                best, center = proven, point / max(1.0, most)
                center_is_total = False
            elif center_is_total and 0.0 < weight < 1.0:
                # At the known bound's dual every pattern is worth 1, so the mixture's maximum is
                # weight + (1 - weight) x the master duals' own maximum: their Farley bound
                # comes free, without pricing them again.
                own = max(1.0, (most - weight) / (1.0 - weight))
                direct = float(duals @ rhs) / own
                if direct > best:
                    best, center = direct, duals / own
                    center_is_total = False
            if columns or weight == 0.0:
                break
            weight = 0.0  # nothing prices out at the mixture: price at the master's duals
        if priced is None:
            note = "time limit reached while pricing"
            break
        if not columns:
            converged = True
            break
        rounded = math.ceil(best - ROUND_TOLERANCE) >= math.ceil(lp_value - ROUND_TOLERANCE)
        if rounded and not until_converged:
            note = "bound equals the master's value rounded up"
            break
        if max_rounds is not None and iterations >= max_rounds:
            note = f"stopped after {max_rounds} round(s)"
            break
        for di, served, priced_loading in columns:
            add(di, served, priced_loading)
    patterns = tuple(
        FractionalPattern(days[column_day[i]], tuple(counties[c] for c in column_sets[i]), float(x))
        for i, x in enumerate(values)
        if x > 1e-6
    )
    return LpBound(
        trips=max(0, math.ceil(best - ROUND_TOLERANCE)),
        value=best,
        lp_value=lp_value,
        converged=converged,
        iterations=iterations,
        columns=lp.column_count,
        county_sets=sets_priced,
        seconds=time.monotonic() - started,
        note=note,
        patterns=patterns,
        solver_seconds=solver_seconds,
        pricing_seconds=pricing_seconds,
        seats=int(sum(seats_of.values())),
        limited_seats=int(sum(b for g, b in seats_of.items() if g[2])),
        hub_seats=int(sum(b for g, b in seats_of.items() if OPTION_SEPARATOR in g[2])),
    )


def _days(window: Window) -> list[dt.date]:
    return [window[0] + dt.timedelta(days=i) for i in range((window[1] - window[0]).days + 1)]


def _county_visits(
    groups: Sequence[GroupKey], seats_of: Mapping[GroupKey, int], largest: int, limit: int
) -> int:
    """The fewest coach visits one county's groups need: the best sum over pairwise disjoint date
    intervals I of max(1, ⌈seats inside I / largest⌉, ⌈fixed boarding sites inside I / limit⌉),
    over the groups whose windows lie inside I (weighted interval scheduling).

    Those groups depart on dates of I, so they need visits on dates of I: one at least, enough
    for their seats, and, as a visit carries a county's fixed-site seats from at most `limit`
    boarding sites, enough for every such site; visits on disjoint intervals are different.
    """
    starts = sorted({g[1][0] for g in groups})
    ends = sorted({g[1][1] for g in groups})

    def weight(first: dt.date, last: dt.date) -> int:
        inside = [g for g in groups if first <= g[1][0] and g[1][1] <= last]
        if not inside:
            return 0
        seats = sum(seats_of[g] for g in inside)
        # Only seats with one boarding site force a stop there (hub seats may share one).
        sites = len({g[2] for g in inside if g[2] and OPTION_SEPARATOR not in g[2]})
        return max(1, math.ceil(seats / largest), math.ceil(sites / limit))

    return disjoint_interval_best(starts, ends, weight)


@dataclass(frozen=True)
class _PickupLimit:
    """The pickup rows: `site[row]` numbers the own boarding site (gate) of a group (-1: it may
    choose freely), `hubs[row]` is the bit mask of the hubs it may also board at; a pattern has at
    most `limit` boarding stops, gates or hubs, and carries a group's seats only when its gate or
    one of its hubs is among them."""

    site: npt.NDArray[np.int64]
    limit: int
    hubs: npt.NDArray[np.int64] | None = None

    @property
    def hub_count(self) -> int:
        if self.hubs is None or not len(self.hubs):
            return 0
        return int(np.bitwise_or.reduce(self.hubs)).bit_length()


def _seat_curve(
    prices: npt.NDArray[np.float64], seats: npt.NDArray[np.float64], capacity: int
) -> npt.NDArray[np.float64]:
    """curve[k]: the best value of at most k seats (k = 0..capacity) at `prices` per seat
    (positive prices only; greedy, exact for seats of equal weight)."""
    keep = prices > 0
    order = np.argsort(-prices[keep], kind="stable")
    counts = np.minimum(seats[keep][order], capacity).astype(np.int64)
    per_seat = np.repeat(prices[keep][order], counts)[:capacity]
    curve = np.zeros(capacity + 1)
    curve[1 : len(per_seat) + 1] = np.cumsum(per_seat)
    curve[len(per_seat) + 1 :] = curve[len(per_seat)]
    return curve


def _max_plus(
    first: npt.NDArray[np.float64], second: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """out[..., k] = max over j <= k of first[..., k - j] + second[..., j], and the best j: the
    best value of at most k seats shared between two curves (the last axis)."""
    shift, invalid = _shifts(first.shape[-1])
    table = first[..., shift] + second[..., None, :]
    table[..., invalid] = -np.inf
    return table.max(axis=-1), table.argmax(axis=-1)


def _max_plus_few(
    first: npt.NDArray[np.float64], second: npt.NDArray[np.float64], upto: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """`_max_plus(first, second)` where `first` never falls along its last axis and `second` is
    flat beyond index `upto`: only j <= upto can be best (the smallest such j on ties, as there).
    """
    if upto >= 16:
        return _max_plus(first, second[None, :] if first.ndim > 1 else second)
    out = first + second[0]
    best = np.zeros(out.shape, dtype=np.int64)
    for j in range(1, upto + 1):
        shifted = first[..., :-j] + second[j]
        better = shifted > out[..., j:]
        out[..., j:] = np.where(better, shifted, out[..., j:])
        best[..., j:] = np.where(better, j, best[..., j:])
    return out, best


@functools.cache
def _shifts(size: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """shift[k, j] = k - j (clipped at 0) and where j > k, for `_max_plus`."""
    k = np.arange(size)
    shift = k[:, None] - k[None, :]
    return np.clip(shift, 0, None), shift < 0


@dataclass
class _CountyCurve:
    """One county's best values on one date under the pickup rows: `curve[k]` is the best value
    of at most k seats with fixed-site seats from at most `limit` sites; `loading(k)` rebuilds
    the loading (row -> seats) behind curve[k]."""

    curve: npt.NDArray[np.float64]
    rows: npt.NDArray[np.int64]
    prices: npt.NDArray[np.float64]
    sizes: npt.NDArray[np.float64]
    # The sites in the order the dynamic programme took them, and per site and gate count the
    # seats taken from it (-1: not taken) at each budget.
    sites: list[npt.NDArray[np.int64]]
    choices: list[npt.NDArray[np.int64]]
    flexible: npt.NDArray[np.int64]

    def loading(self, budget: int) -> dict[int, int]:
        """Rows and seats of a loading worth curve[budget]."""
        taken: dict[int, int] = {}
        left = budget
        gates = len(self.choices[0]) - 1 if self.choices else 0
        for members, choice in zip(reversed(self.sites), reversed(self.choices), strict=True):
            seats = int(choice[gates, left]) if gates > 0 else -1
            if seats > 0:
                taken.update(self._greedy(members, seats))
                left -= seats
                gates -= 1
        taken.update(self._greedy(self.flexible, left))
        return taken

    def _greedy(self, members: npt.NDArray[np.int64], seats: int) -> dict[int, int]:
        order = members[np.argsort(-self.prices[members], kind="stable")]
        taken: dict[int, int] = {}
        for k in order.tolist():
            if seats <= 0 or self.prices[k] <= 0:
                break
            take = min(seats, int(self.sizes[k]))
            taken[int(self.rows[k])] = take
            seats -= take
        return taken


def _site_curves(
    prices: npt.NDArray[np.float64],
    seats: npt.NDArray[np.float64],
    site: npt.NDArray[np.int64],
    capacity: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """The distinct sites of the rows of positive price, and per site `_seat_curve` of its rows
    (shape sites x capacity + 1), all at once."""
    keep = np.nonzero(prices > 0)[0]
    sites, number = np.unique(site[keep], return_inverse=True)
    number = number.reshape(-1)
    order = np.lexsort((-prices[keep], number))
    counts = np.minimum(seats[keep][order], capacity).astype(np.int64)
    per_seat = np.repeat(prices[keep][order], counts)
    owner = np.repeat(number[order], counts)
    # Each seat's position among its site's seats (they are contiguous, best first).
    starts = np.zeros(len(sites) + 1, dtype=np.int64)
    np.add.at(starts, number[order] + 1, counts)
    starts = np.cumsum(starts)
    position = np.arange(len(per_seat)) - starts[owner]
    inside = position < capacity
    marginal = np.zeros((len(sites), capacity))
    marginal[owner[inside], position[inside]] = per_seat[inside]
    curves = np.zeros((len(sites), capacity + 1))
    curves[:, 1:] = np.cumsum(marginal, axis=1)
    return sites, curves


def _undominated(curves: npt.NDArray[np.float64], limit: int) -> list[int]:
    """The sites (rows of `curves`, each a site's best value per seat count) that fewer than
    `limit` others dominate (curve at least as high everywhere; among equal curves the first
    dominates). A solution with at most `limit` sites that uses a site dominated by `limit`
    others leaves one of those unused and may swap to it without losing value, so the dynamic
    programme over the kept sites has the same optimum."""
    at_least = (curves[:, None, :] >= curves[None, :, :]).all(axis=2)
    index = np.arange(len(curves))
    dominates = at_least & (~at_least.T | (index[:, None] < index[None, :]))
    np.fill_diagonal(dominates, False)
    return np.nonzero(dominates.sum(axis=0) < limit)[0].tolist()


def _county_curve(
    prices: npt.NDArray[np.float64],
    rows: npt.NDArray[np.int64],
    sizes: npt.NDArray[np.float64],
    site: npt.NDArray[np.int64],
    capacity: int,
    limit: int,
) -> _CountyCurve:
    """The county's `_CountyCurve` for groups `rows` at `prices` per seat; `site[i]` is row i's
    fixed boarding site (-1: it may choose). Exact: sites by a dynamic programme over (sites
    used, seats), each site's and the choosing seats' own values greedy."""
    seat_count = sizes[rows]
    positive = prices > 0
    local = np.arange(len(rows))
    flexible = local[positive & (site < 0)]
    fixed_sites = np.unique(site[positive & (site >= 0)])
    if len(fixed_sites) <= limit:  # every site fits: the plain greedy over all rows
        everything = local[positive]
        return _CountyCurve(
            _seat_curve(prices[everything], seat_count[everything], capacity),
            rows, prices, seat_count, [], [], everything,
        )  # fmt: skip
    curve = _seat_curve(prices[flexible], seat_count[flexible], capacity)
    fixed = np.nonzero(site >= 0)[0]
    fixed_sites, own_curves = _site_curves(prices[fixed], seat_count[fixed], site[fixed], capacity)
    kept = _undominated(own_curves, limit)
    members = [local[positive & (site == fixed_sites[i])] for i in kept]
    # best[t, k]: the best value of at most k seats with at most t sites among those seen so far.
    best = np.repeat(curve[None, :], limit + 1, axis=0)
    choices: list[npt.NDArray[np.int64]] = []
    for i, group in zip(kept, members, strict=True):
        own = own_curves[i]
        # Beyond its seats a site's curve is flat and `best` never falls: only those j count.
        value, seats = _max_plus_few(best[:-1], own, min(capacity, int(seat_count[group].sum())))
        better = value > best[1:] + 1e-12
        choice = np.full((limit + 1, capacity + 1), -1, dtype=np.int64)
        choice[1:] = np.where(better, seats, -1)
        best[1:] = np.where(better, value, best[1:])
        choices.append(choice)
    return _CountyCurve(best[limit], rows, prices, seat_count, members, choices, flexible)


def _hub_mask(
    prices: npt.NDArray[np.float64], rows: npt.NDArray[np.int64], limits: _PickupLimit
) -> int:
    """The hubs (bit mask) some group of `rows` of positive price may board at."""
    if limits.hubs is None:
        return 0
    positive = prices > 0
    return int(np.bitwise_or.reduce(limits.hubs[rows][positive])) if positive.any() else 0


def _best_stops(
    prices: npt.NDArray[np.float64],
    rows: npt.NDArray[np.int64],
    sizes: npt.NDArray[np.float64],
    limits: _PickupLimit,
    capacity: int,
) -> _CountyCurve:
    """A `_CountyCurve` whose value at `capacity` (and only there) is the best value of at most
    `capacity` seats of groups `rows` at `prices` per seat with at most `limits.limit` boarding
    stops, gates or hubs; its loading at `capacity` meets that limit.

    Exact: every choice of stops is a set H of hubs (of those some positive group may use) and
    some gates; for each H of at most `limit` hubs the groups that may board at a hub of H ride
    freely and the others come from at most limit - |H| gates (`_county_curve`, exact). An H whose
    upper bound (its free seats' value plus the best limit - |H| gates' values) cannot beat the
    best value found is skipped."""
    site = limits.site[rows]
    mask = _hub_mask(prices, rows, limits)
    if not mask or limits.hubs is None:
        return _county_curve(prices, rows, sizes, site, capacity, limits.limit)
    hubs = limits.hubs[rows]
    seat_count = sizes[rows]
    positive = prices > 0
    fixed = np.nonzero(site >= 0)[0]
    numbers, curves = _site_curves(prices[fixed], seat_count[fixed], site[fixed], capacity)
    gate_value = dict(zip(numbers.tolist(), curves[:, capacity].tolist(), strict=True))
    bits = [1 << b for b in range(mask.bit_length()) if mask >> b & 1]
    plans: list[tuple[float, int, npt.NDArray[np.int64]]] = []
    for count in range(min(limits.limit, len(bits)) + 1):
        for chosen in itertools.combinations(bits, count):
            covered = (hubs & sum(chosen)) != 0
            free = positive & ((site < 0) | covered)
            left = sorted(
                (gate_value[n] for n in np.unique(site[positive & ~free]).tolist()), reverse=True
            )
            ceiling = _seat_curve(prices[free], seat_count[free], capacity)[capacity]
            ceiling += sum(left[: limits.limit - count])
            plans.append((float(ceiling), count, np.where(covered, -1, site)))
    plans.sort(key=lambda plan: -plan[0])
    best: _CountyCurve | None = None
    for ceiling, count, own in plans:
        if best is not None and ceiling <= best.curve[capacity] + 1e-12:
            break
        curve = _county_curve(prices, rows, sizes, own, capacity, limits.limit - count)
        if best is None or curve.curve[capacity] > best.curve[capacity]:
            best = curve
    assert best is not None
    return best


def _stops_ceiling(
    prices: npt.NDArray[np.float64],
    rows: npt.NDArray[np.int64],
    sizes: npt.NDArray[np.float64],
    limits: _PickupLimit,
    capacity: int,
) -> npt.NDArray[np.float64]:
    """curve[k]: at least the best value of at most k seats of groups `rows` with at most
    `limits.limit` boarding stops (exact without hubs). A hub is priced as a "super gate" whose
    seats are those of every group that may board there, so a group may count at its gate and
    at its hub: any loading under the limit is one of this programme's (each seat assigned to
    one stop of the coach), so the curve is never below the exact one."""
    site = limits.site[rows]
    mask = _hub_mask(prices, rows, limits)
    if not mask or limits.hubs is None:
        return _county_curve(prices, rows, sizes, site, capacity, limits.limit).curve
    hubs = limits.hubs[rows]
    base = int(limits.site.max()) + 1
    parts_prices, parts_rows, parts_site = [prices], [rows], [site]
    for bit in range(mask.bit_length()):
        mine = (hubs >> bit & 1) == 1
        if mine.any():
            parts_prices.append(prices[mine])
            parts_rows.append(rows[mine])
            parts_site.append(np.full(int(mine.sum()), base + bit, dtype=np.int64))
    return _county_curve(
        np.concatenate(parts_prices),
        np.concatenate(parts_rows),
        sizes,
        np.concatenate(parts_site),
        capacity,
        limits.limit,
    ).curve


def _combined_value(curves: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """For curves of shape (sets, counties, capacity + 1): each set's best value of at most
    `capacity` seats shared among its counties (max-plus convolution of the curves)."""
    total = curves[:, 0]
    for i in range(1, curves.shape[1]):
        if i == curves.shape[1] - 1:
            return np.asarray((total + curves[:, i, ::-1]).max(axis=1))
        total, _ = _max_plus(total, curves[:, i])
    return np.asarray(total[:, -1])


def _fill(
    prices: npt.NDArray[np.float64],
    rows: npt.NDArray[np.int64],
    sizes: npt.NDArray[np.float64],
    capacity: int,
) -> tuple[float, dict[int, int]]:
    """The best loading of `capacity` seats from `rows` at `prices` per seat (greedy, exact for
    seats of equal weight) and its value."""
    order = np.argsort(-prices, kind="stable")
    value = 0.0
    left = capacity
    loading: dict[int, int] = {}
    for k in order.tolist():
        if left <= 0 or prices[k] <= 0:
            break
        take = min(left, int(sizes[rows[k]]))
        loading[int(rows[k])] = take
        value += take * float(prices[k])
        left -= take
    return value, loading


# Labels extended at once while pricing (rows x candidate counties).
LABELS_PER_STEP = 2_000_000


class _Enough(Exception):
    """Pricing has found enough improving columns and stops before the maximum is known."""


# Sets priced exactly at once (vectorised), in decreasing order of their upper bound.
PRICE_CHUNK = 4096
# Sets whose county curves are combined at once with pickup rows (sets x seats x seats floats).
CURVE_CHUNK = 256

Column = tuple[int, tuple[int, ...], dict[int, int]]


@dataclass
class _Labels:
    """Chains of counties one coach can serve in this order, with what bounds their value.

    `served` holds each chain's counties (sorted), `last` the county it ends at, `elapsed` the
    least seconds of driving so far, `value` its exact value (or an upper bound of it), and
    `seat_sum`, `visit_sum`, `top_price` the sums of its counties' own seat values and visit duals
    and the highest seat price among them.
    """

    served: npt.NDArray[np.int64]
    last: npt.NDArray[np.int64]
    elapsed: npt.NDArray[np.float64]
    value: npt.NDArray[np.float64]
    seat_sum: npt.NDArray[np.float64]
    visit_sum: npt.NDArray[np.float64]
    top_price: npt.NDArray[np.float64]

    def take(self, keep: npt.NDArray[np.int64] | npt.NDArray[np.bool_]) -> _Labels:
        return _Labels(*(getattr(self, f.name)[keep] for f in dataclasses.fields(self)))


def _price(
    duals: npt.NDArray[np.float64],
    sizes: npt.NDArray[np.float64],
    visit_row: int,
    corridor: Corridors,
    days: Sequence[dt.date],
    capacity_by_date: Mapping[dt.date, int],
    eligible: Mapping[tuple[int, int], npt.NDArray[np.int64]],
    deadline: float,
    per_coach: float = 0.0,
    limits: _PickupLimit | None = None,
    stop_early: bool = False,
) -> tuple[float, list[Column], int] | None:
    """The largest dual value of any pattern (exact; infinite when `stop_early` stopped the
    round once it had enough improving columns), the best columns, and the sets priced exactly;
    None at the deadline. `duals` are the group rows' then the visit rows'; `per_coach`
    the dual of the row every pattern is in (the known bound's), added to every value.

    The best loading of a set on a date takes the date's capacity in seats at the highest dual
    prices among its counties' eligible groups (seats weigh alike, so greedy is exact). Counties
    of no positive value never raise a set's value and compatible sets are closed under removal,
    so only counties of positive value are extended, by labels along corridor order: a chain
    grows by a county it reaches within that county's ride limit. A set's value is at most
    min(Σ own seat values, C x its highest seat price) + Σ visit duals, and at most its chain's
    value plus the added county's own value; a label whose bound, plus the best values the
    remaining stops could add, does not beat the best set found is dropped, so the maximum is
    exact without listing every set.

    With pickup rows (`limits`), a county's own seat value is its `_CountyCurve` at C_d (fixed-
    site seats from at most `limits.limit` sites), a set's exact value the max-plus convolution of
    its counties' curves (`_combined_value`); the label bounds keep the unlimited seat prices
    (never below the limited values), so the pruning stays exact.
    """
    group_duals = duals[:visit_row]
    county_duals = duals[visit_row:]
    count = len(county_duals)
    # A pattern improves the master when its value, with the per-coach dual, exceeds 1.
    threshold = 1.0 - per_coach + PRICE_TOLERANCE
    by_day: dict[int, list[tuple[int, npt.NDArray[np.int64]]]] = defaultdict(list)
    for (di, ci), rows in eligible.items():
        by_day[di].append((ci, rows))
    most = 0.0
    evaluated = 0
    found = _Found(threshold)
    # With pickup rows, the sets' values under the limit across the whole coach, and their curves.
    coach_curve: dict[tuple[int, tuple[int, ...]], _CountyCurve] = {}
    coach_sets = 0
    site_values: dict[int, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]] = {}
    # Sets priced exactly only for a column (they cannot raise the maximum), per round at most.
    spare = SPARE_SETS

    def settle(
        di: int,
        capacity: int,
        members: npt.NDArray[np.int64],
        bounds: npt.NDArray[np.float64],
        visit: npt.NDArray[np.float64],
        improving: bool = False,
    ) -> bool:
        """Price `members` (sets of counties) under the limit across the whole coach, best upper
        bound (`bounds`: the limit per county) first, those that can beat `most` (or, when
        `improving`, the threshold: every improving column); False at the deadline."""
        nonlocal most, coach_sets
        assert limits is not None
        # A second bound: the choosing seats' values plus the best `limit` sites' values, each
        # summed over the set's counties (a coach's seats split into those parts).
        flexible_value, site_value = site_values[di]
        summed = site_value[members].sum(axis=1)
        if summed.shape[1] > limits.limit:
            summed = np.partition(summed, summed.shape[1] - limits.limit, axis=1)
        top = summed[:, -limits.limit :].sum(axis=1)
        bounds = np.minimum(
            bounds, flexible_value[members].sum(axis=1) + top + visit[members].sum(axis=1)
        )
        nonlocal spare
        for k in np.argsort(-bounds, kind="stable").tolist():
            if bounds[k] <= (min(most, threshold) if improving else most) + 1e-12:
                # A set that cannot beat the best may still improve the master: a few more.
                if spare <= 0 or bounds[k] <= threshold + 1e-12:
                    break
                spare -= 1
            if time.monotonic() > deadline:
                return False
            served = members[k]
            rows = np.concatenate(
                [eligible[(di, c)] for c in served.tolist() if (di, c) in eligible]
            )
            whole = _best_stops(group_duals[rows], rows, sizes, limits, capacity)
            value = float(whole.curve[capacity] + visit[served].sum())
            coach_sets += 1
            if value > threshold:
                coach_curve[(di, tuple(served.tolist()))] = whole
            most = max(most, value)
            found.add(di, served[None, :], np.array([value]))
            if (
                stop_early
                and coach_sets >= EXACT_SETS_PER_ROUND
                and found.size >= COLUMNS_PER_ROUND
            ):
                raise _Enough
        return True

    partial = False
    try:
        # Every county alone first (on every date), so the best single value prunes the labels.
        priced_days = []
        for di, day in enumerate(days):
            capacity = capacity_by_date[day]
            # marginal[c, k]: the (k+1)-th best seat price of county c's groups on this date.
            marginal = np.zeros((count, capacity))
            usable = np.zeros(count, dtype=bool)
            curves = np.zeros((count, capacity + 1)) if limits is not None else None
            # With pickup rows: each county's best value from the seats that may choose, and from
            # each fixed site alone (what `settle`'s cheap bound adds up).
            # Hub stops count as sites too (after the gates): a seat of a hub's company is one of
            # that hub's seats, so the bound may count it twice, never too little.
            gates_count = int(limits.site.max()) + 1 if limits is not None else 0
            hub_count = limits.hub_count if limits is not None else 0
            flexible_value = np.zeros(count)
            site_value = np.zeros((count, max(1, gates_count + hub_count)))
            for ci, rows in by_day.get(di, []):
                usable[ci] = True
                if limits is not None and curves is not None:
                    curves[ci] = _stops_ceiling(group_duals[rows], rows, sizes, limits, capacity)
                    site = limits.site[rows]
                    prices = group_duals[rows]
                    flexible_value[ci] = _seat_curve(
                        prices[site < 0], sizes[rows][site < 0], capacity
                    )[capacity]
                    fixed = np.nonzero(site >= 0)[0]
                    numbers, values = _site_curves(
                        prices[fixed], sizes[rows][fixed], site[fixed], capacity
                    )
                    site_value[ci, numbers] = values[:, capacity]
                    if limits.hubs is not None:
                        hubs = limits.hubs[rows]
                        for bit in range(hub_count):
                            mine = (hubs >> bit & 1) == 1
                            if mine.any():
                                site_value[ci, gates_count + bit] = _seat_curve(
                                    prices[mine], sizes[rows][mine], capacity
                                )[capacity]
                prices = group_duals[rows]
                keep = prices > 0
                if keep.any():
                    order = np.argsort(-prices[keep], kind="stable")
                    seats = np.minimum(sizes[rows][keep][order].astype(np.int64), capacity)
                    per_seat = np.repeat(prices[keep][order], seats)[:capacity]
                    marginal[ci, : len(per_seat)] = per_seat
            seat_value = marginal.sum(axis=1) if curves is None else curves[:, capacity]
            filled = (marginal > 0).sum(axis=1)
            # A coach serves a county on a date only if some of its groups may depart then.
            visit = np.where(usable, county_duals, 0.0)
            own = seat_value + visit
            candidates = np.nonzero(usable & (own > 0))[0]
            if not len(candidates):
                continue
            evaluated += len(candidates)
            site_values[di] = (flexible_value, site_value)
            if limits is None:
                most = max(most, float(own[candidates].max()))
                found.add(di, candidates[:, None], own[candidates])
            elif not settle(
                di, capacity, candidates[:, None], own[candidates], visit, not stop_early
            ):
                return None  # with hubs `own` is a ceiling: each county alone priced exactly
            priced_days.append(
                (di, capacity, marginal, seat_value, filled, visit, own, candidates, curves)
            )
        priced_days.sort(key=lambda p: -float(p[6][p[7]].max()))
        for (
            di,
            capacity,
            marginal,
            seat_value,
            filled,
            visit,
            own,
            candidates,
            curves,
        ) in priced_days:
            if corridor.stop_limit < 2:
                break
            position = np.full(count, -1, dtype=np.int64)
            position[candidates] = np.arange(len(candidates))
            own_sorted = np.sort(own[candidates])[::-1]
            labels = _Labels(
                candidates[:, None],
                candidates,
                corridor.reach[candidates],
                own[candidates],
                seat_value[candidates],
                visit[candidates],
                marginal[candidates, 0],
            )
            allowed = corridor.allowed[candidates]
            for length in range(2, corridor.stop_limit + 1):
                # What counties after this one could still add, at most.
                later = float(own_sorted[: corridor.stop_limit - length].sum())
                grown = _extend(
                    labels,
                    candidates,
                    position,
                    corridor,
                    allowed,
                    own,
                    seat_value,
                    visit,
                    marginal,
                    capacity,
                    later,
                    most,
                    deadline,
                )
                if grown is None:
                    return None
                if not len(grown.last):
                    break
                # Price exactly, best bound first, the distinct sets whose bound beats the best.
                sets, inverse = np.unique(grown.served, axis=0, return_inverse=True)
                inverse = inverse.reshape(-1)
                bound = np.full(len(sets), -np.inf)
                np.maximum.at(bound, inverse, grown.value)
                exact = bound.copy()
                # Sets whose counties' positive seats fit in one coach are worth their sum: exact.
                fits = (filled[sets].sum(axis=1) <= capacity) & (bound > most + 1e-12)
                if fits.any():
                    members = sets[fits]
                    values = seat_value[members].sum(axis=1) + visit[members].sum(axis=1)
                    exact[fits] = values
                    evaluated += len(values)
                    if limits is None:
                        most = max(most, float(values.max()))
                        found.add(di, members, values)
                    elif not settle(di, capacity, members, values, visit):
                        return None
                pending = np.where(fits, -np.inf, bound)
                order = np.argsort(-pending, kind="stable")
                for start in range(0, len(order), PRICE_CHUNK):
                    if time.monotonic() > deadline:
                        return None
                    chunk = order[start : start + PRICE_CHUNK]
                    chunk = chunk[pending[chunk] > most + 1e-12]
                    if not len(chunk):
                        break
                    members = sets[chunk]
                    if curves is not None:
                        seat_part = np.concatenate(
                            [
                                _combined_value(curves[members[k : k + CURVE_CHUNK]])
                                for k in range(0, len(members), CURVE_CHUNK)
                            ]
                        )
                    else:
                        prices = marginal[members].reshape(len(chunk), -1)
                        if prices.shape[1] > capacity:
                            prices = np.partition(prices, prices.shape[1] - capacity, axis=1)
                            prices = prices[:, -capacity:]
                        seat_part = prices.sum(axis=1)
                    values = seat_part + visit[members].sum(axis=1)
                    exact[chunk] = values
                    evaluated += len(chunk)
                    if limits is None:
                        most = max(most, float(values.max()))
                        found.add(di, members, values)
                    elif not settle(di, capacity, members, values, visit):
                        return None
                grown.value = np.minimum(grown.value, exact[inverse])
                # Only labels that could still lead to a better set are extended.
                labels = grown.take(grown.value + later > most + 1e-12)
                if not len(labels.last):
                    break
    except _Enough:
        # Enough improving columns: the maximum is not known this round (no Farley bound).
        partial = True
    columns: list[Column] = []
    for di, served in found.best():
        parts = [eligible[(di, c)] for c in served if (di, c) in eligible]
        capacity = capacity_by_date[days[di]]
        loading: dict[int, int] = {}
        if limits is not None:
            # Every improving set was priced exactly (`settle`), which kept its curve.
            if (di, served) not in coach_curve:
                continue
            loading = coach_curve[(di, served)].loading(capacity)
        else:
            rows = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
            _, loading = _fill(group_duals[rows], rows, sizes, capacity)
        columns.append((di, served, loading))
    return (math.inf if partial else most + per_coach), columns, evaluated + coach_sets


class _Found:
    """The best improving columns seen while pricing (value above `threshold`), kept to about
    `COLUMNS_PER_ROUND` by date and county set."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.values: list[npt.NDArray[np.float64]] = []
        self.days: list[npt.NDArray[np.int64]] = []
        self.sets: list[tuple[int, ...]] = []
        self.size = 0

    def add(self, day: int, sets: npt.NDArray[np.int64], values: npt.NDArray[np.float64]) -> None:
        good = values > self.threshold
        if not good.any():
            return
        values = values[good]
        if len(values) > COLUMNS_PER_ROUND:
            values_kept = np.argpartition(-values, COLUMNS_PER_ROUND)[:COLUMNS_PER_ROUND]
            values, rows = values[values_kept], sets[good][values_kept]
        else:
            rows = sets[good]
        self.values.append(values)
        self.days.append(np.full(len(values), day, dtype=np.int64))
        self.sets.extend(tuple(row) for row in rows.tolist())
        self.size += len(values)

    def best(self) -> list[tuple[int, tuple[int, ...]]]:
        """The best distinct (date, county set) pairs, best first."""
        if not self.size:
            return []
        values = np.concatenate(self.values)
        days = np.concatenate(self.days)
        chosen: dict[tuple[int, tuple[int, ...]], None] = {}
        for k in np.argsort(-values, kind="stable").tolist():
            chosen.setdefault((int(days[k]), self.sets[k]), None)
            if len(chosen) >= COLUMNS_PER_ROUND:
                break
        return list(chosen)


def _extend(
    labels: _Labels,
    candidates: npt.NDArray[np.int64],
    position: npt.NDArray[np.int64],
    corridor: Corridors,
    allowed: npt.NDArray[np.float64],
    own: npt.NDArray[np.float64],
    seat_value: npt.NDArray[np.float64],
    visit: npt.NDArray[np.float64],
    marginal: npt.NDArray[np.float64],
    capacity: int,
    later: float,
    most: float,
    deadline: float,
) -> _Labels | None:
    """Every label grown by one candidate county it reaches in time, with an upper bound on the
    value of the grown set, keeping those whose bound plus `later` beats `most`; one label per
    (set, last county), the one with the least driving so far. None at the deadline."""
    step = max(1, LABELS_PER_STEP // max(1, len(candidates)))
    parts: list[_Labels] = []
    for start in range(0, len(labels.last), step):
        if time.monotonic() > deadline:
            return None
        block = labels.take(np.arange(start, min(start + step, len(labels.last))))
        arrival = block.elapsed[:, None] + corridor.between[np.ix_(block.last, candidates)]
        ok = arrival <= allowed[None, :]
        rows = np.arange(len(block.last))
        for column in range(block.served.shape[1]):
            ok[rows, position[block.served[:, column]]] = False
        top_price = np.maximum(block.top_price[:, None], marginal[candidates, 0][None, :])
        seat_sum = block.seat_sum[:, None] + seat_value[candidates][None, :]
        visit_sum = block.visit_sum[:, None] + visit[candidates][None, :]
        bound = np.minimum(
            block.value[:, None] + own[candidates][None, :],
            np.minimum(seat_sum, capacity * top_price) + visit_sum,
        )
        ok &= bound + later > most + 1e-12
        state, following = np.nonzero(ok)
        parts.append(
            _Labels(
                np.sort(np.column_stack([block.served[state], candidates[following]]), axis=1),
                candidates[following],
                arrival[state, following],
                bound[state, following],
                seat_sum[state, following],
                visit_sum[state, following],
                top_price[state, following],
            )
        )
    if not parts:
        return labels.take(np.zeros(0, dtype=np.int64))
    grown = _Labels(
        *(np.concatenate([getattr(p, f.name) for p in parts]) for f in dataclasses.fields(_Labels))
    )
    if not len(grown.last):
        return grown
    # One label per (set, last county): the least driving so far extends furthest.
    keys = np.column_stack([grown.served, grown.last])
    order = np.lexsort((grown.elapsed, *keys.T[::-1]))
    keys = keys[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (keys[1:] != keys[:-1]).any(axis=1)
    return grown.take(order[first])


def _gate_side_limit(scenario: Scenario, trips: Sequence[Trip]) -> int:
    """Gate-side stops one coach may make (max_pickup_stops going home, max_dropoff_stops coming
    back), raised to the most any of `trips` makes: a locked trip filed under an older policy
    stays a pattern."""
    home = scenario.direction == "home"
    side = "pickup" if home else "dropoff"
    limit = scenario.policy.max_pickup_stops if home else scenario.policy.max_dropoff_stops
    made = max((sum(1 for s in t.stops if s.kind == side) for t in trips), default=0)
    return max(limit, made)


def plan_lp_bound(
    scenario: Scenario,
    trips: Sequence[Trip],
    workers: Mapping[str, Worker],
    provider: DistanceProvider,
    time_limit_s: float,
    known_bound: int = 0,
    *,
    max_rounds: int | None = None,
    presolve: bool = True,
    pickup_rows: bool = True,
    hub_stops: bool = True,
) -> LpBound:
    """The LP bound over the workers `trips` seat (as `optimizer.bounds` counts them);
    `known_bound` is a proven bound on those workers' coaches (the counting bound) it starts from;
    `max_rounds` and `presolve` as in `lp_lower_bound`.

    With `pickup_rows` (the default) the gate-side stop limit (max_pickup_stops going home,
    max_dropoff_stops coming back) enters as pickup rows (`lp_lower_bound`'s
    `boarding_stop_limit`); with `hub_stops` (the default) for every seat, a coach's stops being
    gates or hubs, else only for the seats of companies with no hub in reach (seats that may
    board at a hub then keep the county rows, which leave that limit out). Parties and fleet
    counts per type are relaxed (left out); with a drop radius the alighting county is not
    fixed, so the bound is not computed (the counting bounds stand alone). Boarding options are
    the gate and, for a company that may use hubs, every hub of its own origin county within
    `hub_radius_km`.
    """
    started = time.monotonic()
    policy = scenario.policy
    if policy.drop_radius_km > 0:
        return _not_computed("drop_radius_km > 0: alighting counties are not fixed", started)
    home = scenario.direction == "home"
    companies = {c.company_id: c for c in scenario.companies}
    hubs = {f"hub:{h.hub_id}": h for h in scenario.hubs}
    seated: dict[tuple[str, ...], list[Worker]] = defaultdict(list)
    warm: list[tuple[dt.date, dict[GroupKey, int]]] = []
    windows: dict[tuple[str, ...], Window] = {}
    fixed_site: dict[tuple[str, ...], str] = {}
    for trip in trips:
        for passenger in trip.passengers:
            worker = workers.get(passenger.worker_id)
            if worker is None or worker.home_adcode is None:
                continue
            key: tuple[str, ...] = (worker.party,) if worker.party else ("", worker.worker_id)
            seated[key].append(worker)
    seats = county_seats({w.home_adcode for g in seated.values() for w in g if w.home_adcode})
    locations: dict[str, Location] = {}
    demands: list[LpDemand] = []
    for key, group in seated.items():
        first = group[0]
        company = companies.get(first.company_id)
        if company is None or first.home_adcode not in seats:
            continue
        window = (max(w.earliest for w in group), min(w.latest for w in group))
        if window[0] > window[1]:
            continue
        windows[key] = window
        gate = f"company:{company.company_id}"
        locations[gate] = Location(company.lon, company.lat)
        options = [gate]
        if policy.hub_radius_km > 0 and not company.no_hub:
            for hub_key, hub in hubs.items():
                if scenario.hub_county(hub) != scenario.company_county(company):
                    continue  # a company boards only at hubs of its own origin county
                km = great_circle_km(company.lon, company.lat, hub.lon, hub.lat)
                if km <= policy.hub_radius_km:
                    options.append(hub_key)
                    locations[hub_key] = Location(hub.lon, hub.lat)
        county = f"county:{first.home_adcode}"
        locations[county] = seats[first.home_adcode]
        fixed_site[key] = boarding_key(options, pickup_rows, hub_stops)
        demands.append(LpDemand(sum(w.seats for w in group), county, window, tuple(options)))
    if not demands:
        return _not_computed("no seated demand", started)
    # The plan's own coaches are patterns: the first columns.
    for trip in trips:
        loading: dict[GroupKey, int] = defaultdict(int)
        for passenger in trip.passengers:
            worker = workers.get(passenger.worker_id)
            if worker is None or worker.home_adcode is None:
                continue
            party: tuple[str, ...] = (worker.party,) if worker.party else ("", worker.worker_id)
            if party in windows:
                site = fixed_site[party]
                loading[(f"county:{worker.home_adcode}", windows[party], site)] += worker.seats
        if loading:
            warm.append((trip.departure_date, loading))
    capacity: dict[dt.date, int] = {}
    day = scenario.first_departure
    while day <= scenario.last_departure:
        largest = max((v.seats for v in scenario.fleet if v.count_on(day) > 0), default=0)
        if largest > 0:
            capacity[day] = largest
        day += dt.timedelta(days=1)
    for trip in trips:  # locked trips may depart outside today's fleet
        capacity[trip.departure_date] = max(capacity.get(trip.departure_date, 0), trip.seats)
    keys = sorted(locations)
    matrix = np.asarray(provider.matrix([locations[k] for k in keys]).duration_s)
    leg = matrix if home else matrix.T
    left = time_limit_s - (time.monotonic() - started)
    if left <= 0:
        return _not_computed("no time left after the travel matrix", started)
    bound = lp_lower_bound(
        demands,
        capacity_by_date=capacity,
        county_stop_limit=policy.max_dropoff_stops if home else policy.max_pickup_stops,
        sites=keys,
        leg_s=leg,
        detour_ratio=policy.detour_ratio,
        detour_grace_s=policy.detour_grace_minutes * 60.0,
        time_limit_s=left,
        warm_start=warm,
        known_bound=known_bound,
        max_rounds=max_rounds,
        presolve=presolve,
        boarding_stop_limit=_gate_side_limit(scenario, trips) if pickup_rows else None,
        hub_stops=hub_stops,
    )
    return dataclasses.replace(bound, seconds=time.monotonic() - started)
