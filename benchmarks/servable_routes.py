"""Would a route-aware servable bound move below "everyone"? A diagnostic, **not a bound**.

The route-pattern LP of issue 11 maximises seated workers over columns (coach type, departure
day, county set S in route order) with coach-time rows per type in the windows of
`optimizer.servable._windows`, each column charged the least busy interval its route forces
(`route_hold`: the whole route's driving out from and back to the origin side, the layovers, the
02:00-05:00 park and the night rate, as `optimizer.servable.hold_of` does for one county). A
max-LP over a *subset* of its columns (a restricted master) has an optimum no larger than the
full LP's, so when the restricted master already seats every worker, no bound from that LP can
be below the workers: the diagnosis this module gives. Its columns: every county alone, with
each of its `nearest` closest counties, and (with three stops) with two of them; only sets that
pass the relaxed detour test of `optimizer.lp_bound.corridors` in some order.

`route_master(scenario, provider)` returns the optimum and what the solution does (trips, trips
per coach, stops, how full the coach-time rows are); `python -m benchmarks.servable routes DIR`
prints it as one JSON line per season.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from optimizer.geography.distance import DistanceProvider
from optimizer.groups import county_site, gate_site, hub_site
from optimizer.ledger import at_most_stops
from optimizer.lp_bound import Corridors, corridors, metric_closure
from optimizer.model import Policy, Scenario
from optimizer.places import county_seats
from optimizer.routing import LinearProgram, solve_lp
from optimizer.servable import Hold, Turn, _closure, _covers, _windows, boarding_sites, hold_of

# A column's coaches at most (the LP's upper bound on one variable; the coach-time rows bind
# long before it).
MOST_TRIPS_PER_COLUMN = 10_000.0


@dataclass(frozen=True)
class RouteMaster:
    """The restricted master's optimum and what its solution does."""

    seated: float
    workers: int
    columns: int
    patterns: int
    trips: float
    trips_per_coach: float
    mean_hold_h: float
    stops: float
    fractional_stops: int
    time_row_use: tuple[float, float, float]
    setup_s: float
    lp_s: float


@dataclass(frozen=True)
class _Roads:
    """Day-speed hours from the origin side to each county (`out`), back (`back`) and between
    counties (`between[a, b]`, road direction a to b), over the provider's shortest-path
    closure; `corridor` the relaxed detour test in the passengers' direction."""

    codes: tuple[str, ...]
    out: npt.NDArray[np.float64]
    back: npt.NDArray[np.float64]
    between: npt.NDArray[np.float64]
    corridor: Corridors


def _roads(scenario: Scenario, provider: DistanceProvider) -> _Roads:
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
    between = metric_closure(seconds)[count:, count:] / 3600
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
        boarding_sites=sites[:count],
        boarding_of=boarding,
        county_stop_limit=stops,
        detour_ratio=policy.detour_ratio,
        detour_grace_s=policy.detour_grace_minutes * 60.0,
    )
    return _Roads(codes, out, back, between, corridor)


def _passes(corridor: Corridors, order: Sequence[int]) -> bool:
    """Whether counties in this passenger order pass the relaxed detour test."""
    elapsed = float(corridor.reach[order[0]])
    if elapsed > corridor.allowed[order[0]]:
        return False
    for a, b in itertools.pairwise(order):
        elapsed += float(corridor.between[a, b])
        if elapsed > corridor.allowed[b]:
            return False
    return True


def route_hold(roads: _Roads, members: Sequence[int], home: bool, policy: Policy) -> Hold | None:
    """The least `Hold` over the orders of `members` that pass the detour test (None: none).

    Homeward in order c1..ck the coach drives out to c1, through to ck, and back from ck: the
    county turn (out(c1) + path, back(ck)). Return wave the passengers' order c1..ck (nearest
    the origin side first, as `corridors` reads the transposed matrix) is driven ck..c1: empty
    out to ck, loaded through to c1 and back (out(ck), path + back(c1)). Each part is a least
    driving time of the closure, so `hold_of` of that turn is what the route forces; the least
    over orders of each field is below the hold of the order a plan drives."""
    best: Hold | None = None
    for order in itertools.permutations(members):
        if not _passes(roads.corridor, order):
            continue
        road = order if home else order[::-1]
        path = sum(float(roads.between[a, b]) for a, b in itertools.pairwise(road))
        if home:
            turn = Turn(float(roads.out[road[0]]) + path, float(roads.back[road[-1]]))
        else:
            turn = Turn(float(roads.out[road[0]]), path + float(roads.back[road[-1]]))
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


def _candidate_sets(roads: _Roads, stops: int, nearest: int) -> set[tuple[int, ...]]:
    size = len(roads.codes)
    sets: set[tuple[int, ...]] = {(i,) for i in range(size)}
    spread = roads.corridor.between + roads.corridor.between.T
    for i in range(size):
        near = [int(j) for j in np.argsort(spread[i]) if int(j) != i][:nearest]
        if stops >= 2:
            sets.update(tuple(sorted((i, j))) for j in near)
        if stops >= 3:
            sets.update(tuple(sorted((i, j, k))) for j, k in itertools.combinations(near, 2))
    return sets


def route_master(
    scenario: Scenario, provider: DistanceProvider, *, nearest: int = 6
) -> RouteMaster:
    """The route-pattern LP over the candidate columns (module docstring): its optimum is at
    most the full route-pattern LP's, so a value equal to the workers shows that LP cannot
    bound the season below everyone."""
    started = time.perf_counter()
    policy = scenario.policy
    home = scenario.direction == "home"
    roads = _roads(scenario, provider)
    stops = at_most_stops(scenario) or 1
    holds: dict[tuple[int, ...], Hold] = {}
    for chosen in _candidate_sets(roads, stops, nearest):
        hold = route_hold(roads, chosen, home, policy)
        if hold is not None:
            holds[chosen] = hold
    first = scenario.first_departure
    fleet = [v for v in scenario.fleet if v.count > 0]
    season = [
        first + dt.timedelta(days=i) for i in range((scenario.last_departure - first).days + 1)
    ]
    season = [d for d in season if any(v.available_on(d) for v in fleet)]
    index = {code: i for i, code in enumerate(roads.codes)}
    groups: dict[tuple[int, dt.date, dt.date, int], int] = defaultdict(int)
    for worker in scenario.workers:
        if worker.home_adcode not in index:
            continue
        start = max(worker.earliest, first)
        end = min(worker.latest, scenario.last_departure)
        if start <= end:
            groups[(index[worker.home_adcode], start, end, worker.seats)] += 1
    objective: list[float] = []
    upper: list[float] = []
    rows: list[tuple[dict[int, float], float]] = []

    def variable(weight: float, most: float) -> int:
        objective.append(weight)
        upper.append(most)
        return len(objective) - 1

    served: dict[tuple[int, dt.date], int] = {}
    carried: dict[tuple[int, dt.date], dict[int, float]] = defaultdict(dict)
    for (county, start, end, seats), count in groups.items():
        members: dict[int, float] = {}
        for day in season:
            if not start <= day <= end:
                continue
            x = variable(1.0, float(count))
            members[x] = 1.0
            key = (county, day)
            if key not in served:
                served[key] = variable(0.0, 1.0)
            rows.append(({x: 1.0, served[key]: -float(count)}, 0.0))
            carried[key][x] = float(seats)
        rows.append((members, float(count)))
    windows = _windows(season, first, policy, True)
    longest = max(max(h.after_earliest, h.length) for h in holds.values())
    stop_terms: dict[tuple[int, dt.date], dict[int, float]] = defaultdict(dict)
    seat_terms: dict[tuple[int, dt.date], dict[int, float]] = defaultdict(dict)
    day_terms: dict[dt.date, dict[int, float]] = defaultdict(dict)
    time_terms: dict[tuple[int, int], dict[int, float]] = defaultdict(dict)
    columns = 0
    length_of: dict[int, float] = {}
    for members_of, hold in holds.items():
        for day in season:
            if any((c, day) not in served for c in members_of):
                continue
            covers = _covers(hold, (day - first).days, windows, home, policy, longest)
            for kind, vehicle in enumerate(fleet):
                if vehicle.count_on(day) <= 0:
                    continue
                column = variable(0.0, MOST_TRIPS_PER_COLUMN)
                length_of[column] = hold.length
                columns += 1
                for county in members_of:
                    stop_terms[(county, day)][column] = -1.0
                    seat_terms[(county, day)][column] = -float(vehicle.seats)
                day_terms[day][column] = -float(vehicle.seats)
                for w, cover in covers:
                    time_terms[(kind, w)][column] = cover
    for key, flag in served.items():
        # A county served on a day takes a whole stop of the day's routes, and its seats fit.
        rows.append(({flag: 1.0, **stop_terms[key]}, 0.0))
        rows.append(({**carried[key], **seat_terms[key]}, 0.0))
    for day, terms in day_terms.items():
        seated = {x: q for key, xs in carried.items() if key[1] == day for x, q in xs.items()}
        rows.append(({**seated, **terms}, 0.0))
    capacity: dict[tuple[int, int], float] = {}
    for (kind, w), terms in time_terms.items():
        a, b = windows[w]
        capacity[(kind, w)] = float(fleet[kind].count) * (1.0 if a == b else b - a)
        rows.append((terms, capacity[(kind, w)]))
    setup_s = time.perf_counter() - started
    started = time.perf_counter()
    value, solution = solve_lp(LinearProgram(tuple(objective), tuple(upper), tuple(rows)))
    lp_s = time.perf_counter() - started
    use = sorted(
        sum(solution[x] * c for x, c in terms.items()) / capacity[key]
        for key, terms in time_terms.items()
    )
    trips = sum(solution[x] for terms in day_terms.values() for x in terms)
    flags = [solution[f] for f in served.values()]
    return RouteMaster(
        seated=round(value, 3),
        workers=len(scenario.workers),
        columns=columns,
        patterns=len(holds),
        trips=round(trips, 1),
        trips_per_coach=round(trips / sum(v.count for v in fleet), 2),
        mean_hold_h=round(sum(solution[x] * h for x, h in length_of.items()) / max(trips, 1e-9), 1),
        stops=round(sum(flags), 1),
        fractional_stops=sum(1 for f in flags if 1e-6 < f < 1 - 1e-6),
        time_row_use=(
            round(use[len(use) // 2], 3),
            round(use[int(len(use) * 0.9)], 3),
            round(use[-1], 3),
        ),
        setup_s=round(setup_s, 1),
        lp_s=round(lp_s, 1),
    )


def as_json(master: RouteMaster) -> dict[str, object]:
    """The fields of `master` for a JSON line."""
    return dataclasses.asdict(master)
