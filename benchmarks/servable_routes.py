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

The columns and their holds come from `optimizer.patterns` (`road_times`, `candidate_sets`,
`route_hold`), which the planner's route-pattern spread also uses.

`route_master(scenario, provider)` returns the optimum and what the solution does (trips, trips
per coach, stops, how full the coach-time rows are); `python -m benchmarks.servable routes DIR`
prints it as one JSON line per season.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections import defaultdict
from dataclasses import dataclass

from optimizer.geography.distance import DistanceProvider
from optimizer.ledger import at_most_stops
from optimizer.model import Scenario
from optimizer.patterns import candidate_sets, road_times, route_hold
from optimizer.routing import LinearProgram, solve_lp
from optimizer.servable import Hold, _covers, _windows

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


def route_master(
    scenario: Scenario, provider: DistanceProvider, *, nearest: int = 6
) -> RouteMaster:
    """The route-pattern LP over the candidate columns (module docstring): its optimum is at
    most the full route-pattern LP's, so a value equal to the workers shows that LP cannot
    bound the season below everyone."""
    started = time.perf_counter()
    policy = scenario.policy
    home = scenario.direction == "home"
    roads = road_times(scenario, provider)
    stops = at_most_stops(scenario) or 1
    holds: dict[tuple[int, ...], Hold] = {}
    for chosen in candidate_sets(roads, stops, nearest):
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
