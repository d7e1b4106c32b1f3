"""`chunyun fleet-size`: how many coaches of each type a season needs, and from when to when.

A scenario folder is one wave; a season folder (`home/`, `return/`) is sized as one season, so a
coach that took workers home can bring others back. Prints a table, or with `--json` exactly
`{"fleet": [{"vehicle_type", "seats", "count", "needed_from", "needed_to"}], "workers": N,
"seated": N}` on standard output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from api.cli.plan import _provider, _read, progress_bar, season_waves
from api.cli.text import error_text, service_message
from optimizer.errors import InvalidInput
from optimizer.sizing import FleetSize, size_fleet


def _table(size: FleetSize) -> Table:
    table = Table(
        title=service_message("fleet_size_title", seated=size.seated, workers=size.workers),
        caption=service_message("fleet_size_caption", trips=size.trips, seconds=size.solve_seconds),
    )
    for key, justify in (
        ("type", "left"),
        ("seats", "right"),
        ("count", "right"),
        ("from", "left"),
        ("to", "left"),
    ):
        table.add_column(service_message(f"fleet_size_column_{key}"), justify=justify)  # type: ignore[arg-type]
    for need in size.fleet:
        table.add_row(
            need.vehicle_type,
            str(need.seats),
            str(need.count),
            need.needed_from.isoformat() if need.needed_from else "-",
            need.needed_to.isoformat() if need.needed_to else "-",
        )
    return table


def fleet_size_command(
    scenario_dir: Annotated[
        Path, typer.Argument(help="Scenario folder, or season folder with home/ and return/.")
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the answer as JSON on standard output.")
    ] = False,
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit", help="Planning seconds per wave (default: the scenario's time limit)."
        ),
    ] = None,
    provider: Annotated[
        str, typer.Option("--provider", help="Distances: 'road' or 'great-circle'.")
    ] = "road",
) -> None:
    """The fewest coaches of each type, and the days they are needed, to seat everyone seatable.

    Plans the season with as many coaches as it wants and chains its trips into the duties of
    physical coaches (fewest per type, exactly); coaches of a type are needed from the day the
    first leaves the depot to the day the last is back.
    """
    console = Console(stderr=True)
    changes: dict[str, Any] = {}
    if time_limit is not None:
        if time_limit <= 0:
            console.print(f"[red]{service_message('fleet_size_time_limit')}[/red]")
            raise typer.Exit(code=2)
        changes["time_limit_s"] = time_limit
    waves = season_waves(scenario_dir)
    try:
        scenarios = [_read(folder, changes) for folder in (waves or [scenario_dir])]
    except InvalidInput as error:
        failed = service_message("fleet_size_failed", folder=scenario_dir)
        console.print(f"[red]{failed}[/red] {escape(error_text(error))}")
        raise typer.Exit(code=2) from None
    distances = _provider(provider)
    with progress_bar(console) as progress:
        try:
            size = size_fleet(scenarios, distances=distances, progress=progress)
        except InvalidInput as error:
            failed = service_message("fleet_size_failed", folder=scenario_dir)
            console.print(f"[red]{failed}[/red] {escape(error_text(error))}")
            raise typer.Exit(code=2) from None
    if as_json:
        typer.echo(json.dumps(size.to_json(), ensure_ascii=False))
        return
    Console().print(_table(size))
    if size.seated < size.workers:
        console.print(service_message("fleet_size_unseatable", unseated=size.workers - size.seated))


def register(app: typer.Typer) -> None:
    """Add `chunyun fleet-size` to the main app."""
    app.command(name="fleet-size")(fleet_size_command)
