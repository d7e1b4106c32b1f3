"""LP seeds for pooling (issue 16) against the planner's own greedy seeds, side by side.

    python -m benchmarks.lp_seeds build --out DIR [--only a,b,...]
    python -m benchmarks.lp_seeds one --scenario DIR --seeds on|off [--time-limit S]
    python -m benchmarks.lp_seeds run --scenario DIR [--scenario DIR ...] [--time-limit S]
                                      [--parallel 2]

`build` writes robustness family members (benchmarks/family.py, seed 11) with an unlimited
fleet (every count raised, so no need is measured and the fleet never binds). `one` plans one
folder with `SolverParams.lp_seeds` on or off in this process and prints one JSON line: trips,
the plan's lower bound, cost, seated, wall seconds, the LP seeds' note, the load average.
`run` runs both variants of every folder, each in a fresh child, alternating on/off (on first
for even folders, off first for odd ones) with at most `--parallel` children at a time, and
prints each child's line as it finishes. The machine is shared: read the load next to the
figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.children import run_children


def build(out: Path, only: Sequence[str]) -> list[Path]:
    """Family members with an unlimited fleet, written under `out`."""
    from benchmarks import family

    folders = []
    for recipe in family.FAMILY:
        if only and recipe.name not in only:
            continue
        drawn = family.draw_season(recipe)
        folder = out / recipe.name
        family.write_folder(drawn, family.unlimited_counts(drawn), folder)
        folders.append(folder)
    return folders


def one(folder: Path, seeds: bool, time_limit_s: float | None) -> dict[str, Any]:
    """Plan `folder` with lp_seeds on or off and measure it."""
    from optimizer.read import read_scenario
    from optimizer.solve import default_distance_provider, solve

    scenario = read_scenario(folder)
    solver = dataclasses.replace(
        scenario.solver,
        lp_seeds=seeds,
        time_limit_s=time_limit_s or scenario.solver.time_limit_s,
    )
    scenario = scenario.replace(solver=solver)
    provider = default_distance_provider()
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    plan = solve(scenario, distances=provider)
    wall = time.perf_counter() - started
    kpis = plan.kpis
    return {
        "scenario": scenario.name,
        "seeds": seeds,
        "time_limit_s": solver.time_limit_s,
        "workers": kpis.workers,
        "seated": kpis.seated,
        "trips": kpis.trips,
        "lower_bound_trips": kpis.lower_bound_trips,
        "trips_over_bound": round(kpis.trips / kpis.lower_bound_trips, 3)
        if kpis.lower_bound_trips
        else None,
        "cost": round(kpis.cost),
        "wall_s": round(wall, 1),
        "seed_note": "; ".join(n for n in plan.notes if n.startswith("LP seeds")),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "utc": time.strftime("%H:%M:%S", time.gmtime()),
    }


def run(folders: Sequence[Path], time_limit_s: float | None, parallel: int) -> None:
    """Both variants of every folder in fresh children, at most `parallel` at a time."""
    jobs: list[list[str]] = []
    for k, folder in enumerate(folders):
        order = ("on", "off") if k % 2 == 0 else ("off", "on")
        for variant in order:
            command = [sys.executable, "-m", "benchmarks.lp_seeds", "one"]
            command += ["--scenario", str(folder), "--seeds", variant]
            if time_limit_s is not None:
                command += ["--time-limit", str(time_limit_s)]
            jobs.append(command)
    run_children(jobs, parallel)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.lp_seeds", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    built = commands.add_parser("build")
    built.add_argument("--out", type=Path, required=True)
    built.add_argument("--only", default="")
    single = commands.add_parser("one")
    single.add_argument("--scenario", type=Path, required=True)
    single.add_argument("--seeds", choices=("on", "off"), required=True)
    single.add_argument("--time-limit", type=float, default=None)
    both = commands.add_parser("run")
    both.add_argument("--scenario", type=Path, action="append", required=True)
    both.add_argument("--time-limit", type=float, default=None)
    both.add_argument("--parallel", type=int, default=2)
    args = parser.parse_args(argv)
    if args.command == "build":
        only = [n for n in args.only.split(",") if n]
        for folder in build(args.out, only):
            print(folder)
    elif args.command == "one":
        print(json.dumps(one(args.scenario, args.seeds == "on", args.time_limit)), flush=True)
    else:
        run(args.scenario, args.time_limit, args.parallel)


if __name__ == "__main__":
    main()
