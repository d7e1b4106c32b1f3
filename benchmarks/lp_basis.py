"""GLOP with and without preprocessing in the LP bound's column generation (issue 16).

    python -m benchmarks.lp_basis --scenario DIR [--scenario DIR ...] [--rounds 15]
                                  [--time-limit 20] [--lp-time 300]

Each season is planned once (`--time-limit`, the LP bound off), then the LP bound is computed on
that plan's seated workers for exactly `--rounds` pricing rounds (`plan_lp_bound(...,
max_rounds=...)`, the counting bound given) four times in this process, in the order default,
no preprocessing, no preprocessing, default, so that a drift in the machine's load hits both
alike. One JSON line per LP run: rounds, seconds in all, in GLOP and in pricing, the proven
value and the master's. GLOP without preprocessing keeps its basis between rounds; whether that
is faster is what this measures. The machine is shared: read the load next to the figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    from optimizer.lp_bound import plan_lp_bound
    from optimizer.read import read_scenario
    from optimizer.solve import default_distance_provider, solve

    parser = argparse.ArgumentParser(prog="python -m benchmarks.lp_basis", description=__doc__)
    parser.add_argument("--scenario", type=Path, action="append", required=True)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--time-limit", type=float, default=20.0)
    parser.add_argument("--lp-time", type=float, default=300.0)
    args = parser.parse_args(argv)
    provider = default_distance_provider()
    for folder in args.scenario:
        scenario = read_scenario(folder)
        solver = dataclasses.replace(
            scenario.solver, time_limit_s=args.time_limit, lower_bound_share=0.0
        )
        scenario = scenario.replace(solver=solver)
        plan = solve(scenario, distances=provider)
        workers = {w.worker_id: w for w in scenario.workers}
        for presolve in (True, False, False, True):
            load = os.getloadavg()[0]
            started = time.perf_counter()
            bound = plan_lp_bound(
                scenario,
                plan.trips,
                workers,
                provider,
                args.lp_time,
                known_bound=plan.kpis.lower_bound_trips,
                max_rounds=args.rounds,
                presolve=presolve,
            )
            line = {
                "scenario": scenario.name,
                "trips": plan.kpis.trips,
                "presolve": presolve,
                "rounds": bound.iterations,
                "seconds": round(time.perf_counter() - started, 2),
                "solver_s": round(bound.solver_seconds, 2),
                "pricing_s": round(bound.pricing_seconds, 2),
                "value": round(bound.value, 3),
                "lp_value": round(bound.lp_value, 3),
                "note": bound.note or ("converged" if bound.converged else ""),
                "load_before": round(load, 2),
                "load_after": round(os.getloadavg()[0], 2),
                "utc": time.strftime("%H:%M:%S", time.gmtime()),
            }
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
