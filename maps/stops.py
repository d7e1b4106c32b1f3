"""How stops are named and classed on maps and paper (shared by maps and documents)."""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import math
import re
from typing import Any

from optimizer.model import Stop

KIND_LABELS = {"pickup": "上车", "dropoff": "下车", "rest": "休息"}
PARK_LABEL = "夜间停车 02:00-05:00"


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


def kind_label(stop: Stop) -> str:
    """The Chinese label of a stop's kind, the park named as such."""
    if is_night_park(stop):
        return PARK_LABEL
    return KIND_LABELS.get(stop.kind, stop.kind)


def stop_name(stop: Stop, names: dict[str, str] | None = None) -> str:
    """A readable name for a stop: its own name, else the gate's company or hub, else the code.

    `names` maps company_id / hub_id / adcode to display names when the caller knows them.
    """
    if stop.kind == "rest" and stop.name.strip().lower() in GENERIC_REST_NAMES:
        return rest_place_name(stop)
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

# The planner writes notes in English; the papers and maps are read by Chinese crews.
_NOTE_WORDS = (
    (r"\bcrew out of driving hours\b", "驾驶员当日驾驶时间已满"),
    (r"\bdriver change\b", "换驾驶员"),
    (r"\bpark\b", "停车休息"),
    (r"\brest\b", "休息"),
    (r"(\d+) h\b", r"\1 小时"),
    (r"(\d+) min\b", r"\1 分钟"),
    (r";\s*", "；"),
)


def note_text(note: str) -> str:
    """A stop note in Chinese: the planner's English phrases translated, anything else kept."""
    text = note
    for pattern, replacement in _NOTE_WORDS:
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
_COMPASS = ("北", "东北", "东", "东南", "南", "西南", "西", "西北")


def rest_place_name(stop: Stop) -> str:
    """Where a rest the planner placed by time is, named by the nearest county seat in the
    shipped gazetteer: "江西省玉山县驻地附近", or further out "江西省玉山县驻地以东约 12 公里"
    (great-circle km, WGS-84). The offline road graph joins counties and carries no road names,
    towns or service areas, so no road is named: nothing is invented."""
    gazetteer = _gazetteer()
    if gazetteer is None:
        return f"途中休息点（{stop.lat:.3f}, {stop.lon:.3f}）"
    try:
        county = gazetteer.nearest(stop.lon, stop.lat)
        km = gazetteer.distance_to_seat_km(county, stop.lon, stop.lat)
    except (ValueError, IndexError):
        return "途中休息点"
    place = f"{county.province}{county.name}驻地"
    if km < NEAR_SEAT_KM:
        return f"{place}附近"
    return f"{place}以{_bearing(county.lon, county.lat, stop.lon, stop.lat)}约 {km:.0f} 公里"


def _bearing(lon1: float, lat1: float, lon2: float, lat2: float) -> str:
    """The compass direction (8 Chinese points) from the first point to the second."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dlmb = math.radians(lon2 - lon1)
    y = math.sin(dlmb) * math.cos(phi2)
    x = math.cos(phi1) * math.sin(phi2) - math.sin(phi1) * math.cos(phi2) * math.cos(dlmb)
    degrees = (math.degrees(math.atan2(y, x)) + 360) % 360
    return _COMPASS[int((degrees + 22.5) // 45) % 8]


def is_gate(stop: Stop) -> bool:
    """Whether a stop is a factory gate or a gathering hub (not a home county)."""
    return stop.company_id is not None or stop.hub_id is not None
