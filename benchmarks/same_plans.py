"""Same inputs, same trips: the planner's plans made repeatable, for checking a refactor.

Two ways to use it, both with `solver.workers = 1`, no LP bound and each OR-Tools search
stopped after a number of solutions rather than by the clock (with a time limit, a busier
machine can stop the search at another solution, so even one commit is not repeatable). The
run gets an hour, so that absorbing (which stops at the time limit less a reserve) never stops
early on a loaded machine: a run that takes longer than that is not comparable.

**Two revisions, one verdict** (the product path, `optimizer.season.solve_within_fleet`, with
every fleet pass):

    python -m benchmarks.robustness same --before REV --after REV --scenario DIR [--scenario DIR]
                                         [--solutions 20] [--after-set KEY=VALUE ...]

Each revision is exported with `git archive` into a folder of its own (the pairs runner's
`export`: a REV that is an existing folder is used as it is); per scenario both sides run at
the same time, each a child process with the revision's code on PYTHONPATH and *this* file's
`one` command as the measure (so an older revision is measured the same way). It prints per
scenario each side's fingerprint (seated, trips, a hash of every trip's date, coach type, stops
and riders, trip ids left out) and `equal` or `DIFFERENT`, and exits 1 when any differs.
`--after-set solver.KEY=VALUE` (or `policy.KEY=VALUE`) changes a setting on the after side
only: to see the check fail, or to prove a switch inert.

**One revision, files to compare** (the unlimited path, `optimizer.solve.solve`, great-circle
distances):

    python -m benchmarks.same_plans OUT_DIR [FOLDER ...]

plans each folder (default: the bundled tiny and small) and writes OUT_DIR/NAME.json (trips
with stops and riders, unserved workers, notes). Run it on two commits and compare the files
with `cmp`: identical files mean the same plans.

This file imports nothing of ours at module level but the standard library: the `one` command
runs it as a script against another revision's `optimizer`.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import importlib
import json
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = 40
# Solutions per routed part for `same`: the fleet path routes many parts (every pass), so
# fewer than the unlimited path's; 20 took 21 min on return-3k-711 at load ~12 (house, session 11).
PART_SOLUTIONS = 20
UNBOUND_S = 3600.0
DEFAULT_FOLDERS = (ROOT / "scenarios" / "tiny", ROOT / "scenarios" / "small")


def plan_json(folder: Path) -> dict[str, Any]:
    """The folder's plan, made repeatable, as plain JSON values."""
    from optimizer.geography.distance import GreatCircleProvider
    from optimizer.read import read_scenario
    from optimizer.routing import RoutingParams
    from optimizer.solve import solve

    scenario = read_scenario(folder)
    solver = dataclasses.replace(
        scenario.solver, workers=1, time_limit_s=UNBOUND_S, lower_bound_share=0.0
    )

    def by_count(time_limit_s: float = 10.0, **_: Any) -> RoutingParams:
        return RoutingParams(time_limit_s=UNBOUND_S, solution_limit=SOLUTIONS)

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


def _stop_row(stop: Any) -> list[str | None]:
    """A stop as the digest reads it: where (kind, name, company, hub, county) and when."""
    when = [stop.arrive.isoformat(), stop.depart.isoformat()]
    return [stop.kind, stop.name, stop.company_id, stop.hub_id, stop.adcode, *when]


def trips_digest(trips: Sequence[Any]) -> str:
    """A hash of the trips as a dispatcher sees them: date, coach type, stops (kind, name,
    company, hub, county, times) and riders (worker, boarding and alighting stop), sorted and
    without trip ids, so that a refactor that only numbers or orders the trips otherwise still
    counts as the same plans."""
    rows = sorted(
        json.dumps(
            [
                trip.departure_date.isoformat(),
                trip.vehicle_type,
                [_stop_row(stop) for stop in trip.stops],
                sorted([p.worker_id, p.board_stop, p.alight_stop] for p in trip.passengers),
            ],
            ensure_ascii=False,
        )
        for trip in trips
    )
    return hashlib.sha256("\n".join(rows).encode("utf-8")).hexdigest()[:16]


def _setting(value: str) -> Any:
    """A `--after-set` value as Python: JSON when it parses (numbers, true/false, null), else
    the text."""
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def fingerprint(
    folder: Path, solutions: int = PART_SOLUTIONS, settings: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The product's plan of `folder` (solve_within_fleet, default distances) made repeatable,
    reduced to seated, trips and `trips_digest`. `settings` are `solver.KEY` and `policy.KEY`
    values, set after the deterministic ones."""
    from optimizer.read import read_scenario
    from optimizer.season import solve_within_fleet
    from optimizer.solve import default_distance_provider

    scenario = read_scenario(folder)
    solver = dataclasses.replace(
        scenario.solver,
        workers=1,
        time_limit_s=UNBOUND_S,
        lower_bound_share=0.0,
        part_solution_limit=solutions,
    )
    changes: dict[str, dict[str, Any]] = {"solver": {}, "policy": {}}
    for key, value in (settings or {}).items():
        section, _, name = key.partition(".")
        if section not in changes or not name:
            raise ValueError(f"only solver.KEY and policy.KEY can be set, not {key!r}")
        changes[section][name] = value
    scenario = scenario.replace(
        solver=dataclasses.replace(solver, **changes["solver"]),
        policy=dataclasses.replace(scenario.policy, **changes["policy"]),
    )
    started = time.perf_counter()
    plan, _ = solve_within_fleet(scenario, distances=default_distance_provider())
    return {
        "scenario": scenario.name,
        "seated": plan.kpis.seated,
        "trips": len(plan.trips),
        "digest": trips_digest(plan.trips),
        "plan_s": round(time.perf_counter() - started, 1),
    }


def one_command(scenario: Path, solutions: int, settings: Mapping[str, Any]) -> list[str]:
    """A child's command: this file as a script (so the side's `optimizer` is the one on
    PYTHONPATH, not ours), its `one` command."""
    command = [sys.executable, str(Path(__file__).resolve()), "one", "--scenario", str(scenario)]
    command += ["--solutions", str(solutions)]
    for key, value in settings.items():
        command += ["--set", f"{key}={json.dumps(value)}"]
    return command


def same_plans(
    before: str,
    after: str,
    scenarios: Sequence[Path],
    *,
    solutions: int = PART_SOLUTIONS,
    after_settings: Mapping[str, Any] | None = None,
    timeout_s: float = 2 * UNBOUND_S,
    progress: Any = None,
) -> list[dict[str, Any]]:
    """Per scenario, both sides' fingerprints and whether they are equal (`equal`: False also
    when a side failed). Both sides of a scenario run at the same time, from their own exports."""
    from benchmarks.pairs import export, run_sides

    rows = []
    with tempfile.TemporaryDirectory(prefix="chunyun-same-") as work:
        sides = {"before": export(before, Path(work) / "before")}
        sides["after"] = export(after, Path(work) / "after")
        settings = {"before": {}, "after": dict(after_settings or {})}
        for scenario in scenarios:
            commands = {
                name: (side, one_command(scenario.resolve(), solutions, settings[name]))
                for name, side in sides.items()
            }
            row: dict[str, Any] = {"scenario": str(scenario)}
            for name, result in run_sides(commands, Path(work), timeout_s).items():
                row[name] = result | {"commit": sides[name].commit}
            keys = ("seated", "trips", "digest")
            row["equal"] = all("error" not in row[s] for s in sides) and all(
                row["before"].get(k) == row["after"].get(k) for k in keys
            )
            rows.append(row)
            if progress is not None:
                progress(render_row(row))
    return rows


def render_row(row: Mapping[str, Any]) -> str:
    """One scenario's line: both fingerprints and the verdict."""

    def side(result: Mapping[str, Any]) -> str:
        if "error" in result:
            return f"error: {result['error']}"
        return (
            f"seated {result['seated']:,}, trips {result['trips']}, digest {result['digest']} "
            f"({result['plan_s']} s)"
        )

    verdict = "equal" if row["equal"] else "DIFFERENT"
    return (
        f"{Path(row['scenario']).name}: {verdict}\n"
        f"  before {row['before']['commit'][:12]}: {side(row['before'])}\n"
        f"  after  {row['after']['commit'][:12]}: {side(row['after'])}"
    )


def _settings(pairs: Sequence[str]) -> dict[str, Any]:
    """`KEY=VALUE` strings as a mapping of parsed values."""
    parsed = {}
    for text in pairs:
        key, sep, value = text.partition("=")
        if not sep:
            raise ValueError(f"expected KEY=VALUE, got {text!r}")
        parsed[key.strip()] = _setting(value.strip())
    return parsed


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `same` command's options."""
    parser.add_argument("--before", required=True, help="revision (or folder) of the base")
    parser.add_argument("--after", required=True, help="revision (or folder) of the change")
    parser.add_argument(
        "--scenario", type=Path, action="append", required=True, help="a scenario folder"
    )
    parser.add_argument(
        "--solutions",
        type=int,
        default=PART_SOLUTIONS,
        help=f"solutions per routed part (default {PART_SOLUTIONS})",
    )
    parser.add_argument(
        "--after-set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="a solver.KEY or policy.KEY setting for the after side only",
    )


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Compare the two revisions on every scenario; 0 when all are equal, 1 otherwise."""
    missing = [str(f) for f in args.scenario if not (f / "scenario.toml").exists()]
    if missing:
        parser.error(f"no scenario folder: {', '.join(missing)}")
    try:
        rows = same_plans(
            args.before,
            args.after,
            args.scenario,
            solutions=args.solutions,
            after_settings=_settings(args.after_set),
            progress=lambda line: print(line, flush=True),
        )
    except ValueError as error:
        parser.error(str(error))
    differing = [Path(r["scenario"]).name for r in rows if not r["equal"]]
    print(
        f"same plans on all {len(rows)} scenario(s)"
        if not differing
        else f"DIFFERENT on {len(differing)} of {len(rows)}: {', '.join(differing)}"
    )
    return 1 if differing else 0


def _one(argv: list[str]) -> int:
    """`one --scenario DIR [--solutions N] [--set solver.KEY=VALUE ...]`: one JSON line."""
    parser = argparse.ArgumentParser(prog="same_plans.py one")
    parser.add_argument("--scenario", type=Path, required=True)
    parser.add_argument("--solutions", type=int, default=PART_SOLUTIONS)
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    args = parser.parse_args(argv)
    print(json.dumps(fingerprint(args.scenario, args.solutions, _settings(args.set))))
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["one"]:
        return _one(argv[1:])
    if argv[:1] == ["same"]:
        parser = argparse.ArgumentParser(prog="python -m benchmarks.same_plans same")
        add_arguments(parser)
        return run(parser.parse_args(argv[1:]), parser)
    if not argv:
        sys.stderr.write(
            "usage: python -m benchmarks.same_plans OUT_DIR [FOLDER ...]\n"
            "       python -m benchmarks.same_plans same --before REV --after REV --scenario DIR\n"
        )
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
