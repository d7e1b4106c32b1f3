"""`chunyun geo`: offline geography from the command line (resolve addresses, road routes)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from optimizer.geography.gazetteer import load_gazetteer
from optimizer.geography.resolve import Resolution, resolve_many

geo_app = typer.Typer(
    name="geo",
    help="Offline geography: home addresses to counties, road km and hours between places.",
    no_args_is_help=True,
    add_completion=False,
)


def resolution_json(resolution: Resolution) -> dict[str, Any]:
    """One query's result as printed by `--json`: the county, or the error and its candidates."""
    if resolution.ok:
        return {
            "query": resolution.query,
            "adcode": resolution.adcode,
            "name": resolution.name,
            "province": resolution.province,
        }
    return {
        "query": resolution.query,
        "error": resolution.error,
        "candidates": [{"adcode": code, "name": name} for code, name in resolution.candidates],
    }


def _table(resolutions: list[Resolution]) -> Table:
    gazetteer = load_gazetteer()
    table = Table(show_lines=False)
    table.add_column("query")
    table.add_column("adcode")
    table.add_column("county")
    table.add_column("note")
    for resolution in resolutions:
        if resolution.ok and resolution.adcode is not None:
            county = gazetteer[resolution.adcode]
            table.add_row(resolution.query, county.adcode, county.full_name, resolution.note)
            continue
        choices = "\n".join(f"  {code} {name}" for code, name in resolution.candidates)
        label = "candidates" if resolution.ambiguous else "did you mean"
        detail = f"{resolution.error}\n{label}:\n{choices}" if choices else str(resolution.error)
        table.add_row(resolution.query, "-", "[red]not resolved[/red]", detail)
    return table


@geo_app.command("resolve")
def resolve_command(
    texts: Annotated[
        list[str],
        typer.Argument(
            metavar="TEXT...",
            help="Addresses, place names or 6-digit adcodes (current or retired).",
        ),
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON list, one object per query.")
    ] = False,
) -> None:
    """Resolve home addresses to current counties (GB/T 2260 adcodes), offline.

    Exits with status 1 when any query is unknown or ambiguous; the output lists the candidates.
    Prefecture and province names resolve to their seat county; the table's note says so.
    """
    resolutions = resolve_many(texts)
    if as_json:
        typer.echo(json.dumps([resolution_json(r) for r in resolutions], ensure_ascii=False))
    else:
        Console(soft_wrap=True).print(_table(resolutions))
    if not all(r.ok for r in resolutions):
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    """Add the `geo` command group to the main app."""
    app.add_typer(geo_app, name="geo")
