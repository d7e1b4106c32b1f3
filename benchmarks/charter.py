"""The charter-sign rule on generated province seasons: how many of the planner's trips sit on a
coach whose operator is registered at neither end of the route, and what the rule does with
them in coach duties (retyped to an operator registered at an end, or refused).

    python -m benchmarks.charter [--quick]

Each season is generated (scenarios.generate, never a bundled one), planned within its fleet by
the product planner (optimizer.season.solve_within_fleet, a solution limit per routed part so
the plan does not depend on the machine's speed), then checked against the rule with every
operator registered where its depot lies (the generator's `<county>公运`, depot at the seat), and
again with every operator registered at the prefecture.
"""

from __future__ import annotations

import argparse
import subprocess
import time
from collections.abc import Sequence
from typing import Any

# (name, origins, workers, seed): several regions and sizes, none of them a bundled season.
SEASONS: tuple[tuple[str, str, int, int], ...] = (
    ("cixi-yuyao-beilun", "慈溪,余姚,北仑", 3_000, 5),
    ("ningbo", "宁波市", 6_000, 15),
    ("shaoxing", "绍兴市", 4_000, 23),
    ("ningbo-large", "宁波市", 20_000, 31),
)
QUICK = SEASONS[:2]


def measure(name: str, origins: str, workers: int, seed: int) -> dict[str, Any]:
    """Plan one generated season and apply the rule to its trips."""
    import dataclasses

    from optimizer.charter import apply_sign_rule, sign_rule
    from optimizer.model import SolverParams
    from optimizer.region import expand_region
    from optimizer.season import solve_within_fleet
    from scenarios.generate import generate_season

    scenario = generate_season(name, workers, seed, origins=origins.split(",")).scenario
    scenario = scenario.replace(solver=SolverParams(time_limit_s=60.0, part_solution_limit=3))
    started = time.perf_counter()
    plan, _ = solve_within_fleet(scenario)
    plan_s = time.perf_counter() - started
    rule = sign_rule(scenario, plan.trips)
    outside = sum(1 for t in plan.trips if not rule.allows(t, t.vehicle_type))
    started = time.perf_counter()
    retyped, refused = apply_sign_rule(plan.trips, scenario.fleet, rule)
    rule_s = time.perf_counter() - started
    moved = sum(
        1 for a, b in zip(plan.trips, retyped, strict=True) if a.vehicle_type != b.vehicle_type
    )
    # Coaches a type would need to depart on one date beyond its count, once retyped.
    from collections import Counter

    departing = Counter((t.vehicle_type, t.departure_date) for t in retyped)
    types = {v.vehicle_type: v for v in scenario.fleet}
    beyond = sum(
        max(0, n - types[kind].count_on(day))
        for (kind, day), n in departing.items()
        if kind in types
    )
    prefecture = expand_region(origins.split(","))[0][:4] + "00"
    wide = scenario.replace(
        fleet=tuple(dataclasses.replace(v, registered=prefecture) for v in scenario.fleet)
    )
    wide_rule = sign_rule(wide, plan.trips)
    return {
        "season": name,
        "origins": len(scenario.origins),
        "workers": workers,
        "trips": len(plan.trips),
        "cross_origin": plan.kpis.cross_origin_trips,
        "outside": outside,
        "retyped": moved,
        "refused": len(refused),
        "beyond_fleet": beyond,
        "outside_prefecture": sum(1 for t in plan.trips if not wide_rule.allows(t, t.vehicle_type)),
        "plan_s": round(plan_s, 1),
        "rule_ms": round(rule_s * 1000, 1),
    }


def render(rows: Sequence[dict[str, Any]]) -> list[str]:
    columns = (
        "season",
        "origins",
        "workers",
        "trips",
        "cross-origin trips",
        "trips on an operator registered at neither end",
        "retyped by the rule",
        "refused",
        "departures beyond a type's count once retyped",
        "neither end, operators registered at the prefecture",
        "plan s",
        "rule ms",
    )
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in rows:
        lines.append(
            f"| {r['season']} | {r['origins']} | {r['workers']:,} | {r['trips']} | "
            f"{r['cross_origin']} | {r['outside']} | {r['retyped']} | {r['refused']} | "
            f"{r['beyond_fleet']} | "
            f"{r['outside_prefecture']} | {r['plan_s']} | {r['rule_ms']} |"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the two smallest seasons")
    args = parser.parse_args(argv)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    load = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    print(f"commit {commit}, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {load}")
    rows = []
    for season in QUICK if args.quick else SEASONS:
        rows.append(measure(*season))
        print(rows[-1], flush=True)
    print("\n".join(render(rows)))


if __name__ == "__main__":
    main()
