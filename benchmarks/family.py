"""A family of seasons unlike the bundled ones, for the robustness benchmark.

Plans are judged on seasons the team never sees, made by other means in the same input contract
(docs/scenarios.md). `scenarios/generate.py` is one way to make seasons; tuning the planner to it
is the danger. This module is a second, independent one: its own sampling of counties, companies,
dates and people, written straight into scenario folders. It shares with the product only the
gazetteer (county seats and names), the road network's reachability, the ID check digit and the
address resolver (a short home text is written only if it resolves to its county), and the file
format with every other writer.

Each member of the family is a `Recipe`: its knobs are the directions the planner is sensitive
to (window widths, main departure days, home counties from concentrated to dispersed and from near
plains to far mountains, season length, cost structure, fleet tightness, direction, companies,
parties, hubs, origin city). Everything is drawn from one seed: same seed, same recipe,
byte-identical files.

The fleet of a member is a multiple of what its season *needs*: the season is planned with an
unlimited fleet (`optimizer.solve.solve`, counts raised) and its trips are chained into coach
duties (`optimizer.season.coach_duties`); the physical coaches per type of those duties are the
need, and each type's count is the multiple times its need. Planning is time-limited, so the need
varies a little from run to run and with the planner's version; to keep the family fixed while the
planner changes, measured needs are pinned in `benchmarks/family_need.json` together with a hash of
the demand they were measured on. A pinned need is used only for the identical demand; otherwise
the need is measured (in a child process, the season's own time budget) and cached in the
member's folder. `python -m benchmarks.family build --pin` re-measures and re-pins.

    python -m benchmarks.family build [--out DIR] [--seed N] [--quick] [--pin] [--only NAME,...]
    python -m benchmarks.family list
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import functools
import hashlib
import io
import json
import math
import subprocess
import sys
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from optimizer.geography.gazetteer import County, load_gazetteer
from optimizer.identity import id_check_char

Direction = Literal["home", "return"]

ROOT = Path(__file__).resolve().parents[1]
PINNED_NEEDS = Path(__file__).resolve().parent / "family_need.json"
DEFAULT_SEED = 11
DEFAULT_CACHE = ROOT / "benchmarks" / "results" / "cache" / "family"

# Provinces close to the Zhejiang coast (plains and hills, one day's drive or less) and far ones
# (mountain and western provinces: multi-day turns). Keys are the first two adcode digits.
NEAR_PROVINCES = ("34", "36", "32", "41", "42", "43", "35", "37")
FAR_PROVINCES = ("52", "53", "51", "50", "62", "45", "61")

# Origins: the employers' city and where its coaches are kept.
ORIGINS = {"330282": "慈溪", "330782": "义乌"}


@dataclass(frozen=True)
class Recipe:
    """The knobs of one family member. Days count departure dates; costs are RMB.

    `window_days` = (narrowest, widest) window, in days beyond its first date (0 = one date).
    `main_days`: the dates on which companies close (home) or reopen (return); most travellers'
    windows start there. `concentration`: exponent of the Zipf law of county sizes (0 = every
    county alike; 1.2 = a few counties send most people). `near_share`: the share of home counties
    drawn from the near provinces, the rest from the far ones. `network_share`: the share of a
    company's travellers from its own one to three hometown counties. The fleet is either
    `fleet_multiple` times the measured need per type or the fixed `fleet_counts` (one per seat
    size, largest first).
    """

    name: str
    note: str
    direction: Direction
    workers: int
    counties: int
    near_share: float
    concentration: float
    season_days: int
    main_days: int
    window_days: tuple[int, int]
    companies: int
    company_spread: float
    party_share: float
    hubs: int
    hub_radius_km: float
    fixed_cost: float
    cost_per_km: float
    fleet_multiple: float | None = None
    fleet_counts: tuple[int, ...] | None = None
    seats: tuple[int, ...] = (53, 45, 35)
    off_main_share: float = 0.1
    network_share: float = 0.3
    late_small_type: bool = False
    origin: str = "330282"
    festival: dt.date = dt.date(2025, 1, 29)
    excel_style: bool = False
    time_limit_s: float = 60.0

    def __post_init__(self) -> None:
        narrow, wide = self.window_days
        problems = []
        if (self.fleet_multiple is None) == (self.fleet_counts is None):
            problems.append("give exactly one of fleet_multiple and fleet_counts")
        if self.fleet_counts is not None and len(self.fleet_counts) != len(self.seats):
            problems.append("fleet_counts needs one count per seat size")
        if not 0 <= narrow <= wide < self.season_days:
            problems.append("window_days must satisfy 0 <= narrowest <= widest < season_days")
        if not 1 <= self.main_days <= self.season_days:
            problems.append("main_days must be between 1 and season_days")
        if not 1 <= self.counties <= self.workers:
            problems.append("counties must be between 1 and workers")
        if self.companies < 1 or self.companies > self.workers:
            problems.append("companies must be between 1 and workers")
        if not 0 <= self.near_share <= 1:
            problems.append("near_share must be in [0, 1]")
        if self.origin not in ORIGINS:
            problems.append(f"origin must be one of {sorted(ORIGINS)}")
        if problems:
            raise ValueError(f"recipe {self.name}: " + "; ".join(problems))

    @property
    def first_departure(self) -> dt.date:
        """First departure date: home waves end two days before the festival, return waves
        start on the sixth day of the new year (初六)."""
        if self.direction == "home":
            return self.last_departure - dt.timedelta(days=self.season_days - 1)
        return self.festival + dt.timedelta(days=5)

    @property
    def last_departure(self) -> dt.date:
        """Last departure date of the wave."""
        if self.direction == "home":
            return self.festival - dt.timedelta(days=2)
        return self.first_departure + dt.timedelta(days=self.season_days - 1)

    def type_names(self) -> tuple[str, ...]:
        """Coach type names, largest first, as an operator would write them."""
        return tuple(f"{seats}座" for seats in self.seats)


# ------------------------------------------------------------------------------------------
# The family. Each line says what the member probes; the first three follow, in spirit, the
# three seasons of issue 11's table (there with fixed fleets as in the issue).

# fmt: off
FAMILY: tuple[Recipe, ...] = (
    Recipe(
        name="ample-15k-99",
        note="issue 11 row 1: 15,000 over 99 counties, 5 dates, windows 0-2, fleet 333/100/50",
        direction="home", workers=15_000, counties=99, near_share=0.75, concentration=1.0,
        season_days=5, main_days=3, window_days=(0, 2), companies=260, company_spread=1.2,
        party_share=0.08, hubs=3, hub_radius_km=10.0, fixed_cost=1500.0, cost_per_km=7.5,
        fleet_counts=(333, 100, 50), festival=dt.date(2025, 1, 29),
    ),
    Recipe(
        name="wide-6k-610",
        note="issue 11 row 2: 6,000 over 610 counties, windows 0-6, fleet 133/40/20",
        direction="home", workers=6_000, counties=610, near_share=0.55, concentration=0.6,
        season_days=10, main_days=5, window_days=(0, 6), companies=140, company_spread=1.0,
        party_share=0.1, hubs=2, hub_radius_km=12.0, fixed_cost=1200.0, cost_per_km=8.0,
        fleet_counts=(133, 40, 20), festival=dt.date(2024, 2, 10),
    ),
    Recipe(
        name="return-3k-711",
        note="issue 11 row 3: return wave, 3,000 over 711 counties, 14 dates, fleet 66/20/10",
        direction="return", workers=3_000, counties=711, near_share=0.5, concentration=0.3,
        season_days=14, main_days=6, window_days=(0, 3), companies=90, company_spread=1.0,
        party_share=0.06, hubs=0, hub_radius_km=0.0, fixed_cost=1000.0, cost_per_km=7.0,
        fleet_counts=(66, 20, 10), festival=dt.date(2026, 2, 17),
    ),
    Recipe(
        name="near-50-tight",
        note="50 near counties, 2 main dates, windows 0-1, half the fleet it needs",
        direction="home", workers=8_000, counties=50, near_share=1.0, concentration=1.1,
        season_days=5, main_days=2, window_days=(0, 1), companies=120, company_spread=1.4,
        party_share=0.05, hubs=2, hub_radius_km=10.0, fixed_cost=2000.0, cost_per_km=6.0,
        fleet_multiple=0.5, festival=dt.date(2023, 1, 22),
    ),
    Recipe(
        name="far-mountain",
        note="200 far mountain counties, 8 main dates of 14, costly km and cheap coaches",
        direction="home", workers=5_000, counties=200, near_share=0.0, concentration=0.8,
        season_days=14, main_days=8, window_days=(0, 3), companies=110, company_spread=1.0,
        party_share=0.1, hubs=1, hub_radius_km=8.0, fixed_cost=500.0, cost_per_km=10.0,
        fleet_multiple=0.75, festival=dt.date(2025, 1, 29),
    ),
    Recipe(
        name="return-near-3x",
        note="return wave from 120 near counties, three times the fleet it needs",
        direction="return", workers=10_000, counties=120, near_share=0.9, concentration=1.0,
        season_days=7, main_days=3, window_days=(0, 2), companies=200, company_spread=1.1,
        party_share=0.08, hubs=3, hub_radius_km=12.0, fixed_cost=1200.0, cost_per_km=8.0,
        fleet_multiple=3.0, festival=dt.date(2024, 2, 10),
    ),
    Recipe(
        name="return-far-half",
        note="return wave from 300 mostly far counties, windows 0-5, half the fleet",
        direction="return", workers=4_000, counties=300, near_share=0.2, concentration=0.7,
        season_days=10, main_days=6, window_days=(0, 5), companies=100, company_spread=1.0,
        party_share=0.07, hubs=1, hub_radius_km=10.0, fixed_cost=2000.0, cost_per_km=6.0,
        fleet_multiple=0.5, festival=dt.date(2025, 1, 29),
    ),
    Recipe(
        name="many-small-firms",
        note="600 small employers, 350 counties, windows 0-4, the fleet it needs",
        direction="home", workers=7_000, counties=350, near_share=0.6, concentration=0.8,
        season_days=10, main_days=6, window_days=(0, 4), companies=600, company_spread=0.5,
        party_share=0.12, hubs=4, hub_radius_km=10.0, fixed_cost=1000.0, cost_per_km=9.0,
        fleet_multiple=1.0, festival=dt.date(2026, 2, 17),
    ),
    Recipe(
        name="few-giants-exact",
        note="8 giant employers, every traveller on one exact date, 1.25x the fleet, no hubs",
        direction="home", workers=12_000, counties=180, near_share=0.7, concentration=1.2,
        season_days=6, main_days=2, window_days=(0, 0), companies=8, company_spread=0.6,
        party_share=0.03, hubs=0, hub_radius_km=0.0, fixed_cost=1800.0, cost_per_km=6.5,
        fleet_multiple=1.25, network_share=0.6, seats=(55, 47, 33),
        festival=dt.date(2023, 1, 22),
    ),
    Recipe(
        name="families-hubs",
        note="30 % families, 5 hubs at 15 km, twice the fleet, small coaches from day 3",
        direction="home", workers=4_000, counties=150, near_share=0.7, concentration=0.9,
        season_days=8, main_days=4, window_days=(0, 2), companies=90, company_spread=1.0,
        party_share=0.3, hubs=5, hub_radius_km=15.0, fixed_cost=700.0, cost_per_km=7.0,
        fleet_multiple=2.0, late_small_type=True, excel_style=True,
        festival=dt.date(2024, 2, 10),
    ),
    Recipe(
        name="yiwu-origin",
        note="another origin city (义乌), windows of 1-3 days, 1.5x the fleet",
        direction="home", workers=6_000, counties=250, near_share=0.6, concentration=0.9,
        season_days=9, main_days=5, window_days=(1, 3), companies=150, company_spread=1.0,
        party_share=0.1, hubs=2, hub_radius_km=10.0, fixed_cost=1500.0, cost_per_km=8.5,
        fleet_multiple=1.5, origin="330782", seats=(57, 49, 39),
        festival=dt.date(2025, 1, 29),
    ),
    Recipe(
        name="dispersed-700",
        note="700 counties, 14 dates, 8 main dates, windows 0-6, the fleet it needs",
        direction="home", workers=9_000, counties=700, near_share=0.5, concentration=0.4,
        season_days=14, main_days=8, window_days=(0, 6), companies=180, company_spread=1.0,
        party_share=0.1, hubs=2, hub_radius_km=10.0, fixed_cost=600.0, cost_per_km=10.0,
        fleet_multiple=1.0, excel_style=True, festival=dt.date(2026, 2, 17),
    ),
    Recipe(
        name="burst-20k-80",
        note="20,000 over 80 counties on 2 main dates of 5, windows 0-1, 0.75x the fleet",
        direction="home", workers=20_000, counties=80, near_share=0.8, concentration=1.1,
        season_days=5, main_days=2, window_days=(0, 1), companies=330, company_spread=1.2,
        party_share=0.08, hubs=4, hub_radius_km=12.0, fixed_cost=1000.0, cost_per_km=7.0,
        fleet_multiple=0.75, festival=dt.date(2024, 2, 10),
    ),
    Recipe(
        name="return-mid-2x",
        note="return wave, 400 counties, windows 0-4, twice the fleet, small coaches from day 3",
        direction="return", workers=6_000, counties=400, near_share=0.5, concentration=0.6,
        season_days=8, main_days=5, window_days=(0, 4), companies=130, company_spread=1.0,
        party_share=0.1, hubs=2, hub_radius_km=10.0, fixed_cost=1600.0, cost_per_km=9.0,
        fleet_multiple=2.0, late_small_type=True, festival=dt.date(2023, 1, 22),
    ),
)

# Two tiny members for the smoke run (`python -m benchmarks --quick`): a tight home wave and an
# ample return wave, one-second budgets.
QUICK_FAMILY: tuple[Recipe, ...] = (
    Recipe(
        name="quick-home-tight",
        note="smoke: 90 workers, 12 counties, half the fleet",
        direction="home", workers=90, counties=12, near_share=0.8, concentration=0.8,
        season_days=3, main_days=2, window_days=(0, 1), companies=5, company_spread=0.8,
        party_share=0.1, hubs=1, hub_radius_km=10.0, fixed_cost=1200.0, cost_per_km=7.0,
        fleet_multiple=0.5, time_limit_s=1.0,
    ),
    Recipe(
        name="quick-return-ample",
        note="smoke: return wave, 70 workers, 15 counties, three times the fleet",
        direction="return", workers=70, counties=15, near_share=0.5, concentration=0.5,
        season_days=4, main_days=2, window_days=(0, 2), companies=4, company_spread=0.8,
        party_share=0.1, hubs=0, hub_radius_km=0.0, fixed_cost=800.0, cost_per_km=9.0,
        fleet_multiple=3.0, time_limit_s=1.0, excel_style=True,
    ),
)
# fmt: on


def recipe(name: str) -> Recipe:
    """The member of FAMILY or QUICK_FAMILY called `name`."""
    for member in (*FAMILY, *QUICK_FAMILY):
        if member.name == name:
            return member
    raise KeyError(f"no family member {name!r}")


# ------------------------------------------------------------------------------------------
# Drawing a season


@dataclass(frozen=True)
class Traveller:
    """One row of workers.csv, with the county it was drawn for (the ground truth)."""

    worker_id: str
    company_id: str
    name: str
    id_number: str
    phone: str
    home: str
    earliest: dt.date
    latest: dt.date
    party: str
    seats: int
    adcode: str


@dataclass(frozen=True)
class Employer:
    """One row of companies.csv."""

    company_id: str
    name: str
    lon: float
    lat: float
    town: str
    no_hub: bool


@dataclass(frozen=True)
class Gathering:
    """One row of hubs.csv."""

    hub_id: str
    name: str
    lon: float
    lat: float


@dataclass(frozen=True)
class CoachType:
    """One row of fleet.csv; `count` is filled in once the need is known."""

    vehicle_type: str
    seats: int
    count: int
    cost_per_km: float
    fixed_cost: float
    operator: str
    depot_lon: float | None
    depot_lat: float | None
    available_from: dt.date | None


@dataclass(frozen=True)
class Drawn:
    """A drawn season, everything but the fleet counts."""

    recipe: Recipe
    seed: int
    travellers: tuple[Traveller, ...]
    employers: tuple[Employer, ...]
    gatherings: tuple[Gathering, ...]
    coach_types: tuple[CoachType, ...]
    main_dates: tuple[dt.date, ...]


def member_rng(recipe: Recipe, seed: int) -> np.random.Generator:
    """The member's own generator: one stream per (family seed, member name)."""
    return np.random.default_rng([seed, zlib.crc32(recipe.name.encode("utf-8"))])


@functools.cache
def _reachable_from(origin: str) -> frozenset[str]:
    from optimizer.geography.network import load_road_network, reachable_from

    return frozenset(reachable_from(load_road_network(), origin))


def _pool(provinces: Sequence[str], origin: str) -> list[County]:
    reachable = _reachable_from(origin)
    return [
        c
        for c in load_gazetteer()
        if c.province_adcode[:2] in provinces and c.has_coordinates and c.adcode in reachable
    ]


def _pick(rng: np.random.Generator, weights: npt.NDArray[np.float64], k: int) -> list[int]:
    """`k` distinct indices drawn with probability proportional to `weights` (Gumbel top-k)."""
    keys = np.log(weights) + rng.gumbel(size=len(weights))
    return [int(i) for i in np.argsort(-keys, kind="stable")[:k]]


def draw_counties(recipe: Recipe, rng: np.random.Generator) -> list[County]:
    """The member's home counties: `near_share` of them from the near provinces.

    Provinces get random weights per member (not survey shares); inside them rural counties are
    three times as likely as city districts."""
    chosen: list[County] = []
    near = round(recipe.counties * recipe.near_share)
    for provinces, k in ((NEAR_PROVINCES, near), (FAR_PROVINCES, recipe.counties - near)):
        if k == 0:
            continue
        pool = _pool(provinces, recipe.origin)
        if k > len(pool):
            raise ValueError(f"recipe {recipe.name}: {k} counties asked, {len(pool)} exist")
        province_weight = dict(
            zip(provinces, rng.dirichlet(np.full(len(provinces), 1.5)), strict=True)
        )
        weights = np.array(
            [
                province_weight[c.province_adcode[:2]] * (0.33 if c.name.endswith("区") else 1.0)
                + 1e-9
                for c in pool
            ]
        )
        chosen += [pool[i] for i in _pick(rng, weights, k)]
    return chosen


def _unit_sizes(recipe: Recipe, rng: np.random.Generator) -> list[int]:
    """People per travelling unit (1, or a family of 2-5) until the season has `workers` rows."""
    sizes: list[int] = []
    left = recipe.workers
    while left > 0:
        size = 1
        if left > 1 and rng.random() < recipe.party_share:
            size = min(left, int(rng.choice((2, 3, 4, 5), p=(0.4, 0.35, 0.2, 0.05))))
        sizes.append(size)
        left -= size
    return sizes


def _zones(recipe: Recipe, rng: np.random.Generator, count: int) -> list[tuple[float, float]]:
    """Industrial zones within 12 km of the origin's seat whose nearest seat is the origin's."""
    gazetteer = load_gazetteer()
    seat = gazetteer[recipe.origin]
    assert seat.lon is not None and seat.lat is not None
    zones: list[tuple[float, float]] = []
    while len(zones) < count:
        distance_km = 12.0 * math.sqrt(rng.random())
        angle = 2 * math.pi * rng.random()
        lon = seat.lon + distance_km * math.cos(angle) / (111.32 * math.cos(math.radians(seat.lat)))
        lat = seat.lat + distance_km * math.sin(angle) / 110.57
        if gazetteer.nearest(lon, lat).adcode == recipe.origin:
            zones.append((round(lon, 6), round(lat, 6)))
    return zones


_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶"
_GIVEN = "国建明志永春海文红军华平玉秀英兰凤芳丽金小桂云宏德伟俊勇霞燕静敏刚辉强磊鹏娟丹涛"
_FIRM_WORDS = "甬江海科达联盛鼎和顺盈安泰远嘉汇诚合丰新宁亚欧美晶"
_TRADES = ("家电", "五金", "塑业", "纺织", "机械", "电子", "精工", "汽配", "灯具", "服饰")
_ZONE_NAMES = ("滨海", "北部", "东部", "西部", "南部", "城东", "城西", "杭州湾", "高新", "经济开发")
_PHONE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "166", "177", "180", "181", "182", "183",
    "185", "186", "187", "188", "189", "191", "199",
)  # fmt: skip


class _People:
    """Names, ID numbers and phones, each ID and phone unique in the season."""

    def __init__(self, rng: np.random.Generator, year: int) -> None:
        self.rng = rng
        self.year = year
        self.ids: set[str] = set()
        self.phones: set[str] = set()

    def name(self) -> str:
        surname = _SURNAMES[int(self.rng.integers(len(_SURNAMES)))]
        given = "".join(
            _GIVEN[int(self.rng.integers(len(_GIVEN)))]
            for _ in range(1 if self.rng.random() < 0.3 else 2)
        )
        return surname + given

    def id_number(self, adcode: str, age: int, female: bool) -> str:
        while True:
            born = dt.date(self.year - age, 1, 1) + dt.timedelta(days=int(self.rng.integers(365)))
            order = int(self.rng.integers(500)) * 2 + (0 if female else 1)
            first17 = f"{adcode}{born:%Y%m%d}{order:03d}"
            number = first17 + id_check_char(first17)
            if number not in self.ids:
                self.ids.add(number)
                return number

    def phone(self) -> str:
        while True:
            prefix = _PHONE_PREFIXES[int(self.rng.integers(len(_PHONE_PREFIXES)))]
            number = prefix + f"{int(self.rng.integers(10**8)):08d}"
            if number not in self.phones:
                self.phones.add(number)
                return number


@functools.cache
def _home_forms(adcode: str) -> tuple[str, ...]:
    """Ways an employer might write this county that resolve to exactly it: the full name, the
    adcode, and the province's short name + the county's name when that is unambiguous."""
    from optimizer.geography.resolve import resolve

    gazetteer = load_gazetteer()
    county = gazetteer[adcode]
    forms = [county.full_name, adcode]
    province = gazetteer.provinces[county.province_adcode].short_name
    short = province + county.name
    if resolve(short).adcode == adcode:
        forms.append(short)
    return tuple(forms)


def _season_dates(recipe: Recipe) -> list[dt.date]:
    return [recipe.first_departure + dt.timedelta(days=i) for i in range(recipe.season_days)]


def _main_days(
    recipe: Recipe, rng: np.random.Generator
) -> tuple[list[int], npt.NDArray[np.float64]]:
    """Indices of the main dates and each one's share of the companies.

    Home waves lean towards the end of the season (closer to the festival), return waves towards
    its start."""
    days = recipe.season_days
    lean = np.linspace(0.5, 1.5, days)
    if recipe.direction == "return":
        lean = lean[::-1]
    main = sorted(_pick(rng, lean.astype(np.float64), recipe.main_days))
    return main, rng.dirichlet(np.full(len(main), 2.0))


def draw_season(recipe: Recipe, seed: int = DEFAULT_SEED) -> Drawn:
    """The member's season (all but the fleet counts), deterministic from `seed`."""
    rng = member_rng(recipe, seed)
    counties = draw_counties(recipe, rng)
    dates = _season_dates(recipe)
    main, main_weights = _main_days(recipe, rng)

    # Employers: log-normal sizes, gates around industrial zones, the largest ones keep their own
    # gate (no_hub); hubs sit at zone centres.
    zone_count = max(3, min(10, recipe.companies // 15 + 2, recipe.hubs + 3))
    zones = _zones(recipe, rng, zone_count)
    gatherings = tuple(
        Gathering(
            f"J{k + 1}",
            f"{ORIGINS[recipe.origin]}{_ZONE_NAMES[k % len(_ZONE_NAMES)]}集合点",
            *zones[k],
        )
        for k in range(recipe.hubs)
    )
    company_weight = rng.lognormal(0.0, recipe.company_spread, recipe.companies)
    biggest = set(np.argsort(-company_weight, kind="stable")[: max(1, recipe.companies // 50)])
    employers = []
    company_day = []
    seat = load_gazetteer()[recipe.origin]
    for index in range(recipe.companies):
        zone = int(rng.integers(len(zones)))
        while True:
            lon = zones[zone][0] + rng.normal(0.0, 0.008)
            lat = zones[zone][1] + rng.normal(0.0, 0.007)
            if load_gazetteer().nearest(lon, lat).adcode == recipe.origin:
                break
        firm = "".join(_FIRM_WORDS[int(rng.integers(len(_FIRM_WORDS)))] for _ in range(2))
        trade = _TRADES[int(rng.integers(len(_TRADES)))]
        employers.append(
            Employer(
                f"E{index + 1:04d}",
                f"{seat.short_name}{firm}{trade}有限公司",
                round(float(lon), 6),
                round(float(lat), 6),
                f"{_ZONE_NAMES[zone % len(_ZONE_NAMES)]}工业区",
                recipe.hubs > 0 and index in biggest,
            )
        )
        company_day.append(main[int(rng.choice(len(main), p=main_weights))])

    # Home counties: Zipf weights over a random order; every county gets at least one unit so the
    # season has exactly `counties` home counties; companies recruit partly from their own
    # hometown network.
    sizes = _unit_sizes(recipe, rng)
    if len(sizes) < recipe.counties:
        raise ValueError(f"recipe {recipe.name}: fewer travelling units than counties")
    ranks = rng.permutation(len(counties)) + 1
    county_weight = 1.0 / ranks.astype(np.float64) ** recipe.concentration
    county_p = county_weight / county_weight.sum()
    networks = [
        rng.choice(len(counties), size=int(rng.integers(1, 4)), p=county_p)
        for _ in range(recipe.companies)
    ]
    company_p = company_weight / company_weight.sum()
    unit_company = rng.choice(recipe.companies, size=len(sizes), p=company_p)
    # Every company has at least one traveller.
    named = min(recipe.companies, len(sizes))
    unit_company[:named] = rng.permutation(recipe.companies)[:named]
    unit_county = rng.choice(len(counties), size=len(sizes), p=county_p)
    for u in range(len(sizes)):
        if rng.random() < recipe.network_share:
            unit_county[u] = rng.choice(networks[int(unit_company[u])])
    order = rng.permutation(len(sizes))
    unit_county[order[: len(counties)]] = rng.permutation(len(counties))

    people = _People(rng, recipe.festival.year)
    narrow, wide = recipe.window_days
    last_start = recipe.season_days - 1
    travellers: list[Traveller] = []
    party_number = 0
    for u, size in enumerate(sizes):
        company = int(unit_company[u])
        county = counties[int(unit_county[u])]
        width = int(rng.integers(narrow, wide + 1))
        if rng.random() < recipe.off_main_share:
            anchor = int(rng.integers(recipe.season_days))
        else:
            anchor = company_day[company]
        start = anchor if rng.random() < 0.7 else anchor - int(rng.integers(0, width + 1))
        start = max(0, min(start, last_start - width))
        earliest, latest = dates[start], dates[start + width]
        party = ""
        if size > 1:
            party_number += 1
            party = f"F{party_number:05d}"
        forms = _home_forms(county.adcode)
        family_phone = people.phone()
        for member in range(size):
            if member == 0:
                age, female = int(rng.integers(18, 59)), bool(rng.random() < 0.4)
            elif member == 1:
                age, female = int(rng.integers(18, 59)), bool(rng.random() < 0.6)
            else:
                age, female = int(rng.integers(2, 17)), bool(rng.random() < 0.5)
            infant_seat = size == 1 and rng.random() < 0.004
            travellers.append(
                Traveller(
                    worker_id=f"T{len(travellers) + 1:06d}",
                    company_id=employers[company].company_id,
                    name=people.name(),
                    id_number=people.id_number(county.adcode, age, female),
                    # Children carry the parent's phone; a spouse has one of their own.
                    phone=people.phone() if member == 1 else family_phone,
                    home=forms[int(rng.integers(len(forms)))],
                    earliest=earliest,
                    latest=latest,
                    party=party,
                    seats=2 if infant_seat else 1,
                    adcode=county.adcode,
                )
            )

    operator = f"{ORIGINS[recipe.origin]}客运"
    largest = max(recipe.seats)
    coach_types = tuple(
        CoachType(
            vehicle_type=name,
            seats=seats,
            count=0,
            cost_per_km=round(recipe.cost_per_km * (0.7 + 0.3 * seats / largest), 2),
            fixed_cost=round(recipe.fixed_cost * (0.6 + 0.4 * seats / largest), 0),
            operator=operator,
            depot_lon=None if recipe.excel_style else seat.lon,
            depot_lat=None if recipe.excel_style else seat.lat,
            available_from=dates[2]
            if recipe.late_small_type and seats == min(recipe.seats)
            else None,
        )
        for name, seats in zip(recipe.type_names(), recipe.seats, strict=True)
    )
    return Drawn(
        recipe,
        seed,
        tuple(travellers),
        tuple(employers),
        gatherings,
        coach_types,
        tuple(dates[i] for i in main),
    )


# ------------------------------------------------------------------------------------------
# Writing the folder (docs/scenarios.md). Column order differs from the bundled generator's and
# "excel_style" members are written as Excel saves a CSV (byte-order mark, CRLF line ends).


def _csv_text(header: Sequence[str], rows: Iterable[Sequence[object]], excel: bool) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n" if excel else "\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" if excel else "") + buffer.getvalue()


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


# Column order differs on purpose from the bundled generator's: the contract is by header name.
COMPANY_HEADER = ("company_id", "name", "town", "lon", "lat", "no_hub")
WORKER_HEADER = ("worker_id", "name", "id_number", "phone", "company_id", "home", "earliest",
                 "latest", "party", "seats")  # fmt: skip
FLEET_HEADER = ("vehicle_type", "seats", "count", "cost_per_km", "fixed_cost", "operator",
                "depot_lon", "depot_lat", "available_from", "available_to")  # fmt: skip
HUB_HEADER = ("hub_id", "name", "lon", "lat")


def _company_row(e: Employer) -> tuple[str, ...]:
    no_hub = "1" if e.no_hub else ""
    return (e.company_id, e.name, e.town, f"{e.lon:.6f}", f"{e.lat:.6f}", no_hub)


def _worker_row(t: Traveller) -> tuple[str, ...]:
    seats = "" if t.seats == 1 else str(t.seats)  # blank means one seat
    window = (t.earliest.isoformat(), t.latest.isoformat())
    return (
        t.worker_id,
        t.name,
        t.id_number,
        t.phone,
        t.company_id,
        t.home,
        *window,
        t.party,
        seats,
    )


def _fleet_row(c: CoachType, count: int) -> tuple[str, ...]:
    depot = ("", "") if c.depot_lon is None else (f"{c.depot_lon:.6f}", f"{c.depot_lat:.6f}")
    tariff = (f"{c.cost_per_km:g}", f"{c.fixed_cost:g}")
    return (c.vehicle_type, str(c.seats), str(count), *tariff, c.operator, *depot,
            _date(c.available_from), "")  # fmt: skip


def render(drawn: Drawn, counts: Mapping[str, int]) -> dict[str, str]:
    """The folder's files as text: scenario.toml, companies.csv, workers.csv, fleet.csv and,
    with hubs, hubs.csv. `counts` gives each coach type's count."""
    r = drawn.recipe
    excel = r.excel_style
    toml = [
        f"# Robustness family member {r.name} (benchmarks/family.py, seed {drawn.seed}).",
        f'name = "{r.name}"',
        f'description = "{r.note}"',
        f'direction = "{r.direction}"',
        f'origin = "{r.origin}"',
        f"festival_date = {r.festival.isoformat()}",
        f"first_departure = {r.first_departure.isoformat()}",
        f"last_departure = {r.last_departure.isoformat()}",
    ]
    if drawn.gatherings:
        toml += ["", "[policy]", f"hub_radius_km = {r.hub_radius_km!r}"]
    toml += ["", "[solver]", f"time_limit_s = {r.time_limit_s!r}"]
    files = {
        "scenario.toml": "\n".join(toml) + "\n",
        "companies.csv": _csv_text(COMPANY_HEADER, map(_company_row, drawn.employers), excel),
        "workers.csv": _csv_text(WORKER_HEADER, map(_worker_row, drawn.travellers), excel),
        "fleet.csv": _csv_text(
            FLEET_HEADER,
            (_fleet_row(c, counts[c.vehicle_type]) for c in drawn.coach_types),
            excel,
        ),
    }
    if drawn.gatherings:
        files["hubs.csv"] = _csv_text(
            HUB_HEADER,
            ((h.hub_id, h.name, f"{h.lon:.6f}", f"{h.lat:.6f}") for h in drawn.gatherings),
            excel,
        )
    return files


def demand_hash(drawn: Drawn) -> str:
    """SHA-256 of the folder's files with every coach count 0: what a measured need is for."""
    files = render(drawn, {c.vehicle_type: 0 for c in drawn.coach_types})
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode("utf-8") + b"\0" + files[name].encode("utf-8") + b"\0")
    return digest.hexdigest()


def write_folder(drawn: Drawn, counts: Mapping[str, int], folder: Path) -> Path:
    """Write the season into `folder` (created; a stale hubs.csv is removed)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = render(drawn, counts)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8", newline="")
    if "hubs.csv" not in files and (folder / "hubs.csv").exists():
        (folder / "hubs.csv").unlink()
    return folder


# ------------------------------------------------------------------------------------------
# The need and the fleet


def unlimited_counts(drawn: Drawn) -> dict[str, int]:
    """Counts that never bind: as many coaches of each type as there are travellers."""
    return {c.vehicle_type: len(drawn.travellers) for c in drawn.coach_types}


def fleet_counts(recipe: Recipe, need: Mapping[str, int]) -> dict[str, int]:
    """Each type's count: the recipe's fixed count, or its multiple of the need rounded half up."""
    names = recipe.type_names()
    if recipe.fleet_counts is not None:
        return dict(zip(names, recipe.fleet_counts, strict=True))
    assert recipe.fleet_multiple is not None
    return {name: math.floor(recipe.fleet_multiple * need.get(name, 0) + 0.5) for name in names}


def read_pinned(path: Path = PINNED_NEEDS) -> dict[str, Any]:
    """The pinned needs: member name -> {demand_sha256, need, measured}."""
    if not path.exists():
        return {}
    pinned: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return pinned


def measure_need(
    folder: Path, time_limit_s: float | None, timeout_s: float = 3600
) -> dict[str, Any]:
    """Plan the folder's season with an unlimited fleet and chain its duties, in a child process.

    Returns {"need": {type: coaches}, "trips", "seated", "workers", "solve_s", "time_limit_s"}."""
    command = [sys.executable, "-m", "benchmarks.robustness", "need", "--scenario", str(folder)]
    if time_limit_s is not None:
        command += ["--time-limit", str(time_limit_s)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"measuring the need of {folder} failed: {done.stderr.strip()[-2000:]}")
    measured: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return measured


@dataclass(frozen=True)
class Member:
    """A built family member: its folder, need, fleet and where the need came from."""

    recipe: Recipe
    seed: int
    folder: Path
    demand_sha256: str
    need: dict[str, int]
    counts: dict[str, int]
    need_source: str
    measured: dict[str, Any] = field(default_factory=dict)

    @property
    def fleet_over_need(self) -> float | None:
        """Total coaches of the fleet over the total need."""
        need = sum(self.need.values())
        return round(sum(self.counts.values()) / need, 3) if need else None

    def summary(self) -> dict[str, Any]:
        """The member's knobs and fleet, as the report shows them."""
        r = self.recipe
        return {
            "name": r.name,
            "note": r.note,
            "direction": r.direction,
            "workers": r.workers,
            "counties": r.counties,
            "near_share": r.near_share,
            "season_days": r.season_days,
            "main_days": r.main_days,
            "window_days": list(r.window_days),
            "companies": r.companies,
            "party_share": r.party_share,
            "hubs": r.hubs,
            "origin": r.origin,
            "fixed_cost": r.fixed_cost,
            "cost_per_km": r.cost_per_km,
            "fleet_multiple": r.fleet_multiple,
            "fleet": self.counts,
            "need": self.need,
            "fleet_over_need": self.fleet_over_need,
            "need_source": self.need_source,
            "seed": self.seed,
            "folder": str(self.folder),
        }


def build_member(
    recipe: Recipe,
    cache: Path,
    *,
    seed: int = DEFAULT_SEED,
    pinned: Mapping[str, Any] | None = None,
    measure_time_limit_s: float | None = None,
    remeasure: bool = False,
    in_process: bool = False,
) -> Member:
    """Draw the member, find its need (pinned, cached or measured) and write its folder.

    The folder is `cache/<name>-s<seed>`; `need.json` beside the files records the measurement.
    `measure_time_limit_s` overrides the season's own budget for a measurement, which runs in a
    child process unless `in_process` (the smoke members: saves the interpreter's start)."""
    drawn = draw_season(recipe, seed)
    digest = demand_hash(drawn)
    folder = cache / f"{recipe.name}-s{seed}"
    need_file = folder / "need.json"
    entry = (pinned or {}).get(recipe.name)
    need: dict[str, int] | None = None
    measured: dict[str, Any] = {}
    source = ""
    if not remeasure and entry and entry.get("demand_sha256") == digest:
        need, measured, source = dict(entry["need"]), dict(entry.get("measured", {})), "pinned"
    elif not remeasure and need_file.exists():
        cached = json.loads(need_file.read_text(encoding="utf-8"))
        if cached.get("demand_sha256") == digest:
            need, measured, source = dict(cached["need"]), dict(cached["measured"]), "cached"
    if need is None:
        write_folder(drawn, unlimited_counts(drawn), folder)
        if in_process:
            from benchmarks.robustness import measure_need as measure_here

            measured = measure_here(folder, measure_time_limit_s)
        else:
            measured = measure_need(folder, measure_time_limit_s)
        need, source = {k: int(v) for k, v in measured.pop("need").items()}, "measured"
        need_file.write_text(
            json.dumps({"demand_sha256": digest, "need": need, "measured": measured}, indent=1),
            encoding="utf-8",
        )
    counts = fleet_counts(recipe, need)
    write_folder(drawn, counts, folder)
    return Member(recipe, seed, folder, digest, need, counts, source, measured)


def build_family(
    recipes: Sequence[Recipe],
    cache: Path = DEFAULT_CACHE,
    *,
    seed: int = DEFAULT_SEED,
    pinned: Mapping[str, Any] | None = None,
    measure_time_limit_s: float | None = None,
    remeasure: bool = False,
    in_process: bool = False,
) -> list[Member]:
    """Build every member (see `build_member`), printing one line each."""
    members = []
    for recipe in recipes:
        member = build_member(
            recipe,
            cache,
            seed=seed,
            pinned=pinned,
            measure_time_limit_s=measure_time_limit_s,
            remeasure=remeasure,
            in_process=in_process,
        )
        print(
            f"  {recipe.name}: need {member.need} ({member.need_source}), fleet {member.counts}",
            flush=True,
        )
        members.append(member)
    return members


def pin(members: Sequence[Member], path: Path = PINNED_NEEDS) -> None:
    """Record the members' measured needs in `path` (other members' entries are kept)."""
    pinned = read_pinned(path)
    for m in members:
        pinned[m.recipe.name] = {
            "demand_sha256": m.demand_sha256,
            "seed": m.seed,
            "need": m.need,
            "measured": m.measured,
        }
    path.write_text(json.dumps(pinned, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    """`python -m benchmarks.family build|list`."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.family", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="write the family's folders (measuring needs if new)")
    build.add_argument("--out", type=Path, default=DEFAULT_CACHE)
    build.add_argument("--seed", type=int, default=DEFAULT_SEED)
    build.add_argument("--quick", action="store_true", help="the two tiny smoke members")
    build.add_argument("--only", default="", help="comma-separated member names")
    build.add_argument("--time-limit", type=float, default=None, help="measurement budget, s")
    build.add_argument("--remeasure", action="store_true", help="ignore pinned and cached needs")
    build.add_argument(
        "--pin", action="store_true", help=f"record the needs in {PINNED_NEEDS.name}"
    )
    sub.add_parser("list", help="print the recipes")
    args = parser.parse_args(argv)
    if args.command == "list":
        for r in (*FAMILY, *QUICK_FAMILY):
            print(f"{r.name}: {r.note}")
        return
    recipes = QUICK_FAMILY if args.quick else FAMILY
    if args.only:
        wanted = {n.strip() for n in args.only.split(",")}
        recipes = tuple(r for r in (*FAMILY, *QUICK_FAMILY) if r.name in wanted)
    members = build_family(
        recipes,
        args.out,
        seed=args.seed,
        pinned=None if args.quick else read_pinned(),
        measure_time_limit_s=args.time_limit,
        remeasure=args.remeasure,
        in_process=args.quick,
    )
    if args.pin:
        pin(members)
        print(f"pinned {len(members)} need(s) in {PINNED_NEEDS}")


if __name__ == "__main__":
    main()
