"""Many origins: a generated Ningbo season planned with pooling across origin counties, against
each origin county planning alone, and the generator at province scale.

    python -m benchmarks --sections origins [--time-limit S]
    python -m benchmarks.origins one --scenario DIR [--origin CODE] [--time-limit S]
    python -m benchmarks.origins generate --workers N --origins 宁波市 --seed S [--out DIR]

Each plan and each generation runs in a fresh child process, so its wall time and peak memory
are its own. Planning alone gives each origin the whole fleet and the same time limit as the
pooled plan, so only the pooling differs (and the baseline gets ten times the solver time).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.children import peak_mb

ORIGINS = "宁波市"  # ten counties and districts
FULL_WORKERS = 20_000
QUICK_WORKERS = 600
SEED = 15
PROVINCE_WORKERS = 1_000_000


def plan_one(folder: Path, origin: str | None, time_limit_s: float | None) -> dict[str, Any]:
    """Plan a season folder (or one origin county of it alone) in this process; its figures."""
    from optimizer.model import SolverParams
    from optimizer.origins import origin_alone, with_origin_kpis
    from optimizer.read import read_scenario
    from optimizer.solve import solve

    started = time.perf_counter()
    scenario = read_scenario(folder)
    if origin is not None:
        scenario = origin_alone(scenario, origin)
    scenario = scenario.replace(
        solver=SolverParams(time_limit_s=time_limit_s or scenario.solver.time_limit_s)
    )
    plan = solve(scenario)
    kpis = with_origin_kpis(plan.kpis, scenario, plan.trips)
    return {
        "origin": origin or "all",
        "workers": kpis.workers,
        "seated": kpis.seated,
        "trips": kpis.trips,
        "lower_bound_trips": kpis.lower_bound_trips,
        "cross_origin_trips": kpis.cross_origin_trips,
        "coach_km": kpis.coach_km,
        "seat_utilization": kpis.seat_utilization,
        "wall_s": round(time.perf_counter() - started, 2),
        "peak_mb": peak_mb(),
    }


def generate_one(workers: int, origins: str, seed: int, out: Path | None) -> dict[str, Any]:
    """Generate (and write, when `out` is given) a season in this process; time and memory."""
    from scenarios.generate import generate_season, write_scenario

    started = time.perf_counter()
    season = generate_season(
        f"ningbo-{workers}", workers, seed, origins=origins.split(","), hub_radius_km=12.0
    )
    generated_s = time.perf_counter() - started
    if out is not None:
        write_scenario(season, out)
    return {
        "workers": len(season.scenario.workers),
        "companies": len(season.scenario.companies),
        "origins": len(season.scenario.origins),
        "generate_s": round(generated_s, 1),
        "write_s": round(time.perf_counter() - started - generated_s, 1),
        "peak_mb": peak_mb(),
    }


def _child(arguments: list[str], timeout_s: float = 7200) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.origins", *arguments]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1:]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def section_origins(quick: bool, cache: Path, time_limit: float | None) -> dict[str, Any]:
    """Pooled across origins against each origin alone (sum), and the generator at scale."""
    workers = QUICK_WORKERS if quick else FULL_WORKERS
    limit = time_limit if time_limit is not None else (2.0 if quick else None)
    folder = cache / f"origins-{workers}-{SEED}"
    generated = _child(
        [
            *("generate", "--workers", str(workers), "--origins", ORIGINS),
            *("--seed", str(SEED), "--out", str(folder)),
        ]
    )
    from optimizer.region import expand_region

    limit_args = ["--time-limit", str(limit)] if limit is not None else []
    pooled = _child(["one", "--scenario", str(folder), *limit_args])
    print(f"  pooled: {pooled.get('trips')} trips, {pooled.get('wall_s')} s", flush=True)
    alone = []
    for county in expand_region(ORIGINS):
        row = _child(["one", "--scenario", str(folder), "--origin", county, *limit_args])
        alone.append(row)
        print(f"  {county} alone: {row.get('trips')} trips, {row.get('wall_s')} s", flush=True)
    result: dict[str, Any] = {
        "season": generated,
        "pooled": pooled,
        "alone": alone,
        "alone_trips": sum(int(r.get("trips", 0)) for r in alone),
        "alone_wall_s": round(sum(float(r.get("wall_s", 0.0)) for r in alone), 1),
    }
    if not quick:
        result["province_generation"] = _child(
            [
                *("generate", "--workers", str(PROVINCE_WORKERS), "--origins", ORIGINS),
                *("--seed", str(SEED), "--out", str(cache / f"origins-{PROVINCE_WORKERS}-{SEED}")),
            ]
        )
        print(f"  generated 1,000,000: {result['province_generation']}", flush=True)
    return result


def render(result: dict[str, Any]) -> list[str]:
    """The section's lines of report.md."""
    pooled, season = result["pooled"], result["season"]
    lines = [
        "## Many origins (Ningbo)",
        "",
        f"Season: {season.get('workers')} workers, {season.get('companies')} companies over "
        f"{season.get('origins')} origin counties (`chunyun generate --origins {ORIGINS}`).",
        "",
        "| plan | trips | bound | cross-origin trips | coach km | wall s |",
        "|---|---|---|---|---|---|",
        f"| pooled across origins | {pooled.get('trips')} | {pooled.get('lower_bound_trips')} | "
        f"{pooled.get('cross_origin_trips')} | {pooled.get('coach_km')} | {pooled.get('wall_s')} |",
        f"| each origin alone (sum of {len(result['alone'])}) | {result['alone_trips']} | | 0 | "
        f"{round(sum(float(r.get('coach_km', 0.0)) for r in result['alone']), 1)} | "
        f"{result['alone_wall_s']} |",
    ]
    province = result.get("province_generation")
    if province:
        lines += [
            "",
            f"Generating {province.get('workers')} workers over {province.get('origins')} "
            f"origins: {province.get('generate_s')} s, writing {province.get('write_s')} s, "
            f"peak {province.get('peak_mb')} MB.",
        ]
    return lines


def main(argv: list[str] | None = None) -> None:
    """`python -m benchmarks.origins one|generate ...`: one measurement as a JSON line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.origins")
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("one")
    one.add_argument("--scenario", type=Path, required=True)
    one.add_argument("--origin", default=None)
    one.add_argument("--time-limit", type=float, default=None)
    generate = sub.add_parser("generate")
    generate.add_argument("--workers", type=int, required=True)
    generate.add_argument("--origins", default=ORIGINS)
    generate.add_argument("--seed", type=int, default=SEED)
    generate.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.command == "one":
        result = plan_one(args.scenario, args.origin, args.time_limit)
    else:
        result = generate_one(args.workers, args.origins, args.seed, args.out)
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
