"""How stops are named and classed on maps and paper (shared by maps and documents)."""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import math
import re
from typing import Any

from maps.texts import Gettext, Texts
from optimizer.model import Stop


def is_night_park(stop: Stop, park_start_hour: int = 2, park_end_hour: int = 5) -> bool:
    """Whether a rest stop is the coach's park over the 02:00-05:00 no-driving window.

    A rest counts as the park when it overlaps that window on any night it spans by at least an
    hour (a coach may pull in at 01:40 or leave at 05:10).
    """
    if stop.kind != "rest":
        return False
    day = stop.arrive.date() - dt.timedelta(days=1)
    while day <= stop.depart.date():
        window_start = dt.datetime.combine(day, dt.time(park_start_hour), stop.arrive.tzinfo)
        window_end = dt.datetime.combine(day, dt.time(park_end_hour), stop.arrive.tzinfo)
        overlap = min(stop.depart, window_end) - max(stop.arrive, window_start)
        if overlap >= dt.timedelta(hours=1):
            return True
        day += dt.timedelta(days=1)
    return False


def kind_label(stop: Stop, gettext: Gettext | None = None) -> str:
    """The label of a stop's kind in `gettext`'s language (default Chinese), the park named as
    such."""
    _ = Texts(gettext)
    if is_night_park(stop):
        return _("night park 02:00-05:00")
    if stop.kind == "pickup":
        return _("board")
    if stop.kind == "dropoff":
        return _("alight")
    if stop.kind == "rest":
        return _("rest")
    return stop.kind


def stop_name(
    stop: Stop, names: dict[str, str] | None = None, gettext: Gettext | None = None
) -> str:
    """A readable name for a stop: its own name, else the gate's company or hub, else the code.

    `names` maps company_id / hub_id / adcode to display names when the caller knows them; a
    rest the planner placed by time is named by the nearest county seat in `gettext`'s language.
    """
    if stop.kind == "rest" and stop.name.strip().lower() in GENERIC_REST_NAMES:
        return rest_place_name(stop, gettext)
    if stop.name:
        return stop.name
    names = names or {}
    for key in (stop.company_id, stop.hub_id, stop.adcode):
        if key and key in names:
            return names[key]
    for key in (stop.company_id, stop.hub_id, stop.adcode):
        if key:
            return key
    return f"{stop.lat:.4f}, {stop.lon:.4f}"


# Names the planner gives rests it places by time, not at a named service area.
GENERIC_REST_NAMES = {"", "rest", "park", "休息"}


def note_text(note: str, gettext: Gettext | None = None) -> str:
    """A stop note in `gettext`'s language (default Chinese): the planner writes its notes in
    English ("rest 20 min; driver change"); its fixed phrases are translated, anything else is
    kept as written."""
    _ = Texts(gettext)
    words = (
        (r"\bcrew out of driving hours\b", _("crew out of driving hours")),
        (r"\bdriver change\b", _("driver change")),
        (r"\bpark\b", _("park")),
        (r"\brest\b", _("rest")),
        (r"(\d+) h\b", _("{hours} h", hours=r"\1")),
        (r"(\d+) min\b", _("{minutes} min", minutes=r"\1")),
        (r";\s*", _("; ")),
    )
    text = note
    for pattern, replacement in words:
        text = re.sub(pattern, replacement, text)
    return text


@functools.cache
def _gazetteer() -> Any:
    try:
        module = importlib.import_module("optimizer.geography.gazetteer")
        return module.load_gazetteer()
    except (ImportError, AttributeError, OSError, ValueError):
        return None


# Within this many km of a county seat a rest is "near" it; further out the distance and the
# direction from the seat are given.
NEAR_SEAT_KM = 3.0


def _compass(index: int, gettext: Gettext | None) -> str:
    _ = Texts(gettext)
    points = (
        _("north"),
        _("northeast"),
        _("east"),
        _("southeast"),
        _("south"),
        _("southwest"),
        _("west"),
        _("northwest"),
    )
    return points[index]


def rest_place_name(stop: Stop, gettext: Gettext | None = None) -> str:
    """Where a rest the planner placed by time is, named by the nearest county seat in the
    shipped gazetteer: "江西省玉山县驻地附近", or further out "江西省玉山县驻地以东约 12 公里"
    (great-circle km, WGS-84), in `gettext`'s language ("about 12 km east of the seat of 玉山县,
    江西省"). The offline road graph joins counties and carries no road names, towns or
    service areas, so no road is named: nothing is invented."""
    _ = Texts(gettext)
    gazetteer = _gazetteer()
    if gazetteer is None:
        return _(
            "rest stop on the way ({lat}, {lon})", lat=f"{stop.lat:.3f}", lon=f"{stop.lon:.3f}"
        )
    try:
        county = gazetteer.nearest(stop.lon, stop.lat)
        km = gazetteer.distance_to_seat_km(county, stop.lon, stop.lat)
    except (ValueError, IndexError):
        return _("rest stop on the way")
    if km < NEAR_SEAT_KM:
        return _(
            "near the seat of {county}, {province}", county=county.name, province=county.province
        )
    return _(
        "about {km} km {direction} of the seat of {county}, {province}",
        km=f"{km:.0f}",
        direction=_compass(_bearing(county.lon, county.lat, stop.lon, stop.lat), gettext),
        county=county.name,
        province=county.province,
    )


def _bearing(lon1: float, lat1: float, lon2: float, lat2: float) -> int:
    """The compass direction (one of 8 points, 0 = north, clockwise) from the first point to the
    second."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dlmb = math.radians(lon2 - lon1)
    y = math.sin(dlmb) * math.cos(phi2)
    x = math.cos(phi1) * math.sin(phi2) - math.sin(phi1) * math.cos(phi2) * math.cos(dlmb)
    degrees = (math.degrees(math.atan2(y, x)) + 360) % 360
    return int((degrees + 22.5) // 45) % 8


def is_gate(stop: Stop) -> bool:
    """Whether a stop is a factory gate or a gathering hub (not a home county)."""
    return stop.company_id is not None or stop.hub_id is not None
