"""`chunyun plan`: plan a scenario folder into a plan folder, with progress and a KPI summary."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from optimizer.errors import InvalidInput
from optimizer.geography.distance import DistanceProvider, GreatCircleProvider
from optimizer.model import Plan, Scenario
from optimizer.read import read_scenario
from optimizer.solve import default_distance_provider, solve
from optimizer.write import write_plan

PROBLEMS_SHOWN = 20


def _provider(name: str) -> DistanceProvider:
    if name == "great-circle":
        return GreatCircleProvider()
    if name == "road":
        return default_distance_provider()
    raise typer.BadParameter("provider must be 'road' or 'great-circle'")


def _report_problems(console: Console, scenario: Scenario) -> None:
    if not scenario.problems:
        return
    table = Table(title=f"{len(scenario.problems)} bad input cell(s): those rows are not planned")
    for column in ("table", "row", "column", "value", "reason"):
        table.add_column(column)
    for problem in scenario.problems[:PROBLEMS_SHOWN]:
        table.add_row(
            problem.table, str(problem.row), problem.column, problem.value, problem.reason
        )
    console.print(table)
    if len(scenario.problems) > PROBLEMS_SHOWN:
        console.print(f"… and {len(scenario.problems) - PROBLEMS_SHOWN} more in plan.json")


def _report_kpis(console: Console, plan: Plan) -> None:
    kpis = plan.kpis
    table = Table(title=f"plan {plan.scenario} ({plan.direction})")
    table.add_column("figure")
    table.add_column("value", justify="right")
    gap = kpis.trips / kpis.lower_bound_trips if kpis.lower_bound_trips else 0.0
    rows = [
        ("workers", f"{kpis.workers}"),
        ("seated", f"{kpis.seated}"),
        ("unserved", f"{kpis.unserved}"),
        ("trips", f"{kpis.trips}"),
        ("lower bound (trips)", f"{kpis.lower_bound_trips}  (trips / bound = {gap:.3f})"),
        ("seats offered", f"{kpis.seats_offered}"),
        ("seat utilization", f"{kpis.seat_utilization:.1%}"),
        ("coach-km", f"{kpis.coach_km:,.0f}"),
        ("lower bound (coach-km)", f"{kpis.lower_bound_coach_km:,.0f}"),
        ("passenger-km", f"{kpis.passenger_km:,.0f}"),
        ("cost", f"{kpis.cost:,.0f}"),
        ("solve seconds", f"{kpis.solve_seconds:.1f}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    reasons = Counter(str(u.reason) for u in plan.unserved)
    if reasons:
        console.print(
            "unserved by reason: " + ", ".join(f"{r} {n}" for r, n in reasons.most_common())
        )


def plan_command(
    scenario_dir: Annotated[Path, typer.Argument(help="Scenario folder (scenario.toml, CSVs).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Plan folder to write.")],
    time_limit: Annotated[
        float | None, typer.Option("--time-limit", help="Seconds (default: scenario's [solver]).")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed.")] = None,
    workers: Annotated[int | None, typer.Option("--workers", help="Solver processes.")] = None,
    provider: Annotated[
        str, typer.Option("--provider", help="Distances: 'road' or 'great-circle'.")
    ] = "road",
) -> None:
    """Plan the coach trips of SCENARIO_DIR and write plan.json, trips.csv and manifests."""
    console = Console(stderr=True)
    try:
        scenario = read_scenario(scenario_dir)
        solver = scenario.solver
        if time_limit is not None:
            solver = dataclasses.replace(solver, time_limit_s=time_limit)
        if seed is not None:
            solver = dataclasses.replace(solver, seed=seed)
        if workers is not None:
            solver = dataclasses.replace(solver, workers=workers)
        scenario = scenario.replace(solver=solver)
    except InvalidInput as error:
        console.print(f"[red]cannot plan {scenario_dir}:[/red] {error}")
        raise typer.Exit(code=2) from None
    distances = _provider(provider)
    _report_problems(console, scenario)
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("planning", total=1.0)

        def progress(fraction: float, message: str) -> None:
            bar.update(task, completed=fraction, description=message)

        plan = solve(scenario, distances=distances, progress=progress)
    folder = write_plan(plan, scenario, out)
    _report_kpis(console, plan)
    console.print(f"plan written to {folder}")


def register(app: typer.Typer) -> None:
    """Add `chunyun plan` to the main app."""
    app.command(name="plan")(plan_command)
