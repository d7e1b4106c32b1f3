"""Robustness runs: one family member (benchmarks/family.py) planned by one entry point.

Each run happens in a fresh child process so that its wall time and peak memory are its own:

    python -m benchmarks.robustness one --scenario DIR --entry fleet|unlimited[|sizing]
                                        [--time-limit S]
    python -m benchmarks.robustness need --scenario DIR [--time-limit S]

Both print one JSON line; the runner (`python -m benchmarks --sections robustness`) collects
them into the report.

    python -m benchmarks.robustness pairs --before REV --after REV --seasons a,b,c [--pairs 3]
                                          [--family DIR] [--out FILE.json]

runs `one` for two revisions side by side, both at the same time, and prints medians over the
pairs (benchmarks/pairs.py).

    python -m benchmarks.robustness same --before REV --after REV --scenario DIR [--scenario DIR]

plans each scenario with both revisions made deterministic (solutions, not seconds, stop every
search) and says whether the plans are the same; exit 1 when not (benchmarks/same_plans.py).

**The one place to plug in.** `ENTRIES` are the planning entry points the benchmark runs on every
season (today: the product's `optimizer.season.solve_within_fleet`, and `optimizer.solve.solve`
with every coach count raised so the fleet never binds). `COLUMNS` are the extra figures read
from their outcomes. An entry or column whose code does not exist yet (`available()` is False:
the servable bound of plan.json's kpis, fleet sizing) is left out of the run and the report,
not shown empty: when the code lands, its column appears. Change the product's entry point here
when it moves.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import importlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import pairs, same_plans
from benchmarks.children import peak_mb, plan_figures
from optimizer.duties import DutyResult
from optimizer.geography.distance import DistanceProvider
from optimizer.model import Kpis, Plan, Scenario, VehicleType
from optimizer.read import read_scenario

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Outcome:
    """What a planning entry point returned: a plan, its coach duties when it chained them, and
    figures of its own (e.g. a sized fleet)."""

    plan: Plan | None = None
    duties: DutyResult | None = None
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Entry:
    """A planning entry point run on every season. `run` gets the scenario as read from its
    folder (the family's fleet, the time budget applied) and the distance provider."""

    name: str
    title: str
    run: Callable[[Scenario, DistanceProvider], Outcome]
    available: Callable[[], bool] = lambda: True


@dataclass(frozen=True)
class Column:
    """An extra figure of the report, read from the outcome of entry `entry`."""

    key: str
    header: str
    entry: str
    available: Callable[[], bool]
    measure: Callable[[Outcome, Scenario], Any]
    render: Callable[[Any], str] = str


def unlimited(scenario: Scenario) -> Scenario:
    """`scenario` with every coach type's count raised so that it never binds: as many coaches
    as there are workers, on every date (availability dates stay)."""
    raised = max(1, len(scenario.workers))
    fleet = tuple(
        dataclasses.replace(v, count=max(v.count, raised), count_by_date=()) for v in scenario.fleet
    )
    return scenario.replace(fleet=fleet)


def _plan_within_fleet(scenario: Scenario, provider: DistanceProvider) -> Outcome:
    from optimizer.season import solve_within_fleet

    plan, duties = solve_within_fleet(scenario, distances=provider)
    return Outcome(plan, duties)


def _plan_unlimited(scenario: Scenario, provider: DistanceProvider) -> Outcome:
    from optimizer.solve import solve

    return Outcome(solve(unlimited(scenario), distances=provider))


# Fleet sizing (issue 11): "module:function", the first that exists is used. It is called as
# function(scenario, distances=provider) and its result read as the JSON shape (`fleet`
# entries with vehicle_type, seats, count, needed_from, needed_to; `workers`, `seated`), as
# attributes or mapping keys. The product's is optimizer.sizing.size_fleet.
SIZING_FUNCTIONS = ("optimizer.sizing:size_fleet",)


def sizing_function() -> Callable[..., Any] | None:
    """The product's fleet-sizing function, or None while it does not exist."""
    for spec in SIZING_FUNCTIONS:
        module_name, _, name = spec.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        function = getattr(module, name, None)
        if callable(function):
            return function  # type: ignore[no-any-return]
    return None


def _get(value: Any, key: str) -> Any:
    if isinstance(value, Mapping):
        return value.get(key)
    return getattr(value, key, None)


def _size_fleet(scenario: Scenario, provider: DistanceProvider) -> Outcome:
    function = sizing_function()
    assert function is not None
    result = function(scenario, distances=provider)
    fleet = [
        {
            "vehicle_type": str(_get(entry, "vehicle_type")),
            "count": int(_get(entry, "count")),
            "needed_from": str(_get(entry, "needed_from") or ""),
            "needed_to": str(_get(entry, "needed_to") or ""),
        }
        for entry in _get(result, "fleet") or ()
    ]
    return Outcome(
        values={
            "sized_fleet": fleet,
            "sized_workers": _get(result, "workers"),
            "sized_seated": _get(result, "seated"),
            # The sizing's own plan (unlimited fleet), for the runner's progress line.
            "trips": _get(result, "trips"),
            "seated": _get(result, "seated"),
        }
    )


def _kpi_exists(name: str) -> Callable[[], bool]:
    return lambda: name in {f.name for f in dataclasses.fields(Kpis)}


def _servable_bound(outcome: Outcome, scenario: Scenario) -> Any:
    assert outcome.plan is not None
    return getattr(outcome.plan.kpis, "fleet_servable_bound")  # noqa: B009 (absent until issue 11)


def _render_sized(fleet: Any) -> str:
    if not isinstance(fleet, list):
        return str(fleet)
    return ", ".join(
        f"{f['vehicle_type']} {f['count']}"
        + (f" ({f['needed_from'][5:]}..{f['needed_to'][5:]})" if f["needed_from"] else "")
        for f in fleet
    )


ENTRIES: tuple[Entry, ...] = (
    Entry("fleet", "the product: optimizer.season.solve_within_fleet", _plan_within_fleet),
    Entry("unlimited", "optimizer.solve.solve, coach counts raised", _plan_unlimited),
    Entry(
        "sizing",
        "fleet sizing (optimizer, issue 11)",
        _size_fleet,
        available=lambda: sizing_function() is not None,
    ),
)

COLUMNS: tuple[Column, ...] = (
    Column(
        "fleet_servable_bound",
        "servable bound",
        "fleet",
        _kpi_exists("fleet_servable_bound"),
        _servable_bound,
    ),
    Column(
        "sized_fleet",
        "sized fleet",
        "sizing",
        lambda: sizing_function() is not None,
        lambda outcome, _: outcome.values["sized_fleet"],
        _render_sized,
    ),
)


def available_entries() -> list[Entry]:
    """The entry points whose code exists."""
    return [e for e in ENTRIES if e.available()]


def available_columns() -> list[Column]:
    """The extra columns whose code exists (and whose entry point runs)."""
    entries = {e.name for e in available_entries()}
    return [c for c in COLUMNS if c.entry in entries and c.available()]


def _entry(name: str) -> Entry:
    for entry in ENTRIES:
        if entry.name == name:
            return entry
    raise KeyError(f"no planning entry point {name!r}; known: {[e.name for e in ENTRIES]}")


def _read(
    folder: Path, time_limit_s: float | None, policy: Mapping[str, Any] | None = None
) -> Scenario:
    """The folder's scenario, with the time limit and the `[policy]` values `policy` changed."""
    scenario = read_scenario(folder)
    if policy:
        scenario = scenario.replace(policy=scenario.policy.updated(policy))
    if time_limit_s is not None:
        solver = dataclasses.replace(scenario.solver, time_limit_s=time_limit_s)
        scenario = scenario.replace(solver=solver)
    return scenario


def fleet_by_type(fleet: Sequence[VehicleType]) -> dict[str, int]:
    """Each coach type's count."""
    return {v.vehicle_type: v.count for v in fleet}


def run_one(
    folder: Path,
    entry_name: str,
    time_limit_s: float | None,
    policy: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Plan one folder with one entry point in this process and measure it; `policy` changes
    `[policy]` values of the folder's scenario.toml (`one --policy KEY=VALUE`).

    `plan_s` is the entry point alone; duties of a plan that did not chain its own (the
    unlimited plan) are chained afterwards, outside that time, against its own raised fleet."""
    from optimizer.season import coach_duties
    from optimizer.solve import default_distance_provider

    entry = _entry(entry_name)
    started = time.perf_counter()
    scenario = _read(folder, time_limit_s, policy)
    read_s = time.perf_counter() - started
    provider = default_distance_provider()
    started = time.perf_counter()
    outcome = entry.run(scenario, provider)
    plan_s = time.perf_counter() - started
    result: dict[str, Any] = {
        "scenario": scenario.name,
        "entry": entry.name,
        "time_limit_s": scenario.solver.time_limit_s,
        "fleet_by_type": fleet_by_type(scenario.fleet),
        "policy": dict(policy or {}),
        "read_s": round(read_s, 2),
        "plan_s": round(plan_s, 2),
    }
    plan, duties = outcome.plan, outcome.duties
    if plan is not None:
        if duties is None:
            duties = coach_duties(plan.trips, scenario, provider, unlimited(scenario).fleet)
        coaches = duties.kpis.coaches_by_type
        result |= plan_figures(plan) | {
            "cost": plan.kpis.cost,
            "coaches": duties.kpis.coaches,
            "coaches_by_type": coaches,
            "within_fleet": all(n <= result["fleet_by_type"].get(t, 0) for t, n in coaches.items()),
            "notes": list(plan.notes),
        }
        # The unlimited plan is checked against the fleet it was planned with.
        against = unlimited(scenario) if entry.name == "unlimited" else scenario
        result |= _checked(plan, duties, against, provider)
    result |= outcome.values
    for column in available_columns():
        if column.entry == entry.name:
            result[column.key] = column.measure(outcome, scenario)
    result["peak_mb"] = peak_mb()
    result["load_average_1min"] = round(os.getloadavg()[0], 2)
    return result


def _checked(
    plan: Plan, duties: DutyResult, scenario: Scenario, provider: DistanceProvider
) -> dict[str, Any]:
    """The independent checker's verdict on the plan with its duties (tests/checker.py, every
    rule a plan must obey, detours on the same roads), outside `plan_s`: a figure from an
    illegal plan is no figure. Left out (None) when the checker is not importable (the
    benchmarks run from an installed copy without the tests)."""
    try:
        from tests.checker import check_plan
    except ImportError:
        return {"checker_errors": None}
    from optimizer.season import with_duties

    started = time.perf_counter()
    errors = check_plan(scenario, with_duties(plan, duties), provider=provider)
    return {
        "checker_errors": len(errors),
        "checker_first_errors": errors[:5],
        "check_s": round(time.perf_counter() - started, 2),
    }


def commit() -> str:
    """The short hash of the checked-out commit of this repository."""
    done = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "unknown"


def measure_need(folder: Path, time_limit_s: float | None) -> dict[str, Any]:
    """The season's need: plan it with an unlimited fleet, chain the trips into coach duties and
    count the physical coaches per type (every type of the fleet listed, 0 if unused)."""
    from optimizer.season import coach_duties
    from optimizer.solve import default_distance_provider, solve

    scenario = _read(folder, time_limit_s)
    provider = default_distance_provider()
    raised = unlimited(scenario)
    started = time.perf_counter()
    plan = solve(raised, distances=provider)
    plan_s = time.perf_counter() - started
    duties = coach_duties(plan.trips, raised, provider)
    need = {v.vehicle_type: 0 for v in scenario.fleet} | duties.kpis.coaches_by_type
    return {
        "need": need,
        "trips": plan.kpis.trips,
        "workers": plan.kpis.workers,
        "seated": plan.kpis.seated,
        "plan_s": round(plan_s, 2),
        "time_limit_s": scenario.solver.time_limit_s,
        "commit": commit(),
        "date": dt.datetime.now().isoformat(timespec="minutes"),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def run_in_child(
    folder: Path, entry: str, time_limit_s: float | None, timeout_s: float = 3600
) -> dict[str, Any]:
    """`run_one` in a fresh interpreter; a failure is returned as {"error": last stderr line}."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.robustness",
        "one",
        "--scenario",
        str(folder),
        "--entry",
        entry,
    ]
    if time_limit_s is not None:
        command += ["--time-limit", str(time_limit_s)]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired:
        return {"entry": entry, "error": f"no answer within {timeout_s:.0f} s"}
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        return {"entry": entry, "error": lines[-1] if lines else f"exit {done.returncode}"}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> None:
    """`python -m benchmarks.robustness one|need ...`: print one JSON line; `pairs ...`: the
    side-by-side table (benchmarks/pairs.py); `same ...`: the same plans or not, exit 1 when
    not (benchmarks/same_plans.py)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.robustness", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("one", help="plan a folder with one entry point")
    one.add_argument("--scenario", type=Path, required=True)
    one.add_argument("--entry", required=True, choices=[e.name for e in ENTRIES])
    one.add_argument("--time-limit", type=float, default=None)
    one.add_argument(
        "--policy",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a [policy] value, typed as scenario.toml types it (repeatable)",
    )
    need = sub.add_parser("need", help="coaches per type an unlimited-fleet plan's duties use")
    need.add_argument("--scenario", type=Path, required=True)
    need.add_argument("--time-limit", type=float, default=None)
    pairs_parser = sub.add_parser(
        "pairs",
        help="two revisions side by side, medians over pairs",
        description=pairs.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    pairs.add_arguments(pairs_parser)
    same_parser = sub.add_parser(
        "same",
        help="two revisions made deterministic: the same plans or not (exit 1)",
        description=same_plans.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    same_plans.add_arguments(same_parser)
    args = parser.parse_args(argv)
    if args.command == "pairs":
        pairs.run(args, pairs_parser)
        return
    if args.command == "same":
        raise SystemExit(same_plans.run(args, same_parser))
    if args.command == "one":
        try:
            policy = pairs.policy_values(args.policy)
            result = run_one(args.scenario, args.entry, args.time_limit, policy)
        except ValueError as error:  # InvalidInput: a bad folder or --policy value, no crash
            one.error(str(error))
    else:
        result = measure_need(args.scenario, args.time_limit)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()


# --------------------------------------------------------------------------------- report


def _by_type(values: Mapping[str, int], order: Sequence[str]) -> str:
    return "/".join(str(values.get(t, 0)) for t in order)


def _reasons(run: Mapping[str, Any]) -> str:
    reasons = run.get("unserved_by_reason") or {}
    return ", ".join(f"{k} {v:,}" for k, v in sorted(reasons.items())) or "0"


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.3f}" if a is not None and b else ""


def render_robustness(section: Mapping[str, Any]) -> list[str]:
    """The report's robustness part: the family's knobs, then each season's plans."""
    rows = section["seasons"]
    entries = section["entries"]
    columns = section["columns"]
    lines = [
        "## Robustness family",
        "",
        f"Family seed {section['seed']}; planner commit {section['commit']}; entry points: "
        + "; ".join(f"*{e['name']}* = {e['title']}" for e in entries)
        + ". Coach counts by type, largest first.",
        "",
        "| season | wave | workers | counties (near) | dates (main) | windows, days | companies "
        "| in families | hubs | fixed RMB / RMB per km | fleet | need | fleet / need |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        order = list(r["fleet"])
        lines.append(
            f"| {r['name']} | {r['direction']} | {r['workers']:,} | {r['counties']} "
            f"({r['near_share']:.0%}) | {r['season_days']} ({r['main_days']}) "
            f"| {r['window_days'][0]}-{r['window_days'][1]} | {r['companies']} "
            f"| {r['party_share']:.0%} | {r['hubs']} "
            f"| {r['fixed_cost']:,.0f} / {r['cost_per_km']:g} "
            f"| {_by_type(r['fleet'], order)} | {_by_type(r['need'], order)} "
            f"| {r['fleet_over_need']} |"
        )
    extra = [c["header"] for c in columns]
    timed = [e["name"] for e in entries]
    lines += [
        "",
        "| season | trips | bound | trips / bound | seat use | seated | unserved | unlimited: "
        "trips (bound) | unlimited: seated | trips / unlimited | coaches / fleet "
        "| unlimited: coaches "
        + "".join(f"| {h} " for h in extra)
        + f"| plan s ({' / '.join(timed)}) | peak MB ({' / '.join(timed)}) |",
        "|---" * (13 + len(extra)) + "|",
    ]
    for r in rows:
        order = list(r["fleet"])
        fleet = r["runs"].get("fleet", {})
        free = r["runs"].get("unlimited", {})
        if "error" in fleet or "error" in free:
            lines.append(
                f"| {r['name']} | error: {fleet.get('error', '')} {free.get('error', '')} |"
            )
            continue
        cells = [
            r["name"],
            str(fleet.get("trips")),
            str(fleet.get("lower_bound_trips")),
            str(fleet.get("trips_over_bound")),
            f"{fleet.get('seat_utilization', 0):.1%}",
            f"{fleet.get('seated', 0):,}",
            _reasons(fleet),
            f"{free.get('trips')} ({free.get('lower_bound_trips')})",
            f"{free.get('seated', 0):,}",
            _ratio(fleet.get("trips"), free.get("trips")),
            f"{_by_type(fleet.get('coaches_by_type', {}), order)} of "
            f"{_by_type(r['fleet'], order)}" + ("" if fleet.get("within_fleet") else " (over)"),
            _by_type(free.get("coaches_by_type", {}), order),
        ]
        for column in columns:
            value = r["runs"].get(column["entry"], {}).get(column["key"])
            render = next((c.render for c in COLUMNS if c.key == column["key"]), str)
            cells.append("" if value is None else render(value))
        cells.append(" / ".join(str(r["runs"].get(e, {}).get("plan_s", "")) for e in timed))
        cells.append(" / ".join(str(r["runs"].get(e, {}).get("peak_mb", "")) for e in timed))
        lines.append("| " + " | ".join(cells) + " |")
    loads = sorted(
        run["load_average_1min"]
        for r in rows
        for run in r["runs"].values()
        if "load_average_1min" in run
    )
    if loads:
        lines += [
            "",
            f"Load average (1 min) at the end of the runs: {loads[0]}-{loads[-1]}, "
            f"median {loads[len(loads) // 2]}.",
        ]
    checked = [
        (r["name"], name, run)
        for r in rows
        for name, run in r["runs"].items()
        if run.get("checker_errors") is not None
    ]
    if checked:
        broken = [(season, name, run) for season, name, run in checked if run["checker_errors"]]
        lines += [
            "",
            f"Independent checker (tests/checker.py): {len(checked)} plan(s) checked, "
            + ("all valid." if not broken else f"{len(broken)} with errors:"),
        ]
        for season, name, run in broken:
            first = "; ".join(run.get("checker_first_errors", [])[:2])
            lines.append(f"- {season} ({name}): {run['checker_errors']} error(s), e.g. {first}")
    lines.append("")
    return lines
