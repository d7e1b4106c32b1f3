"""`chunyun season export/import`: a season of the service's database (DATABASE_URL, else the
default) written as a scenario folder (docs/scenarios.md), and a scenario folder stored as a new
open season, with the same conversions as the service (api/demo.py).

A folder exported and imported again means the same season: region and counties, companies,
hubs, fleet (with each operator's registration place), policy, solver and workers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.operations import _fail, _session
from api.cli.text import _

season_app = typer.Typer(
    help="A season of the service's database out to a scenario folder, and one in.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the `season` group to the main app."""
    app.add_typer(season_app, name="season")


@season_app.command("export")
def export_command(
    name: Annotated[str, typer.Argument(help="Season name.")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write the scenario into.")],
) -> None:
    """Write a season of the database as a scenario folder (scenario.toml, companies, hubs,
    fleet and workers CSVs), every registered worker under the employer's own worker id."""
    from api.demo import export_season, season_scenario
    from optimizer.errors import ChunyunError

    try:
        with _session() as session:
            scenario = season_scenario(session, name=name)
            folder = export_season(session, name=name, folder=out)
    except (ChunyunError, OSError) as error:
        raise _fail(error) from None
    typer.echo(
        _("season {season}: {companies} companies, {workers} workers written to {folder}",
          season=name, companies=len(scenario.companies), workers=len(scenario.workers),
          folder=folder)
    )  # fmt: skip


@season_app.command("import")
def import_command(
    folder: Annotated[Path, typer.Argument(help="The scenario folder to read.")],
    name: Annotated[
        str | None,
        typer.Option("--name", help="Store the season under this name instead of the folder's."),
    ] = None,
) -> None:
    """Store a scenario folder as a new open season: its region, policy, solver, companies,
    hubs, fleet and valid workers (rows with problems are left out and counted)."""
    from api.demo import store_scenario
    from optimizer.errors import ChunyunError
    from optimizer.read import read_scenario

    try:
        scenario = read_scenario(folder)
        if name is not None:
            scenario = scenario.replace(name=name)
        with _session() as session:
            _season, stored = store_scenario(session, scenario=scenario)
    except (ChunyunError, OSError) as error:
        raise _fail(error) from None
    typer.echo(
        _("season {season} stored: {companies} companies, {workers} workers, {left} row(s) "
          "with problems left out", season=scenario.name, companies=len(scenario.companies),
          workers=len(stored), left=len(scenario.problems))
    )  # fmt: skip
