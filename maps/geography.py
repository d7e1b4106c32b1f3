"""What the maps need from the geography: provinces by code, outlines, road lines of trips."""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Callable
from typing import Any, cast

from maps.texts import Gettext, Texts
from optimizer.geography.distance import DistanceProvider, GreatCircleProvider, Location
from optimizer.model import Plan, Stop, Trip

# GB/T 2260 province-level codes (first two digits of a county adcode). Stable since 1997.
PROVINCES: dict[str, str] = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
    "21": "辽宁省", "22": "吉林省", "23": "黑龙江省", "31": "上海市", "32": "江苏省",
    "33": "浙江省", "34": "安徽省", "35": "福建省", "36": "江西省", "37": "山东省",
    "41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区",
    "46": "海南省", "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省",
    "54": "西藏自治区", "61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区", "71": "台湾省", "81": "香港特别行政区", "82": "澳门特别行政区",
}  # fmt: skip


def province_of(adcode: str | None, gettext: Gettext | None = None) -> str:
    """The province name of a county adcode, or "unknown province" in `gettext`'s language
    (default Chinese, "未知省份") when unknown."""
    unknown = Texts(gettext)("unknown province")
    if not adcode:
        return unknown
    return PROVINCES.get(adcode[:2], unknown)


def _optional(module: str, name: str) -> Callable[..., Any] | None:
    try:
        return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]
    except (ImportError, AttributeError):
        return None


def default_provider() -> DistanceProvider:
    """The product's default provider (road graph) if installed, else great-circle."""
    factory = _optional("optimizer.geography.providers", "default_provider")
    if factory is not None:
        provider: DistanceProvider = factory()
        return provider
    return cast(DistanceProvider, GreatCircleProvider())


def provider_for(plan: Plan) -> DistanceProvider:
    """The provider whose road lines match the plan's timetables.

    The planner notes which distances it used ("distances: great-circle"); rests are placed
    along that provider's lines, so drawing with another would leave them off the route.
    """
    for note in plan.notes:
        if note.startswith("distances:") and "great-circle" in note:
            return cast(DistanceProvider, GreatCircleProvider())
    return default_provider()


def load_outlines(level: str) -> dict[str, Any] | None:
    """Province or county outlines as a GeoJSON FeatureCollection, None if not shipped."""
    loader = _optional("optimizer.geography.outlines", "load_outlines")
    if loader is None:
        return None
    try:
        outlines: dict[str, Any] = loader(level)
    except (OSError, ValueError, KeyError):
        return None
    return outlines


def feature_adcode(feature: dict[str, Any]) -> str:
    """The adcode of an outline feature, whichever property name the geography uses."""
    properties = feature.get("properties") or {}
    for key in ("adcode", "code", "county_adcode", "province_adcode"):
        if properties.get(key):
            return str(properties[key])
    return str(feature.get("id", ""))


def feature_name(feature: dict[str, Any]) -> str:
    """The display name of an outline feature."""
    properties = feature.get("properties") or {}
    for key in ("name", "county", "province"):
        if properties.get(key):
            return str(properties[key])
    return ""


def stop_location(stop: Stop) -> Location:
    """The stop as a provider Location."""
    return Location(lon=stop.lon, lat=stop.lat, adcode=stop.adcode)


class RouteLines:
    """Road lines of trip legs from a provider, each distinct leg asked for once."""

    def __init__(self, provider: DistanceProvider) -> None:
        self.provider = provider
        self._cache: dict[tuple[float, float, float, float], list[tuple[float, float]]] = {}

    def leg(self, start: Stop, end: Stop) -> list[tuple[float, float]]:
        """The road line between two stops as (lon, lat) pairs, ends included."""
        key = (start.lon, start.lat, end.lon, end.lat)
        if key not in self._cache:
            if (start.lon, start.lat) == (end.lon, end.lat):
                line = [(start.lon, start.lat)]
            else:
                road = self.provider.route_line(stop_location(start), stop_location(end))
                line = [(float(lon), float(lat)) for lon, lat in road]
                if not line:
                    line = [(start.lon, start.lat), (end.lon, end.lat)]
            self._cache[key] = line
        return self._cache[key]

    def trip(self, trip: Trip) -> list[tuple[float, float]]:
        """The road line of a whole trip, from each gate or drop-off to the next.

        Rests are left out of the legs: the planner places them along the road line of the leg
        they interrupt, and routing through them would snap each one to its county seat.
        """
        service = [s for s in trip.stops if s.kind != "rest"] or list(trip.stops)
        points: list[tuple[float, float]] = []
        for start, end in itertools.pairwise(service):
            line = self.leg(start, end)
            points.extend(line if not points else line[1:])
        if not points and trip.stops:
            points = [(trip.stops[0].lon, trip.stops[0].lat)]
        return points
