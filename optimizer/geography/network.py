"""The offline road network: county seats joined by road links, with shortest paths in km and hours.

Nodes are county adcodes placed at their county seat (WGS-84, from the gazetteer). Links come from
`data/road_edges.csv`, built by `scripts/build_road_network.py`: counties whose boundaries touch,
plus the sea bridges, tunnels and ferries that adjacency misses. A link's km is the great-circle
distance between the two seats (recomputed here from the gazetteer) times the link's detour
factor, fitted per terrain class; its hours are coach driving hours at day speed for its terrain
(the timetable applies night speed, rests and breaks), plus boarding and sailing for ferries.

This is the only module that imports networkx. Routes follow the shortest path in km; their hours
are summed along that same path.
"""

from __future__ import annotations

import csv
import hashlib
import heapq
import itertools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt

from optimizer.errors import Unreachable
from optimizer.geography.distance import great_circle_km

# Terrain class of each province (first two adcode digits). Mountain provinces run the highest
# road/great-circle ratios, the northern and eastern plains the lowest (DOMAIN.md, "Geography").
PROVINCE_TERRAIN: dict[str, str] = {
    **dict.fromkeys(("11", "12", "13", "21", "22", "23", "31", "32", "34", "37", "41"), "plain"),
    **dict.fromkeys(
        ("14", "15", "33", "35", "36", "42", "43", "44", "45", "46", "61", "62", "64", "65"), "hill"
    ),
    **dict.fromkeys(("50", "51", "52", "53"), "mountain"),
    **dict.fromkeys(("54", "63"), "plateau"),
}

# Prefectures (first four adcode digits) whose terrain differs from their province's: the
# Sichuan basin is hill country, western Sichuan and the Yunnan-Tibet border are plateau
# gorges where roads wind far around the ranges, the Qinling-Daba south of Xi'an is mountain.
PREFECTURE_TERRAIN: dict[str, str] = {
    **dict.fromkeys(
        (
            "5101",
            "5103",
            "5105",
            "5106",
            "5107",
            "5109",
            "5110",
            "5111",
            "5113",
            "5114",
            "5115",
            "5116",
            "5117",
            "5120",
        ),
        "hill",
    ),
    **dict.fromkeys(("5132", "5133", "5134", "5333", "5334", "6230"), "plateau"),
    **dict.fromkeys(("6107", "6109", "6110"), "mountain"),
}

TERRAIN_ORDER = ("plain", "hill", "mountain", "plateau")

# Average coach speed on a link, day time, km/h. Coaches are capped at 100 km/h on expressways;
# averages sit below the cap for ramps, tolls, towns and grades (mountain links are tunnel and
# viaduct expressway with 80 km/h sections; plateau links are largely national roads).
DEFAULT_SPEED_KMH: dict[str, float] = {
    "plain": 85.0,
    "hill": 80.0,
    "mountain": 70.0,
    "plateau": 55.0,
}

EDGE_KINDS = ("adjacent", "bridge", "ferry", "link")

_DATA = resources.files("optimizer.geography") / "data"


def terrain_of(adcode: str) -> str:
    """Terrain class ("plain", "hill", "mountain", "plateau") of the land around county `adcode`."""
    return PREFECTURE_TERRAIN.get(adcode[:4]) or PROVINCE_TERRAIN.get(adcode[:2], "hill")


@dataclass(frozen=True)
class Seat:
    """A network node: a county seat in WGS-84 degrees."""

    adcode: str
    name: str
    lon: float
    lat: float


@dataclass(frozen=True)
class Route:
    """A shortest road route between two county seats.

    `adcodes` lists the counties whose seats the line passes through, ends included; `line` holds
    their (lon, lat); `distance_km` and `duration_h` are road km and day-speed driving hours.
    """

    adcodes: tuple[str, ...]
    line: tuple[tuple[float, float], ...]
    distance_km: float
    duration_h: float
    crossings: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """The road graph plus array views of it for fast all-pairs work.

    `graph` has adcode nodes (attributes lon, lat, name) and undirected links (km, hours, kind).
    `adcodes[i]` is the node of row/column i of every array this network hands out.
    """

    graph: nx.Graph[str]
    adcodes: tuple[str, ...]
    index: Mapping[str, int]
    data_hash: str
    _adjacency: list[list[tuple[int, float, float]]] = field(repr=False)

    def seat(self, adcode: str) -> Seat:
        """The node of county `adcode`; raises Unreachable for counties with no road link."""
        if adcode not in self.index:
            raise Unreachable(
                f"county {adcode} is not on the road network: no road or ferry reaches it "
                "(island counties such as Sansha; Taiwan, Hong Kong and Macau are outside the "
                "charter network)"
            )
        node = self.graph.nodes[adcode]
        return Seat(adcode, node["name"], node["lon"], node["lat"])

    def __contains__(self, adcode: object) -> bool:
        return adcode in self.index


def build_network(
    seats: Sequence[Seat], edges: Sequence[Mapping[str, str]], data_hash: str = ""
) -> RoadNetwork:
    """A RoadNetwork from seats and edge rows (columns of road_edges.csv).

    Links whose ends have no seat are dropped; seats with no link stay off the network, so that
    asking for them raises Unreachable instead of returning an infinite distance.
    """
    by_code = {seat.adcode: seat for seat in seats}
    graph: nx.Graph[str] = nx.Graph()
    for row in edges:
        a, b = row["adcode_a"], row["adcode_b"]
        if a not in by_code or b not in by_code or a == b:
            continue
        if row["kind"] not in EDGE_KINDS:
            raise ValueError(f"unknown road link kind {row['kind']!r}")
        km, hours = _link_km_hours(by_code[a], by_code[b], row)
        graph.add_edge(a, b, km=km, hours=hours, kind=row["kind"])
    for adcode in graph.nodes:
        seat = by_code[adcode]
        graph.nodes[adcode].update(name=seat.name, lon=seat.lon, lat=seat.lat)
    adcodes = tuple(sorted(graph.nodes))
    index = {code: i for i, code in enumerate(adcodes)}
    adjacency: list[list[tuple[int, float, float]]] = [[] for _ in adcodes]
    for a, b, data in graph.edges(data=True):
        i, j = index[a], index[b]
        adjacency[i].append((j, data["km"], data["hours"]))
        adjacency[j].append((i, data["km"], data["hours"]))
    return RoadNetwork(graph, adcodes, index, data_hash, adjacency)


def _link_km_hours(a: Seat, b: Seat, row: Mapping[str, str]) -> tuple[float, float]:
    """km and day-speed hours of a link: great circle between the seats x the row's detour
    factor at its terrain's speed, plus fixed extra hours (ferries); rows without a factor keep
    their own km and hours."""
    if not row.get("factor") or row.get("terrain") not in DEFAULT_SPEED_KMH:
        return float(row["km"]), float(row["hours"])
    km = great_circle_km(a.lon, a.lat, b.lon, b.lat) * float(row["factor"])
    hours = km / DEFAULT_SPEED_KMH[row["terrain"]] + float(row.get("extra_hours") or 0)
    return km, hours


def read_edges(path: Path | None = None) -> list[dict[str, str]]:
    """Rows of the shipped `road_edges.csv` (or of `path`)."""
    source = path if path is not None else _DATA / "road_edges.csv"
    with source.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def gazetteer_seats() -> list[Seat]:
    """County seats of the shipped gazetteer (counties without coordinates are left out)."""
    from optimizer.geography.gazetteer import load_gazetteer

    seats = []
    for county in load_gazetteer():
        if county.lon is None or county.lat is None:
            continue
        seats.append(Seat(county.adcode, county.name, float(county.lon), float(county.lat)))
    return seats


@lru_cache(maxsize=1)
def load_road_network() -> RoadNetwork:
    """The shipped road network over the shipped gazetteer's county seats (loaded once)."""
    seats = gazetteer_seats()
    edges_file = _DATA / "road_edges.csv"
    digest = hashlib.sha256(edges_file.read_bytes())
    for seat in sorted(seats, key=lambda s: s.adcode):
        digest.update(f"{seat.adcode},{seat.lon:.6f},{seat.lat:.6f};".encode())
    return build_network(seats, read_edges(), digest.hexdigest()[:16])


def shortest_route(network: RoadNetwork, origin: str, destination: str) -> Route:
    """The km-shortest road route between the seats of counties `origin` and `destination`.

    Raises Unreachable for a county with no road or ferry link (islands such as Sansha, and places
    outside the charter network: Taiwan, Hong Kong, Macau) and when no road joins the two.
    """
    for adcode in (origin, destination):
        network.seat(adcode)
    try:
        km, path = nx.bidirectional_dijkstra(network.graph, origin, destination, weight="km")
    except nx.NetworkXNoPath as error:
        raise Unreachable(f"no road between {origin} and {destination}") from error
    graph = network.graph
    hours = sum(graph.edges[a, b]["hours"] for a, b in itertools.pairwise(path))
    crossings = tuple(
        graph.edges[a, b]["kind"]
        for a, b in itertools.pairwise(path)
        if graph.edges[a, b]["kind"] != "adjacent"
    )
    line = tuple((graph.nodes[n]["lon"], graph.nodes[n]["lat"]) for n in path)
    return Route(tuple(path), line, float(km), float(hours), crossings)


def _dijkstra_row(
    adjacency: list[list[tuple[int, float, float]]], source: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """km to every node along km-shortest paths from `source`, and the hours along those paths."""
    size = len(adjacency)
    km = np.full(size, np.inf)
    hours = np.full(size, np.inf)
    best = [float("inf")] * size
    best_hours = [float("inf")] * size
    best[source] = 0.0
    best_hours[source] = 0.0
    done = [False] * size
    heap: list[tuple[float, float, int]] = [(0.0, 0.0, source)]
    pop, push = heapq.heappop, heapq.heappush
    while heap:
        d, h, node = pop(heap)
        if done[node]:
            continue
        done[node] = True
        for neighbour, edge_km, edge_hours in adjacency[node]:
            candidate = d + edge_km
            if candidate < best[neighbour]:
                best[neighbour] = candidate
                best_hours[neighbour] = h + edge_hours
                push(heap, (candidate, h + edge_hours, neighbour))
    km[:] = best
    hours[:] = best_hours
    return km, hours


def cache_dir() -> Path:
    """Where computed shortest-path rows are kept between runs.

    `CHUNYUN_CACHE_DIR` wins; otherwise `$XDG_CACHE_HOME/chunyun` or `~/.cache/chunyun`.
    """
    explicit = os.environ.get("CHUNYUN_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "chunyun"


class PathCache:
    """County-to-county shortest-path km and hours, computed a source row at a time on demand.

    Rows live in memory-mapped float32 files under `cache_dir()/road-<data hash>/`, so a second run
    (or a second process) reuses them; a changed edges file or gazetteer changes the hash and
    starts a fresh cache. Without a writable cache directory rows are kept in memory only.

    A row counts as computed when every entry but its own diagonal is non-zero (every link is
    longer than zero, so complete rows have exactly that shape; unwritten rows are all zero).
    This needs no separate index that could disagree with the rows after a crash, and processes
    sharing the folder at worst compute the same row twice and write identical values.
    """

    def __init__(self, network: RoadNetwork, directory: Path | None = None) -> None:
        self.network = network
        size = len(network.adcodes)
        self._km: Any
        self._hours: Any
        try:
            folder = (directory or cache_dir()) / f"road-{network.data_hash or 'nohash'}"
            folder.mkdir(parents=True, exist_ok=True)
            self._km = _open_matrix(folder / "km.npy", (size, size))
            self._hours = _open_matrix(folder / "hours.npy", (size, size))
        except OSError:
            self._km = np.zeros((size, size), np.float32)
            self._hours = np.zeros((size, size), np.float32)

    def _complete(self, source: int) -> bool:
        expected = len(self.network.adcodes) - 1
        return bool(
            np.count_nonzero(self._km[source]) == expected
            and np.count_nonzero(self._hours[source]) == expected
        )

    def rows(
        self, sources: Sequence[int]
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """km and hours from each node index in `sources` to every node (inf where unreachable)."""
        missing = sorted({s for s in sources if not self._complete(s)})
        for source in missing:
            km, hours = _dijkstra_row(self.network._adjacency, source)
            self._km[source] = km
            self._hours[source] = hours
        if missing:
            _flush(self._km, self._hours)
        picked = np.asarray(sources, dtype=np.intp)
        return np.asarray(self._km[picked]), np.asarray(self._hours[picked])


def _open_matrix(path: Path, shape: tuple[int, int]) -> Any:
    """A float32 .npy file of `shape` mapped read-write, created atomically when missing."""
    for _ in range(2):
        if path.exists():
            try:
                existing = np.load(path, mmap_mode="r+")
            except (OSError, ValueError):
                existing = None
            if existing is not None and existing.shape == shape and existing.dtype == np.float32:
                return existing
            path.unlink(missing_ok=True)  # another shape or a torn file: start it afresh
        # Build under a private name, then link into place: a concurrent reader never sees a
        # half-written header, and of two creators one wins and the other maps its file.
        temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        created = np.lib.format.open_memmap(temporary, mode="w+", dtype=np.float32, shape=shape)
        del created
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink(missing_ok=True)
    return np.load(path, mmap_mode="r+")


def _flush(*arrays: Any) -> None:
    for array in arrays:
        if isinstance(array, np.memmap):
            array.flush()


@lru_cache(maxsize=4)
def _cache_for(network: RoadNetwork) -> PathCache:
    return PathCache(network)


def county_matrix(
    network: RoadNetwork, adcodes: Sequence[str], cache: PathCache | None = None
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Road km and day-speed hours between every pair of `adcodes` (square, inf if unreachable).

    Rows come from the on-disk path cache, so repeated calls over the same counties cost only
    array indexing.
    """
    missing = [code for code in adcodes if code not in network.index]
    if missing:
        raise Unreachable(f"counties not on the road network: {', '.join(sorted(set(missing)))}")
    positions = [network.index[code] for code in adcodes]
    unique = sorted(set(positions))
    km_rows, hour_rows = (cache or _cache_for(network)).rows(unique)
    where = {node: row for row, node in enumerate(unique)}
    rows = [where[p] for p in positions]
    km = km_rows[np.ix_(rows, positions)].astype(np.float64)
    hours = hour_rows[np.ix_(rows, positions)].astype(np.float64)
    # float32 rows lose symmetry in the last bits; average the two directions of each pair.
    return (km + km.T) / 2, (hours + hours.T) / 2


def reachable_from(network: RoadNetwork, adcode: str) -> set[str]:
    """Every county reachable by road (and ferry) from `adcode`."""
    return set(nx.node_connected_component(network.graph, adcode))


def components(network: RoadNetwork) -> list[set[str]]:
    """Connected parts of the network, largest first (the mainland first)."""
    return sorted(nx.connected_components(network.graph), key=len, reverse=True)


def without_kinds(network: RoadNetwork, kinds: Sequence[str]) -> nx.Graph[str]:
    """The graph without the links of `kinds` (e.g. to see what only a ferry reaches)."""
    return nx.subgraph_view(
        network.graph, filter_edge=lambda a, b: network.graph.edges[a, b]["kind"] not in kinds
    )
