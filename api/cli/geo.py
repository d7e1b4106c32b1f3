"""`chunyun geo`: offline geography from the command line (resolve addresses, road routes)."""

from __future__ import annotations

import json
import re
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from api.cli.text import _, error_text
from optimizer.errors import PlaceError, UnknownPlace, Unreachable
from optimizer.geography.distance import Location
from optimizer.geography.gazetteer import load_gazetteer
from optimizer.geography.network import shortest_route
from optimizer.geography.providers import RoadGraphProvider
from optimizer.geography.resolve import Resolution, resolve_county, resolve_many

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
    table.add_column(_("query"))
    table.add_column(_("adcode"))
    table.add_column(_("county"))
    table.add_column(_("note"))
    for resolution in resolutions:
        if resolution.ok and resolution.adcode is not None:
            county = gazetteer[resolution.adcode]
            note = error_text(ValueError(resolution.note)) if resolution.note else ""
            table.add_row(resolution.query, county.adcode, county.full_name, note)
            continue
        choices = "\n".join(f"  {code} {name}" for code, name in resolution.candidates)
        label = _("candidates") if resolution.ambiguous else _("did you mean")
        error = error_text(ValueError(resolution.error or ""))
        detail = f"{error}\n{label}:\n{choices}" if choices else error
        table.add_row(resolution.query, "-", f"[red]{_('not resolved')}[/red]", detail)
    return table


@geo_app.command("resolve")
def resolve_command(
    texts: Annotated[
        list[str],
        typer.Argument(
            metavar="TEXT...",
            help="Addresses, place names or 6-digit adcodes (current or retired); "
            "a single - reads one query per line from standard input.",
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
    if texts == ["-"]:
        texts = [line.strip() for line in sys.stdin if line.strip()]
    resolutions = resolve_many(texts)
    if as_json:
        typer.echo(json.dumps([resolution_json(r) for r in resolutions], ensure_ascii=False))
    else:
        Console(soft_wrap=True).print(_table(resolutions))
    if not all(r.ok for r in resolutions):
        raise typer.Exit(code=1)


_LON_LAT = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")


def _place(text: str) -> tuple[Location, str]:
    """A `route` end: "lon,lat" (WGS-84) as a site, anything else resolved to a county seat."""
    match = _LON_LAT.match(text)
    if match:
        lon, lat = float(match.group(1)), float(match.group(2))
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise UnknownPlace(f"{text!r} is not a WGS-84 lon,lat pair")
        return Location(lon, lat), f"{lon:.5f},{lat:.5f}"
    county = resolve_county(text)
    if county.lon is None or county.lat is None:
        raise Unreachable(f"{county.full_name} ({county.adcode}) has no seat coordinates")
    return Location(county.lon, county.lat, county.adcode), county.full_name


@geo_app.command("route")
def route_command(
    origin: Annotated[str, typer.Argument(metavar="FROM", help="Place, adcode or lon,lat.")],
    destination: Annotated[str, typer.Argument(metavar="TO", help="Place, adcode or lon,lat.")],
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"from", "to", "km", "hours"} as JSON.')
    ] = False,
) -> None:
    """Road km and coach driving hours (day speed, no rests) between two places, offline.

    FROM and TO take anything `resolve` takes, or WGS-84 "lon,lat" (a site snaps to the nearest
    county seat; the local leg is included). Exits with status 1 when a place is unknown,
    ambiguous or has no road (islands without a link; Taiwan, Hong Kong, Macau).
    """
    try:
        (start, start_label), (end, end_label) = _place(origin), _place(destination)
        provider = RoadGraphProvider()
        start_node, end_node = provider.snap(start), provider.snap(end)
        if start.adcode is not None and end.adcode is not None and start_node != end_node:
            route = shortest_route(provider.network, start_node.adcode, end_node.adcode)
            km, hours, line = route.distance_km, route.duration_h, list(route.line)
        else:
            matrix = provider.matrix([start, end])
            km = float(matrix.distance_m[0, 1]) / 1000
            hours = float(matrix.duration_s[0, 1]) / 3600
            line = provider.route_line(start, end)
    except (PlaceError, Unreachable) as error:
        candidates = getattr(error, "candidates", None) or []
        if as_json:
            payload: dict[str, Any] = {
                "error": str(error),
                "candidates": [{"adcode": code, "name": name} for code, name in candidates],
            }
            typer.echo(json.dumps(payload, ensure_ascii=False))
        else:
            choices = "".join(f"\n  {code} {name}" for code, name in candidates)
            typer.echo(_("error: {error}", error=error_text(error)) + choices, err=True)
        raise typer.Exit(code=1) from None
    if as_json:
        answer: dict[str, Any] = {
            "from": start_node.adcode,
            "to": end_node.adcode,
            "km": round(km, 1),
            "hours": round(hours, 2),
        }
        typer.echo(json.dumps(answer, ensure_ascii=False))
        return
    gazetteer = load_gazetteer()

    def label(text: str, adcode: str) -> str:
        county = gazetteer[adcode].full_name
        if text == county:
            return county
        return _("{text} (snapped to {county}, {adcode})", text=text, county=county, adcode=adcode)

    typer.echo(f"{label(start_label, start_node.adcode)} -> {label(end_label, end_node.adcode)}")
    typer.echo(
        _(
            "{km} road km, {hours} h driving at coach day speed (no rests; night driving is "
            "slower), {seats} county seats on the way",
            km=f"{km:,.0f}",
            hours=f"{hours:.1f}",
            seats=max(len(line) - 2, 0),
        )
    )


def register(app: typer.Typer) -> None:
    """Add the `geo` command group to the main app."""
    app.add_typer(geo_app, name="geo")
