"""`chunyun render`: re-draw maps and re-print papers from a plan folder that already exists."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, cast

import typer

from api.cli.text import _, cli_locale, error_text
from optimizer.errors import ChunyunError

SCENARIO_FILE = "scenario.toml"


def _recorded_scenario_dir(plan_dir: Path) -> Path | None:
    """The scenario folder plan.json names (key `scenario_dir`), if it names one."""
    try:
        values = json.loads((plan_dir / "plan.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    recorded = values.get("scenario_dir") if isinstance(values, dict) else None
    if not isinstance(recorded, str) or not recorded:
        return None
    path = Path(recorded)
    return path if path.is_absolute() else plan_dir / path


def find_scenario(plan_dir: Path, scenario: Path | None) -> Path:
    """The scenario folder: the one given, else the one plan.json records (`scenario_dir`),
    else a copy in PLAN_DIR/scenario or PLAN_DIR itself; a clear error when none is found."""
    if scenario is not None:
        if not (scenario / SCENARIO_FILE).is_file():
            raise typer.BadParameter(
                _("{folder} has no {file}", folder=scenario, file=SCENARIO_FILE),
                param_hint="--scenario",
            )
        return scenario
    candidates = [plan_dir / "scenario", plan_dir]
    recorded = _recorded_scenario_dir(plan_dir)
    if recorded is not None:
        candidates.insert(0, recorded)
    for candidate in candidates:
        if (candidate / SCENARIO_FILE).is_file():
            return candidate
    raise typer.BadParameter(
        _(
            "no scenario found in {folder} (looked for scenario/{file}); "
            "pass the scenario folder the plan was made from with --scenario DIR",
            folder=plan_dir,
            file=SCENARIO_FILE,
        ),
        param_hint="--scenario",
    )


def render_command(
    plan_dir: Annotated[
        Path,
        typer.Argument(
            exists=True,
            file_okay=False,
            metavar="PLAN_DIR",
            help="Folder written by `chunyun plan --out`.",
        ),
    ],
    scenario: Annotated[
        Path | None,
        typer.Option(
            "--scenario",
            file_okay=False,
            help="Scenario folder the plan was made from (default: the copy in PLAN_DIR).",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", file_okay=False, help="Where to write (default: PLAN_DIR)."),
    ] = None,
    contact_phone: Annotated[
        str, typer.Option("--contact-phone", help="Service phone printed in every worker SMS.")
    ] = "",
    provider: Annotated[
        str,
        typer.Option(
            "--provider",
            help="Map lines: 'road' (road graph), 'great-circle' (straight), or 'auto' "
            "(the distances the plan was made with).",
        ),
    ] = "auto",
    maps: Annotated[bool, typer.Option("--maps/--no-maps", help="Write the HTML maps too.")] = True,
) -> None:
    """Re-render map.html, trips/*.html, manifests, trip sheets and notices from PLAN_DIR."""
    from api.documents import render_plan
    from maps.geography import default_provider, provider_for
    from optimizer.geography.distance import DistanceProvider, GreatCircleProvider
    from optimizer.read import read_scenario

    try:
        from optimizer.write import read_plan
    except ImportError:
        typer.echo(
            _("error: this installation cannot read plan folders (optimizer.write)"), err=True
        )
        raise typer.Exit(1) from None

    if provider not in ("auto", "road", "great-circle"):
        raise typer.BadParameter(
            _("provider must be 'auto', 'road' or 'great-circle'"), param_hint="--provider"
        )
    scenario_dir = find_scenario(plan_dir, scenario)
    try:
        plan = read_plan(plan_dir)
        scenario_value = read_scenario(scenario_dir)
        if provider == "auto":
            lines = provider_for(plan)
        elif provider == "great-circle":
            lines = cast(DistanceProvider, GreatCircleProvider())
        else:
            lines = default_provider()
        written = render_plan(
            plan,
            scenario_value,
            out or plan_dir,
            lines,
            contact_phone=contact_phone,
            maps=maps,
            locale=cli_locale(),
        )
    except (ChunyunError, OSError) as error:
        typer.echo(_("error: {error}", error=error_text(error)), err=True)
        raise typer.Exit(1) from None
    target = written.out_dir
    typer.echo(
        _(
            "{trips} trips rendered into {folder}: {overview}{maps} trip maps, {manifests} "
            "manifest files, {sheets} trip sheets, notices.csv, {lists} employer lists",
            trips=len(plan.trips),
            folder=target,
            overview="map.html, " if written.overview else "",
            maps=len(written.trip_maps),
            manifests=len(written.manifests),
            sheets=len(written.trip_sheets),
            lists=len(written.company_notices),
        )
    )


def register(app: typer.Typer) -> None:
    """Add `chunyun render` to the main app."""
    app.command(name="render")(render_command)
