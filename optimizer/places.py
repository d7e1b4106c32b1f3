"""County seats (WGS-84) for the planner, from the shipped gazetteer."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from optimizer.geography.distance import Location


@functools.cache
def _seat_table() -> dict[str, tuple[float, float, str]]:
    try:
        from optimizer.geography.gazetteer import load_gazetteer
    except ImportError:  # TEMPORARY until the gazetteer lands: cpca's 2016 county seats
        import csv
        import importlib.resources

        table: dict[str, tuple[float, float, str]] = {}
        source = importlib.resources.files("cpca") / "resources" / "adcodes.csv"
        with source.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                code = row["adcode"][:6]
                if row["adcode"].endswith("000000") and code not in table:
                    table[code] = (float(row["longitude"]), float(row["latitude"]), row["name"])
        return table
    gazetteer = load_gazetteer()
    counties = gazetteer.values() if hasattr(gazetteer, "values") else gazetteer
    return {c.adcode: (float(c.lon), float(c.lat), str(c.name)) for c in counties}


def county_seats(adcodes: Iterable[str]) -> dict[str, Location]:
    """The seat of each known county among `adcodes` (unknown codes are left out)."""
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
