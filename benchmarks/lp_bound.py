"""The LP lower bound against the counting bound (issue 16).

    python -m benchmarks --sections lpbound [--quick] [--time-limit S] [--lp-time S]
    python -m benchmarks.lp_bound one --scenario DIR [--time-limit S] [--lp-time S] [--unlimited]

For each season (the bundled tiny, small, cixi-2019 and dispersed-stress, and the robustness
family of `benchmarks.family`): plan it with its own time limit and the default
`lower_bound_share`, which gives the bound a user sees (`kpis.lower_bound_trips`, its source and
seconds); then compute the LP bound again on the plan's seated workers with a longer box
(`--lp-time`, default 120 s), twice, in this order: with the pickup rows for gates only (the LP
before hub stops: seats that may board at a hub unlimited, `plan_lp_bound(..., hub_stops=False,
plain_first=False)`) and the default (the LP without pickup rows first, then hub stops; the
first LP's figures as `plain_lp_*`), each with the same box, so before and after run side by side
on the same plan; with `--box`, a third time with the dual box (`stabilisation="box"`, the
experiment of docs/plan-format.md), reported as `box_*`. `--unlimited` raises every coach count
first (the fleet never binds). Each season runs in its own process; the load average is
recorded before and after each part, since the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ("tiny", "small", "cixi-2019", "dispersed-stress")
DEFAULT_LP_TIME_S = 120.0


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def run_one(
    folder: Path,
    time_limit_s: float | None,
    lp_time_s: float,
    unlimited: bool = False,
    box: bool = False,
) -> dict[str, Any]:
    """Plan `folder`, then the LP bound with `lp_time_s` without and with hub stops; the figures
    as a JSON-able dict."""
    from optimizer.lp_bound import plan_lp_bound
    from optimizer.read import read_scenario
    from optimizer.solve import default_distance_provider, solve

    scenario = read_scenario(folder)
    if unlimited:
        from benchmarks.robustness import unlimited as raised

        scenario = raised(scenario)
    if time_limit_s is not None:
        scenario = scenario.replace(
            solver=scenario.solver.__class__(
                time_limit_s=time_limit_s,
                workers=scenario.solver.workers,
                lower_bound_share=scenario.solver.lower_bound_share,
            )
        )
    provider = default_distance_provider()
    load_before = _load()
    started = time.monotonic()
    plan = solve(scenario, distances=provider)
    plan_s = time.monotonic() - started
    kpis = plan.kpis
    # The counting bound is the date-interval part the plan's notes list.
    parts = [re.search(r"date intervals (\d+)", note) for note in plan.notes]
    counting = next((int(m.group(1)) for m in parts if m), kpis.lower_bound_trips)
    workers = {w.worker_id: w for w in scenario.workers}
    before_load = _load()
    before = plan_lp_bound(
        scenario,
        plan.trips,
        workers,
        provider,
        lp_time_s,
        known_bound=counting,
        hub_stops=False,
        plain_first=False,
    )
    load_between = _load()
    lp = plan_lp_bound(scenario, plan.trips, workers, provider, lp_time_s, known_bound=counting)
    boxed = {}
    if box:
        trial = plan_lp_bound(
            scenario, plan.trips, workers, provider, lp_time_s, counting, stabilisation="box"
        )
        boxed = {
            "box_lp_trips": trial.trips,
            "box_lp_value": round(trial.value, 3),
            "box_lp_master": round(trial.lp_value, 3),
            "box_lp_converged": trial.converged,
            "box_lp_rounds": trial.iterations,
            "box_lp_s": round(trial.seconds, 1),
            "box_lp_note": trial.note,
        }
    best = max(counting, lp.trips)
    old_best = max(counting, before.trips)
    return {
        "season": folder.name,
        "workers": kpis.workers,
        "seated": kpis.seated,
        "trips": kpis.trips,
        "time_limit_s": scenario.solver.time_limit_s,
        "plan_s": round(plan_s, 1),
        "counting_bound": counting,
        "plan_bound": kpis.lower_bound_trips,
        "plan_bound_source": kpis.lower_bound_source,
        "plan_bound_s": kpis.lower_bound_seconds,
        "lp_trips": lp.trips,
        "lp_value": round(lp.value, 3),
        "lp_converged": lp.converged,
        "lp_rounds": lp.iterations,
        "lp_sets_priced": lp.county_sets,
        "lp_solver_s": round(lp.solver_seconds, 1),
        "lp_pricing_s": round(lp.pricing_seconds, 1),
        "lp_hub_seats": lp.hub_seats,
        "old_lp_solver_s": round(before.solver_seconds, 1),
        "old_lp_pricing_s": round(before.pricing_seconds, 1),
        "lp_s": round(lp.seconds, 1),
        "lp_note": lp.note,
        "new_bound": best,
        "trips_over_new_bound": round(kpis.trips / best, 3) if best else None,
        "old_lp_trips": before.trips,
        "old_lp_value": round(before.value, 3),
        "old_lp_master": round(before.lp_value, 3),
        "old_lp_converged": before.converged,
        "old_lp_rounds": before.iterations,
        "old_lp_s": round(before.seconds, 1),
        "old_bound": old_best,
        "lp_master": round(lp.lp_value, 3),
        # The first of the default LP's two (no pickup rows): proven, master, rounds, seconds.
        **(
            {
                "plain_lp_trips": lp.plain.trips,
                "plain_lp_value": round(lp.plain.value, 3),
                "plain_lp_master": round(lp.plain.lp_value, 3),
                "plain_lp_converged": lp.plain.converged,
                "plain_lp_rounds": lp.plain.iterations,
                "plain_lp_s": round(lp.plain.seconds, 1),
            }
            if lp.plain is not None
            else {}
        ),
        "unlimited": unlimited,
        "load_before": load_before,
        "load_lp_before": before_load,
        "load_lp_between": load_between,
        **boxed,
        "load_after": _load(),
        "utc_end": time.strftime("%H:%M:%S", time.gmtime()),
    }


def run_in_child(
    folder: Path,
    time_limit_s: float | None,
    lp_time_s: float,
    timeout_s: float,
    unlimited: bool = False,
) -> dict[str, Any]:
    """`run_one` in a fresh interpreter; a failure or timeout is returned as {"error": ...}."""
    command = [sys.executable, "-m", "benchmarks.lp_bound", "one", "--scenario", str(folder)]
    command += ["--lp-time", str(lp_time_s)] + (["--unlimited"] if unlimited else [])
    if time_limit_s is not None:
        command += ["--time-limit", str(time_limit_s)]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired:
        return {"season": folder.name, "error": f"no answer within {timeout_s:.0f} s"}
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        return {"season": folder.name, "error": lines[-1] if lines else f"exit {done.returncode}"}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def section_lpbound(
    quick: bool, cache: Path, time_limit_s: float | None, lp_time_s: float | None = None
) -> list[dict[str, Any]]:
    """The bundled seasons and the robustness family, each in its own process."""
    from benchmarks.family import DEFAULT_SEED, FAMILY, QUICK_FAMILY, build_family, read_pinned

    lp_time = lp_time_s if lp_time_s is not None else (5.0 if quick else DEFAULT_LP_TIME_S)
    folders = [ROOT / "scenarios" / name for name in (("small",) if quick else BUNDLED)]
    members = build_family(
        QUICK_FAMILY if quick else FAMILY,
        cache / ("family-quick" if quick else "family"),
        seed=DEFAULT_SEED,
        pinned=None if quick else read_pinned(),
        in_process=quick,
    )
    folders += [member.folder for member in members]
    rows = []
    for folder in folders:
        limit = 2.0 if quick else time_limit_s
        budget = (limit or 60.0) * 3 + lp_time * 3 + 300
        row = run_in_child(folder, limit, lp_time, budget)
        print(f"  {folder.name}: {row}", flush=True)
        rows.append(row)
    return rows


def render_lpbound(rows: list[dict[str, Any]]) -> list[str]:
    """The markdown table of the section."""
    lines = [
        "## LP lower bound (issue 16)",
        "",
        "| season | workers | trips | counting bound | old bound (LP, pickup rows for gates) "
        "| new bound (LP with hub stops) | trips / new bound | old LP: proven, master, s (rounds) "
        "| new LP: proven, master, s (rounds) | load | UTC |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['season']} | error: {r['error']} ||||||||||")
            continue
        lines.append(
            f"| {r['season']} | {r['workers']:,} | {r['trips']} | {r['counting_bound']} "
            f"| {r['old_bound']} | {r['new_bound']} | {r['trips_over_new_bound']} "
            f"| {r['old_lp_value']}, {r['old_lp_master']}, {r['old_lp_s']} ({r['old_lp_rounds']}"
            f"{', converged' if r['old_lp_converged'] else ''}) "
            f"| {r['lp_value']}, {r['lp_master']}, {r['lp_s']} ({r['lp_rounds']}"
            f"{', converged' if r['lp_converged'] else ''}) "
            f"| {r['load_before']}-{r['load_after']} | {r['utc_end']} |"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    """`python -m benchmarks.lp_bound one ...`: print one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.lp_bound", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("one", help="plan a folder, then the LP bound with a longer box")
    one.add_argument("--scenario", type=Path, required=True)
    one.add_argument("--time-limit", type=float, default=None)
    one.add_argument("--lp-time", type=float, default=DEFAULT_LP_TIME_S)
    one.add_argument("--unlimited", action="store_true", help="raise every coach count first")
    one.add_argument("--box", action="store_true", help="also the LP with the dual box")
    args = parser.parse_args(argv)
    figures = run_one(args.scenario, args.time_limit, args.lp_time, args.unlimited, args.box)
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
