"""`chunyun plan`: plan a scenario (or season) folder into a plan folder, with progress, plan and
fleet KPIs, and the documents (maps, manifests, trip sheets, notices) rendered at the end.

A scenario folder holds scenario.toml; a season folder holds `home/` and/or `return/` scenario
folders and is planned as one season, so coach duties chain the waves (backhaul).
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.cli.text import _, cli_locale, detail_text, error_text, service_message
from api.engine import solve_engine
from api.i18n import N_
from optimizer.errors import InvalidInput
from optimizer.geography.distance import DistanceProvider, GreatCircleProvider
from optimizer.model import FleetKpis, Plan, Scenario
from optimizer.read import read_scenario
from optimizer.season import SeasonPlan, plan_season, solve_within_fleet
from optimizer.sizing import fleet_advice, season_with_advice, with_advice
from optimizer.solve import default_distance_provider
from optimizer.write import write_plan, write_season

PROBLEMS_SHOWN = 20
SCENARIO_FILE = "scenario.toml"
WAVES = ("home", "return")


def season_waves(folder: Path) -> list[Path]:
    """The wave folders of a season folder (`home/`, `return/` holding scenario.toml), in order;
    empty when `folder` is a scenario folder itself or holds no wave."""
    if (folder / SCENARIO_FILE).is_file():
        return []
    return [folder / wave for wave in WAVES if (folder / wave / SCENARIO_FILE).is_file()]


@contextmanager
def progress_bar(console: Console) -> Iterator[Callable[[float, str], None]]:
    """A transient progress bar on `console` for a planning run; yields the planner's callback."""
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(_("planning"), total=1.0)

        def progress(fraction: float, text: str) -> None:
            bar.update(task, completed=fraction, description=detail_text(text))

        yield progress


def _provider(name: str) -> DistanceProvider:
    if name == "great-circle":
        return GreatCircleProvider()
    if name == "road":
        return default_distance_provider()
    raise typer.BadParameter(_("provider must be 'road' or 'great-circle'"))


def _report_problems(console: Console, scenario: Scenario) -> None:
    if not scenario.problems:
        return
    from api.i18n import translate_reason

    table = Table(
        title=_(
            "{count} bad input cell(s): those rows are not planned", count=len(scenario.problems)
        )
    )
    for column in (_("table"), _("row"), _("column"), _("value"), _("reason")):
        table.add_column(column)
    for problem in scenario.problems[:PROBLEMS_SHOWN]:
        table.add_row(
            problem.table,
            str(problem.row),
            problem.column,
            problem.value,
            translate_reason(cli_locale(), problem.reason),
        )
    console.print(table)
    if len(scenario.problems) > PROBLEMS_SHOWN:
        more = len(scenario.problems) - PROBLEMS_SHOWN
        console.print(_("… and {count} more in plan.json", count=more))


# Which bound gave `kpis.lower_bound_trips` (`optimizer.planning.kpis`), as the table names it.
BOUND_SOURCES = {"counting": N_("counting bound"), "lp": N_("LP bound")}
# A plan's direction as the table's title names it (plan.json's `direction` is an id).
DIRECTIONS = {"home": N_("homeward charter"), "return": N_("return charter")}


def _report_kpis(console: Console, plan: Plan) -> None:
    kpis = plan.kpis
    table = Table(
        title=_(
            "plan {scenario} ({direction})",
            scenario=plan.scenario,
            direction=_(DIRECTIONS.get(plan.direction, plan.direction)),
        )
    )
    table.add_column(_("figure"))
    table.add_column(_("value"), justify="right")
    gap = kpis.trips / kpis.lower_bound_trips if kpis.lower_bound_trips else 0.0
    rows = [
        (_("workers"), f"{kpis.workers}"),
        (_("seated"), f"{kpis.seated}"),
        (_("unserved"), f"{kpis.unserved}"),
        (_("trips"), f"{kpis.trips}"),
        (
            _("lower bound (trips)"),
            _(
                "{bound}  (trips / bound = {gap}; {source}, LP {seconds} s)",
                bound=kpis.lower_bound_trips,
                gap=f"{gap:.3f}",
                source=_(BOUND_SOURCES.get(kpis.lower_bound_source, kpis.lower_bound_source)),
                seconds=f"{kpis.lower_bound_seconds:.1f}",
            ),
        ),
        (_("seats offered"), f"{kpis.seats_offered}"),
        (_("seat utilization"), f"{kpis.seat_utilization:.1%}"),
        (_("coach-km"), f"{kpis.coach_km:,.0f}"),
        (_("lower bound (coach-km)"), f"{kpis.lower_bound_coach_km:,.0f}"),
        (_("passenger-km"), f"{kpis.passenger_km:,.0f}"),
        (_("cost"), f"{kpis.cost:,.0f}"),
        (_("solve seconds"), f"{kpis.solve_seconds:.1f}"),
    ]
    if kpis.origins > 1:
        rows.append(
            (
                _("origin counties"),
                _(
                    "{origins}  ({trips} trips board in several)",
                    origins=kpis.origins,
                    trips=kpis.cross_origin_trips,
                ),
            )
        )
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    from api.i18n import unserved_reason

    reasons = Counter(u.reason for u in plan.unserved)
    if reasons:
        listed = ", ".join(
            f"{unserved_reason(cli_locale(), r)} {n}" for r, n in reasons.most_common()
        )
        console.print(_("unserved by reason: {reasons}", reasons=listed))


def _report_fleet(console: Console, fleet: FleetKpis | None, title: str) -> None:
    if fleet is None:
        return
    table = Table(title=title)
    table.add_column(_("fleet figure"))
    table.add_column(_("value"), justify="right")
    by_type = ", ".join(
        _(
            "{kind} {count} (overlap bound {bound})",
            kind=kind,
            count=count,
            bound=fleet.overlap_bound_by_type.get(kind, 0),
        )
        for kind, count in sorted(fleet.coaches_by_type.items())
    )
    rows = [
        (_("physical coaches"), f"{fleet.coaches}"),
        (_("coaches by type"), by_type or "-"),
        (_("overlap bound"), f"{sum(fleet.overlap_bound_by_type.values())}"),
        (_("coach-days"), f"{fleet.coach_days}"),
        (_("deadhead km"), f"{fleet.deadhead_km:,.0f}"),
        (_("loaded km share"), f"{fleet.loaded_km_share:.1%}"),
        (_("shortages"), "; ".join(fleet.shortages) if fleet.shortages else _("none")),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    for advice in fleet.advice:
        console.print(
            service_message(
                "fleet_advice",
                add=advice.add,
                vehicle_type=advice.vehicle_type,
                from_date=advice.from_date,
            )
        )


def _read(scenario_dir: Path, solver_changes: dict[str, Any]) -> Scenario:
    scenario = read_scenario(scenario_dir)
    if solver_changes:
        scenario = scenario.replace(solver=dataclasses.replace(scenario.solver, **solver_changes))
    return scenario


def _render(
    console: Console,
    plan: Plan,
    scenario: Scenario,
    folder: Path,
    distances: DistanceProvider,
    *,
    render: bool,
    contact_phone: str,
) -> None:
    """The papers of `plan` into `folder`: all documents and maps, or the manifests alone.

    Manifest CSVs are always written, in the one format of `api.documents.manifest`.
    """
    from api.documents import render_plan, write_manifest_csv
    from api.documents.notices import safe_name

    if render:
        written = render_plan(
            plan, scenario, folder, distances, contact_phone=contact_phone, locale=cli_locale()
        )
        console.print(
            _(
                "rendered {count} files into {folder} "
                "(map.html, trips/, manifests/, trip_sheets/, notices.csv, notices/)",
                count=len(written.all()),
                folder=folder,
            )
        )
        return
    manifests = folder / "manifests"
    manifests.mkdir(parents=True, exist_ok=True)
    for old in manifests.glob("*.csv"):
        old.unlink()
    for trip in plan.trips:
        write_manifest_csv(trip, scenario, manifests / f"{safe_name(trip.trip_id)}.csv")


def plan_command(
    scenario_dir: Annotated[Path, typer.Argument(help="Scenario folder (scenario.toml, CSVs).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Plan folder to write.")],
    time_limit: Annotated[
        float | None, typer.Option("--time-limit", help="Seconds (default: scenario's [solver]).")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Processes for the routing parts: a Dask LocalCluster of N (with "
            "chunyun[cluster] installed), else the solver's own process pool.",
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="A running Dask scheduler (tcp://host:8786): its workers solve the routing "
            "parts (needs chunyun[cluster]).",
        ),
    ] = None,
    provider: Annotated[
        str, typer.Option("--provider", help="Distances: 'road' or 'great-circle'.")
    ] = "road",
    render: Annotated[
        bool,
        typer.Option(
            "--render/--no-render",
            help="Render maps, manifests, trip sheets and notices (--no-render: manifests only).",
        ),
    ] = True,
    contact_phone: Annotated[
        str, typer.Option("--contact-phone", help="Service phone printed in every worker SMS.")
    ] = "",
) -> None:
    """Plan SCENARIO_DIR (a scenario, or a season with home/ and return/) into --out.

    Writes plan.json, trips.csv, duties.csv, manifests and (unless --no-render) the maps and
    papers; a season gets OUT/home/, OUT/return/, OUT/season.json and OUT/duties.csv.
    """
    console = Console(stderr=True)
    changes: dict[str, Any] = {}
    if time_limit is not None:
        changes["time_limit_s"] = time_limit
    if workers is not None:
        changes["workers"] = workers
    waves = season_waves(scenario_dir)
    try:
        scenarios = [_read(folder, changes) for folder in (waves or [scenario_dir])]
    except InvalidInput as error:
        failed = _("cannot plan {folder}:", folder=scenario_dir)
        console.print(f"[red]{failed}[/red] {escape(error_text(error))}")
        raise typer.Exit(code=2) from None
    distances = _provider(provider)
    for scenario in scenarios:
        _report_problems(console, scenario)
    with ExitStack() as stack:
        try:
            engine = stack.enter_context(solve_engine(scheduler=scheduler, workers=workers))
        except InvalidInput as error:
            failed = _("cannot plan {folder}:", folder=scenario_dir)
            console.print(f"[red]{failed}[/red] {escape(error_text(error))}")
            raise typer.Exit(code=2) from None
        console.print(service_message("engine_started", engine=detail_text(engine.description)))
        if engine.executor is not None:
            # The solver shares its time budget among the parts that run at once.
            scenarios = [
                s.replace(solver=dataclasses.replace(s.solver, workers=engine.slots))
                for s in scenarios
            ]
        if waves:
            season = _plan_season(console, scenario_dir, scenarios, distances, engine.executor)
        else:
            plan = _plan_one(console, scenario_dir, scenarios, distances, engine.executor)
    if not waves:
        folder = write_plan(plan, scenarios[0], out, scenario_dir=scenario_dir)
        _report_kpis(console, plan)
        _report_fleet(
            console, plan.fleet_kpis, _("coach duties {scenario}", scenario=plan.scenario)
        )
        _render(
            console,
            plan,
            scenarios[0],
            folder,
            distances,
            render=render,
            contact_phone=contact_phone,
        )
        console.print(_("plan written to {folder}", folder=folder))
        return
    by_direction = {s.direction: (s, d) for s, d in zip(scenarios, waves, strict=True)}
    ordered = [by_direction[p.direction] for p in season.waves]
    folder = write_season(
        season, [s for s, _dir in ordered], out, scenario_dirs=[d for _s, d in ordered]
    )
    for wave in season.waves:
        _report_kpis(console, wave)
    _report_fleet(console, season.duties.kpis, _("coach duties over the season"))
    saved = f"{season.backhaul_saved_km:,.1f}"
    console.print(_("backhaul km saved: {km} km", km=saved))
    for wave, (scenario, _folder) in zip(season.waves, ordered, strict=True):
        _render(
            console,
            wave,
            scenario,
            folder / wave.direction,
            distances,
            render=render,
            contact_phone=contact_phone,
        )
    console.print(_("season written to {folder}", folder=folder))


def _plan_season(
    console: Console,
    scenario_dir: Path,
    scenarios: list[Scenario],
    distances: DistanceProvider,
    executor: concurrent.futures.Executor | None,
) -> SeasonPlan:
    with progress_bar(console) as progress:
        try:
            season = plan_season(
                scenarios, distances=distances, progress=progress, executor=executor
            )
            # Only a season with fleet_exhausted workers is planned again, for the advice.
            progress(1.0, _("fleet advice"))
            advice = fleet_advice(scenarios, season.waves, distances=distances)
            return season_with_advice(season, advice)
        except InvalidInput as error:
            failed = _("cannot plan {folder}:", folder=scenario_dir)
            console.print(f"[red]{failed}[/red] {escape(error_text(error))}")
            raise typer.Exit(code=2) from None


def _plan_one(
    console: Console,
    scenario_dir: Path,
    scenarios: list[Scenario],
    distances: DistanceProvider,
    executor: concurrent.futures.Executor | None,
) -> Plan:
    with progress_bar(console) as progress:
        try:
            plan, _sizes = solve_within_fleet(
                scenarios[0], distances=distances, progress=progress, executor=executor
            )
            progress(1.0, _("fleet advice"))
            return with_advice(plan, fleet_advice(scenarios, [plan], distances=distances))
        except InvalidInput as error:
            failed = _("cannot plan {folder}:", folder=scenario_dir)
            console.print(f"[red]{failed}[/red] {escape(error_text(error))}")
            raise typer.Exit(code=2) from None


def register(app: typer.Typer) -> None:
    """Add `chunyun plan` to the main app."""
    app.command(name="plan")(plan_command)
