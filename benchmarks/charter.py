"""The charter-sign rule on generated province seasons: the planner's trips against the rule
(one end of the route in the coach operator's registration place), with every operator
registered at its own county, the narrowest place fleet.csv can name.

    python -m benchmarks.charter [--quick] [--registered county|default]

Each season is generated (scenarios.generate, never a bundled one) with one operator per origin
county (`<county>公运`, depot at the county seat), then planned within its fleet by the product
planner (optimizer.season.solve_within_fleet, a solution limit per routed part so the plan does
not depend on the machine's speed). `--registered county` (the default) gives every operator
`registered = <its county's code>`; `default` leaves `registered` blank, so the planner's own
default applies (the prefecture since branch `charter`, the depot's county before). The script
runs unchanged on a commit before the rule was wired into planning, for a side-by-side.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import time
from collections import Counter
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
MOVED = re.compile(r"charter sign: (\d+) trip\(s\) moved")


def measure(name: str, origins: str, workers: int, seed: int, registered: str) -> dict[str, Any]:
    """Plan one generated season and count its trips that break the rule."""
    import dataclasses

    from optimizer.charter import sign_rule
    from optimizer.model import SolverParams
    from optimizer.region import locate_county
    from optimizer.season import solve_within_fleet
    from scenarios.generate import generate_season

    scenario = generate_season(name, workers, seed, origins=origins.split(",")).scenario
    scenario = scenario.replace(solver=SolverParams(time_limit_s=60.0, part_solution_limit=3))
    if registered == "county":
        fleet = []
        for vehicle in scenario.fleet:
            assert vehicle.depot_lon is not None and vehicle.depot_lat is not None
            county = locate_county(vehicle.depot_lon, vehicle.depot_lat, scenario.origins)
            fleet.append(dataclasses.replace(vehicle, registered=county))
        scenario = scenario.replace(fleet=tuple(fleet))
    started = time.perf_counter()
    plan, duties = solve_within_fleet(scenario)
    plan_s = time.perf_counter() - started
    rule = sign_rule(scenario, plan.trips)
    reasons = Counter(str(u.reason) for u in plan.unserved)
    return {
        "season": name,
        "origins": len(scenario.origins),
        "workers": workers,
        "trips": len(plan.trips),
        "cross_origin": plan.kpis.cross_origin_trips,
        "breaking": sum(1 for t in plan.trips if not rule.allows(t, t.vehicle_type)),
        "retyped": sum(int(m[1]) for n in plan.notes for m in [MOVED.match(n)] if m),
        "charter_sign": reasons.get("charter_sign", 0),
        "fleet_exhausted": reasons.get("fleet_exhausted", 0),
        "seated": plan.kpis.seated,
        "coaches": len(duties.duties),
        "plan_s": round(plan_s, 1),
    }


def render(rows: Sequence[dict[str, Any]]) -> list[str]:
    columns = (
        "season",
        "origins",
        "workers",
        "trips",
        "cross-origin trips",
        "trips breaking the rule",
        "retyped by the rule",
        "unserved charter_sign",
        "unserved fleet_exhausted",
        "seated",
        "coaches",
        "plan s",
    )
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in rows:
        lines.append(
            f"| {r['season']} | {r['origins']} | {r['workers']:,} | {r['trips']} | "
            f"{r['cross_origin']} | {r['breaking']} | {r['retyped']} | {r['charter_sign']} | "
            f"{r['fleet_exhausted']} | {r['seated']:,} | {r['coaches']} | {r['plan_s']} |"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the two smallest seasons")
    parser.add_argument(
        "--registered",
        choices=("county", "default"),
        default="county",
        help="operators registered at their own county, or fleet.csv's blank default",
    )
    args = parser.parse_args(argv)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    load = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    print(
        f"commit {commit}, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {load}, "
        f"registered {args.registered}"
    )
    rows = []
    for season in QUICK if args.quick else SEASONS:
        rows.append(measure(*season, args.registered))
        print(rows[-1], flush=True)
    print("\n".join(render(rows)))


if __name__ == "__main__":
    main()
