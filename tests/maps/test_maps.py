"""Maps: every stop and trip drawn, road lines used, offline assets, layers, GCJ-02 handling."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Sequence
from pathlib import Path

import folium
import pytest

from maps import overview_map, trip_map, wgs84_to_gcj02
from maps.geography import provider_for
from maps.offline import HtmlPopup, resolve_tiles, simplify_line
from maps.stops import is_night_park
from optimizer.geography.distance import (
    GreatCircleProvider,
    Location,
    TravelMatrix,
    great_circle_km,
)
from tests.maps import fixtures


class KinkedProvider:
    """A provider whose road lines bend through a marked midpoint, to tell them from straight."""

    name = "kinked"

    def __init__(self) -> None:
        self.calls: list[tuple[Location, Location]] = []

    def matrix(self, locations: Sequence[Location]) -> TravelMatrix:
        return GreatCircleProvider().matrix(locations)

    def route_line(self, origin: Location, destination: Location) -> list[tuple[float, float]]:
        self.calls.append((origin, destination))
        middle = ((origin.lon + destination.lon) / 2 + 0.123457, (origin.lat + destination.lat) / 2)
        return [(origin.lon, origin.lat), middle, (destination.lon, destination.lat)]


def walk(element: folium.Element) -> list[folium.Element]:
    found = [element]
    for child in element._children.values():
        found.extend(walk(child))
    return found


def html_of(fmap: folium.Map) -> str:
    return fmap.get_root().render()


def popups(fmap: folium.Map) -> str:
    """The text of every popup (the page stores them JSON-escaped)."""
    return "\n".join(e.html for e in walk(fmap) if isinstance(e, HtmlPopup))


def test_every_stop_of_a_trip_is_a_numbered_marker_at_its_place() -> None:
    """Each stop, rests and the night park included, has a numbered marker at its coordinates."""
    trip = fixtures.guizhou_trip()
    fmap = trip_map(trip, provider=GreatCircleProvider())
    markers = [e for e in walk(fmap) if isinstance(e, folium.Marker)]
    assert len(markers) == len(trip.stops)
    for marker, stop in zip(markers, trip.stops, strict=True):
        assert marker.location == pytest.approx([stop.lat, stop.lon], abs=1e-5)
    html = html_of(fmap)
    numbers = sorted(int(n) for n in re.findall(r'data-stop=\\?"(\d+)', html))
    assert numbers == list(range(1, len(trip.stops) + 1))
    assert any(is_night_park(s) for s in trip.stops)
    assert "湘潭服务区</b>（夜间停车 02:00-05:00）" in popups(fmap)


def test_stop_popups_give_times_and_how_many_board_and_alight() -> None:
    """Popups carry arrival, departure and boarding/alighting counts (seats of a party count)."""
    html = popups(trip_map(fixtures.guizhou_trip(), provider=GreatCircleProvider()))
    assert "到达 01-29 13:40，出发 01-29 14:00" in html
    assert "上车 6 人，下车 0 人" in html  # W011 takes two seats
    assert "上车 0 人，下车 4 人" in html


def test_trip_line_follows_the_provider_road_line_leg_by_leg() -> None:
    """The route is the provider's road line per leg, not straight segments between stops."""
    provider = KinkedProvider()
    trip = fixtures.anhui_trip()
    html = html_of(trip_map(trip, provider=provider))
    service = [s for s in trip.stops if s.kind != "rest"]
    # One road line per leg between gates and drop-offs; rests lie on those lines.
    assert len(provider.calls) == len(service) - 1
    assert all(o.lon != d.lon for o, d in provider.calls)
    first, second = trip.stops[0], trip.stops[1]
    kink_lon = round((first.lon + second.lon) / 2 + 0.123457, 5)
    assert f"{kink_lon}" in html


def test_overview_has_a_layer_per_date_and_per_province_with_control_and_legend() -> None:
    """Routes are grouped by departure date, home counties by province; control and legend."""
    plan = fixtures.plan()
    fmap = overview_map(plan, provider=GreatCircleProvider())
    groups = [e for e in walk(fmap) if isinstance(e, folium.FeatureGroup)]
    names = [g.layer_name for g in groups]
    assert any(n.startswith("01-28 发车：1 车次，8 人") for n in names)
    assert any(n.startswith("01-29 发车：1 车次，6 人") for n in names)
    assert any(n.startswith("安徽省：2 县，8 人") for n in names)
    assert any(n.startswith("贵州省：2 县，6 人") for n in names)
    assert any(isinstance(e, folium.LayerControl) for e in walk(fmap))
    lines = [e for e in walk(fmap) if isinstance(e, folium.PolyLine)]
    assert len(lines) == len(plan.trips)
    assert "chunyun-legend" in html_of(fmap)
    html = popups(fmap)
    for trip in plan.trips:
        assert f"车次 {trip.trip_id}" in html
        assert f"座位 {trip.seats_used}/{trip.seats}" in html
        assert f"发车 {trip.departure:%Y-%m-%d %H:%M}" in html


def test_county_circles_grow_with_the_number_of_people() -> None:
    """Home counties are circles whose radius grows with the people going there."""
    fmap = overview_map(fixtures.plan(), provider=GreatCircleProvider())
    circles = [
        e for e in walk(fmap)
        if isinstance(e, folium.CircleMarker) and "chunyun-county" in str(e.options)
    ]  # fmt: skip
    radius = {tuple(c.location): c.options["radius"] for c in circles}
    linquan = radius[(33.065, 115.26)]  # 5 people
    qixingguan = radius[(27.302, 105.292)]  # 2 people
    assert linquan > qixingguan


def test_colour_by_corridor_lists_provinces_in_the_legend() -> None:
    """Colouring by corridor gives one legend entry per home province."""
    html = html_of(
        overview_map(fixtures.plan(), provider=GreatCircleProvider(), colour_by="corridor")
    )
    assert "目的省份" in html
    assert "安徽省" in html and "贵州省" in html


def test_maps_load_nothing_from_the_internet_by_default() -> None:
    """Offline maps carry Leaflet inline: no script, stylesheet or tile URL points off the page."""
    for fmap in (
        overview_map(fixtures.plan(), provider=GreatCircleProvider()),
        trip_map(fixtures.anhui_trip(), provider=GreatCircleProvider()),
    ):
        html = html_of(fmap)
        assert not re.findall(r'<(?:script|link)[^>]+(?:src|href)="?https?:', html)
        assert "L.tileLayer" not in html
        assert "jquery" not in html.lower().replace("leaflet", "")
        assert "Leaflet 1.9.4" in html or "1.9.4" in html


def test_online_osm_tiles_keep_wgs84_and_amap_tiles_shift_to_gcj02() -> None:
    """OSM tiles take the WGS-84 points as they are; Gaode tiles get every point in GCJ-02."""
    trip = fixtures.anhui_trip()
    osm = html_of(trip_map(trip, provider=GreatCircleProvider(), online_tiles=True))
    assert "tile.openstreetmap.org" in osm
    assert f"{trip.stops[0].lat}" in osm
    amap_map = trip_map(trip, provider=GreatCircleProvider(), online_tiles="amap")
    markers = [e for e in walk(amap_map) if isinstance(e, folium.Marker)]
    lon, lat = wgs84_to_gcj02(trip.stops[0].lon, trip.stops[0].lat)
    assert markers[0].location == pytest.approx([lat, lon], abs=1e-5)
    with pytest.raises(ValueError, match="online_tiles must be"):
        resolve_tiles("google")


def test_gcj02_offset_is_hundreds_of_metres_in_china_and_nil_abroad() -> None:
    """The GCJ-02 shift is 100-700 m inside China and zero outside its bounding box."""
    for lon, lat in ((121.2465, 30.1702), (104.28, 26.86), (116.404, 39.915), (87.6, 43.8)):
        shifted = wgs84_to_gcj02(lon, lat)
        metres = great_circle_km(lon, lat, *shifted) * 1000
        assert 100 < metres < 700
    assert wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)
    # A published reference pair (Tiananmen): WGS-84 116.391265, 39.907339 -> GCJ-02.
    lon, lat = wgs84_to_gcj02(116.391265, 39.907339)
    assert lon == pytest.approx(116.397500, abs=2e-4)
    assert lat == pytest.approx(39.908722, abs=2e-4)


def test_outlines_become_a_light_base_layer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shipped outlines are drawn as a base layer; destination counties are highlighted."""
    square = [[[115.0, 32.9], [115.5, 32.9], [115.5, 33.3], [115.0, 33.3], [115.0, 32.9]]]

    def outlines(level: str) -> dict[str, object]:
        code = "340000" if level == "province" else "341221"
        return {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {
                        "adcode": code,
                        "name": "临泉县" if code == "341221" else "安徽省",
                    },
                    "geometry": {"type": "Polygon", "coordinates": square},
                },
                {
                    "type": "Feature",
                    "properties": {"adcode": "110101", "name": "东城区"},
                    "geometry": {"type": "Polygon", "coordinates": square},
                },
            ],
        }

    monkeypatch.setattr("maps.overview.load_outlines", outlines)
    fmap = overview_map(fixtures.plan(), provider=GreatCircleProvider())
    layers = [e for e in walk(fmap) if isinstance(e, folium.GeoJson)]
    assert [layer.layer_name for layer in layers if layer.control] == ["省界"]
    highlighted = [layer for layer in layers if not layer.control]
    assert len(highlighted) == 1
    assert [f["properties"]["adcode"] for f in highlighted[0].data["features"]] == ["341221"]
    assert "<b>临泉县</b>（341221）" in popups(fmap)


def test_map_functions_write_no_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Building maps leaves the working folder untouched."""
    monkeypatch.chdir(tmp_path)
    overview_map(fixtures.plan(), provider=GreatCircleProvider())
    trip_map(fixtures.anhui_trip(), provider=GreatCircleProvider())
    assert os.listdir(tmp_path) == []


def test_simplify_line_keeps_ends_and_bends() -> None:
    """Douglas-Peucker drops collinear points and keeps the corner."""
    line = [(0.0, 0.0), (1.0, 0.0001), (2.0, 0.0), (2.0, 1.0), (2.0, 2.0)]
    assert simplify_line(line, 0.01) == [(0.0, 0.0), (2.0, 0.0), (2.0, 2.0)]


def test_maps_draw_with_the_distances_the_plan_was_made_with() -> None:
    """A plan noted as planned on great-circle distances is drawn with great-circle lines."""
    plan = fixtures.plan().replace(notes=("distances: great-circle",))
    assert isinstance(provider_for(plan), GreatCircleProvider)


def test_user_supplied_names_cannot_inject_markup() -> None:
    """A stop or trip name with HTML in it is shown as text, never parsed as markup."""
    trip = fixtures.anhui_trip()
    evil = "<img src=x onerror=alert(1)>"
    stops = (dataclasses.replace(trip.stops[0], name=evil), *trip.stops[1:])
    fmap = trip_map(
        dataclasses.replace(trip, trip_id=evil, stops=stops), provider=GreatCircleProvider()
    )
    page = html_of(fmap)
    assert evil not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_every_origin_county_of_a_region_season_is_marked() -> None:
    """A season over 慈溪 and 余姚: one origin layer, a square at each origin's seat with its
    name; a one-origin call without origins draws no such layer."""
    plan = fixtures.plan()
    fmap = overview_map(plan, provider=GreatCircleProvider(), origins=("330282", "330281"))
    groups = [e.layer_name for e in walk(fmap) if isinstance(e, folium.FeatureGroup)]
    assert "出发地：2 县（区）" in groups
    markers = [e for e in walk(fmap) if isinstance(e, folium.RegularPolygonMarker)]
    assert len(markers) == 2
    assert {tuple(round(x, 2) for x in m.location) for m in markers} == {
        (30.17, 121.26),
        (30.04, 121.15),
    }
    assert "出发地</b> 慈溪市" in popups(fmap) and "出发地</b> 余姚市" in popups(fmap)
    plain = overview_map(plan, provider=GreatCircleProvider())
    assert not [e for e in walk(plain) if isinstance(e, folium.RegularPolygonMarker)]
