"""`chunyun geo route`: JSON shape, place or lon,lat ends, clear errors (islands, ambiguity)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from api.cli import app
from optimizer.geography.network import load_road_network, shortest_route

# The command line's texts are read in English (its default is Chinese).
pytestmark = pytest.mark.usefixtures("english_cli")

runner = CliRunner()


def test_json_gives_adcodes_km_and_hours() -> None:
    """--json prints exactly {from, to, km, hours}, the road route between the county seats."""
    result = runner.invoke(app, ["geo", "route", "慈溪", "重庆渝中", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) == {"from", "to", "km", "hours"}
    assert (payload["from"], payload["to"]) == ("330282", "500103")
    route = shortest_route(load_road_network(), "330282", "500103")
    assert payload["km"] == round(route.distance_km, 1)
    assert payload["hours"] == round(route.duration_h, 2)
    assert isinstance(payload["km"], float) and isinstance(payload["hours"], float)


def test_lon_lat_end_snaps_to_its_county_and_adds_the_local_leg() -> None:
    """A WGS-84 "lon,lat" gate in Cixi snaps to Cixi; its km exceed the seat-to-seat km."""
    gate = runner.invoke(app, ["geo", "route", "121.2305,30.1931", "临泉", "--json"])
    seat = runner.invoke(app, ["geo", "route", "330282", "临泉", "--json"])
    assert gate.exit_code == 0 and seat.exit_code == 0, gate.output + seat.output
    from_gate, from_seat = json.loads(gate.stdout), json.loads(seat.stdout)
    assert from_gate["from"] == "330282" and from_gate["to"] == "341221"
    assert from_seat["km"] < from_gate["km"] < from_seat["km"] + 40


def test_unreachable_and_ambiguous_places_exit_non_zero_with_the_reason() -> None:
    """Sansha has no road; 鼓楼 is ambiguous and the candidates are listed."""
    island = runner.invoke(app, ["geo", "route", "慈溪", "460303", "--json"])
    assert island.exit_code == 1
    assert "not on the road network" in json.loads(island.stdout)["error"]
    ambiguous = runner.invoke(app, ["geo", "route", "鼓楼", "慈溪", "--json"])
    assert ambiguous.exit_code == 1
    codes = {c["adcode"] for c in json.loads(ambiguous.stdout)["candidates"]}
    assert {"320106", "350102"} <= codes


def test_plain_output_reads_as_a_sentence() -> None:
    """Without --json the command names both counties, road km and driving hours."""
    result = runner.invoke(app, ["geo", "route", "宁波", "舟山"])
    assert result.exit_code == 0, result.output
    assert "road km" in result.stdout and "h driving" in result.stdout
    assert "舟山市" in result.stdout
