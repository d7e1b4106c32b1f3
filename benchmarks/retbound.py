"""Whole return trips on a small return wave: an integer program whose proven bound no plan beats
(issue 11, session 12, "retbound" in docs/benchmarks.md).

`python -m benchmarks.retbound bound DIR [--slot-hours H] [--time-limit S]` prints one JSON line
for a return-wave season folder: its trips model's size, the LP value of the model, and SCIP's
proven bound and best solution with whole trips (road graph). It is a diagnostic for seasons of
a few dozen counties (the trips are enumerated: sets of up to `max_pickup_stops` counties), not
part of the product's servable bound.
`python -m benchmarks.retbound cut SRC DST --prefectures 3410,4113 --fleet 53座=2` writes a
smaller season folder: SRC's workers of those prefectures (adcode's first four digits), the
companies they work for, the fleet types named with the counts given.

The model (every term a relaxation of a legal return trip, so its optimum is at least what any
plan seats; the proof in the section's text):
- a trip is (S, f, d, slot, type): S a set of at most `max_pickup_stops` counties, every two of
  them partners (`Turn.partners`), each boarding a worker of a date-d window; f its first pickup;
  its departure s from f in the slot [lo, hi] of hours of day d within [06:00, 22:00];
- the coach is away from the origin side over [a, b): a = the latest start of the empty drive
  out(f) that ends by hi − layover(out(f)) (`latest_start`), b = the earliest end of the loaded
  drive from lo (f, then S's others in the best order, then the origin side: shortest paths over
  the provider's matrix) plus its layover (`earliest_back`); each type's coaches flow through the
  origin side over those intervals (interval colouring: a coach's trips never overlap);
- workers, as groups (county, company, window, seats), ride a trip of (S, d) only when their
  ride from their county through S's others to their gate or a hub their company boards at is
  within the detour limit in some order; the trips of (S, d) carry at most their seats, stop at
  most `max_dropoff_stops` drop sites each (a site a company's riders need), and, without hubs,
  carry at most the riders of the `max_dropoff_stops` companies with the most of them.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import itertools
import json
import math
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from optimizer.duties import layover_minutes
from optimizer.geography.distance import DistanceProvider, Location
from optimizer.groups import county_site, gate_site, hub_site
from optimizer.model import Scenario
from optimizer.places import county_seats
from optimizer.routing import (
    LinearProgram,
    LpNotSolved,
    solve_integer_program,
    solve_lp,
)
from optimizer.servable import boarding_sites, county_turns, earliest_back, latest_start

# Hours of a departure slot: a trip's interval is taken from its slot's later end (the start of
# its empty drive) and earlier end (the end of its loaded drive), so wider slots are weaker and
# smaller models.
SLOT_HOURS = 4
# A county group: (county, company, first day, last day, seats a worker) -> workers.
Group = tuple[str, str, int, int, int]


@dataclass(frozen=True)
class TripModel:
    """The integer program (`program`, whole variables `integer`) and its size."""

    program: LinearProgram
    integer: tuple[int, ...]
    sets: int
    trip_variables: int
    rider_variables: int
    workers: int


def _closure(hours: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """All-pairs shortest drives over the complete graph of `hours` (Floyd-Warshall)."""
    best = hours.copy()
    for k in range(best.shape[0]):
        best = np.minimum(best, best[:, k : k + 1] + best[k : k + 1, :])
    return best


def trip_model(
    scenario: Scenario, provider: DistanceProvider, slot_hours: int = SLOT_HOURS
) -> TripModel:
    """The whole-trips integer program of a return-wave `scenario` (module docstring)."""
    if scenario.direction != "return":
        raise ValueError("the trips model is for return waves")
    policy = scenario.policy
    workers = [w for w in scenario.workers if w.home_adcode]
    seats_of = county_seats(sorted({w.home_adcode for w in workers if w.home_adcode}))
    counties = sorted(seats_of)
    turns = county_turns(scenario, provider, counties)
    origin = [gate_site(c).location for c in scenario.companies]
    origin += [hub_site(h).location for h in scenario.hubs]
    origin += [
        Location(v.depot_lon, v.depot_lat)
        for v in scenario.fleet
        if v.depot_lon is not None and v.depot_lat is not None
    ]
    places = origin + [county_site(c, seats_of[c]).location for c in counties]
    direct = np.asarray(provider.matrix(places).duration_s, dtype=np.float64) / 3600
    shortest = _closure(direct)
    at = {c: len(origin) + i for i, c in enumerate(counties)}
    sites = boarding_sites(scenario)  # "o<i>": index i among the gates, then the hubs
    site_index = {f"o{i}": i for i in range(len(scenario.companies) + len(scenario.hubs))}
    out = {c: float(shortest[: len(origin), at[c]].min()) for c in counties}
    back = {c: float(shortest[at[c], : len(origin)].min()) for c in counties}

    def loaded(order: Sequence[str]) -> float:
        legs = sum(float(shortest[at[a], at[b]]) for a, b in itertools.pairwise(order))
        return legs + back[order[-1]]

    def rides(order: Sequence[str], county: str, site: int) -> bool:
        rest = order[order.index(county) :]
        ride = sum(float(shortest[at[a], at[b]]) for a, b in itertools.pairwise(rest))
        ride += float(shortest[at[rest[-1]], site])
        allowed = policy.detour_ratio * float(direct[at[county], site])
        return ride <= allowed + policy.detour_grace_minutes / 60 + 1e-9

    first = scenario.first_departure
    days = (scenario.last_departure - first).days + 1
    groups: Counter[Group] = Counter()
    for w in workers:
        start, end = (w.earliest - first).days, (w.latest - first).days
        start, end = max(start, 0), min(end, days - 1)
        if w.home_adcode in at and w.company_id in sites and start <= end:
            groups[(w.home_adcode, w.company_id, start, end, w.seats)] += 1
    on_day: dict[tuple[str, int], list[Group]] = defaultdict(list)
    for g in groups:
        for d in range(g[2], g[3] + 1):
            on_day[(g[0], d)].append(g)

    def partnered(a: str, b: str) -> bool:
        mates = turns[a].partners
        return mates is None or b in mates

    sets = [
        combo
        for size in range(1, policy.max_pickup_stops + 1)
        for combo in itertools.combinations(counties, size)
        if all(partnered(a, b) for a, b in itertools.combinations(combo, 2))
    ]
    fleet = [v for v in scenario.fleet if v.count > 0 or v.count_by_date]
    coaches = [max([v.count, *(n for _, n in v.count_by_date)]) for v in fleet]
    e_h, l_h = policy.earliest_departure_hour, policy.latest_departure_hour
    slots = [(h, min(h + slot_hours, l_h)) for h in range(e_h, l_h, slot_hours)] or [(e_h, l_h)]
    hubs = bool(scenario.hubs) and policy.hub_radius_km > 0

    objective: list[float] = []
    upper: list[float] = []
    rows: list[tuple[dict[int, float], float]] = []
    integer: list[int] = []

    def variable(bound: float, whole: bool, weight: float = 0.0) -> int:
        objective.append(weight)
        upper.append(bound)
        if whole:
            integer.append(len(objective) - 1)
        return len(objective) - 1

    # Coaches leaving (start) and back (end) at each minute, per type.
    leave: dict[tuple[int, int], list[int]] = defaultdict(list)
    back_at: dict[int, tuple[int, float]] = {}
    riders_of: dict[Group, list[int]] = defaultdict(list)
    eligible: dict[tuple[tuple[str, ...], str, str], bool] = {}
    trip_variables = rider_variables = 0
    for combo in sets:
        orders = list(itertools.permutations(combo))
        spans = {}
        for f in combo:
            drive = min(loaded(o) for o in orders if o[0] == f)
            empty_rest = layover_minutes(math.floor(out[f] * 60), policy) / 60
            loaded_rest = layover_minutes(math.floor(drive * 60), policy, True) / 60
            spans[f] = (drive, empty_rest, loaded_rest)
        for d in range(days):
            riding: list[Group] = []
            for county in combo:
                for g in on_day.get((county, d), []):
                    key = (combo, county, g[1])
                    if key not in eligible:
                        eligible[key] = any(
                            rides(o, county, site_index[s]) for o in orders for s in sites[g[1]]
                        )
                    if eligible[key]:
                        riding.append(g)
            if {g[0] for g in riding} != set(combo):
                continue  # some stop would board nobody: the planner makes no such stop
            trips: dict[int, float] = {}
            seat_terms: dict[int, float] = {}
            for f, (drive, empty_rest, loaded_rest) in spans.items():
                for lo, hi in slots:
                    a = latest_start(24.0 * d + hi - empty_rest, out[f], policy)
                    b = earliest_back(24.0 * d + lo, drive, policy) + loaded_rest
                    # Leaving at whole hours (rounded up: the interval only shrinks), back at b.
                    leaves = math.ceil(a - 1e-9)
                    if b <= leaves:
                        continue
                    for t, vehicle in enumerate(fleet):
                        x = variable(float(coaches[t]), True)
                        trip_variables += 1
                        leave[(t, leaves)].append(x)
                        back_at[x] = (t, b)
                        trips[x] = 1.0
                        seat_terms[x] = float(vehicle.seats)
            if not trips:
                continue
            carried: dict[int, float] = {}
            by_site: dict[str, list[Group]] = defaultdict(list)
            by_company: Counter[str] = Counter()
            rider: dict[Group, int] = {}
            for g in riding:
                y = rider[g] = variable(float(groups[g]), False, 1.0)
                rider_variables += 1
                riders_of[g].append(y)
                carried[y] = float(g[4])
                by_company[g[1]] += groups[g] * g[4]
                for s in sites[g[1]]:
                    by_site[s].append(g)
            rows.append(({**carried, **{x: -q for x, q in seat_terms.items()}}, 0.0))
            stops: dict[int, float] = {}
            site_flag: dict[str, int] = {}
            for s in by_site:
                site_flag[s] = variable(1.0, True)
                stops[site_flag[s]] = 1.0
            for g in riding:
                flags = {site_flag[s]: -float(groups[g]) for s in sites[g[1]]}
                rows.append(({rider[g]: 1.0, **flags}, 0.0))
            limit = float(policy.max_dropoff_stops)
            rows.append(({**stops, **{x: -limit for x in trips}}, 0.0))
            if not hubs:
                most = sorted(by_company.values(), reverse=True)[: policy.max_dropoff_stops]
                rows.append(({**carried, **{x: -float(sum(most)) for x in trips}}, 0.0))
    for g, ys in riders_of.items():
        rows.append(({y: 1.0 for y in ys}, float(groups[g])))
    # Coaches of each type at the origin side at each hour some trip leaves (never more than
    # the coaches, never below 0): the stock before, less the trips leaving, plus those back
    # since the hour before (a coach back at b can leave at any hour from b on).
    for t in range(len(fleet)):
        hours = sorted(h for (u, h) in leave if u == t)
        returning: dict[int, list[int]] = defaultdict(list)
        for x, (u, b) in back_at.items():
            k = bisect.bisect_left(hours, b - 1e-9)
            if u == t and k < len(hours):
                returning[k].append(x)
        before: int | None = None
        for k, hour in enumerate(hours):
            level = variable(float(coaches[t]), False)
            change = {level: 1.0, **{x: 1.0 for x in leave[(t, hour)]}}
            change |= {x: -1.0 for x in returning.get(k, [])}
            if before is not None:
                change[before] = -1.0
            rows.append((change, float(coaches[t]) if before is None else 0.0))
            before = level
    program = LinearProgram(tuple(objective), tuple(upper), tuple(rows))
    return TripModel(
        program,
        tuple(integer),
        len(sets),
        trip_variables,
        rider_variables,
        sum(groups.values()),
    )


def measure(
    folder: Path, slot_hours: int = SLOT_HOURS, time_limit_s: float = 300.0
) -> dict[str, Any]:
    """The trips model of one season folder: size, LP value, SCIP's bound and best solution."""
    from optimizer.read import read_scenario
    from optimizer.solve import default_distance_provider

    scenario = read_scenario(folder)
    started = time.perf_counter()
    model = trip_model(scenario, default_distance_provider(), slot_hours)
    built = time.perf_counter()
    lp_value, _ = solve_lp(model.program)  # a bound too (SCIP's may stop above it)
    solved_lp = time.perf_counter()
    found: dict[str, Any] = {
        "scenario": scenario.name,
        "workers": len(scenario.workers),
        "coaches": sum(v.count for v in scenario.fleet),
        "slot_hours": slot_hours,
        "sets": model.sets,
        "trip_variables": model.trip_variables,
        "rider_variables": model.rider_variables,
        "rows": len(model.program.rows),
        "build_s": round(built - started, 1),
        "lp": round(lp_value, 2),
        "lp_s": round(solved_lp - built, 1),
    }
    try:
        result = solve_integer_program(model.program, model.integer, time_limit_s)
    except LpNotSolved:
        found["mip_bound"] = None
    else:
        found |= {
            "mip_bound": math.floor(min(result.bound, lp_value) + 1e-6),
            "mip_best": None if result.value is None else round(result.value),
            "mip_optimal": result.optimal,
        }
    found["mip_s"] = round(time.perf_counter() - solved_lp, 1)
    return found


def cut(source: Path, target: Path, prefectures: Sequence[str], fleet: Mapping[str, int]) -> int:
    """Write `target`: `source`'s workers whose home lies in `prefectures`, their companies,
    the fleet types of `fleet` with those counts. Returns the workers kept."""
    from optimizer.read import read_scenario

    scenario = read_scenario(source)
    keep = {
        w.worker_id
        for w in scenario.workers
        if w.home_adcode and w.home_adcode[:4] in set(prefectures)
    }
    target.mkdir(parents=True, exist_ok=True)
    companies: set[str] = set()

    def copy(name: str, wanted: Any) -> None:
        with (source / name).open(encoding="utf-8", newline="") as read:
            table = csv.DictReader(read)
            with (target / name).open("w", encoding="utf-8", newline="") as write:
                rows = csv.DictWriter(write, table.fieldnames or [])
                rows.writeheader()
                for row in table:
                    if wanted(row):
                        rows.writerow(row)

    def worker(row: dict[str, str]) -> bool:
        if row["worker_id"] in keep:
            companies.add(row["company_id"])
            return True
        return False

    def vehicle(row: dict[str, str]) -> bool:
        if row["vehicle_type"] in fleet:
            row["count"] = str(fleet[row["vehicle_type"]])
            return True
        return False

    copy("workers.csv", worker)
    copy("companies.csv", lambda row: row["company_id"] in companies)
    copy("fleet.csv", vehicle)
    if (source / "hubs.csv").exists():
        copy("hubs.csv", lambda row: True)
    settings = (source / "scenario.toml").read_text(encoding="utf-8")
    (target / "scenario.toml").write_text(settings.replace('name = "', 'name = "cut-', 1))
    return len(keep)


def main(argv: list[str] | None = None) -> None:
    """`python -m benchmarks.retbound bound DIR...` or `... cut SRC DST --prefectures --fleet`."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.retbound", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    bound = commands.add_parser("bound")
    bound.add_argument("folders", type=Path, nargs="+")
    bound.add_argument("--slot-hours", type=int, default=SLOT_HOURS)
    bound.add_argument("--time-limit", type=float, default=300.0)
    cutting = commands.add_parser("cut")
    cutting.add_argument("source", type=Path)
    cutting.add_argument("target", type=Path)
    cutting.add_argument("--prefectures", required=True)
    cutting.add_argument("--fleet", required=True, help="TYPE=COUNT[,TYPE=COUNT...]")
    args = parser.parse_args(argv)
    if args.command == "cut":
        fleet = {}
        for part in args.fleet.split(","):
            name, _, count = part.partition("=")
            if not count.isdigit():
                parser.error(f"--fleet {args.fleet!r}: TYPE=COUNT")
            fleet[name.strip()] = int(count)
        kept = cut(args.source, args.target, args.prefectures.split(","), fleet)
        print(json.dumps({"target": str(args.target), "workers": kept}, ensure_ascii=False))
        return
    if args.slot_hours < 1:
        parser.error("--slot-hours must be at least 1")
    for folder in args.folders:
        print(json.dumps(measure(folder, args.slot_hours, args.time_limit), ensure_ascii=False))


if __name__ == "__main__":
    main()
