"""Shipped province and county outlines: valid, small, keyed by current adcodes."""

from __future__ import annotations

from importlib import resources

import pytest

from optimizer.geography.gazetteer import load_gazetteer
from optimizer.geography.network import load_road_network
from optimizer.geography.outlines import OUTLINE_FILES, load_outlines

# China's extent with its islands, WGS-84 degrees.
LON_RANGE, LAT_RANGE = (73.0, 136.0), (3.0, 54.0)


def rings(geometry: dict[str, object]) -> list[list[list[float]]]:
    coordinates = geometry["coordinates"]
    assert isinstance(coordinates, list)
    if geometry["type"] == "Polygon":
        return list(coordinates)
    assert geometry["type"] == "MultiPolygon"
    return [ring for polygon in coordinates for ring in polygon]


@pytest.mark.parametrize("level", ["province", "county"])
def test_outlines_are_closed_polygons_inside_china(level: str) -> None:
    """Every feature is a polygon of closed rings with WGS-84 points inside China's extent."""
    collection = load_outlines(level)  # type: ignore[arg-type]
    assert collection["type"] == "FeatureCollection"
    for feature in collection["features"]:
        assert {"adcode", "name"} <= set(feature["properties"])
        for ring in rings(feature["geometry"]):
            assert len(ring) >= 4 and ring[0] == ring[-1]
            for lon, lat in ring:
                assert LON_RANGE[0] <= lon <= LON_RANGE[1]
                assert LAT_RANGE[0] <= lat <= LAT_RANGE[1]


def test_every_province_has_one_outline() -> None:
    """34 province-level outlines, one per province adcode, Taiwan, Hong Kong, Macau included."""
    provinces = load_outlines("province")["features"]
    codes = [f["properties"]["adcode"] for f in provinces]
    assert len(codes) == len(set(codes)) == 34
    assert set(load_gazetteer().provinces) <= set(codes)


def test_every_county_on_the_road_network_has_an_outline() -> None:
    """County outlines carry current adcodes; all network counties with a polygon are drawn."""
    features = load_outlines("county")["features"]
    drawn = {f["properties"]["adcode"] for f in features}
    in_network = {f["properties"]["adcode"] for f in features if f["properties"]["in_network"]}
    network = set(load_road_network().adcodes)
    assert in_network <= network
    # Counties created after the polygons were drawn (Xinjiang 2024) have none yet.
    assert len(network - drawn) <= 5
    assert not {"460105", "330282", "520526"} - in_network


def test_outline_files_stay_small_and_copies_are_independent() -> None:
    """Both files together stay under 4 MB; each call returns a fresh object."""
    folder = resources.files("optimizer.geography") / "data"
    total = sum(len((folder / name).read_bytes()) for name in OUTLINE_FILES.values())
    assert total < 4_000_000
    first = load_outlines("province")
    first["features"].clear()
    assert load_outlines("province")["features"]


def test_unknown_level_is_refused() -> None:
    """Only province and county outlines exist."""
    with pytest.raises(ValueError, match="level must be 'province' or 'county'"):
        load_outlines("town")  # type: ignore[arg-type]
