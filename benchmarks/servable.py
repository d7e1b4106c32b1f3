"""The servable bound alone on robustness seasons: first version against the tightened one.

`python -m benchmarks.servable build --out DIR --only a,b` writes family members with the fleet
of their pinned need (`benchmarks/family_need.json`) without planning anything (it says when
the drawn demand no longer matches the pinned hash: the fleet is then the pinned one for a
slightly different season); `python -m benchmarks.servable bound DIR...` prints, per season
folder, one JSON line: workers, the first bound (`tightened=False`), the tightened bound, the
time of the road turns and of each LP, the tightened bound without its whole-cycle rows and
the return wave's split cover (`without_cycles`, the LP before session 11), the load, and a
diagnostic that is *not* a bound: the
tightened LP with no two counties on one coach (`Turn.partners` empty), which shows whether
the pooling relation is what lets the bound say "everyone". `python -m benchmarks.servable
routes DIR...` prints the route-pattern LP's restricted master (`benchmarks.servable_routes`, a
diagnostic, not a bound: when it seats everyone, no route-aware LP bound is below everyone).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from pathlib import Path
from typing import Any

from benchmarks import family
from optimizer import servable
from optimizer.read import read_scenario
from optimizer.servable import county_turns, servable_bound_of_turns


def build(out: Path, names: list[str], seed: int = family.DEFAULT_SEED) -> None:
    """Write each named member into `out` with the pinned fleet, planning nothing."""
    pinned = family.read_pinned()
    for name in names:
        recipe = family.recipe(name)
        drawn = family.draw_season(recipe, seed)
        entry = pinned[name]
        same = entry["demand_sha256"] == family.demand_hash(drawn)
        counts = family.fleet_counts(recipe, entry["need"])
        folder = family.write_folder(drawn, counts, out / f"{name}-s{seed}")
        print(f"  {name}: fleet {counts}, pinned hash {'matches' if same else 'differs'}, {folder}")


def measure(folder: Path) -> dict[str, Any]:
    """Both bounds of one season folder with the product's distance provider, timed."""
    from optimizer.solve import default_distance_provider

    scenario = read_scenario(folder)
    started = time.perf_counter()
    homes = {w.home_adcode for w in scenario.workers if w.home_adcode}
    turns = county_turns(scenario, default_distance_provider(), homes)
    turns_s = time.perf_counter() - started
    started = time.perf_counter()
    first = servable_bound_of_turns(scenario, turns, tightened=False)
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    tightened = servable_bound_of_turns(scenario, turns)
    tightened_s = time.perf_counter() - started
    # Without the whole-cycle rows and the return wave's split cover (the session-10 LP).
    servable.CYCLE_ROWS = servable.RETURN_COVER = False
    try:
        started = time.perf_counter()
        without = servable_bound_of_turns(scenario, turns)
        without_s = time.perf_counter() - started
    finally:
        servable.CYCLE_ROWS = servable.RETURN_COVER = True
    alone = {c: dataclasses.replace(t, partners=frozenset()) for c, t in turns.items()}
    return {
        "scenario": scenario.name,
        "direction": scenario.direction,
        "workers": len(scenario.workers),
        "counties": len(turns),
        "fleet": {v.vehicle_type: v.count for v in scenario.fleet},
        "first_bound": first,
        "tightened_bound": tightened,
        "without_cycles": without,
        "without_cycles_lp_s": round(without_s, 2),
        "turns_s": round(turns_s, 2),
        "first_lp_s": round(first_s, 2),
        "tightened_lp_s": round(tightened_s, 2),
        "no_pooling_diagnostic": servable_bound_of_turns(scenario, alone),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
    }


def measure_routes(folder: Path, nearest: int, fleet_scale: float = 1.0) -> dict[str, Any]:
    """The route-pattern LP's restricted master on one season folder (`benchmarks.servable_routes`:
    when it seats everyone, no bound from that LP is below everyone); `fleet_scale` shrinks the
    fleet to see how far from binding the LP is."""
    from benchmarks.servable_routes import as_json, route_master
    from optimizer.solve import default_distance_provider

    scenario = read_scenario(folder)
    if fleet_scale != 1.0:
        fleet = tuple(
            dataclasses.replace(v, count=int(v.count * fleet_scale)) for v in scenario.fleet
        )
        scenario = dataclasses.replace(scenario, fleet=fleet)
    found = as_json(route_master(scenario, default_distance_provider(), nearest=nearest))
    return {
        "scenario": scenario.name,
        "direction": scenario.direction,
        "fleet": {v.vehicle_type: v.count for v in scenario.fleet},
        **found,
        "load_average_1min": round(os.getloadavg()[0], 2),
        "utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
    }


def main(argv: list[str] | None = None) -> None:
    """`python -m benchmarks.servable build|bound`."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.servable", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("build", help="write family members with their pinned fleet")
    make.add_argument("--out", type=Path, required=True)
    make.add_argument("--only", required=True, help="comma-separated member names")
    bound = sub.add_parser("bound", help="both bounds of each season folder, one JSON line each")
    bound.add_argument("folders", type=Path, nargs="+")
    routes = sub.add_parser(
        "routes", help="the route-pattern LP's restricted master (a diagnostic, not a bound)"
    )
    routes.add_argument("folders", type=Path, nargs="+")
    routes.add_argument("--nearest", type=int, default=6)
    routes.add_argument(
        "--fleet-scale", type=float, default=1.0, help="every type's count times this, rounded down"
    )
    args = parser.parse_args(argv)
    if args.command == "build":
        build(args.out, [n.strip() for n in args.only.split(",") if n.strip()])
        return
    if args.command == "routes":
        for folder in args.folders:
            found = measure_routes(folder, args.nearest, args.fleet_scale)
            print(json.dumps(found, ensure_ascii=False), flush=True)
        return
    for folder in args.folders:
        print(json.dumps(measure(folder), ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
