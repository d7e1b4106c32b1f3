"""Folium maps of plans. Functions return folium objects and never write files.

`overview_map(plan)` draws the season, `trip_map(trip)` one coach journey. Both render offline:
Leaflet is inlined from the package and the base layer is the shipped province outlines.
"""

from maps.offline import LEAFLET_VERSION, OfflineMap, wgs84_to_gcj02
from maps.overview import overview_map
from maps.trip import trip_map

__all__ = ["LEAFLET_VERSION", "OfflineMap", "overview_map", "trip_map", "wgs84_to_gcj02"]
