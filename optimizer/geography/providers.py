"""Distance providers behind the `DistanceProvider` interface of `distance.py`.

- `RoadGraphProvider` (the default): the shipped county road network; sites snap to their county's
  seat with the local leg added.
- `MatrixFileProvider`: a user's own county-to-county km/hours table (CSV or Parquet).
- `OsrmProvider`: OSRM on the user's own OSM extract, through the optional `osrm` package.
- `GreatCircleProvider` (in `distance.py`): great-circle x detour factor, the fast fallback.

All answer in integer metres and integer seconds of day-speed driving (the timetable applies
night speed and rests). Coordinates are WGS-84 (not the GCJ-02 of Chinese web maps).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from optimizer.errors import InvalidInput, Unreachable
from optimizer.geography.distance import (
    DistanceProvider,
    GreatCircleProvider,
    Location,
    TravelMatrix,
    great_circle_km,
    great_circle_rows_km,
)
from optimizer.geography.network import (
    PathCache,
    RoadNetwork,
    Route,
    county_matrix,
    load_road_network,
    shortest_route,
)

# A factory gate to its county seat runs on town and county roads: a higher detour than the
# expressway network and a lower speed (verify against local knowledge; both are parameters).
LOCAL_DETOUR_FACTOR = 1.4
LOCAL_SPEED_KMH = 40.0
# Beyond this great-circle distance from every county seat a point is at sea or abroad (the
# largest western counties reach ~250 km from their seat): refuse rather than snap it.
MAX_SNAP_KM = 300.0


@dataclass(frozen=True)
class Snapped:
    """Where a location joins the county network: its node and the local leg to that seat."""

    adcode: str
    leg_km: float


class CountySnapper:
    """Snaps locations to county seats of a road network.

    A location carrying an adcode snaps to that county; one without snaps to the county whose
    seat is nearest (great circle), by default among all the gazetteer's seats, so that a point
    on an island without a road link is reported unreachable rather than moved to the mainland.
    The local leg is great-circle from the point to the seat x `local_detour_factor`.
    """

    def __init__(
        self,
        network: RoadNetwork,
        local_detour_factor: float = LOCAL_DETOUR_FACTOR,
        nearest: Callable[[float, float], str] | None = None,
    ) -> None:
        if local_detour_factor < 1:
            raise InvalidInput("local_detour_factor must be at least 1")
        self.network = network
        self.local_detour_factor = local_detour_factor
        self._nearest = nearest or _gazetteer_nearest

    def nearest(self, lon: float, lat: float) -> str:
        """Adcode of the county whose seat is nearest to (lon, lat)."""
        return self._nearest(lon, lat)

    def snap(self, location: Location) -> Snapped:
        """The county node of `location` and the km of its local leg to that seat."""
        adcode = location.adcode or self.nearest(location.lon, location.lat)
        seat = self.network.seat(adcode)
        gc = great_circle_km(location.lon, location.lat, seat.lon, seat.lat)
        if gc > MAX_SNAP_KM:
            raise Unreachable(
                f"({location.lon:.4f}, {location.lat:.4f}) is {gc:,.0f} km from the seat of "
                f"county {adcode}: not on the road network (at sea, abroad, or wrong county)"
            )
        return Snapped(adcode, gc * self.local_detour_factor)


# Site rows of a travel matrix computed at a time: a province season has ~17,000 sites, whose
# full float64 intermediates would take tens of GB; row blocks keep them to tens of MB.
MATRIX_BLOCK_ROWS = 512


def _land_neighbours(network: RoadNetwork, counties: Sequence[str]) -> npt.NDArray[np.bool_]:
    """Pairs of `counties` that are the same or share a land boundary.

    Only these may take the direct local road: across a bay or strait (Hangzhou Bay, the
    Qiongzhou Strait) the way lies over the bridge or ferry link, whatever the straight line says.
    """
    position = {code: n for n, code in enumerate(counties)}
    land = np.eye(len(counties), dtype=bool)
    graph = network.graph
    for a in counties:
        for b, data in graph.adj[a].items():
            if data["kind"] == "adjacent" and b in position:
                land[position[a], position[b]] = True
    return land


def _combine(
    locations: Sequence[Location],
    snapped: Sequence[Snapped],
    counties: Sequence[str],
    county_km: npt.NDArray[np.float64],
    county_hours: npt.NDArray[np.float64],
    land_neighbours: npt.NDArray[np.bool_],
    local_detour_factor: float,
    local_speed_kmh: float,
) -> TravelMatrix:
    """Site-to-site km and hours: local leg + county-to-county + local leg, or the direct local
    road when both sites are in one county, or in land neighbours and the direct road is shorter.

    `county_km`, `county_hours` and `land_neighbours` are square over `counties` (each site's
    snapped county among them); the site matrix is built MATRIX_BLOCK_ROWS rows at a time.
    """
    size = len(snapped)
    index = {code: n for n, code in enumerate(counties)}
    node = np.array([index[s.adcode] for s in snapped], dtype=np.int64)
    leg = np.array([s.leg_km for s in snapped], dtype=np.float64)
    lons = np.array([p.lon for p in locations], dtype=np.float64)
    lats = np.array([p.lat for p in locations], dtype=np.float64)
    distance_m = np.empty((size, size), dtype=np.int64)
    duration_s = np.empty((size, size), dtype=np.int64)
    for start in range(0, size, MATRIX_BLOCK_ROWS):
        rows = slice(start, min(size, start + MATRIX_BLOCK_ROWS))
        pairs = np.ix_(node[rows], node)
        km = county_km[pairs] + leg[rows, None] + leg[None, :]
        hours = county_hours[pairs] + (leg[rows, None] + leg[None, :]) / local_speed_kmh
        direct_km = great_circle_rows_km(lons[rows], lats[rows], lons, lats) * local_detour_factor
        local = (node[rows, None] == node[None, :]) | (land_neighbours[pairs] & (direct_km < km))
        km = np.where(local, direct_km, km)
        hours = np.where(local, direct_km / local_speed_kmh, hours)
        own = np.arange(rows.start, rows.stop)
        km[own - start, own] = 0.0
        hours[own - start, own] = 0.0
        if not np.isfinite(km).all():
            i, j = np.argwhere(~np.isfinite(km))[0]
            raise Unreachable(
                f"no road between {snapped[start + i].adcode} and {snapped[j].adcode}"
            )
        distance_m[rows] = np.rint(km * 1000).astype(np.int64)
        duration_s[rows] = np.rint(hours * 3600).astype(np.int64)
    return TravelMatrix(distance_m=distance_m, duration_s=duration_s)


def _gazetteer_nearest(lon: float, lat: float) -> str:
    from optimizer.geography.gazetteer import load_gazetteer

    return load_gazetteer().nearest(lon, lat).adcode


def network_nearest(network: RoadNetwork) -> Callable[[float, float], str]:
    """A nearest-seat function over the nodes of `network` only (for networks of one's own)."""
    nodes = network.graph.nodes
    lons = np.radians([nodes[c]["lon"] for c in network.adcodes])
    lats = np.radians([nodes[c]["lat"] for c in network.adcodes])
    cos_lats = np.cos(lats)

    def nearest(lon: float, lat: float) -> str:
        phi, lam = math.radians(lat), math.radians(lon)
        h = np.sin((lats - phi) / 2) ** 2 + math.cos(phi) * cos_lats * np.sin((lons - lam) / 2) ** 2
        return network.adcodes[int(np.argmin(h))]

    return nearest


class _CountySites:
    """What the providers that snap sites to county seats share: their network and snapper,
    the local road speed, and the site matrix built from a county-to-county one."""

    network: RoadNetwork
    snapper: CountySnapper
    local_speed_kmh: float

    def _site_matrix(
        self,
        locations: Sequence[Location],
        snapped: Sequence[Snapped],
        counties: Sequence[str],
        county_km: npt.NDArray[np.float64],
        county_hours: npt.NDArray[np.float64],
    ) -> TravelMatrix:
        """`_combine` of the county matrix over `counties`, the direct local road allowed
        between land neighbours of this network."""
        return _combine(
            locations,
            snapped,
            counties,
            county_km,
            county_hours,
            _land_neighbours(self.network, counties),
            self.snapper.local_detour_factor,
            self.local_speed_kmh,
        )


class RoadGraphProvider(_CountySites):
    """Road km and coach hours over the shipped county road network (the default provider).

    Parameters: `network` (default: the shipped one), `local_detour_factor` and
    `local_speed_kmh` for the leg between a site and its county seat, `cache` for the
    county-to-county path rows (default: on disk under the user cache directory), `nearest`
    to snap adcode-less sites (default: the gazetteer's nearest seat).
    """

    name = "road-graph"

    def __init__(
        self,
        network: RoadNetwork | None = None,
        *,
        local_detour_factor: float = LOCAL_DETOUR_FACTOR,
        local_speed_kmh: float = LOCAL_SPEED_KMH,
        cache: PathCache | None = None,
        nearest: Callable[[float, float], str] | None = None,
    ) -> None:
        if local_speed_kmh <= 0:
            raise InvalidInput("local_speed_kmh must be positive")
        self.network = network if network is not None else load_road_network()
        self.snapper = CountySnapper(self.network, local_detour_factor, nearest)
        self.local_speed_kmh = local_speed_kmh
        self.cache = cache
        # County-to-county routes of `route_line`: a season's many gates share few county pairs.
        self.routes: dict[tuple[str, str], Route] = {}

    def snap(self, location: Location) -> Snapped:
        """The county node of `location` and its local leg in km."""
        return self.snapper.snap(location)

    def matrix(self, locations: Sequence[Location]) -> TravelMatrix:
        """Road metres and day-speed driving seconds between every pair of `locations`."""
        snapped = [self.snapper.snap(p) for p in locations]
        counties = sorted({s.adcode for s in snapped})
        km, hours = county_matrix(self.network, counties, self.cache)
        return self._site_matrix(locations, snapped, counties, km, hours)

    def route_line(self, origin: Location, destination: Location) -> list[tuple[float, float]]:
        """The road line as (lon, lat): origin, the county seats along the path, destination.

        Where `matrix` takes the direct local road (same or land-neighbouring county), the line
        is straight too, so that drawn lines and distances agree.
        """
        start, end = self.snapper.snap(origin), self.snapper.snap(destination)
        line = [(origin.lon, origin.lat)]
        if start.adcode != end.adcode:
            route = self.routes.get((start.adcode, end.adcode))
            if route is None:
                route = shortest_route(self.network, start.adcode, end.adcode)
                self.routes[(start.adcode, end.adcode)] = route
            direct_km = great_circle_km(origin.lon, origin.lat, destination.lon, destination.lat)
            direct_km *= self.snapper.local_detour_factor
            land = route.adcodes == (start.adcode, end.adcode) and not route.crossings
            if not (land and direct_km < start.leg_km + route.distance_km + end.leg_km):
                line.extend(route.line)
        line.append((destination.lon, destination.lat))
        deduplicated = [line[0]]
        for point in line[1:]:
            if point != deduplicated[-1]:
                deduplicated.append(point)
        return deduplicated


class MatrixFileProvider(_CountySites):
    """Road km and hours from the user's own county-to-county table (CSV or Parquet).

    Columns: `from_adcode`, `to_adcode`, and either `distance_km` + `duration_h` or
    `distance_m` + `duration_s`. A pair given in one direction only is used both ways. Sites snap
    to their county as with the road graph (`network` supplies the seats); a pair the file lacks
    raises InvalidInput naming it.
    """

    name = "matrix-file"

    def __init__(
        self,
        path: str | Path,
        *,
        network: RoadNetwork | None = None,
        local_detour_factor: float = LOCAL_DETOUR_FACTOR,
        local_speed_kmh: float = LOCAL_SPEED_KMH,
        nearest: Callable[[float, float], str] | None = None,
    ) -> None:
        self.path = Path(path)
        self.network = network if network is not None else load_road_network()
        self.snapper = CountySnapper(self.network, local_detour_factor, nearest)
        self.local_speed_kmh = local_speed_kmh
        self._km, self._hours = read_matrix_file(self.path)

    def matrix(self, locations: Sequence[Location]) -> TravelMatrix:
        """Metres and seconds between every pair of `locations`, from the file's county pairs."""
        snapped = [self.snapper.snap(p) for p in locations]
        # In the order the sites first name them, so a missing pair is reported as before.
        counties = list(dict.fromkeys(s.adcode for s in snapped))
        size = len(counties)
        km = np.zeros((size, size))
        hours = np.zeros((size, size))
        for i, a in enumerate(counties):
            for j, b in enumerate(counties):
                if a == b:
                    continue
                pair = (a, b)
                if pair not in self._km:
                    raise InvalidInput(f"{self.path.name} has no distance from {a} to {b}")
                km[i, j] = self._km[pair]
                hours[i, j] = self._hours[pair]
        return self._site_matrix(locations, snapped, counties, km, hours)

    def route_line(self, origin: Location, destination: Location) -> list[tuple[float, float]]:
        """A straight line: a distance table carries no geometry."""
        return [(origin.lon, origin.lat), (destination.lon, destination.lat)]


def read_matrix_file(
    path: str | Path,
) -> tuple[dict[tuple[str, str], float], dict[tuple[str, str], float]]:
    """km and hours by (from_adcode, to_adcode) from a CSV or Parquet matrix file."""
    import pandas as pd

    source = Path(path)
    if not source.exists():
        raise InvalidInput(f"matrix file {source} does not exist")
    if source.suffix.lower() in (".parquet", ".pq"):
        table = pd.read_parquet(source)
    else:
        table = pd.read_csv(source, dtype={"from_adcode": str, "to_adcode": str})
    columns = set(table.columns)
    if {"distance_km", "duration_h"} <= columns:
        km, hours = table["distance_km"].astype(float), table["duration_h"].astype(float)
    elif {"distance_m", "duration_s"} <= columns:
        km = table["distance_m"].astype(float) / 1000
        hours = table["duration_s"].astype(float) / 3600
    else:
        raise InvalidInput(
            f"{source.name} needs columns from_adcode, to_adcode and distance_km + duration_h "
            "(or distance_m + duration_s)"
        )
    if not {"from_adcode", "to_adcode"} <= columns:
        raise InvalidInput(f"{source.name} needs columns from_adcode and to_adcode")
    bad = table.index[(km < 0) | km.isna() | (hours < 0) | hours.isna()]
    if len(bad):
        raise InvalidInput(f"{source.name} row {int(bad[0]) + 2}: negative or missing distance")
    by_km: dict[tuple[str, str], float] = {}
    by_hours: dict[tuple[str, str], float] = {}
    pairs = zip(
        table["from_adcode"].astype(str), table["to_adcode"].astype(str), km, hours, strict=True
    )
    for a, b, distance, duration in pairs:
        by_km[(a, b)], by_hours[(a, b)] = float(distance), float(duration)
    for (a, b), distance in list(by_km.items()):
        if (b, a) not in by_km:
            by_km[(b, a)], by_hours[(b, a)] = distance, by_hours[(a, b)]
    return by_km, by_hours


def write_matrix_file(path: str | Path, adcodes: Sequence[str], matrix: TravelMatrix) -> Path:
    """Write `matrix` over counties `adcodes` as a long table readable by MatrixFileProvider.

    `.parquet` writes Parquet, anything else CSV; columns from_adcode, to_adcode, distance_km,
    duration_h. Returns the path written.
    """
    import pandas as pd

    target = Path(path)
    rows = [
        (a, b, matrix.distance_m[i, j] / 1000, matrix.duration_s[i, j] / 3600)
        for i, a in enumerate(adcodes)
        for j, b in enumerate(adcodes)
        if i != j
    ]
    table = pd.DataFrame(rows, columns=["from_adcode", "to_adcode", "distance_km", "duration_h"])
    if target.suffix.lower() in (".parquet", ".pq"):
        table.to_parquet(target, index=False)
    else:
        table.to_csv(target, index=False)
    return target


class OsrmProvider:
    """Road metres and seconds from OSRM on the user's own OSM extract (`.osrm` files).

    Needs the optional `osrm` package (`pip install osrm-bindings`, Python 3.12 or newer) and a
    dataset prepared with osrm-extract/osrm-contract (CH) or osrm-partition/customize (MLD). OSRM
    durations follow its profile's speeds; pass a coach profile for coach hours.
    """

    name = "osrm"

    def __init__(self, dataset: str | Path, *, algorithm: str = "CH") -> None:
        try:
            import osrm  # type: ignore[import-not-found, unused-ignore]
        except ImportError as error:
            raise InvalidInput(
                "the OSRM provider needs the osrm package: pip install osrm-bindings "
                "(Python 3.12 or newer)"
            ) from error
        if algorithm not in ("CH", "MLD"):
            raise InvalidInput("algorithm must be 'CH' or 'MLD'")
        self._osrm: Any = osrm
        self._engine: Any = osrm.OSRM(
            storage_config=str(dataset), algorithm=algorithm, use_shared_memory=False
        )

    def matrix(self, locations: Sequence[Location]) -> TravelMatrix:
        """Metres and seconds between every pair of `locations` from OSRM's table service."""
        params = self._osrm.TableParameters(
            coordinates=[(p.lon, p.lat) for p in locations],
            annotations=["duration", "distance"],
        )
        result = self._engine.Table(params)
        distances = np.array(result["distances"], dtype=float)
        durations = np.array(result["durations"], dtype=float)
        if np.isnan(distances).any():
            i, j = np.argwhere(np.isnan(distances))[0]
            raise Unreachable(f"OSRM finds no road from location {i} to location {j}")
        return TravelMatrix(
            distance_m=np.rint(distances).astype(np.int64),
            duration_s=np.rint(durations).astype(np.int64),
        )

    def route_line(self, origin: Location, destination: Location) -> list[tuple[float, float]]:
        """OSRM's full route geometry as (lon, lat) pairs."""
        params = self._osrm.RouteParameters(
            coordinates=[(origin.lon, origin.lat), (destination.lon, destination.lat)],
            overview="full",
            geometries="geojson",
        )
        route = self._engine.Route(params)["routes"][0]
        return [(float(lon), float(lat)) for lon, lat in route["geometry"]["coordinates"]]


def default_provider(kind: str = "road", **options: Any) -> DistanceProvider:
    """The distance provider of `kind`: "road" (default), "great-circle", "matrix" (needs
    `path=`) or "osrm" (needs `dataset=`); `options` go to its constructor."""
    if kind == "road":
        return RoadGraphProvider(**options)
    if kind == "great-circle":
        return GreatCircleProvider(**options)
    if kind == "matrix":
        return MatrixFileProvider(**options)
    if kind == "osrm":
        return OsrmProvider(**options)
    raise InvalidInput(f"unknown distance provider {kind!r}: road, great-circle, matrix or osrm")
