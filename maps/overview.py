"""The season overview: every trip of a plan along the roads, by date and by home province."""

# folium's plotting calls are untyped; the rest of this module is checked strictly.
# mypy: disallow-untyped-calls=False

from __future__ import annotations

import html
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import folium

from maps.geography import (
    RouteLines,
    default_provider,
    feature_adcode,
    feature_name,
    load_outlines,
    province_of,
)
from maps.offline import HtmlPopup, Legend, Transform, new_map, simplify_line
from maps.stops import is_gate, stop_name
from maps.texts import Gettext, Texts
from optimizer.geography.distance import DistanceProvider
from optimizer.model import Plan, Trip
from optimizer.places import county_name, county_seats

# Colour-blind-friendly qualitative palette (Tableau 10 + extras); cycled when there are more keys.
PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
    "#ff9da7", "#9c755f", "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e",
)  # fmt: skip

ColourBy = Literal["date", "corridor"]

# ~1 km: the overview shows a whole country, finer vertices only weigh down the file.
OVERVIEW_TOLERANCE_DEG = 0.01


@dataclass
class _County:
    adcode: str
    name: str
    lon: float
    lat: float
    workers: int = 0
    trips: set[str] = field(default_factory=set)


def home_side_index(trip: Trip, index: int) -> bool:
    """Whether stop `index` of the trip is at the workers' home end (not a gate or a rest)."""
    stop = trip.stops[index]
    return stop.kind != "rest" and not is_gate(stop)


def corridor(trip: Trip, gettext: Gettext | None = None) -> str:
    """The province a trip serves: that of its home-side stops (the last one going home)."""
    homes = [s for i, s in enumerate(trip.stops) if home_side_index(trip, i)]
    return province_of(homes[-1].adcode if homes else None, gettext)


def _counties(plan: Plan, gettext: Gettext | None = None) -> dict[str, _County]:
    """Home counties of the plan with the number of people (seats) travelling to or from each."""
    counties: dict[str, _County] = {}
    for trip in plan.trips:
        for passenger in trip.passengers:
            index = passenger.alight_stop if plan.direction == "home" else passenger.board_stop
            if not 0 <= index < len(trip.stops):
                continue
            stop = trip.stops[index]
            key = stop.adcode or f"{stop.lon:.3f},{stop.lat:.3f}"
            county = counties.get(key)
            if county is None:
                county = counties[key] = _County(
                    key, stop_name(stop, gettext=gettext), stop.lon, stop.lat
                )
            county.workers += passenger.seat_count
            county.trips.add(trip.trip_id)
    return counties


def _latlon(points: list[tuple[float, float]], transform: Transform) -> list[tuple[float, float]]:
    out = []
    for lon, lat in points:
        x, y = transform(lon, lat)
        out.append((round(y, 5), round(x, 5)))
    return out


def _transform_geojson(data: dict[str, Any], transform: Transform) -> dict[str, Any]:
    """A copy of a GeoJSON FeatureCollection with every position transformed."""

    def convert(coords: Any) -> Any:
        if coords and isinstance(coords[0], (int, float)):
            x, y = transform(float(coords[0]), float(coords[1]))
            return [round(x, 5), round(y, 5)]
        return [convert(c) for c in coords]

    features = []
    for feature in data.get("features", []):
        geometry = feature.get("geometry") or {}
        features.append(
            {
                **feature,
                "geometry": {**geometry, "coordinates": convert(geometry.get("coordinates", []))},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _bbox(coords: Any) -> tuple[float, float, float, float]:
    """(min lon, min lat, max lon, max lat) of nested GeoJSON coordinates."""
    if coords and isinstance(coords[0], (int, float)):
        return (coords[0], coords[1], coords[0], coords[1])
    boxes = [_bbox(c) for c in coords if c]
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _near(
    feature: dict[str, Any], bounds: tuple[float, float, float, float], margin_deg: float
) -> bool:
    coordinates = (feature.get("geometry") or {}).get("coordinates") or []
    if not coordinates:
        return False
    west, south, east, north = _bbox(coordinates)
    return not (
        east < bounds[0] - margin_deg
        or west > bounds[2] + margin_deg
        or north < bounds[1] - margin_deg
        or south > bounds[3] + margin_deg
    )


def _outline_layer(
    features: list[dict[str, Any]],
    transform: Transform,
    *,
    colour: str,
    fill: str,
    weight: int = 1,
    fill_opacity: float = 0.45,
    name: str | None = None,
) -> folium.GeoJson:
    """Outlines drawn as one non-interactive GeoJSON layer: `name` given, it is a base layer the
    layer control lists; without, a part of the layer it is added to."""
    style = {"color": colour, "weight": weight, "fillColor": fill, "fillOpacity": fill_opacity}
    extra: dict[str, Any] = {"name": name, "overlay": True} if name is not None else {}
    return folium.GeoJson(
        _transform_geojson({"features": features}, transform),
        style_function=lambda _feature: style,
        interactive=False,
        control=name is not None,
        **extra,
    )


def add_outline_base(
    fmap: folium.Map,
    transform: Transform,
    *,
    level: str = "province",
    name: str | None = None,
    around: list[tuple[float, float]] | None = None,
    gettext: Gettext | None = None,
) -> bool:
    """Add the shipped outlines as a light base layer; False when the geography has none.

    With `around` ((lon, lat) points, WGS-84) only the outlines near them are drawn, which keeps
    a trip map small. `name` is the layer's name (default "province outlines" in `gettext`'s
    language).
    """
    data = load_outlines(level)
    if not data:
        return False
    if around:
        lons = [p[0] for p in around]
        lats = [p[1] for p in around]
        bounds = (min(lons), min(lats), max(lons), max(lats))
        margin = max(bounds[2] - bounds[0], bounds[3] - bounds[1], 1.0) * 0.5
        data = {"features": [f for f in data.get("features", []) if _near(f, bounds, margin)]}
    _outline_layer(
        data.get("features", []),
        transform,
        colour="#8a8a8a",
        fill="#fbfbf8",
        fill_opacity=1.0,
        name=Texts(gettext)("province outlines") if name is None else name,
    ).add_to(fmap)
    return True


def _trip_popup(trip: Trip, _: Texts) -> str:
    homes = [
        stop_name(s, gettext=_.gettext)
        for i, s in enumerate(trip.stops)
        if home_side_index(trip, i)
    ]
    return (
        f"<b>{_('Trip {trip}', trip=html.escape(trip.trip_id))}</b><br>"
        + _(
            "departs {departure}, arrives {arrival}",
            departure=f"{trip.departure:%Y-%m-%d %H:%M}",
            arrival=f"{trip.arrival:%m-%d %H:%M}",
        )
        + "<br>"
        + _(
            "seats {used}/{seats} ({vehicle_type})",
            used=trip.seats_used,
            seats=trip.seats,
            vehicle_type=html.escape(trip.vehicle_type),
        )
        + "<br>"
        + f"{html.escape(_(', ').join(dict.fromkeys(homes)))}<br>"
        + _("{km} km, {drivers} driver(s)", km=f"{trip.distance_km:,.0f}", drivers=trip.drivers)
    )


def _add_origins(
    fmap: folium.Map, origins: Sequence[str], transform: Transform, *, outlines: bool, _: Texts
) -> list[tuple[float, float]]:
    """One layer marking every origin county: a square at its seat, its outline; the positions
    drawn (lat, lon) for the map's bounds."""
    group = folium.FeatureGroup(
        name=_("origins: {count} counties (districts)", count=len(origins)), show=True
    )
    seats = county_seats(origins)
    if outlines:
        data = load_outlines("county")
        shapes = [f for f in (data or {}).get("features", []) if feature_adcode(f) in seats]
        if shapes:
            _outline_layer(
                shapes, transform, colour="#08519c", fill="#c6dbef", weight=2, fill_opacity=0.35
            ).add_to(group)
    positions = []
    for code in origins:
        seat = seats.get(code)
        if seat is None:
            continue
        (position,) = _latlon([(seat.lon, seat.lat)], transform)
        positions.append(position)
        marker = folium.RegularPolygonMarker(
            location=position,
            number_of_sides=4,
            radius=7,
            color="#08519c",
            weight=2,
            fill=True,
            fill_color="#2171b5",
            fill_opacity=0.9,
            class_name="chunyun-origin",
        )
        name = county_name(code)
        marker.add_child(folium.Tooltip(html.escape(_("origin {name}", name=name))))
        marker.add_child(
            HtmlPopup(
                f"<b>{_('Origin')}</b> {html.escape(name)}" + _(" ({code})", code=html.escape(code))
            )
        )
        marker.add_to(group)
    group.add_to(fmap)
    return positions


def overview_map(
    plan: Plan,
    *,
    provider: DistanceProvider | None = None,
    outlines: bool = True,
    online_tiles: bool | str = False,
    colour_by: ColourBy = "date",
    origins: Sequence[str] = (),
    gettext: Gettext | None = None,
) -> folium.Map:
    """The season on one map. Writes no file: call `.save(path)` or `.get_root().render()`.

    Parameters: `plan` the plan to draw; `provider` gives road lines per leg (default: the
    product's road graph, great-circle if it is not installed); `outlines` adds province and
    destination-county outlines as an offline base layer; `online_tiles` False (offline), True or
    "osm" (WGS-84), "amap" (GCJ-02, points shifted to match); `colour_by` "date" or "corridor"
    (destination province). Layers: one per departure date (routes), one per province (home
    counties as circles sized by people), gates, and `origins` (the season's origin counties,
    adcodes) each marked at its seat with its outline; with a layer control and a legend.
    `gettext` gives the texts in the reader's language (English msgid -> text; default Chinese,
    see maps/texts.py); place and people's names are shown as they are.
    """
    _ = Texts(gettext)
    routes = RouteLines(provider or default_provider())
    fmap, transform = new_map(
        online_tiles,
        title=_("Chunyun charter coaches {season}: route map", season=plan.scenario),
        gettext=gettext,
    )
    if outlines:
        add_outline_base(fmap, transform, gettext=gettext)

    dates = sorted({t.departure_date for t in plan.trips})
    corridors = sorted({corridor(t, gettext) for t in plan.trips})
    keys: list[str] = [d.isoformat() for d in dates] if colour_by == "date" else corridors
    colour = {key: PALETTE[i % len(PALETTE)] for i, key in enumerate(keys)}

    bounds: list[tuple[float, float]] = []

    gates = folium.FeatureGroup(name=_("factory gates / gathering points"), show=True)
    seen_gates: set[tuple[float, float]] = set()
    for trip in plan.trips:
        for stop in trip.stops:
            if is_gate(stop) and (stop.lon, stop.lat) not in seen_gates:
                seen_gates.add((stop.lon, stop.lat))
                (position,) = _latlon([(stop.lon, stop.lat)], transform)
                bounds.append(position)
                marker = folium.CircleMarker(
                    location=position,
                    radius=4,
                    color="#222",
                    weight=1,
                    fill=True,
                    fill_color="#222",
                    fill_opacity=0.9,
                    class_name="chunyun-gate",
                )
                marker.add_child(
                    HtmlPopup(
                        f"<b>{_('Pickup point')}</b> "
                        f"{html.escape(stop_name(stop, gettext=gettext))}"
                    )
                )
                marker.add_to(gates)

    for day in dates:
        trips = [t for t in plan.trips if t.departure_date == day]
        seats = sum(t.seats_used for t in trips)
        group = folium.FeatureGroup(
            name=_(
                "{date} departures: {trips} trips, {people} people",
                date=f"{day:%m-%d}",
                trips=len(trips),
                people=seats,
            )
        )
        for trip in trips:
            key = day.isoformat() if colour_by == "date" else corridor(trip, gettext)
            line = _latlon(simplify_line(routes.trip(trip), OVERVIEW_TOLERANCE_DEG), transform)
            bounds.extend(line)
            polyline = folium.PolyLine(
                locations=line if len(line) > 1 else line * 2,
                color=colour[key],
                weight=3,
                opacity=0.8,
                class_name=f"chunyun-route chunyun-date-{day.isoformat()}",
            )
            polyline.add_child(folium.Tooltip(html.escape(f"{trip.trip_id} {day:%m-%d}")))
            polyline.add_child(HtmlPopup(_trip_popup(trip, _)))
            polyline.add_to(group)
        group.add_to(fmap)

    counties = _counties(plan, gettext)
    county_outlines: dict[str, dict[str, Any]] = {}
    if outlines and counties:
        data = load_outlines("county")
        if data:
            county_outlines = {
                feature_adcode(f): f
                for f in data.get("features", [])
                if feature_adcode(f) in counties
            }
    by_province: dict[str, list[_County]] = defaultdict(list)
    for county in counties.values():
        by_province[province_of(county.adcode, gettext)].append(county)
    for province in sorted(by_province, key=lambda p: -sum(c.workers for c in by_province[p])):
        members = sorted(by_province[province], key=lambda c: -c.workers)
        people = sum(c.workers for c in members)
        group = folium.FeatureGroup(
            name=_(
                "{province}: {counties} counties, {people} people",
                province=province,
                counties=len(members),
                people=people,
            )
        )
        outlines_here = [county_outlines[c.adcode] for c in members if c.adcode in county_outlines]
        if outlines_here:
            _outline_layer(outlines_here, transform, colour="#b5651d", fill="#f6d7b0").add_to(group)
        for county in members:
            (position,) = _latlon([(county.lon, county.lat)], transform)
            bounds.append(position)
            outline = county_outlines.get(county.adcode)
            name = (feature_name(outline) if outline else "") or county.name
            circle = folium.CircleMarker(
                location=position,
                radius=4 + 1.5 * math.sqrt(county.workers),
                color="#7f3b08",
                weight=1,
                fill=True,
                fill_color=colour.get(province, "#e08214"),
                fill_opacity=0.55,
                class_name="chunyun-county",
            )
            circle.add_child(
                folium.Tooltip(
                    html.escape(_("{name} {people} people", name=name, people=county.workers))
                )
            )
            circle.add_child(
                HtmlPopup(
                    f"<b>{html.escape(name)}</b>"
                    + _(" ({code})", code=html.escape(county.adcode))
                    + "<br>"
                    f"{province}<br>"
                    + _(
                        "{people} people, {trips} trips:",
                        people=county.workers,
                        trips=len(county.trips),
                    )
                    + f"<br>{html.escape(_(', ').join(sorted(county.trips)))}"
                )
            )
            circle.add_to(group)
        group.add_to(fmap)

    gates.add_to(fmap)
    if origins:
        bounds.extend(_add_origins(fmap, origins, transform, outlines=outlines, _=_))
    folium.LayerControl(collapsed=len(dates) + len(by_province) > 14).add_to(fmap)
    title = _("Departure date") if colour_by == "date" else _("Destination province")
    entries = [(colour[k], k[5:] if colour_by == "date" else k) for k in keys]
    notes = [
        _(
            "{trips} trips, {people} people",
            trips=len(plan.trips),
            people=sum(t.seats_used for t in plan.trips),
        ),
        _("circles: home counties, sized by people"),
        _("coordinates WGS-84")
        if transform(120.0, 30.0) == (120.0, 30.0)
        else _("coordinates GCJ-02 (to match the AutoNavi base map)"),
    ]
    fmap.add_child(Legend(title, entries, notes))
    if bounds:
        lats = [p[0] for p in bounds]
        lons = [p[1] for p in bounds]
        fmap.fit_bounds([[min(lats), min(lons)], [max(lats), max(lons)]], padding=(20, 20))
    return fmap
