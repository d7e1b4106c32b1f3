"""A season's region: the origin counties its companies lie in, and which of them holds a point.

A season names its region in scenario.toml as county names or codes, or prefecture and province
names expanding to their counties ("宁波市" is Ningbo's ten counties and districts). Every
company and hub belongs to one origin county: given in its table's `county` column, or else the
origin county whose outline (the shipped county outlines, ~1 km simplified) holds its WGS-84
point, or, for a point on no outline (a coastal gate the simplified outline cuts off), the origin
county with the nearest seat.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

import numpy as np

from optimizer.errors import InvalidInput
from optimizer.geography.gazetteer import County, Gazetteer, load_gazetteer
from optimizer.geography.outlines import load_outlines


def _names(gazetteer: Gazetteer) -> dict[str, list[tuple[str, list[str]]]]:
    """Every spelling of a place -> the (label, counties) it may mean."""
    table: dict[str, list[tuple[str, list[str]]]] = {}

    def add(name: str, label: str, counties: list[str]) -> None:
        if name and counties:
            entries = table.setdefault(name, [])
            # A prefecture-level city without counties (东莞, 中山, 儋州, 嘉峪关) is also listed
            # as its own county: the same counties under two labels are one place, not two.
            if all(existing != label and held != counties for existing, held in entries):
                entries.append((label, counties))

    by_prefecture: dict[str, list[str]] = {}
    by_province: dict[str, list[str]] = {}
    for county in gazetteer:
        by_prefecture.setdefault(county.prefecture_adcode, []).append(county.adcode)
        by_province.setdefault(county.province_adcode, []).append(county.adcode)
    for province in gazetteer.provinces.values():
        codes = sorted(by_province.get(province.adcode, []))
        label = f"{province.name} ({province.adcode})"
        for name in (province.name, province.short_name, province.adcode):
            add(name, label, codes)
    for prefecture in gazetteer.prefectures.values():
        codes = sorted(by_prefecture.get(prefecture.adcode, []))
        label = f"{prefecture.name} ({prefecture.adcode})"
        for name in (prefecture.name, prefecture.short_name, prefecture.adcode):
            add(name, label, codes)
    for county in gazetteer:
        label = f"{county.full_name} ({county.adcode})"
        for name in (county.name, county.short_name, county.adcode, county.full_name):
            add(name, label, [county.adcode])
    return table


@functools.cache
def _name_table() -> dict[str, list[tuple[str, list[str]]]]:
    return _names(load_gazetteer())


def expand_region(names: str | Sequence[str], label: str = "region") -> tuple[str, ...]:
    """The origin counties (adcodes, in the order given, each once) of a region.

    Args:
        names: county names (also written in full, 浙江省宁波市慈溪市) or codes, prefecture or
            province names or codes, as one string (commas allowed: "余姚,慈溪") or a sequence
            of them.
        label: the setting the names come from, for the messages ("region", "origin").

    Raises InvalidInput naming the place when it is unknown, or ambiguous (with its candidates).
    """
    items = [names] if isinstance(names, str) else list(names)
    parts = [p.strip() for item in items for p in str(item).replace("，", ",").split(",")]
    parts = [p for p in parts if p]
    if not parts:
        raise InvalidInput("the region names no county, prefecture or province")
    table = _name_table()
    result: dict[str, None] = {}
    for part in parts:
        meanings = table.get(part)
        if not meanings:
            raise InvalidInput(f"{label}: {part!r} is not a county, prefecture or province")
        if len(meanings) > 1:
            labels = ", ".join(label for label, _ in meanings)
            raise InvalidInput(f"{label}: {part!r} is ambiguous ({labels}); write it in full")
        result.update(dict.fromkeys(meanings[0][1]))
    return tuple(result)


def origin_county(text: str) -> str:
    """The adcode of the one county a season's `origin` names (a name, short name, full name
    or code). Raises InvalidInput when it names no place, an ambiguous one, or several
    counties (a prefecture or province: those belong in the region)."""
    counties = expand_region(text, "origin")
    if len(counties) != 1:
        raise InvalidInput(
            f"origin {text.strip()!r} names {len(counties)} counties, not one; "
            "name one county, or give them as the region"
        )
    return counties[0]


@functools.cache
def _prefectures() -> dict[str, tuple[str, ...]]:
    """Prefecture adcode -> its counties (a province-administered group is no prefecture)."""
    table: dict[str, list[str]] = {}
    for county in load_gazetteer():
        if "直辖" not in county.prefecture:
            table.setdefault(county.prefecture_adcode, []).append(county.adcode)
    return {code: tuple(sorted(counties)) for code, counties in table.items()}


def prefecture_of(county: str) -> tuple[str, ...]:
    """The counties (adcodes) of the prefecture-level city (设区的市) holding `county`: a
    municipality's districts and counties, or `county` alone when it answers to the province
    directly (仙桃, 济源) or is unknown to the gazetteer.

    Args:
        county: a county adcode.
    """
    found = load_gazetteer().get(county)
    if found is None:
        return (county,)
    return _prefectures().get(found.prefecture_adcode, (county,))


def region_counties(origins: Iterable[str]) -> list[County]:
    """The gazetteer's entries of `origins` (unknown codes are an InvalidInput)."""
    gazetteer = load_gazetteer()
    counties = []
    for code in origins:
        county = gazetteer.get(code)
        if county is None:
            raise InvalidInput(f"origin {code!r} is not a county of the gazetteer")
        counties.append(county)
    return counties


@functools.cache
def _rings() -> dict[str, tuple[np.ndarray, ...]]:
    """Outer rings of every county outline as (n, 2) arrays of lon, lat."""
    rings: dict[str, tuple[np.ndarray, ...]] = {}
    for feature in load_outlines("county")["features"]:
        geometry = feature["geometry"]
        polygons = (
            [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        )
        rings[feature["properties"]["adcode"]] = tuple(
            np.asarray(polygon[0], dtype=float) for polygon in polygons
        )
    return rings


def _inside(ring: np.ndarray, lon: float, lat: float) -> bool:
    """Even-odd ray casting of a point against one ring."""
    x0, y0 = ring[:, 0], ring[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    crosses = (y0 > lat) != (y1 > lat)
    with np.errstate(divide="ignore", invalid="ignore"):
        at = x0 + (lat - y0) * (x1 - x0) / (y1 - y0)
    return bool(np.count_nonzero(crosses & (lon < at)) % 2)


def locate_county(lon: float, lat: float, origins: Sequence[str]) -> str:
    """The origin county holding the WGS-84 point (degrees): the one whose outline contains it,
    else the one with the nearest seat. `origins` must not be empty."""
    if not origins:
        raise InvalidInput("a region needs at least one origin county")
    if len(origins) == 1:
        return origins[0]
    rings = _rings()
    for code in origins:
        if any(_inside(ring, lon, lat) for ring in rings.get(code, ())):
            return code
    gazetteer = load_gazetteer()
    located = [gazetteer[c] for c in origins if gazetteer[c].has_coordinates]
    if not located:
        return origins[0]
    return min(located, key=lambda c: gazetteer.distance_to_seat_km(c, lon, lat)).adcode


def county_of(text: str, origins: Sequence[str]) -> str | None:
    """The origin county a table's `county` cell names (name or code), None when it names none
    of `origins` or several."""
    meanings = _name_table().get(text.strip(), [])
    found = {code for _, codes in meanings if len(codes) == 1 for code in codes}
    found &= set(origins)
    return found.pop() if len(found) == 1 else None
