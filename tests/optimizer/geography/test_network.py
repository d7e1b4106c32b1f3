"""The shipped road network: invariants of its shortest paths, crossings, calibration, cache."""

from __future__ import annotations

import csv
import itertools
import random
import statistics
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from optimizer.errors import ChunyunError, Unreachable
from optimizer.geography import network as network_module
from optimizer.geography.distance import great_circle_km, great_circle_matrix_km
from optimizer.geography.gazetteer import load_gazetteer
from optimizer.geography.network import (
    PathCache,
    RoadNetwork,
    components,
    county_matrix,
    load_road_network,
    shortest_route,
    terrain_of,
    without_kinds,
)

CIXI, YUZHONG, HAIKOU_XIUYING, XUWEN = "330282", "500103", "460105", "440825"
# Units no coach reaches: Kinmen (administered from Taiwan), Sansha's island districts.
OFF_NETWORK = {"350527", "460302", "460303"}

# Calibration bounds stated in docs/geography.md ("Road network", "Calibration").
MEDIAN_ERROR_BOUND = 0.03
WORST_ERROR_BOUND = 0.20


@pytest.fixture(scope="module")
def road() -> RoadNetwork:
    return load_road_network()


@pytest.fixture(scope="module")
def cache(road: RoadNetwork, tmp_path_factory: pytest.TempPathFactory) -> PathCache:
    return PathCache(road, tmp_path_factory.mktemp("road-cache"))


@pytest.fixture(scope="module")
def sample(road: RoadNetwork) -> list[str]:
    """40 counties spread over the country, plus Cixi and Haikou."""
    picked = random.Random(2024).sample(sorted(road.adcodes), 40)
    return [*picked, CIXI, HAIKOU_XIUYING]


def test_every_mainland_county_with_a_seat_is_on_one_connected_network(road: RoadNetwork) -> None:
    """All gazetteer counties with coordinates are nodes of a single component, but the islands."""
    located = {c.adcode for c in load_gazetteer() if c.has_coordinates}
    assert located - set(road.adcodes) == OFF_NETWORK
    assert len(components(road)) == 1


def test_hainan_is_reached_only_through_the_qiongzhou_ferry(road: RoadNetwork) -> None:
    """Every link leaving Hainan is the Xuwen-Haikou ferry; without ferries Hainan is cut off."""
    leaving = [
        (a, b, data["kind"])
        for a, b, data in road.graph.edges(data=True)
        if (a[:2] == "46") != (b[:2] == "46")
    ]
    assert [(sorted((a, b)), kind) for a, b, kind in leaving] == [
        ([XUWEN, HAIKOU_XIUYING], "ferry")
    ]
    mainland = network_module.nx.node_connected_component(without_kinds(road, ["ferry"]), CIXI)
    assert not any(code.startswith("46") for code in mainland)
    route = shortest_route(road, CIXI, HAIKOU_XIUYING)
    assert "ferry" in route.crossings
    assert XUWEN in route.adcodes


def test_hangzhou_bay_bridge_shortens_cixi_to_jiaxing(road: RoadNetwork) -> None:
    """Cixi to Haiyan crosses the bay on the bridge instead of driving round by Hangzhou."""
    route = shortest_route(road, CIXI, "330424")
    assert route.crossings == ("bridge",)
    assert route.distance_km < 120
    around = network_module.nx.dijkstra_path_length(
        without_kinds(road, ["bridge"]), CIXI, "330424", weight="km"
    )
    assert around > 1.5 * route.distance_km


def test_zhoushan_is_reached_over_its_bridges(road: RoadNetwork) -> None:
    """Dinghai (Zhoushan) is one bridge link from Beilun, Ningbo."""
    route = shortest_route(road, "330206", "330902")
    assert route.adcodes == ("330206", "330902")
    assert route.crossings == ("bridge",)


def test_island_and_unknown_counties_are_unreachable_with_a_clear_error(road: RoadNetwork) -> None:
    """Sansha, Kinmen and codes outside the network raise Unreachable naming the county."""
    for code in ("460303", "350527", "710000", "810000"):
        with pytest.raises(Unreachable, match=f"county {code} is not on the road network"):
            shortest_route(road, CIXI, code)
    with pytest.raises(ChunyunError):
        county_matrix(road, [CIXI, "460303"])


def test_route_km_and_hours_resum_along_its_path(road: RoadNetwork) -> None:
    """A route's km and hours are the sums over its links; its line runs seat to seat."""
    route = shortest_route(road, CIXI, YUZHONG)
    links = list(itertools.pairwise(route.adcodes))
    assert route.distance_km == pytest.approx(sum(road.graph.edges[e]["km"] for e in links))
    assert route.duration_h == pytest.approx(sum(road.graph.edges[e]["hours"] for e in links))
    seats = [road.seat(code) for code in route.adcodes]
    assert route.line == tuple((s.lon, s.lat) for s in seats)
    assert route.line[0] == (road.seat(CIXI).lon, road.seat(CIXI).lat)


def test_every_link_is_at_least_great_circle_and_at_most_coach_speed(road: RoadNetwork) -> None:
    """Link km >= great-circle km between its seats; link hours >= km / 100 km/h."""
    for a, b, data in road.graph.edges(data=True):
        sa, sb = road.seat(a), road.seat(b)
        assert data["km"] >= great_circle_km(sa.lon, sa.lat, sb.lon, sb.lat) - 0.01, (a, b)
        assert data["hours"] >= data["km"] / 100 - 1e-3, (a, b)


def test_shipped_edges_were_built_from_the_current_gazetteer(road: RoadNetwork) -> None:
    """Links recomputed from today's seats match the build's km: rebuild the edges if not."""
    stale = []
    for row in network_module.read_edges():
        a, b = row["adcode_a"], row["adcode_b"]
        if a in road and b in road:
            km = road.graph.edges[a, b]["km"]
            if abs(km - float(row["km"])) > 0.005 * float(row["km"]) + 0.05:
                stale.append((a, b, row["km"], round(km, 2)))
    assert stale == [], "run scripts/build_road_network.py: seats moved since the build"


def test_matrix_is_symmetric_and_obeys_the_triangle_inequality(
    road: RoadNetwork, cache: PathCache, sample: list[str]
) -> None:
    """All-pairs km: zero diagonal, symmetric, triangle inequality, never below great circle."""
    km, hours = county_matrix(road, sample, cache)
    assert np.all(np.diag(km) == 0) and np.all(np.diag(hours) == 0)
    np.testing.assert_allclose(km, km.T)
    via = (km[:, :, None] + km[None, :, :]).min(axis=1)
    assert np.all(km <= via + 0.05)  # float32 rows: a few metres of slack
    seats = [road.seat(code) for code in sample]
    gc = great_circle_matrix_km([s.lon for s in seats], [s.lat for s in seats])
    assert np.all(km >= gc - 0.05)
    off_diagonal = ~np.eye(len(sample), dtype=bool)
    assert np.all(hours[off_diagonal] > 0)


def test_matrix_agrees_with_single_routes(
    road: RoadNetwork, cache: PathCache, sample: list[str]
) -> None:
    """The cached all-pairs rows give the same km and hours as a networkx shortest path."""
    km, hours = county_matrix(road, sample[:6], cache)
    for i, j in itertools.combinations(range(6), 2):
        route = shortest_route(road, sample[i], sample[j])
        assert km[i, j] == pytest.approx(route.distance_km, rel=1e-5)
        assert hours[i, j] == pytest.approx(route.duration_h, rel=1e-3)


def test_path_cache_is_reused_from_disk(
    road: RoadNetwork, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second cache on the same folder answers computed rows without running Dijkstra again."""
    codes = [CIXI, YUZHONG, "341221"]
    first, _ = county_matrix(road, codes, PathCache(road, tmp_path))

    def refuse(*args: object) -> None:
        raise AssertionError("row recomputed although cached")

    monkeypatch.setattr(network_module, "_dijkstra_row", refuse)
    again, _ = county_matrix(road, codes, PathCache(road, tmp_path))
    np.testing.assert_array_equal(first, again)
    assert (tmp_path / f"road-{road.data_hash}" / "km.npy").exists()


def test_path_cache_recomputes_a_torn_row(road: RoadNetwork, tmp_path: Path) -> None:
    """A row left half-written (a crash mid-write) is recognised and computed again."""
    codes = [CIXI, YUZHONG]
    first, _ = county_matrix(road, codes, PathCache(road, tmp_path))
    rows = np.load(tmp_path / f"road-{road.data_hash}" / "km.npy", mmap_mode="r+")
    rows[road.index[CIXI], ::2] = 0
    rows.flush()
    del rows
    again, _ = county_matrix(road, codes, PathCache(road, tmp_path))
    np.testing.assert_array_equal(first, again)


def calibration_rows() -> list[dict[str, str]]:
    path = resources.files("optimizer.geography") / "data" / "road_calibration.csv"
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_calibration_error_is_within_the_documented_bound(road: RoadNetwork) -> None:
    """Relative km error against published road distances: median <= 3 %, worst <= 20 %."""
    errors = []
    for row in calibration_rows():
        route = shortest_route(road, row["from_adcode"], row["to_adcode"])
        errors.append(abs(route.distance_km / float(row["road_km"]) - 1))
    assert len(errors) >= 20
    assert statistics.median(errors) <= MEDIAN_ERROR_BOUND
    assert max(errors) <= WORST_ERROR_BOUND


def test_ningbo_to_chongqing_matches_the_route_planner(road: RoadNetwork) -> None:
    """Ningbo -> Chongqing: ~1,727 km; coach hours above the car planner's 19.7 h, below +25 %."""
    route = shortest_route(road, "330203", YUZHONG)
    assert route.distance_km == pytest.approx(1727, rel=0.05)
    assert 19.7 <= route.duration_h <= 19.7 * 1.25


def test_mountain_links_are_slower_and_longer_than_plain_ones(road: RoadNetwork) -> None:
    """Guizhou links carry a higher detour factor and lower speed than Anhui or Henan links."""
    factors: dict[str, list[float]] = {"52": [], "34": [], "41": []}
    speeds: dict[str, list[float]] = {"52": [], "34": [], "41": []}
    for a, b, data in road.graph.edges(data=True):
        if a[:2] == b[:2] and a[:2] in factors:
            sa, sb = road.seat(a), road.seat(b)
            factors[a[:2]].append(data["km"] / great_circle_km(sa.lon, sa.lat, sb.lon, sb.lat))
            speeds[a[:2]].append(data["km"] / data["hours"])
    assert terrain_of("520526") == "mountain" and terrain_of("341221") == "plain"
    for plain in ("34", "41"):
        assert statistics.median(factors["52"]) > statistics.median(factors[plain])
        assert statistics.median(speeds["52"]) < statistics.median(speeds[plain])
