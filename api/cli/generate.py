"""`chunyun generate`: write a realistic season as a scenario folder (docs/scenarios.md)."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from api.cli.text import _, error_text
from optimizer.baseline import hand_planning_trips, plain_county_date_trips
from optimizer.errors import InvalidInput
from scenarios.generate import (
    BUNDLED_SPECS,
    GeneratedSeason,
    Profile,
    generate_season,
    write_scenario,
)


class ProfileOption(enum.StrEnum):
    concentrated = "concentrated"
    dispersed = "dispersed"


class DirectionOption(enum.StrEnum):
    home = "home"
    ret = "return"


def _summary(season: GeneratedSeason, folder: Path) -> Table:
    scenario = season.scenario
    plain = plain_county_date_trips(scenario)
    hand = hand_planning_trips(scenario)
    counties = {w.home_adcode for w in scenario.workers if w.home_adcode}
    days = {w.earliest for w in scenario.workers}
    table = Table(title=_("{season} written to {folder}", season=scenario.name, folder=folder))
    table.add_column(_("figure"))
    table.add_column(_("value"), justify="right")
    rows = [
        (_("workers"), f"{len(scenario.workers)}"),
        (_("seats needed"), f"{sum(w.seats for w in scenario.workers)}"),
        (_("companies"), f"{len(scenario.companies)}"),
        (_("origin counties"), f"{len(scenario.origins)}"),
        (_("home counties"), f"{len(counties)}"),
        (_("first days of windows"), f"{len(days)}"),
        (_("deliberate bad rows"), f"{len(season.bad_rows)}"),
        (_("seat bound (trips)"), f"{plain.seat_bound_trips}"),
        (
            _("plain county-and-date plan"),
            _(
                "{trips} trips, {people} per coach",
                trips=plain.trips,
                people=f"{plain.people_per_coach:.1f}",
            ),
        ),
        (
            _("each company alone"),
            _(
                "{trips} trips, {people} per coach",
                trips=hand.trips,
                people=f"{hand.people_per_coach:.1f}",
            ),
        ),
    ]
    for label, value in rows:
        table.add_row(label, value)
    return table


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""

    @app.command()
    def generate(
        name: Annotated[str, typer.Argument(help="Season name; a bundled name reuses its recipe.")],
        out: Annotated[Path, typer.Option("--out", help="Scenario folder to write.")],
        workers: Annotated[
            int | None, typer.Option("--workers", min=1, help="Registered workers.")
        ] = None,
        seed: Annotated[int | None, typer.Option("--seed", help="Random seed.")] = None,
        profile: Annotated[
            ProfileOption | None,
            typer.Option("--profile", help="concentrated (2019-like) or dispersed (stress)."),
        ] = None,
        direction: Annotated[
            DirectionOption,
            typer.Option("--direction", help="home (返乡) or return (返岗)."),
        ] = DirectionOption.home,
        bad_rows: Annotated[
            int | None,
            typer.Option("--bad-rows", min=0, help="Deliberately bad rows to include."),
        ] = None,
        origins: Annotated[
            str | None,
            typer.Option(
                "--origins",
                help="Origin counties, comma-separated: county names or codes, or a prefecture "
                "or province expanding to its counties (e.g. 宁波市).",
            ),
        ] = None,
    ) -> None:
        """Generate a realistic Spring Festival season as a scenario folder.

        With a bundled NAME (cixi-2019, dispersed-stress, small, tiny) and no other options, the
        bundled folder is reproduced exactly.
        """
        console = Console()
        spec = BUNDLED_SPECS.get(name)
        options = dict(spec.options) if spec is not None else {}
        if bad_rows is not None:
            options["bad_rows"] = bad_rows
        if origins:
            options["origins"] = origins.split(",")
        if spec is None and (workers is None or seed is None):
            raise typer.BadParameter(
                _("{name} is not a bundled season: give --workers and --seed", name=repr(name))
            )
        chosen: Profile = "concentrated"
        if profile is not None:
            chosen = "dispersed" if profile is ProfileOption.dispersed else "concentrated"
        elif spec is not None:
            chosen = spec.profile
        try:
            season = generate_season(
                name,
                workers if workers is not None else spec.workers,  # type: ignore[union-attr]
                seed if seed is not None else spec.seed,  # type: ignore[union-attr]
                profile=chosen,
                direction="return" if direction is DirectionOption.ret else "home",
                **options,
            )
        except InvalidInput as error:
            console.print(f"[red]{escape(error_text(error))}[/red]")
            raise typer.Exit(code=2) from None
        folder = write_scenario(season, out)
        console.print(_summary(season, folder))
