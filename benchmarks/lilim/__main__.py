"""Run the routing core's configuration on Li & Lim PDPTW instances and charter-like instances.

    python -m benchmarks.lilim [--time-limit 10] [--instances lc101 lr201 ...|subset|all]
                               [--charter 50 150 300] [--json results.json]

Prints, per instance: vehicles and distance against the best-known solution, the gaps, wall
time, time to the first solution, and the verdict of an independent feasibility check.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import lilim
from benchmarks.lilim import charter
from optimizer.routing import RoutingParams, solve_pickup_delivery


def run_lilim(names: list[str], params: RoutingParams) -> list[dict[str, Any]]:
    """Solve each named instance and check it; one result row per instance."""
    best_known = lilim.read_bks()
    rows = []
    for name in names:
        instance = lilim.read_instance(name)
        problem, pairs = lilim.to_problem(instance)
        solution = solve_pickup_delivery(problem, params)
        verdict = lilim.check(instance, lilim.routes_as_tasks(solution, pairs))
        bks = best_known[name]
        rows.append(
            {
                "instance": name,
                "status": str(solution.status),
                "vehicles": verdict.vehicles,
                "bks_vehicles": bks.vehicles,
                "vehicle_gap": verdict.vehicles - bks.vehicles,
                "distance": round(verdict.distance, 4),
                "bks_distance": bks.distance,
                "distance_gap_pct": round(100 * (verdict.distance / bks.distance - 1), 2),
                "wall_s": round(solution.wall_s, 2),
                "first_solution_s": _round(solution.first_solution_s),
                "checked_feasible": verdict.feasible and solution.is_feasible(),
                "violations": list(verdict.violations[:5]),
            }
        )
        _print_lilim(rows[-1])
    return rows


def run_charter(sizes: list[int], params: RoutingParams, seed: int) -> list[dict[str, Any]]:
    """Solve generated charter-like instances; one result row per size."""
    rows = []
    for size in sizes:
        instance = charter.generate(size, seed)
        started = time.perf_counter()
        solution = solve_pickup_delivery(instance.problem, params)
        wall = time.perf_counter() - started
        violations = charter.check(instance.problem, solution)
        seats_offered = sum(
            instance.problem.vehicles[route.vehicle].capacity for route in solution.routes
        )
        served_seats = instance.seats - sum(
            instance.problem.requests[index].demand for index in solution.dropped
        )
        rows.append(
            {
                "instance": instance.name,
                "requests": size,
                "seats": instance.seats,
                "status": str(solution.status),
                "vehicles": solution.num_vehicles,
                "lower_bound": instance.lower_bound,
                "dropped": len(solution.dropped),
                "seat_utilisation_pct": round(100 * served_seats / max(seats_offered, 1), 1),
                "coach_km": round(solution.distance_m / 1000),
                "first_solution_s": _round(solution.first_solution_s),
                "wall_s": round(wall, 2),
                "checked_feasible": not violations,
                "violations": violations[:5],
            }
        )
        _print_charter(rows[-1])
    return rows


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _print_lilim(row: dict[str, Any]) -> None:
    print(
        f"{row['instance']:<8} veh {row['vehicles']:>3} (bks {row['bks_vehicles']:>2}, "
        f"{row['vehicle_gap']:+d})  dist {row['distance']:>9.2f} (bks {row['bks_distance']:>9.2f}, "
        f"{row['distance_gap_pct']:+6.2f} %)  wall {row['wall_s']:>6.2f} s  "
        f"first {row['first_solution_s']} s  check {'ok' if row['checked_feasible'] else 'FAIL'}"
        + ("" if row["checked_feasible"] else f" {row['violations']}"),
        flush=True,
    )


def _print_charter(row: dict[str, Any]) -> None:
    print(
        f"{row['instance']:<18} seats {row['seats']:>5}  coaches {row['vehicles']:>3} "
        f"(bound {row['lower_bound']:>3})  dropped {row['dropped']:>2}  "
        f"util {row['seat_utilisation_pct']:>5.1f} %  first {row['first_solution_s']} s  "
        f"wall {row['wall_s']:>6.2f} s  check {'ok' if row['checked_feasible'] else 'FAIL'}"
        + ("" if row["checked_feasible"] else f" {row['violations']}"),
        flush=True,
    )


def _summary(rows: list[dict[str, Any]]) -> str:
    matched = [row for row in rows if row["vehicle_gap"] == 0]
    mean_gap = sum(row["distance_gap_pct"] for row in matched) / len(matched) if matched else 0.0
    extra = sum(max(row["vehicle_gap"], 0) for row in rows)
    return (
        f"{len(rows)} instances: {len(matched)} at the BKS vehicle count, {extra} extra vehicles "
        f"in all; mean distance gap where vehicles match {mean_gap:+.2f} %; "
        f"all checked feasible: {all(row['checked_feasible'] for row in rows)}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.lilim", description=__doc__)
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds per instance")
    parser.add_argument(
        "--instances", nargs="*", default=["subset"], help="names, 'subset' or 'all'"
    )
    parser.add_argument("--charter", nargs="*", type=int, default=[], help="request counts")
    parser.add_argument("--seed", type=int, default=0, help="charter generator seed")
    parser.add_argument("--first-solution", default=RoutingParams.first_solution)
    parser.add_argument("--metaheuristic", default=RoutingParams.metaheuristic)
    parser.add_argument("--no-fleet-minimisation", action="store_true")
    parser.add_argument("--no-insertion-lns", action="store_true")
    parser.add_argument("--bandit", action="store_true", help="multi-armed bandit operators")
    parser.add_argument("--json", type=Path, help="write the result rows here")
    args = parser.parse_args(argv)

    params = RoutingParams(
        time_limit_s=args.time_limit,
        first_solution=args.first_solution,
        metaheuristic=args.metaheuristic,
        fleet_minimisation=not args.no_fleet_minimisation,
        insertion_lns=not args.no_insertion_lns,
        multi_armed_bandit=args.bandit,
    )
    names: list[str] = []
    for name in args.instances:
        if name == "subset":
            names.extend(lilim.SUBSET)
        elif name == "all":
            names.extend(lilim.available())
        elif name in lilim.available():
            names.append(name)
        else:
            parser.error(f"unknown instance {name!r}")
    machine = f"{platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}"
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"# routing core: {params}\n# {machine}, {stamp}")
    lilim_rows = run_lilim(names, params)
    if lilim_rows:
        print(_summary(lilim_rows))
    charter_rows = run_charter(args.charter, params, args.seed)
    if args.json:
        args.json.write_text(
            json.dumps(
                {"params": repr(params), "lilim": lilim_rows, "charter": charter_rows}, indent=1
            )
        )
    every = lilim_rows + charter_rows
    return 0 if all(row["checked_feasible"] for row in every) else 1


if __name__ == "__main__":
    sys.exit(main())
