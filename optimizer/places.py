"""County seats (WGS-84) for the planner, from the shipped gazetteer."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from optimizer.geography.distance import Location
from optimizer.geography.gazetteer import load_gazetteer


@functools.cache
def _seat_table() -> dict[str, tuple[float, float, str]]:
    return {
        county.adcode: (float(county.lon), float(county.lat), county.name)
        for county in load_gazetteer()
        if county.lon is not None and county.lat is not None
    }


def county_seats(adcodes: Iterable[str]) -> dict[str, Location]:
    """The seat of each county among `adcodes` that has coordinates (others are left out)."""
    table = _seat_table()
    return {
        code: Location(table[code][0], table[code][1], code)
        for code in set(adcodes)
        if code in table
    }


def county_name(adcode: str) -> str:
    """The county's name, or the adcode itself when unknown."""
    entry = _seat_table().get(adcode)
    return entry[2] if entry else adcode
