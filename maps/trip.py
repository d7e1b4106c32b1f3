"""One trip on a map: numbered stops with their timetable, and the road line between them."""

# folium's plotting calls are untyped; the rest of this module is checked strictly.
# mypy: disallow-untyped-calls=False

from __future__ import annotations

import html

import folium

from maps.geography import RouteLines, default_provider
from maps.offline import HtmlPopup, Legend, new_map, simplify_line
from maps.overview import add_outline_base
from maps.stops import is_night_park, kind_label, note_text, stop_name
from maps.texts import Gettext, Texts
from optimizer.geography.distance import DistanceProvider
from optimizer.model import Stop, Trip

STOP_COLOURS = {"pickup": "#2e7d32", "dropoff": "#c62828", "rest": "#757575", "park": "#283593"}

# ~100 m: a trip map is looked at up close.
TRIP_TOLERANCE_DEG = 0.001


def stop_colour(stop: Stop) -> str:
    """The marker colour of a stop: boarding green, alighting red, rest grey, night park blue."""
    return STOP_COLOURS["park"] if is_night_park(stop) else STOP_COLOURS[stop.kind]


def _stop_popup(number: int, stop: Stop, trip: Trip, cumulative_km: float, _: Texts) -> str:
    board = sum(p.seat_count for p in trip.passengers if p.board_stop == number - 1)
    alight = sum(p.seat_count for p in trip.passengers if p.alight_stop == number - 1)
    name = html.escape(stop_name(stop, gettext=_.gettext))
    rows = [
        f"<b>{number}. {name}</b>" + _(" ({kind})", kind=kind_label(stop, _.gettext)),
        _(
            "arrives {arrival}, departs {departure}",
            arrival=f"{stop.arrive:%m-%d %H:%M}",
            departure=f"{stop.depart:%m-%d %H:%M}",
        ),
    ]
    if stop.kind != "rest":
        rows.append(_("{board} board, {alight} alight", board=board, alight=alight))
    rows.append(
        _(
            "{km} km from the previous stop, {total} km in all",
            km=f"{stop.km_from_previous:,.0f}",
            total=f"{cumulative_km:,.0f}",
        )
    )
    if stop.note:
        rows.append(html.escape(note_text(stop.note, _.gettext)))
    return "<br>".join(rows)


def trip_map(
    trip: Trip,
    *,
    provider: DistanceProvider | None = None,
    outlines: bool = True,
    online_tiles: bool | str = False,
    gettext: Gettext | None = None,
) -> folium.Map:
    """A map of one trip. Writes no file.

    Every stop (gates, drop-offs, rests including the 02:00-05:00 park) is a numbered marker whose
    popup gives arrival, departure and how many board and alight; legs follow the road lines of
    `provider` (default: the product's road graph, great-circle if not installed).
    `online_tiles` as in `overview_map`; `gettext` gives the texts in the reader's language
    (default Chinese, see maps/texts.py).
    """
    _ = Texts(gettext)
    routes = RouteLines(provider or default_provider())
    departure = f"{trip.departure:%Y-%m-%d %H:%M}"
    fmap, transform = new_map(
        online_tiles,
        title=_("Trip {trip}, departs {departure}", trip=trip.trip_id, departure=departure),
        gettext=gettext,
    )
    road = simplify_line(routes.trip(trip), TRIP_TOLERANCE_DEG)
    if outlines:
        add_outline_base(
            fmap,
            transform,
            around=road + [(s.lon, s.lat) for s in trip.stops],
            gettext=gettext,
        )

    line = [(round(y, 5), round(x, 5)) for x, y in (transform(lon, lat) for lon, lat in road)]
    route = folium.FeatureGroup(name=html.escape(_("route {trip}", trip=trip.trip_id)))
    polyline = folium.PolyLine(
        locations=line if len(line) > 1 else line * 2,
        color="#1565c0",
        weight=4,
        opacity=0.85,
        class_name="chunyun-route",
    )
    polyline.add_child(
        HtmlPopup(
            f"<b>{_('Trip {trip}', trip=html.escape(trip.trip_id))}</b><br>"
            + _(
                "{km} km, seats {used}/{seats}, {drivers} driver(s)",
                km=f"{trip.distance_km:,.0f}",
                used=trip.seats_used,
                seats=trip.seats,
                drivers=trip.drivers,
            )
        )
    )
    polyline.add_to(route)
    route.add_to(fmap)

    stops_layer = folium.FeatureGroup(name=_("Stops"))
    cumulative = 0.0
    positions = []
    for number, stop in enumerate(trip.stops, start=1):
        cumulative += stop.km_from_previous
        x, y = transform(stop.lon, stop.lat)
        position = (round(y, 6), round(x, 6))
        positions.append(position)
        colour = stop_colour(stop)
        icon = folium.DivIcon(
            html=(
                f'<div class="chunyun-stop chunyun-stop-{stop.kind}" data-stop="{number}" '
                f'style="background:{colour};color:#fff;border:2px solid #fff;'
                "border-radius:50%;width:22px;height:22px;line-height:18px;text-align:center;"
                f'font:bold 12px sans-serif;box-shadow:0 0 3px #000;">{number}</div>'
            ),
            icon_size=(22, 22),
            icon_anchor=(11, 11),
            class_name="chunyun-stop-icon",
        )
        marker = folium.Marker(location=position, icon=icon)
        marker.add_child(
            folium.Tooltip(
                html.escape(
                    f"{number}. {stop_name(stop, gettext=gettext)} {stop.arrive:%m-%d %H:%M}"
                )
            )
        )
        marker.add_child(HtmlPopup(_stop_popup(number, stop, trip, cumulative, _)))
        marker.add_to(stops_layer)
    stops_layer.add_to(fmap)

    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.add_child(
        Legend(
            _("Trip {trip} (departs {departure})", trip=trip.trip_id, departure=departure),
            [
                (STOP_COLOURS["pickup"], _("Pickup point")),
                (STOP_COLOURS["dropoff"], _("Drop-off point")),
                (STOP_COLOURS["rest"], _("rest on the way")),
                (STOP_COLOURS["park"], _("02:00-05:00 night park")),
            ],
            [
                _(
                    "{km} km, {used}/{seats} seats",
                    km=f"{trip.distance_km:,.0f}",
                    used=trip.seats_used,
                    seats=trip.seats,
                )
            ],
        )
    )
    points = positions + line
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    fmap.fit_bounds([[min(lats), min(lons)], [max(lats), max(lons)]], padding=(30, 30))
    return fmap
