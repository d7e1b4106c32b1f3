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

This module holds the demand groups, the master loop and the plan entry point; the corridors
(`optimizer.lp_corridors`), the county curves (`optimizer.lp_curves`) and the pricing
(`optimizer.lp_pricing`) live beside it, and their names stay importable from here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from optimizer.dates import Window, disjoint_interval_best, min_stabbing_count
from optimizer.geography.distance import DistanceProvider, Location, great_circle_km
from optimizer.lp_corridors import (
    MAX_COUNTY_SETS,
    RIDE_ALLOWANCE_S,
    Corridors,
    corridors,
    county_sets,
    metric_closure,
)
from optimizer.lp_curves import _PickupLimit
from optimizer.lp_pricing import (
    COLUMNS_PER_ROUND,
    EXACT_SETS_PER_ROUND,
    PRICE_TOLERANCE,
    SPARE_SETS,
    Column,
    _price,
)
from optimizer.model import Scenario, Trip, Worker
from optimizer.places import county_seats
from optimizer.routing import CoveringLp

# The pieces live in their own modules (corridors, county curves, pricing); their names stay
# importable from here, where other code and the benchmarks look for them.
__all__ = [
    "COLUMNS_PER_ROUND",
    "EXACT_SETS_PER_ROUND",
    "MAX_COUNTY_SETS",
    "MAX_HUB_STOPS",
    "OPTION_SEPARATOR",
    "PRICE_TOLERANCE",
    "RIDE_ALLOWANCE_S",
    "ROUND_TOLERANCE",
    "SMOOTHING",
    "SPARE_SETS",
    "Column",
    "Corridors",
    "FractionalPattern",
    "GroupKey",
    "LpBound",
    "LpDemand",
    "_PickupLimit",
    "_price",
    "boarding_key",
    "corridors",
    "county_sets",
    "lp_lower_bound",
    "metric_closure",
    "plan_lp_bound",
    "rounded_patterns",
]

# The proven bound is rounded up after this allowance for floating-point error in the duals.
ROUND_TOLERANCE = 1e-6
# Weight of the best dual found so far in the point priced each round (Wentges smoothing).
SMOOTHING = 0.8
# How the master's duals are kept near the best proven dual point (the centre): "box" bounds
# them by centre + width x (1 / largest coach per seat, 1 per county visit) with one artificial
# column per row (du Merle's box, one-sided); "smoothing" prices a mixture of both (Wentges).
STABILISATIONS = ("box", "smoothing")
# The box's first width, and its growth when the box binds and nothing prices out.
BOX_WIDTH = 1.0
BOX_GROWTH = 4.0
# An artificial column's cost before the box is set: never used by an optimal master.
UNBOXED_COST = 1e6
# With `purge_keep`, the master is rebuilt once it holds this many times `purge_keep` columns
# (rebuilt at 1.5x, the tail of near-50-tight's LP no longer converged: docs/benchmarks.md).
PURGE_FACTOR = 3
# `plan_lp_bound`'s first LP (without pickup rows): its share of the box, the columns its master
# keeps when purged, and the note when it gave the bound. The LP with pickup rows proved nothing
# above it on any season measured (docs/benchmarks.md "lpconv", "lpinc"), so it gets most of the
# box.
PLAIN_SHARE = 0.85
# The LP with pickup rows runs after it only with at least this much of the box left: building
# it and its first round took 2.5-7.8 s on cixi-2019 at load 5-9 (docs/benchmarks.md "lpinc").
PICKUP_LP_MIN_S = 3.0
# Let the first LP's pricing rounds stop early (`lp_lower_bound(stop_early=True)`): off, one
# pair measured on cixi-2019 and near-50-tight only (docs/benchmarks.md, "lpdecomp").
PLAIN_STOP_EARLY = False
PURGE_KEEP = 4000
PLAIN_NOTE = "proven by the LP without pickup rows"
# The note when the box ran out while closing the travel times (`metric_closure`).
CLOSURE_NOTE = "time limit reached while closing the travel times"
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
    # With `plan_lp_bound(..., plain_first=True)`: the first LP's own result (no pickup rows).
    plain: LpBound | None = None


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
    stabilisation: str = "smoothing",
    trace: Callable[[Mapping[str, float]], None] | None = None,
    purge_keep: int = 0,
    price_duals: bool | None = None,
    incremental: bool = True,
    closure: npt.NDArray[np.float64] | None = None,
    stop_early: bool | None = None,
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
    stabilisation
        How the duals priced each round are kept near the best proven dual point (the centre):
        "smoothing" (the default) prices a mixture of the centre and the master's duals;
        "box" (an experiment, off by default: measured no better within the boxes tried,
        docs/benchmarks.md "stabilise") bounds the master's duals by the centre plus a width
        through artificial columns (`STABILISATIONS`).
    trace
        Called after every pricing round with its figures (round, seconds, master value, the
        largest pattern value priced, whether it is exact, best proven value, columns found,
        solver and pricing seconds so far): for benchmarks.
    purge_keep
        When positive, the master is rebuilt once it holds `PURGE_FACTOR` x `purge_keep` columns,
        keeping the columns in use and the others of least reduced cost up to `purge_keep` in
        all (a purged column may come back when it prices out again), and only when the
        master's value fell since the last purge (so the loop cannot cycle). 0: never purged.
    price_duals
        Also price the master's own duals each round when the smoothed point is priced, and
        keep their Farley value when it is higher (default: only without pickup rows, where
        pricing is cheap). Either way every value kept is a Farley bound, so proven.
    incremental
        Re-solve the master from its last basis (the default; `CoveringLp`), or from scratch
        every round (False: the same LP, more simplex work).
    closure
        `metric_closure(leg_s)` when the caller has it (else computed here, within the box).
    stop_early
        Let a pricing round stop once it has `COLUMNS_PER_ROUND` improving columns and its exact
        maximum could not raise the proven integer bound (`_worth_completing`); its Farley value
        then divides by the pricing over-estimate, still proven. None (the default): only with
        hub stops, as before; True without pickup rows is `PLAIN_STOP_EARLY`'s experiment.
    """
    if price_duals is None:
        price_duals = boarding_stop_limit is None
    if stabilisation not in STABILISATIONS:
        raise ValueError(f"stabilisation must be one of {', '.join(STABILISATIONS)}")
    box = stabilisation == "box"
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
    try:
        closure = metric_closure(leg_s, deadline) if closure is None else closure
    except TimeoutError:
        return _not_computed(CLOSURE_NOTE, started)
    corridor = corridors(
        counties,
        sites=sites,
        leg_s=leg_s,
        boarding_sites=boards,
        boarding_of=boarding_of,
        county_stop_limit=county_stop_limit,
        detour_ratio=detour_ratio,
        detour_grace_s=detour_grace_s,
        closure=closure,
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

    lp = CoveringLp(rhs.tolist(), presolve=presolve, incremental=incremental)
    # With the box: one artificial column per row but the known bound's (lp columns
    # 0..first_real-1), covering its row at a cost: the row's dual never exceeds that cost.
    for row in range(total_row if box else 0):
        lp.add_column([row], [1.0], cost=UNBOXED_COST)
    first_real = lp.column_count
    # Per row, what one unit of box width lets its dual rise: a seat's share of the largest
    # coach, or a whole visit.
    box_scale = np.array([*(1.0 / largest for _ in groups), *(1.0 for _ in counties)])
    ColumnKey = tuple[int, tuple[int, ...], tuple[tuple[int, int], ...]]
    seen: set[ColumnKey] = set()
    column_day: list[int] = []
    column_sets: list[tuple[int, ...]] = []
    # Every real column's key and rows, in the master's order (what a purge rebuilds it from).
    column_keys: list[ColumnKey] = []
    column_rows: list[tuple[list[int], list[int]]] = []

    def add(day_index: int, served: tuple[int, ...], loading: Mapping[int, int]) -> None:
        load = tuple(sorted((r, a) for r, a in loading.items() if a > 0))
        key = (day_index, served, load)
        if key in seen:
            return
        seen.add(key)
        rows = [r for r, _ in load] + [visit_row + c for c in served]
        rows += [total_row] if totals else []
        coefficients = [a for _, a in load] + [1] * len(served) + [1] * len(totals)
        lp.add_column(rows, coefficients)
        column_day.append(day_index)
        column_sets.append(served)
        column_keys.append(key)
        column_rows.append((rows, coefficients))

    def purge(
        duals: npt.NDArray[np.float64], values: npt.NDArray[np.float64]
    ) -> tuple[CoveringLp, list[int]]:
        """A new master with the columns in use and the `purge_keep` of least reduced cost at
        `duals` (the others may come back when they price out again), and the kept columns'
        old indices: a smaller master solves faster; its optimum over the kept columns is still
        a restricted master's."""
        reduced = np.array([1.0 - float(duals[r] @ np.asarray(a)) for r, a in column_rows])
        keep = np.zeros(len(column_rows), dtype=bool)
        keep[values > 1e-9] = True
        budget = max(0, purge_keep - int(keep.sum()))
        order = np.argsort(reduced, kind="stable")
        keep[order[~keep[order]][:budget]] = True
        fresh = CoveringLp(rhs.tolist(), presolve=presolve, incremental=incremental)
        kept = np.nonzero(keep)[0].tolist()
        column_day[:] = [column_day[i] for i in kept]
        column_sets[:] = [column_sets[i] for i in kept]
        column_keys[:] = [column_keys[i] for i in kept]
        column_rows[:] = [column_rows[i] for i in kept]
        seen.clear()
        seen.update(column_keys)
        for rows, coefficients in column_rows:
            fresh.add_column(rows, coefficients)
        return fresh, kept

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
    # The least value of a restricted master without artificial columns: an upper bound on the
    # LP optimum (a boxed master's value is one only when it uses no artificial column).
    upper = math.inf
    width = BOX_WIDTH
    boxed = False
    # The master's value at the last purge (`purge_keep`).
    purged_at = math.inf

    def recentre() -> None:
        """Set the box around the centre (zero without one) at the current width."""
        around = center[:total_row] if center is not None else np.zeros(total_row)
        for row, cost in enumerate((around + width * box_scale).tolist()):
            lp.set_cost(row, cost)

    def price_at(
        vector: npt.NDArray[np.float64],
        worth_completing: Callable[[float, float], bool] | None = None,
    ) -> tuple[float, list[Column], int, bool] | None:
        """Pricing at the dual point `vector` (group and visit rows, then the per-coach row)."""
        return _price(
            vector[:total_row],
            sizes,
            visit_row,
            corridor,
            days,
            capacity_by_date,
            eligible,
            deadline,
            per_coach=float(vector[total_row]) if totals else 0.0,
            limits=limits,
            stop_early=with_hubs if stop_early is None else stop_early,
            worth_completing=worth_completing,
        )

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
        master_value, duals, values = solved
        values = values[first_real:]
        artificial = float(solved[2][:first_real].sum())
        if artificial <= 1e-9:
            upper = min(upper, master_value)
        lp_value = upper
        if box and not boxed:
            # The first master is unboxed (its value bounds the LP); the box starts now.
            boxed = True
            recentre()
            continue
        iterations += 1
        duals = np.maximum(duals, 0.0)
        # Price at a point between the best dual found (the centre) and the master's duals
        # (Wentges smoothing): the master's duals jump about; the mixture is what the bound
        # is proven at, so every round's Farley value is still a valid bound.
        weight = SMOOTHING if center is not None and not box else 0.0
        while True:
            point = (
                duals if center is None or weight == 0.0 else weight * center + (1 - weight) * duals
            )
            objective = float(point @ rhs)
            clock = time.monotonic()
            priced = price_at(
                point, worth_completing=functools.partial(_worth_completing, objective, best)
            )
            pricing_seconds += time.monotonic() - clock
            if priced is None:
                break
            most, columns, evaluated, exact = priced
            sets_priced += evaluated
            # Farley: point / max(1, most) is feasible for the full dual LP (`most` is the exact
            # maximum, or in a round stopped early an over-estimate of it: still feasible).
            proven = objective / max(1.0, most)
            if proven > best:
                best, center = proven, point / max(1.0, most)
                center_is_total = False
                if box:
                    recentre()
            elif center_is_total and 0.0 < weight < 1.0:
                # At the known bound's dual every pattern is worth 1, so the mixture's maximum is
                # weight + (1 - weight) x the master duals' own maximum: their Farley bound
                # comes free, without pricing them again.
                own = max(1.0, (most - weight) / (1.0 - weight))
                direct = float(duals @ rhs) / own
                if direct > best:
                    best, center = direct, duals / own
                    center_is_total = False
            if price_duals and weight > 0.0 and not center_is_total:
                # Price the master's own duals too (cheap without pickup rows): near the end
                # of the run their Farley value can beat the mixture's, whose centre lags.
                clock = time.monotonic()
                raw = price_at(duals)
                pricing_seconds += time.monotonic() - clock
                if raw is not None:
                    own = max(1.0, raw[0])
                    direct_value = float(duals @ rhs) / own
                    if direct_value > best:
                        best, center = direct_value, duals / own
                    if not columns:
                        columns = raw[1]
            if columns or weight == 0.0:
                break
            weight = 0.0  # nothing prices out at the mixture: price at the master's duals
        if priced is None:
            note = "time limit reached while pricing"
            break
        if trace is not None:
            trace(
                {
                    "round": iterations,
                    "seconds": time.monotonic() - started,
                    "master": master_value,
                    "most": most,
                    "exact": float(exact),
                    "best": best,
                    "columns": float(len(columns)),
                    "solver_s": solver_seconds,
                    "pricing_s": pricing_seconds,
                }
            )
        if not columns and exact and artificial > 1e-9 and width < UNBOXED_COST:
            # Nothing prices out, but the box binds: its duals are feasible (and the centre if
            # they proved more); a wider box lets them rise further.
            width *= BOX_GROWTH
            recentre()
            continue
        if not columns:
            # A round stopped early has columns; without any, only an exact one proves the end.
            converged = exact
            note = "" if exact else f"stopped after {iterations} round(s)"
            break
        rounded = math.ceil(best - ROUND_TOLERANCE) >= math.ceil(lp_value - ROUND_TOLERANCE)
        if rounded and not until_converged:
            note = "bound equals the master's value rounded up"
            break
        if max_rounds is not None and iterations >= max_rounds:
            note = f"stopped after {max_rounds} round(s)"
            break
        if (
            purge_keep
            and not box
            and len(column_rows) > PURGE_FACTOR * purge_keep
            and master_value < purged_at - PRICE_TOLERANCE
        ):
            # Only after the master fell since the last purge: the loop cannot cycle through
            # the same columns, dropped and priced again, at one master value.
            lp, kept = purge(duals, values)
            # The last solution, on the kept columns (all those in use): what is reported if
            # the box runs out before the purged master is solved.
            values = values[kept]
            purged_at = master_value
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
        columns=lp.column_count - first_real,
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


def _worth_completing(objective: float, best: float, found: float, ceiling: float) -> bool:
    """Whether a pricing round at a point of dual objective `objective` should find its exact
    maximum, which lies between the best value `found` so far and the over-estimate `ceiling`:
    only if that could raise the proven integer bound above both `best` (proven so far) and
    what the over-estimate proves."""
    hoped = objective / max(1.0, found)
    sure = max(best, objective / max(1.0, ceiling))
    return math.ceil(hoped - ROUND_TOLERANCE) > math.ceil(sure - ROUND_TOLERANCE)


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
    stabilisation: str = "smoothing",
    trace: Callable[[Mapping[str, float]], None] | None = None,
    purge_keep: int = 0,
    plain_first: bool = True,
) -> LpBound:
    """The LP bound over the workers `trips` seat (as `optimizer.bounds` counts them);
    `known_bound` is a proven bound on those workers' coaches (the counting bound) it starts from;
    `max_rounds`, `presolve`, `stabilisation`, `trace` and `purge_keep` as in `lp_lower_bound`.

    With `plain_first` (the default) and `pickup_rows`, the LP without pickup rows runs first,
    for at most `PLAIN_SHARE` of the box, its master purged to `PURGE_KEEP` columns and its own
    duals priced every round;
    what it proves is the second LP's known bound (that LP runs only with `PICKUP_LP_MIN_S` of
    the box left), and the result is the better of the two (its
    `plain` holds the first LP's own figures, its note says when the first LP gave the bound).

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
    try:
        # Both LPs close the same travel times: once, inside the box.
        closure = metric_closure(leg, started + time_limit_s)
    except TimeoutError:
        return _not_computed(CLOSURE_NOTE, started)
    left = time_limit_s - (time.monotonic() - started)
    solve_lp = functools.partial(
        lp_lower_bound,
        demands,
        capacity_by_date=capacity,
        county_stop_limit=policy.max_dropoff_stops if home else policy.max_pickup_stops,
        sites=keys,
        leg_s=leg,
        detour_ratio=policy.detour_ratio,
        detour_grace_s=policy.detour_grace_minutes * 60.0,
        max_rounds=max_rounds,
        presolve=presolve,
        trace=trace,
        closure=closure,
    )
    plain_lp: LpBound | None = None
    given = known_bound
    if plain_first and pickup_rows:
        # The LP without pickup rows, its columns purged and its own duals priced: cheap
        # rounds, so it often converges inside the box; its proven value is a bound and the
        # next LP's known bound.
        plain_lp = solve_lp(
            time_limit_s=left * PLAIN_SHARE,
            warm_start=warm,
            known_bound=known_bound,
            purge_keep=PURGE_KEEP,
            price_duals=True,
            stop_early=PLAIN_STOP_EARLY or None,
        )
        known_bound = max(known_bound, plain_lp.trips)
        left = time_limit_s - (time.monotonic() - started)
        if left < PICKUP_LP_MIN_S:
            # Too little time for the LP with pickup rows to finish one round: it would only
            # overrun the box.
            return dataclasses.replace(plain_lp, seconds=time.monotonic() - started, plain=plain_lp)
    bound = solve_lp(
        time_limit_s=left,
        warm_start=warm,
        known_bound=known_bound,
        boarding_stop_limit=_gate_side_limit(scenario, trips) if pickup_rows else None,
        hub_stops=hub_stops,
        stabilisation=stabilisation,
        purge_keep=purge_keep,
    )
    if plain_lp is not None:
        if plain_lp.trips > bound.trips or (
            plain_lp.trips == bound.trips and bound.value <= known_bound + ROUND_TOLERANCE
        ):
            # The LP with pickup rows proved nothing above what the first LP gave it.
            bound = dataclasses.replace(
                bound,
                trips=plain_lp.trips,
                value=max(plain_lp.value, bound.value),
                note=PLAIN_NOTE if plain_lp.trips > given else bound.note,
            )
        bound = dataclasses.replace(
            bound,
            plain=plain_lp,
            solver_seconds=bound.solver_seconds + plain_lp.solver_seconds,
            pricing_seconds=bound.pricing_seconds + plain_lp.pricing_seconds,
        )
    return dataclasses.replace(bound, seconds=time.monotonic() - started)
