"""Distance providers: snapping sites to county seats, matrix files, the OSRM and factory hooks."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from optimizer.errors import InvalidInput, Unreachable
from optimizer.geography.distance import (
    DistanceProvider,
    GreatCircleProvider,
    Location,
    great_circle_km,
)
from optimizer.geography.gazetteer import load_gazetteer
from optimizer.geography.network import PathCache, RoadNetwork, load_road_network, shortest_route
from optimizer.geography.providers import (
    LOCAL_DETOUR_FACTOR,
    LOCAL_SPEED_KMH,
    MatrixFileProvider,
    OsrmProvider,
    RoadGraphProvider,
    default_provider,
    write_matrix_file,
)

CIXI, YUZHONG, LINQUAN, WEINING = "330282", "500103", "341221", "520526"
# Two factory gates in Cixi (WGS-84): one in the Zhouxiang industrial zone, one near Guanhaiwei.
GATE_A = Location(121.2305, 30.1931, CIXI)
GATE_B = Location(121.4090, 30.2230, CIXI)


@pytest.fixture(scope="module")
def road() -> RoadNetwork:
    return load_road_network()


@pytest.fixture(scope="module")
def provider(road: RoadNetwork, tmp_path_factory: pytest.TempPathFactory) -> RoadGraphProvider:
    return RoadGraphProvider(road, cache=PathCache(road, tmp_path_factory.mktemp("cache")))


def seat(adcode: str) -> Location:
    county = load_gazetteer()[adcode]
    assert county.lon is not None and county.lat is not None
    return Location(county.lon, county.lat, adcode)


def test_providers_satisfy_the_protocol(provider: RoadGraphProvider) -> None:
    """Road graph and great-circle providers are DistanceProviders with a name."""
    for candidate in (provider, GreatCircleProvider()):
        assert isinstance(candidate, DistanceProvider)
        assert candidate.name


def test_county_seats_get_the_network_distance(provider: RoadGraphProvider) -> None:
    """Between county seats the matrix is the shortest road path, in metres and seconds."""
    matrix = provider.matrix([seat(CIXI), seat(YUZHONG)])
    route = shortest_route(provider.network, CIXI, YUZHONG)
    assert matrix.distance_m.dtype == np.int64 and matrix.duration_s.dtype == np.int64
    assert matrix.distance_m[0, 1] == pytest.approx(route.distance_km * 1000, abs=100)
    assert matrix.duration_s[0, 1] == pytest.approx(route.duration_h * 3600, abs=10)
    np.testing.assert_array_equal(matrix.distance_m, matrix.distance_m.T)


def test_a_site_snaps_to_its_county_seat_with_the_local_leg_added(
    provider: RoadGraphProvider,
) -> None:
    """Gate -> far county = local leg (great circle x local factor) + seat -> county."""
    cixi = seat(CIXI)
    matrix = provider.matrix([GATE_A, seat(LINQUAN)])
    leg_km = great_circle_km(GATE_A.lon, GATE_A.lat, cixi.lon, cixi.lat) * LOCAL_DETOUR_FACTOR
    route = shortest_route(provider.network, CIXI, LINQUAN)
    assert matrix.distance_m[0, 1] == pytest.approx((leg_km + route.distance_km) * 1000, abs=100)
    expected_s = (leg_km / LOCAL_SPEED_KMH + route.duration_h) * 3600
    assert matrix.duration_s[0, 1] == pytest.approx(expected_s, abs=10)


def test_a_site_without_adcode_snaps_to_the_nearest_seat(provider: RoadGraphProvider) -> None:
    """No adcode: the gazetteer's nearest seat decides the county."""
    site = Location(GATE_A.lon, GATE_A.lat)
    assert provider.snap(site).adcode == load_gazetteer().nearest(site.lon, site.lat).adcode
    with_code = provider.matrix([GATE_A, seat(WEINING)]).distance_m[0, 1]
    without = provider.matrix([site, seat(WEINING)]).distance_m[0, 1]
    if provider.snap(site).adcode == CIXI:
        assert with_code == without


def test_two_sites_in_one_county_get_the_direct_local_distance(
    provider: RoadGraphProvider,
) -> None:
    """Gates in the same county: great circle x local factor, not a detour through the seat."""
    matrix = provider.matrix([GATE_A, GATE_B])
    direct = great_circle_km(GATE_A.lon, GATE_A.lat, GATE_B.lon, GATE_B.lat) * LOCAL_DETOUR_FACTOR
    assert matrix.distance_m[0, 1] == pytest.approx(direct * 1000, abs=2)
    assert matrix.duration_s[0, 1] == pytest.approx(direct / LOCAL_SPEED_KMH * 3600, abs=2)
    assert matrix.distance_m[0, 0] == 0


def test_sites_facing_each_other_across_a_strait_take_the_ferry(
    provider: RoadGraphProvider,
) -> None:
    """A gate at Hai'an port and one in Haikou are 25 km apart, but only the ferry joins them."""
    hai_an = Location(110.178, 20.262, "440825")
    haikou = Location(110.286, 20.030, "460105")
    matrix = provider.matrix([hai_an, haikou])
    assert matrix.duration_s[0, 1] >= 2.5 * 3600
    # Neighbours by land do take the direct local road when it is shorter.
    matrix = provider.matrix([GATE_A, Location(121.155, 30.115, "330281")])
    direct = great_circle_km(GATE_A.lon, GATE_A.lat, 121.155, 30.115) * LOCAL_DETOUR_FACTOR
    assert matrix.distance_m[0, 1] == pytest.approx(direct * 1000, abs=2)
    assert provider.route_line(GATE_A, Location(121.155, 30.115, "330281")) == [
        (GATE_A.lon, GATE_A.lat),
        (121.155, 30.115),
    ]
    assert len(provider.route_line(hai_an, haikou)) == 4  # gate, 徐闻, 海口秀英, gate


def test_route_line_runs_from_site_through_seats_to_destination(
    provider: RoadGraphProvider,
) -> None:
    """The line starts at the gate, passes the county seats of the path, ends at the target."""
    target = seat(WEINING)
    line = provider.route_line(GATE_A, target)
    route = shortest_route(provider.network, CIXI, WEINING)
    assert line[0] == (GATE_A.lon, GATE_A.lat)
    assert line[-1] == (target.lon, target.lat)
    assert line[1:] == list(route.line)


def test_a_site_on_an_island_without_a_link_is_unreachable(provider: RoadGraphProvider) -> None:
    """Points in the Xisha and Nansha islands, far from any linked seat, are unreachable."""
    for lon, lat in ((112.33, 16.83), (114.0, 10.0)):
        with pytest.raises(Unreachable, match="not on the road network"):
            provider.matrix([GATE_A, Location(lon, lat)])
    with pytest.raises(Unreachable, match="county 460303 is not on the road network"):
        provider.matrix([GATE_A, Location(112.33, 16.83, "460303")])


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_matrix_file_round_trip(
    provider: RoadGraphProvider, road: RoadNetwork, tmp_path: Path, suffix: str
) -> None:
    """A matrix written by write_matrix_file reads back through MatrixFileProvider unchanged."""
    codes = [CIXI, YUZHONG, LINQUAN, WEINING, "330212"]
    places = [seat(code) for code in codes]
    original = provider.matrix(places)
    path = write_matrix_file(tmp_path / f"matrix{suffix}", codes, original)
    from_file = MatrixFileProvider(path, network=road).matrix(places)
    np.testing.assert_allclose(from_file.distance_m, original.distance_m, atol=1)
    np.testing.assert_allclose(from_file.duration_s, original.duration_s, atol=1)
    # Sites snap and add their local leg the same way as with the road graph.
    with_gate = MatrixFileProvider(path, network=road).matrix([GATE_A, places[1]])
    np.testing.assert_allclose(
        with_gate.distance_m, provider.matrix([GATE_A, places[1]]).distance_m, atol=2
    )


def test_matrix_file_uses_one_direction_both_ways_and_names_missing_pairs(
    road: RoadNetwork, tmp_path: Path
) -> None:
    """A pair given once serves both directions; a county pair the file lacks is named."""
    path = tmp_path / "own.csv"
    path.write_text(
        "from_adcode,to_adcode,distance_km,duration_h\n330282,500103,1700,24\n", encoding="utf-8"
    )
    provider = MatrixFileProvider(path, network=road)
    matrix = provider.matrix([seat(CIXI), seat(YUZHONG)])
    assert matrix.distance_m[1, 0] == matrix.distance_m[0, 1] == 1_700_000
    assert matrix.duration_s[1, 0] == 24 * 3600
    with pytest.raises(InvalidInput, match=r"own\.csv has no distance from 330282 to 341221"):
        provider.matrix([seat(CIXI), seat(LINQUAN)])


def test_matrix_file_with_wrong_columns_is_rejected(road: RoadNetwork, tmp_path: Path) -> None:
    """A file without distance and duration columns raises InvalidInput naming them."""
    path = tmp_path / "bad.csv"
    path.write_text("from_adcode,to_adcode,km\n330282,500103,1700\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="needs columns"):
        MatrixFileProvider(path, network=road)
    with pytest.raises(InvalidInput, match="does not exist"):
        MatrixFileProvider(tmp_path / "missing.csv", network=road)


@pytest.mark.skipif(
    importlib.util.find_spec("osrm") is not None, reason="osrm installed: see the OSRM test"
)
def test_osrm_provider_without_the_package_says_how_to_install_it() -> None:
    """Without osrm-bindings the OSRM provider fails with an install hint, not ImportError."""
    with pytest.raises(InvalidInput, match="pip install osrm-bindings"):
        OsrmProvider("china.osrm")


def test_osrm_provider_answers_a_table(tmp_path: Path) -> None:
    """With osrm-bindings (Python >= 3.12) and a prepared dataset, OSRM answers a matrix."""
    pytest.importorskip("osrm", reason="osrm-bindings needs Python 3.12 or newer")
    dataset = Path(__file__).with_name("data") / "tiny.osrm"
    if not dataset.exists():
        pytest.skip("no prepared OSRM dataset (tiny.osrm) beside the tests")
    provider = OsrmProvider(dataset)
    points = [Location(121.23, 30.19), Location(121.24, 30.20)]
    matrix = provider.matrix(points)
    assert matrix.distance_m.shape == (2, 2)
    assert matrix.distance_m[0, 1] > 0


def test_default_provider_builds_each_kind(road: RoadNetwork, tmp_path: Path) -> None:
    """default_provider() is the road graph; other kinds by name; unknown kinds are refused."""
    assert isinstance(default_provider(network=road), RoadGraphProvider)
    assert isinstance(default_provider("great-circle"), GreatCircleProvider)
    path = write_matrix_file(
        tmp_path / "m.csv",
        [CIXI, YUZHONG],
        GreatCircleProvider().matrix([seat(CIXI), seat(YUZHONG)]),
    )
    assert isinstance(default_provider("matrix", path=path, network=road), MatrixFileProvider)
    with pytest.raises(InvalidInput, match="unknown distance provider 'valhalla'"):
        default_provider("valhalla")
