"""Distance providers: one small interface, several sources of road km and driving time.

A provider answers for a list of `Location`s with integer metres and integer seconds of driving at
day speed (the timetable engine applies night speed and rests). Implementations: the road graph
(default), great-circle x detour factor (fast fallback), a user matrix file, OSRM.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from optimizer.errors import Unreachable

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Location:
    """A point on the map (WGS-84 degrees) and, when known, the county (adcode) it lies in."""

    lon: float
    lat: float
    adcode: str | None = None


@dataclass(frozen=True)
class TravelMatrix:
    """Square matrices over the locations asked for: road metres and day-speed driving seconds."""

    distance_m: npt.NDArray[np.int64]
    duration_s: npt.NDArray[np.int64]


@runtime_checkable
class DistanceProvider(Protocol):
    """Anything that gives road distance and driving time between locations."""

    @property
    def name(self) -> str:
        """Short name of the source ("road-graph", "great-circle", ...), for reports."""
        ...

    def matrix(self, locations: Sequence[Location]) -> TravelMatrix:
        """Distances and day-speed driving times between every pair of `locations`."""
        ...

    def route_line(self, origin: Location, destination: Location) -> list[tuple[float, float]]:
        """The road line from `origin` to `destination` as (lon, lat) pairs, ends included."""
        ...


def reachable_places(
    provider: DistanceProvider, origin: Location, places: Mapping[str, Location]
) -> set[str]:
    """The keys of `places` that `provider` links with `origin` by road (or ferry); the others
    (an island county no ferry serves, a county off the road network) it refuses with
    `Unreachable`. One matrix over all of them when they all are linked, else one per place.
    """

    def linked(group: Sequence[Location]) -> bool:
        try:
            provider.matrix([origin, *group])
        except Unreachable:
            return False
        return True

    if not places or linked(list(places.values())):
        return set(places)
    return {key for key, place in places.items() if linked([place])}


def great_circle_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in km between two WGS-84 points (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def great_circle_matrix_km(lons: npt.ArrayLike, lats: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """All-pairs great-circle km between points given as arrays of lon and lat (degrees)."""
    return great_circle_rows_km(lons, lats, lons, lats)


def great_circle_rows_km(
    row_lons: npt.ArrayLike, row_lats: npt.ArrayLike, lons: npt.ArrayLike, lats: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """Great-circle km from each row point to each column point (degrees): a block of rows of
    `great_circle_matrix_km`, element for element the same arithmetic."""
    row_lon = np.radians(np.asarray(row_lons, dtype=np.float64))
    row_lat = np.radians(np.asarray(row_lats, dtype=np.float64))
    lon = np.radians(np.asarray(lons, dtype=np.float64))
    lat = np.radians(np.asarray(lats, dtype=np.float64))
    dphi = row_lat[:, None] - lat[None, :]
    dlmb = row_lon[:, None] - lon[None, :]
    h = (
        np.sin(dphi / 2) ** 2
        + np.cos(row_lat)[:, None] * np.cos(lat)[None, :] * np.sin(dlmb / 2) ** 2
    )
    result: npt.NDArray[np.float64] = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    return result


@dataclass(frozen=True)
class GreatCircleProvider:
    """Great-circle km times a detour factor, driven at a constant average speed.

    Fast and always available; use it when the road graph is not wanted (tests, quick looks).
    `detour_factor` 1.3 is the average road/great-circle ratio for Chinese city pairs (DOMAIN.md).
    """

    detour_factor: float = 1.3
    average_speed_kmh: float = 80.0
    name: str = "great-circle"

    def matrix(self, locations: Sequence[Location]) -> TravelMatrix:
        """Distances and day-speed driving times between every pair of `locations`."""
        km = great_circle_matrix_km([p.lon for p in locations], [p.lat for p in locations])
        road_km = km * self.detour_factor
        distance_m = np.rint(road_km * 1000).astype(np.int64)
        duration_s = np.rint(road_km / self.average_speed_kmh * 3600).astype(np.int64)
        return TravelMatrix(distance_m=distance_m, duration_s=duration_s)

    def route_line(self, origin: Location, destination: Location) -> list[tuple[float, float]]:
        """A straight line: this provider knows no roads."""
        return [(origin.lon, origin.lat), (destination.lon, destination.lat)]
