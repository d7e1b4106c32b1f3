"""Same inputs, same trips: the planner's trips in a comparable JSON, for checking a refactor.

`python -m benchmarks.same_plans OUT_DIR [FOLDER ...]` plans each scenario folder (default: the
bundled tiny and small) with `solver.workers = 1`, great-circle distances, no LP bound and each
OR-Tools search stopped after `SOLUTIONS` solutions rather than by the clock (with a time limit,
a busier machine can stop the search at another solution, so even one commit is not repeatable).
The whole run gets an hour, so that absorbing (which stops at the time limit less a reserve)
never stops early on a loaded machine: a run that takes longer than that is not comparable.
It writes OUT_DIR/NAME.json (trips with stops and riders, unserved workers, notes) and prints
trips, unserved and wall seconds per folder. Run it on two commits and compare the files with
`cmp`: identical files mean the same plans.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = 40
DEFAULT_FOLDERS = (ROOT / "scenarios" / "tiny", ROOT / "scenarios" / "small")


def plan_json(folder: Path) -> dict[str, Any]:
    """The folder's plan, made repeatable, as plain JSON values."""
    from optimizer.geography.distance import GreatCircleProvider
    from optimizer.read import read_scenario
    from optimizer.routing import RoutingParams
    from optimizer.solve import solve

    scenario = read_scenario(folder)
    solver = dataclasses.replace(
        scenario.solver, workers=1, time_limit_s=3600.0, lower_bound_share=0.0
    )

    def by_count(time_limit_s: float = 10.0, **_: Any) -> RoutingParams:
        return RoutingParams(time_limit_s=3600.0, solution_limit=SOLUTIONS)

    # Where the pooling stage builds its routing parameters: its own module since the split
    # (issue 11), optimizer.solve before it (so older commits can be compared too).
    try:
        stage: Any = importlib.import_module("optimizer.planning.pooling")
    except ImportError:
        stage = importlib.import_module("optimizer.solve")
    with mock.patch.object(stage, "RoutingParams", by_count):
        plan = solve(scenario.replace(solver=solver), distances=GreatCircleProvider())
    return {
        "trips": [
            {
                "id": trip.trip_id,
                "date": trip.departure_date.isoformat(),
                "type": trip.vehicle_type,
                "stops": [stop.name for stop in trip.stops],
                "riders": sorted(
                    [p.worker_id, p.board_stop, p.alight_stop, p.seat] for p in trip.passengers
                ),
            }
            for trip in plan.trips
        ],
        "unserved": sorted([u.worker_id, u.reason.value, u.detail] for u in plan.unserved),
        "notes": list(plan.notes),
    }


def main(argv: list[str]) -> int:
    if not argv:
        sys.stderr.write("usage: python -m benchmarks.same_plans OUT_DIR [FOLDER ...]\n")
        return 2
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    for folder in [Path(f) for f in argv[1:]] or list(DEFAULT_FOLDERS):
        started = time.monotonic()
        result = plan_json(folder)
        path = out / f"{folder.name}.json"
        path.write_text(json.dumps(result, ensure_ascii=False, indent=0), encoding="utf-8")
        sys.stdout.write(
            f"{folder.name}: {len(result['trips'])} trips, {len(result['unserved'])} unserved, "
            f"{time.monotonic() - started:.1f} s -> {path}\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
