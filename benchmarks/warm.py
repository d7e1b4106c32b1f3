"""The routed parts with and without the greedy's coaches to fall back on (branch `warm`).

    python -m benchmarks.warm one --scenario DIR --mode router|rescue|greedy [--time-limit S]
    python -m benchmarks.warm run --scenario DIR [--scenario DIR ...] [--modes a,b]
                                  [--repeat N] [--parallel 2]

`one` plans one folder with `optimizer.solve.solve` in this process and prints one JSON line:
trips, the plan's lower bound, cost, seated, solve seconds, the routing notes, the load
average. The modes change only what a routed part does:

- `router`: the product as it is (its own first solution, the greedy's coaches as the fallback
  when it has none in half its time or leaves requests out);
- `rescue`: every routed part made to give up its own construction at once, so every part
  improves the greedy's coaches (what a heavily loaded machine gets);
- `greedy`: every routed part given up at once with no fallback, its time still spent (the
  process sleeps for the rest of the part's limit): the greedy's coaches stand, as on a heavily
  loaded machine before the fallback, where the router searched its whole limit for nothing.

`run` runs every mode of every folder in fresh children, the order rotating per repetition,
at most `--parallel` at a time, and prints each child's line as it finishes. The machine is
shared: read the load next to the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.children import run_children

MODES = ("router", "rescue", "greedy")
# A first-solution share this small ends every part's own construction at its first limit check.
GIVE_UP = 1e-9


def one(folder: Path, mode: str, time_limit_s: float | None) -> dict[str, Any]:
    """Plan `folder` with the routed parts in `mode` and measure it."""
    import dataclasses

    import optimizer.planning.pooling as pooling
    from optimizer.read import read_scenario
    from optimizer.solve import default_distance_provider, solve

    if mode in ("rescue", "greedy"):
        pooling.FIRST_SOLUTION_SHARE = GIVE_UP
    if mode == "greedy":
        own = pooling.solve_part

        def without_fallback(problem: Any, params: Any, rescue: Any = None) -> Any:
            started = time.perf_counter()
            solution = own(problem, dataclasses.replace(params, first_solution_limit_s=GIVE_UP))
            time.sleep(max(0.0, params.time_limit_s - (time.perf_counter() - started)))
            return solution

        pooling.solve_part = without_fallback
    scenario = read_scenario(folder)
    solver = dataclasses.replace(
        scenario.solver, time_limit_s=time_limit_s or scenario.solver.time_limit_s
    )
    scenario = scenario.replace(solver=solver)
    provider = default_distance_provider()
    load_before = os.getloadavg()[0]
    plan = solve(scenario, distances=provider)
    kpis = plan.kpis
    return {
        "scenario": scenario.name,
        "mode": mode,
        "workers": kpis.workers,
        "seated": kpis.seated,
        "trips": kpis.trips,
        "lower_bound_trips": kpis.lower_bound_trips,
        "cost": round(kpis.cost),
        "solve_s": round(kpis.solve_seconds, 1),
        "notes": [n for n in plan.notes if n.startswith(("routing", "part-full")) or "shared" in n],
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "utc": time.strftime("%H:%M:%S", time.gmtime()),
    }


def run(folders: Sequence[Path], modes: Sequence[str], repeat: int, parallel: int) -> None:
    """Every mode of every folder in fresh children, at most `parallel` at a time."""
    jobs: list[list[str]] = []
    for turn in range(repeat):
        for folder in folders:
            shift = turn % len(modes)
            for mode in [*modes[shift:], *modes[:shift]]:
                command = [sys.executable, "-m", "benchmarks.warm", "one"]
                jobs.append([*command, "--scenario", str(folder), "--mode", mode])
    run_children(jobs, parallel)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.warm", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    single = commands.add_parser("one")
    single.add_argument("--scenario", type=Path, required=True)
    single.add_argument("--mode", choices=MODES, required=True)
    single.add_argument("--time-limit", type=float, default=None)
    several = commands.add_parser("run")
    several.add_argument("--scenario", type=Path, action="append", required=True)
    several.add_argument("--modes", default=",".join(MODES))
    several.add_argument("--repeat", type=int, default=1)
    several.add_argument("--parallel", type=int, default=2)
    args = parser.parse_args(argv)
    if args.command == "one":
        print(json.dumps(one(args.scenario, args.mode, args.time_limit)), flush=True)
    else:
        modes = [m for m in args.modes.split(",") if m in MODES]
        run(args.scenario, modes, args.repeat, args.parallel)


if __name__ == "__main__":
    main()
