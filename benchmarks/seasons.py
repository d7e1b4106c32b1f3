"""Season benchmarks: the planner on bundled and generated seasons, against bounds and by hand.

Each season runs in a fresh child process so that its wall time and peak memory are its own:

    python -m benchmarks.seasons one --scenario DIR [--time-limit S] [--processes N] [--policy k=v]

prints one JSON line; the runner (`python -m benchmarks`) collects them into the report.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

from benchmarks.children import peak_mb, plan_figures
from optimizer.baseline import hand_planning_trips, plain_county_date_trips
from optimizer.model import Policy, SolverParams
from optimizer.read import read_scenario
from optimizer.solve import solve


def run_one(
    folder: Path, time_limit_s: float | None, processes: int, policy: dict[str, Any]
) -> dict[str, Any]:
    """Plan one scenario folder in this process and measure it."""
    started = time.perf_counter()
    scenario = read_scenario(folder)
    read_s = time.perf_counter() - started
    if policy:
        values = {**scenario.policy.__dict__, **policy}
        scenario = scenario.replace(policy=Policy(**values))
    scenario = scenario.replace(
        solver=SolverParams(
            time_limit_s=time_limit_s or scenario.solver.time_limit_s,
            workers=processes,
        )
    )
    plan = solve(scenario)
    wall_s = time.perf_counter() - started
    hand = hand_planning_trips(scenario)
    plain = plain_county_date_trips(scenario)
    kpis = plan.kpis
    return {
        "scenario": scenario.name,
        "policy": policy,
        "processes": processes,
        **plan_figures(plan),
        "people_per_coach": round(kpis.seated / kpis.trips, 1) if kpis.trips else 0.0,
        "coach_km": kpis.coach_km,
        "lower_bound_coach_km": kpis.lower_bound_coach_km,
        "coach_km_over_bound": round(kpis.coach_km / kpis.lower_bound_coach_km, 3)
        if kpis.lower_bound_coach_km
        else None,
        "cost": kpis.cost,
        "hand_planning_trips": hand.trips,
        "hand_planning_people_per_coach": round(hand.people_per_coach, 1),
        "plain_county_date_trips": plain.trips,
        "trips_vs_hand": round(kpis.trips / hand.trips, 3) if hand.trips else None,
        "read_s": round(read_s, 2),
        "wall_s": round(wall_s, 2),
        "solve_s": kpis.solve_seconds,
        "peak_mb": peak_mb(),
    }


def run_in_child(
    folder: Path,
    time_limit_s: float | None,
    processes: int = 1,
    policy: dict[str, Any] | None = None,
    timeout_s: float = 3600,
) -> dict[str, Any]:
    """Run `run_one` in a fresh interpreter so wall time and peak memory are the season's own."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.seasons",
        "one",
        "--scenario",
        str(folder),
        "--processes",
        str(processes),
    ]
    if time_limit_s is not None:
        command += ["--time-limit", str(time_limit_s)]
    for key, value in (policy or {}).items():
        command += ["--policy", f"{key}={value}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
    if done.returncode != 0:
        return {"scenario": str(folder), "error": done.stderr.strip().splitlines()[-1:]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _parse_policy(pairs: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for pair in pairs:
        key, _, raw = pair.partition("=")
        values[key] = tomllib.loads(f"v = {raw}")["v"]
    return values


def main(argv: list[str] | None = None) -> None:
    """`python -m benchmarks.seasons one ...`: plan one season and print its figures as JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.seasons")
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("one", help="plan one scenario folder and print JSON")
    one.add_argument("--scenario", type=Path, required=True)
    one.add_argument("--time-limit", type=float, default=None)
    one.add_argument("--processes", type=int, default=1)
    one.add_argument("--policy", action="append", default=[], help="policy override key=value")
    args = parser.parse_args(argv)
    result = run_one(args.scenario, args.time_limit, args.processes, _parse_policy(args.policy))
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
