"""Two revisions of the planner side by side on the robustness family, with medians over pairs.

    python -m benchmarks.robustness pairs --before REV --after REV --seasons a,b,c [--pairs 3]
                                          [--family DIR] [--seed N] [--entry fleet]
                                          [--time-limit S] [--out FILE.json]
                                          [--policy KEY=VALUE ...] [--after-policy KEY=VALUE ...]
    python -m benchmarks.robustness pairs --table FILE.json      # the table of a finished run

Each revision is exported with `git archive REV` into a folder of its own (a REV that is no
revision but an existing folder is used as it is, e.g. a worktree with uncommitted work). Then,
one round after another and in each round one season after another, the two sides of a season
run **at the same time**: two child processes `python -m benchmarks.robustness one --scenario
DIR/NAME-sSEED --entry fleet`, each from its own folder with PYTHONPATH there and this
interpreter (so the venv's packages, the revision's code). The 1-min load average is read when
a pair starts and when both have ended. A season that is not a folder of the family is read as
`NAME-sSEED`.

`--policy KEY=VALUE` (repeatable) changes a `[policy]` value of every season on both sides,
`--after-policy KEY=VALUE` on the after side only (after `--policy`): the same commit twice with
`--after-policy fresh_crew_at_origin=true` measures a switch. A value is read as scenario.toml
reads it (`true`, `3`, `1.5`, `"text"`; a bare word is text) and checked by the same type check
before anything runs; each child gets it as `one --policy KEY=VALUE`, so both revisions must
know that option.

Rounds, not seasons, on the outer loop: when the load changes over the hour, each season's pairs
still meet the same spread of it. The JSON (`--out`) is written again after every pair, so a run
cut short keeps what it measured; `--table` renders it.

The table: per season and figure, the median over the pairs of each side with the range in
brackets, and the after / before ratio of the medians. *unserved / bound* is (servable bound -
seated) / servable bound, the share of what any plan could seat that this one left unseated;
a side whose runner has no bound (an older revision) is read against the other side's. Under
the table, every plan with checker errors is listed with the checker's first error texts (the
progress line names the first one as the pair ends), so an error seen once is not lost.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SIDES = ("before", "after")
# A figure over the pairs of one side: (median, lowest, highest), None without a value.
Summary = tuple[float, float, float] | None


@dataclass(frozen=True)
class Side:
    """One revision as it runs: the name given, the commit it resolved to, its folder."""

    rev: str
    commit: str
    folder: Path


def resolve(rev: str, repo: Path = ROOT) -> str:
    """The full commit hash of `rev` in `repo`."""
    done = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--verify", f"{rev}^{{commit}}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def export(rev: str, into: Path, repo: Path = ROOT) -> Side:
    """`rev`'s tree unpacked into `into` (`git archive REV | tar -x`); a name that is no
    revision but an existing folder is used in place."""
    try:
        commit = resolve(rev, repo)
    except subprocess.CalledProcessError:
        if Path(rev).is_dir():
            return Side(rev, "folder", Path(rev).resolve())
        raise ValueError(f"{rev!r} is neither a revision of {repo} nor a folder") from None
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.Popen(
        ["git", "-C", str(repo), "archive", "--format=tar", commit], stdout=subprocess.PIPE
    )
    try:
        subprocess.run(["tar", "-x", "-C", str(into)], stdin=archive.stdout, check=True)
    finally:
        assert archive.stdout is not None
        archive.stdout.close()
        archive.wait()
    if archive.returncode != 0:
        raise RuntimeError(f"git archive {rev} failed (exit {archive.returncode})")
    return Side(rev, commit, into)


def season_folder(family: Path, season: str, seed: int) -> Path:
    """The family member's folder: `family/season` when it exists, else `family/season-sSEED`."""
    plain = family / season
    return plain if plain.is_dir() else family / f"{season}-s{seed}"


def season_name(season: str, seed: int) -> str:
    """The season as the table names it: without the seed suffix."""
    suffix = f"-s{seed}"
    return season[: -len(suffix)] if season.endswith(suffix) else season


def one_command(
    scenario: Path, entry: str, time_limit_s: float | None, policy: Sequence[str] = ()
) -> list[str]:
    """The child's command: `benchmarks.robustness one` under this interpreter, with each
    `KEY=VALUE` of `policy` as a `--policy` option."""
    command = [sys.executable, "-m", "benchmarks.robustness", "one"]
    command += ["--scenario", str(scenario), "--entry", entry]
    if time_limit_s is not None:
        command += ["--time-limit", str(time_limit_s)]
    for setting in policy:
        command += ["--policy", setting]
    return command


def setting_value(text: str) -> Any:
    """A `--policy` value as scenario.toml would hold it: a TOML value (`true`, `3`, `1.5`,
    `"text"`), or the text itself when it is none (a bare word)."""
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def policy_values(settings: Sequence[str]) -> dict[str, Any]:
    """`KEY=VALUE` texts as a `[policy]` table (a later key wins); ValueError without `=`."""
    table: dict[str, Any] = {}
    for text in settings:
        key, sep, value = text.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--policy expects KEY=VALUE, not {text!r}")
        table[key.strip()] = setting_value(value.strip())
    return table


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _result(done: int | None, out: Path, err: Path, timeout_s: float) -> dict[str, Any]:
    """The child's JSON line, or {"error": ...}: its last stderr line, exit code or timeout."""
    if done is None:
        return {"error": f"no answer within {timeout_s:.0f} s"}
    lines = out.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    if done != 0 or not lines:
        tail = err.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        return {"error": tail[-1] if tail else f"exit {done}"}
    try:
        result: dict[str, Any] = json.loads(lines[-1])
    except json.JSONDecodeError:
        return {"error": f"no JSON on the last output line: {lines[-1][:200]}"}
    return result


def run_sides(
    commands: Mapping[str, tuple[Side, list[str]]], logs: Path, timeout_s: float = 3600.0
) -> dict[str, dict[str, Any]]:
    """Each side's command at the same time, a child process run from its side's folder with
    that folder first on PYTHONPATH; per side its JSON line or {"error": ...} (`_result`)."""
    logs.mkdir(parents=True, exist_ok=True)
    children = {}
    for name, (side, command) in commands.items():
        out, err = logs / f"{name}.out", logs / f"{name}.err"
        env = dict(os.environ, PYTHONPATH=str(side.folder))
        with out.open("w") as stdout, err.open("w") as stderr:
            child = subprocess.Popen(
                command, cwd=side.folder, env=env, stdout=stdout, stderr=stderr
            )
        children[name] = (child, out, err)
    results = {}
    for name, (child, out, err) in children.items():
        try:
            code: int | None = child.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
            code = None
        results[name] = _result(code, out, err, timeout_s)
    return results


def run_pair(
    sides: Mapping[str, Side],
    scenario: Path,
    entry: str,
    time_limit_s: float | None,
    logs: Path,
    timeout_s: float = 3600.0,
    policies: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """Both sides on `scenario` at the same time, each a child process from its own folder,
    each with its side's `KEY=VALUE` policy settings (`policies`, none when absent)."""
    logs.mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] = {"started_utc": _now(), "load_start": _load()}
    commands = {
        name: (side, one_command(scenario, entry, time_limit_s, (policies or {}).get(name, ())))
        for name, side in sides.items()
    }
    record |= run_sides(commands, logs, timeout_s)
    record["ended_utc"] = _now()
    record["load_end"] = _load()
    return record


def run_pairs(
    before: str,
    after: str,
    seasons: Sequence[str],
    pairs: int,
    family: Path,
    *,
    seed: int = 11,
    entry: str = "fleet",
    time_limit_s: float | None = None,
    out: Path | None = None,
    work: Path | None = None,
    timeout_s: float = 3600.0,
    progress: Callable[[str], None] = print,
    policy: Sequence[str] = (),
    after_policy: Sequence[str] = (),
) -> dict[str, Any]:
    """Run every season `pairs` times with both sides at once (see the module's text) and
    return the record: the two sides (with the `[policy]` values each was given), and every
    pair's runs with its loads. `policy` is `KEY=VALUE` settings for both sides,
    `after_policy` for the after side only (after `policy`)."""
    policies = {"before": list(policy), "after": [*policy, *after_policy]}
    tables = {side: policy_values(settings) for side, settings in policies.items()}
    folders = {s: season_folder(family, s, seed) for s in seasons}
    missing = [str(f) for f in folders.values() if not (f / "scenario.toml").exists()]
    if missing:
        raise FileNotFoundError(f"no scenario folder: {', '.join(missing)}")
    own_work = work is None
    work = Path(tempfile.mkdtemp(prefix="chunyun-pairs-")) if work is None else work
    try:
        sides = {
            "before": export(before, work / "before"),
            "after": export(after, work / "after"),
        }
        record: dict[str, Any] = {
            "before": {"rev": before, "commit": sides["before"].commit},
            "after": {"rev": after, "commit": sides["after"].commit},
            "policy": tables,
            "family": str(family),
            "seed": seed,
            "entry": entry,
            "time_limit_s": time_limit_s,
            "seasons": [season_name(s, seed) for s in seasons],
            "pairs_asked": pairs,
            "python": sys.executable,
            "runs": [],
        }
        for round_ in range(1, pairs + 1):
            for season in seasons:
                name = season_name(season, seed)
                logs = work / "logs" / f"{name}-{round_}"
                run = run_pair(
                    sides, folders[season], entry, time_limit_s, logs, timeout_s, policies
                )
                run = {"season": name, "pair": round_} | run
                record["runs"].append(run)
                progress(_progress_line(run))
                if out is not None:
                    write_record(record, out)
        return record
    finally:
        if own_work:
            shutil.rmtree(work, ignore_errors=True)


def write_record(record: Mapping[str, Any], out: Path) -> None:
    """The record as JSON, replaced whole (written beside, then renamed)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    partial.replace(out)


def _progress_line(run: Mapping[str, Any]) -> str:
    def side(result: Mapping[str, Any]) -> str:
        if "error" in result:
            return f"error: {result['error']}"
        text = (
            f"seated {result.get('seated')}, trips {result.get('trips')}, {result.get('plan_s')} s"
        )
        if result.get("checker_errors"):
            first = result.get("checker_first_errors") or ["(no text kept)"]
            text += f", {result['checker_errors']} checker error(s), first: {first[0]}"
        return text

    return (
        f"{run['season']} pair {run['pair']} ({run['started_utc']} UTC, load "
        f"{run['load_start']}-{run['load_end']}): before {side(run['before'])}; "
        f"after {side(run['after'])}"
    )


# --------------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Figure:
    """A row of the table: how to read it from one run, and how to write a value."""

    label: str
    read: Callable[[Mapping[str, Any], float | None], float | None]
    write: Callable[[float], str]


def bound_of(run: Mapping[str, Any]) -> float | None:
    """The run's servable bound, when its runner reports one."""
    value = run.get("fleet_servable_bound")
    return float(value) if isinstance(value, int | float) else None


def unserved_share(run: Mapping[str, Any], bound: float | None) -> float | None:
    """(bound - seated) / bound, with the run's own bound or else `bound`."""
    own = bound_of(run)
    bound = own if own is not None else bound
    seated = run.get("seated")
    if not bound or not isinstance(seated, int | float):
        return None
    return (bound - seated) / bound


def _number(key: str) -> Callable[[Mapping[str, Any], float | None], float | None]:
    def read(run: Mapping[str, Any], _: float | None) -> float | None:
        value = run.get(key)
        return float(value) if isinstance(value, int | float) else None

    return read


def _count(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


FIGURES: tuple[Figure, ...] = (
    Figure("seated", _number("seated"), _count),
    Figure("trips", _number("trips"), _count),
    Figure("lower bound (trips)", _number("lower_bound_trips"), _count),
    Figure("unserved / bound", unserved_share, lambda v: f"{v:.2%}"),
    Figure("plan s", _number("plan_s"), lambda v: f"{v:.1f}"),
    Figure("checker errors", _number("checker_errors"), _count),
)


def median_range(values: Sequence[float]) -> Summary:
    """(median, lowest, highest), or None when there is no value."""
    if not values:
        return None
    return statistics.median(values), min(values), max(values)


def _cell(summary: Summary, n: int, of: int, write: Callable[[float], str]) -> str:
    if summary is None:
        return "–"
    middle, low, high = summary
    text = write(middle)
    if of > 1:
        text += f" ({write(low)}–{write(high)})" if low != high else f" ({write(low)} each)"
    if n < of:
        text += f", {n} of {of} runs"
    return text


def _ratio(after: Summary, before: Summary) -> str:
    """after / before of the medians; "1 (both 0)" for two zero medians."""
    if after is None or before is None:
        return "–"
    if before[0] == 0:
        return "1 (both 0)" if after[0] == 0 else "–"
    return f"{after[0] / before[0]:.3f}"


def season_bound(runs: Sequence[Mapping[str, Any]]) -> float | None:
    """The season's servable bound as any run of it reports it (the median when they differ)."""
    bounds = [b for run in runs for side in SIDES if (b := bound_of(run.get(side, {}))) is not None]
    return statistics.median(bounds) if bounds else None


def summarise(runs: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, tuple[Summary, int]]]:
    """For one season's runs: figure label -> side -> ((median, low, high) or None, values)."""
    bound = season_bound(runs)
    table: dict[str, dict[str, tuple[Summary, int]]] = {}
    for figure in FIGURES:
        table[figure.label] = {}
        for side in SIDES:
            values = [
                v
                for run in runs
                if "error" not in run.get(side, {"error": "missing"})
                and (v := figure.read(run[side], bound)) is not None
            ]
            table[figure.label][side] = (median_range(values), len(values))
    return table


def render_pairs(record: Mapping[str, Any]) -> list[str]:
    """The markdown table of a pairs record, then its loads, errors and fleets."""
    runs = record["runs"]
    seasons = list(dict.fromkeys([*record.get("seasons", []), *(r["season"] for r in runs)]))
    before, after = record["before"], record["after"]
    lines = [
        f"Before: {before['rev']} ({before['commit'][:10]}); after: {after['rev']} "
        f"({after['commit'][:10]}); entry `{record.get('entry', 'fleet')}`, family "
        f"{record.get('family', '?')}. Median over the pairs (range); after / before of the "
        "medians.",
        *_policy_lines(record.get("policy") or {}),
        "",
        "| season | pairs | figure | before | after | after / before |",
        "|---|---|---|---|---|---|",
    ]
    for season in seasons:
        mine = [r for r in runs if r["season"] == season]
        if not mine:
            continue
        summary = summarise(mine)
        bound = season_bound(mine)
        name = season if bound is None else f"{season} (servable bound {bound:,.0f})"
        for i, figure in enumerate(FIGURES):
            (b, nb), (a, na) = summary[figure.label]["before"], summary[figure.label]["after"]
            head = f"| {name} | {len(mine)} " if i == 0 else "| | "
            lines.append(
                head + f"| {figure.label} | {_cell(b, nb, len(mine), figure.write)} "
                f"| {_cell(a, na, len(mine), figure.write)} | {_ratio(a, b)} |"
            )
    loads = [r[k] for r in runs for k in ("load_start", "load_end") if k in r]
    if runs:
        lines += [
            "",
            f"{len(runs)} pair(s), {runs[0].get('started_utc', '?')} to "
            f"{runs[-1].get('ended_utc', '?')} UTC; load average (1 min) at the start and end of "
            + (
                f"the pairs: {min(loads)}-{max(loads)}, "
                f"median {round(statistics.median(loads), 2)}."
                if loads
                else "the pairs: not recorded."
            ),
        ]
        lines += [
            "",
            "| season | pair | started UTC | load start / end | before: seated, trips, plan s "
            "| after: seated, trips, plan s |",
            "|---|---|---|---|---|---|",
        ]
        for r in runs:
            lines.append(
                f"| {r['season']} | {r['pair']} | {r.get('started_utc', '')} "
                f"| {r.get('load_start', '')} / {r.get('load_end', '')} "
                f"| {_run_cell(r.get('before', {}))} | {_run_cell(r.get('after', {}))} |"
            )
    over = [
        f"{r['season']} pair {r['pair']} {side}"
        for r in runs
        for side in SIDES
        if r.get(side, {}).get("within_fleet") is False
    ]
    if over:
        lines += ["", "Over the fleet (`within_fleet` false): " + "; ".join(over) + "."]
    illegal = [(r, side) for r in runs for side in SIDES if r.get(side, {}).get("checker_errors")]
    if illegal:
        lines += ["", "Checker errors (tests/checker.py), the first of each plan that has any:", ""]
        for r, side in illegal:
            result = r[side]
            first = result.get("checker_first_errors") or ["(no text kept)"]
            lines.append(
                f"- {r['season']} pair {r['pair']} {side}: {result['checker_errors']} error(s): "
                + "; ".join(str(error) for error in first)
            )
    lines.append("")
    return lines


def _policy_lines(tables: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The `[policy]` values each side was given, when any side was given one."""
    if not any(tables.get(side) for side in SIDES):
        return []

    def shown(table: Mapping[str, Any]) -> str:
        values = [f"{key} = {json.dumps(value)}" for key, value in table.items()]
        return ", ".join(values) or "the seasons' own"

    return [
        "",
        f"Policy: before {shown(tables.get('before', {}))}; "
        f"after {shown(tables.get('after', {}))}.",
    ]


def _run_cell(result: Mapping[str, Any]) -> str:
    if "error" in result:
        return f"error: {result['error']}"
    seated, trips = result.get("seated"), result.get("trips")
    return ", ".join(
        f"{v:,}" if isinstance(v, int) else "–" if v is None else str(v)
        for v in (seated, trips, result.get("plan_s"))
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `pairs` command's options."""
    from benchmarks.family import DEFAULT_CACHE, DEFAULT_SEED

    parser.add_argument("--before", help="revision (or folder) of the base")
    parser.add_argument("--after", help="revision (or folder) of the change")
    parser.add_argument("--seasons", default="", help="comma-separated family members")
    parser.add_argument("--pairs", type=int, default=3, help="pairs per season (default 3)")
    parser.add_argument("--family", type=Path, default=DEFAULT_CACHE, help="the family's folder")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="the family's seed")
    parser.add_argument("--entry", default="fleet", help="planning entry point (default fleet)")
    parser.add_argument("--time-limit", type=float, default=None, help="override the budget, s")
    parser.add_argument("--timeout", type=float, default=3600.0, help="per run, s")
    parser.add_argument("--out", type=Path, default=None, help="JSON of every run")
    parser.add_argument("--table", type=Path, default=None, help="render a finished run's JSON")
    parser.add_argument(
        "--policy",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a [policy] value for both sides (repeatable)",
    )
    parser.add_argument(
        "--after-policy",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a [policy] value for the after side only (repeatable)",
    )


def check_policy(settings: Sequence[str]) -> None:
    """Raise ValueError (InvalidInput is one) for a `KEY=VALUE` setting that is no `[policy]`
    key or not of its TOML kind, before any season runs; ranges are the children's to check
    against each season's own policy."""
    from optimizer.model import Policy, check_table_types

    check_table_types(Policy, policy_values(settings), "policy")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Run the pairs (or render `--table`) and print the markdown table."""
    if args.table is not None:
        record = json.loads(args.table.read_text(encoding="utf-8"))
    else:
        seasons = [s.strip() for s in args.seasons.split(",") if s.strip()]
        if not (args.before and args.after and seasons) or args.pairs < 1:
            parser.error("--before, --after, --seasons and --pairs >= 1 are needed")
        try:
            check_policy([*args.policy, *args.after_policy])
            record = run_pairs(
                args.before,
                args.after,
                seasons,
                args.pairs,
                args.family,
                seed=args.seed,
                entry=args.entry,
                time_limit_s=args.time_limit,
                out=args.out,
                timeout_s=args.timeout,
                progress=lambda line: print(line, file=sys.stderr, flush=True),
                policy=args.policy,
                after_policy=args.after_policy,
            )
        except (ValueError, FileNotFoundError) as error:
            # A revision git does not know, a season with no folder: the user's input, not a crash.
            parser.error(str(error))
    print("\n".join(render_pairs(record)))
