"""Stop names and notes as crews read them: rests located, the planner's notes in Chinese."""

from __future__ import annotations

import dataclasses
import re

from maps.stops import is_night_park, kind_label, note_text, stop_name
from optimizer.geography.gazetteer import load_gazetteer
from tests.maps import fixtures


def test_planner_notes_read_in_chinese() -> None:
    """The planner's English rest notes become Chinese; other notes pass through."""
    assert note_text("rest 20 min; driver change") == "休息 20 分钟；换驾驶员"
    assert note_text("park 02:00-05:00; crew out of driving hours") == (
        "停车休息 02:00-05:00；驾驶员当日驾驶时间已满"
    )
    assert note_text("rest 1 h 5 min") == "休息 1 小时 5 分钟"
    assert note_text("午餐") == "午餐"


def test_a_rest_placed_by_time_is_named_by_the_nearest_county() -> None:
    """A rest the planner called "rest" is named after where it is, never "rest"."""
    rest = dataclasses.replace(fixtures.anhui_trip().stops[3], name="rest")
    name = stop_name(rest)
    assert name != "rest"
    assert re.fullmatch(r"\w+驻地(附近|以(东|西|南|北|东北|东南|西南|西北)约 \d+ 公里)", name), name


def test_a_rest_names_the_nearest_county_seat_with_distance_and_direction() -> None:
    """At a county seat: "驻地附近"; 0.2 degrees east of 玉山县's seat: east of it, ~20 km; no
    road name is made up (the shipped road graph has none)."""
    gazetteer = load_gazetteer()
    [yushan] = [c for c in gazetteer if c.name == "玉山县"]
    assert yushan.lon is not None and yushan.lat is not None
    at_seat = dataclasses.replace(
        fixtures.anhui_trip().stops[3], name="rest", lon=yushan.lon, lat=yushan.lat
    )
    assert stop_name(at_seat) == "江西省玉山县驻地附近"
    east = dataclasses.replace(at_seat, lon=yushan.lon + 0.2)
    nearest = gazetteer.nearest(east.lon, east.lat)
    km = gazetteer.distance_to_seat_km(nearest, east.lon, east.lat)
    name = stop_name(east)
    assert name.startswith(f"{nearest.province}{nearest.name}驻地") and f"约 {km:.0f} 公里" in name
    assert not re.search(r"[GS]\d+|高速|国道", name)


def test_the_night_park_is_recognised_by_its_hours() -> None:
    """Only the rest spanning 02:00-05:00 is the night park."""
    stops = fixtures.guizhou_trip().stops
    assert [i for i, s in enumerate(stops) if is_night_park(s)] == [4]
    assert kind_label(stops[4]) == "夜间停车 02:00-05:00"
    assert kind_label(stops[3]) == "休息"
    assert not is_night_park(stops[0])
