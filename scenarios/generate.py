"""Realistic Spring Festival charter seasons, generated deterministically from a seed.

A season is what the service centre collects from employers: companies at their gates in Cixi's
towns, workers with a home county, a window of departure dates, ID number and phone, families
travelling together, and the coaches the operator offers. `generate_season` builds one in memory
(a `GeneratedSeason`, whose `scenario` carries each worker's true home county); `write_scenario`
writes it as a scenario folder (the format of docs/scenarios.md, also the employers' upload
template).

How the demand is shaped (see docs/scenarios.md for the calibration against Cixi 2019):

- Home counties: provinces by the Ningbo labour-survey shares (DOMAIN.md); inside a province, a
  few counties send most people (chain migration), drawn Zipf-like over a ranked list that starts
  with known large sending counties. Companies also recruit through hometown networks: part of a
  company's workers come from one to three "network" counties of that company.
- Dates: each company closes (or reopens, for the return wave) on one day, concentrated on a few
  main days; most of its workers' windows start that day, some a day or two off; windows are
  0 to a few days wide.
- The `concentrated` profile is registered charter demand as in 2019 (about a hundred counties);
  `dispersed` is a stress season: hundreds of counties with a long tail and narrow windows.

Only the shipped gazetteer (`optimizer.geography.gazetteer`) is used for counties.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from optimizer.errors import InvalidInput
from optimizer.geography.gazetteer import (
    MUNICIPALITY_ADCODES,
    County,
    Gazetteer,
    load_gazetteer,
)
from optimizer.identity import id_check_char
from optimizer.model import (
    Company,
    Direction,
    Hub,
    Policy,
    Scenario,
    SolverParams,
    VehicleType,
    Worker,
)
from optimizer.region import expand_region, region_counties

Profile = Literal["concentrated", "dispersed"]

CIXI_ADCODE = "330282"
FESTIVAL_2019 = dt.date(2019, 2, 5)

# Share of Cixi's out-of-province workers by province (Ningbo labour survey: Anhui + Sichuan +
# Jiangxi = 57.6 %; the rest spread over the other corridors of DOMAIN.md).
PROVINCE_SHARES: tuple[tuple[str, float], ...] = (
    ("安徽", 0.250),
    ("四川", 0.170),
    ("江西", 0.156),
    ("贵州", 0.110),
    ("河南", 0.090),
    ("湖北", 0.050),
    ("湖南", 0.040),
    ("重庆", 0.040),
    ("云南", 0.034),
    ("江苏", 0.030),
    ("广西", 0.030),
)

# Large labour-sending counties per province, ranked first in the chain-migration draw (short names;
# looked up in the gazetteer, skipped if absent). The rest of a province follows in seeded order.
# fmt: off
SENDING_COUNTIES: Mapping[str, tuple[str, ...]] = {
    "安徽": (
        "临泉", "太和", "阜南", "颍上", "霍邱", "寿县", "界首", "利辛", "涡阳", "怀远", "蒙城",
        "灵璧", "泗县", "萧县", "定远", "枞阳", "宿松", "望江",
    ),
    "四川": (
        "渠县", "仪陇", "营山", "南部", "平昌", "宣汉", "大竹", "岳池", "安岳", "蓬溪", "三台",
        "中江", "开江", "邻水",
    ),
    "江西": (
        "鄱阳", "余干", "都昌", "丰城", "于都", "万年", "广丰", "玉山", "进贤", "修水", "兴国",
        "永修",
    ),
    "贵州": (
        "威宁", "织金", "纳雍", "大方", "赫章", "正安", "道真", "务川", "凤冈", "桐梓", "思南",
        "印江",
    ),
    "河南": (
        "固始", "商城", "淮滨", "潢川", "息县", "光山", "罗山", "永城", "鹿邑", "郸城", "沈丘",
    ),
    "湖北": (
        "黄梅", "蕲春", "浠水", "英山", "罗田", "麻城", "广水",
    ),
    "湖南": (
        "邵东", "新化", "隆回", "祁东", "耒阳", "安化",
    ),
    "重庆": (
        "开州", "云阳", "奉节", "万州", "巫山", "忠县",
    ),
    "云南": (
        "镇雄", "宣威", "会泽", "彝良", "昭阳", "威信",
    ),
    "江苏": (
        "沭阳", "泗洪", "睢宁", "灌南", "涟水",
    ),
    "广西": (
        "博白", "陆川", "全州", "兴业", "北流", "桂平",
    ),
}
# fmt: on


@dataclass(frozen=True)
class Town:
    """A town or street (街道) of Cixi: centre in WGS-84 (approximate), weight in companies."""

    name: str
    lon: float
    lat: float
    weight: float
    hub: str = ""  # name of the town's coach station, if it serves as a charter hub
    # Origin county of a many-origin season: adcode, the name gates are given, and how far
    # (degrees, standard deviation) gates scatter around the centre. "" for Cixi's towns.
    county: str = ""
    county_name: str = ""
    spread_deg: float = 0.0


# Cixi's towns and streets, centres approximated to ~1 km (WGS-84). Weights follow where the
# industrial zones are (small home appliances, bearings, textiles).
CIXI_TOWNS: tuple[Town, ...] = (
    Town("浒山街道", 121.266, 30.170, 10, "慈溪客运中心"),
    Town("白沙路街道", 121.248, 30.181, 5),
    Town("古塘街道", 121.238, 30.163, 5),
    Town("坎墩街道", 121.231, 30.213, 7),
    Town("宗汉街道", 121.204, 30.196, 8),
    Town("周巷镇", 121.146, 30.164, 9, "周巷汽车站"),
    Town("长河镇", 121.171, 30.190, 5),
    Town("崇寿镇", 121.150, 30.236, 3),
    Town("庵东镇", 121.186, 30.284, 4, "庵东汽车站"),
    Town("横河镇", 121.205, 30.131, 5),
    Town("桥头镇", 121.321, 30.140, 4),
    Town("匡堰镇", 121.346, 30.125, 3),
    Town("逍林镇", 121.301, 30.205, 6),
    Town("新浦镇", 121.316, 30.236, 5),
    Town("胜山镇", 121.281, 30.234, 4),
    Town("附海镇", 121.346, 30.255, 5),
    Town("观海卫镇", 121.411, 30.186, 8, "观海卫汽车站"),
    Town("掌起镇", 121.456, 30.140, 5),
    Town("龙山镇", 121.526, 30.175, 5),
)

# Coach types the operator offers: seats, cost per km (RMB), fixed cost per trip (RMB, crew, tolls
# not included). Tariffs are operator inputs (DOMAIN.md); these are placeholders of the right order.
COACH_TYPES: tuple[tuple[str, int, float, float], ...] = (
    ("coach-53", 53, 7.5, 1500.0),
    ("coach-45", 45, 6.8, 1300.0),
    ("coach-35", 35, 6.0, 1100.0),
)
OPERATOR = "慈溪公运"


@dataclass(frozen=True)
class SeasonProfile:
    """The knobs of a generated season. Offsets are days before (home) or after (return) the
    festival; weights need not sum to 1."""

    counties_per_sqrt_worker: float
    min_counties: int
    max_counties: int
    zipf_exponent: float
    network_share: float  # share of a company's workers from its own hometown-network counties
    closing_offsets: Mapping[int, float]  # company closing day (home) -> weight
    same_day_share: float  # share of a company's workers whose window starts on its closing day
    window_extra_days: Mapping[int, float]  # width of the window beyond its first day -> weight
    family_share: float  # share of travelling units that are families (2-4 people)
    extra_seat_share: float  # share of single adults who bring an infant on their own seat
    workers_per_company: float
    # Registered charter demand follows the published timetable: the service centre runs each
    # county's corridor on a few dates (one per `people_per_service_day` expected people, at most
    # `max_service_days`, drawn from `closing_offsets`); `schedule_share` of the travelling units
    # book the first of their county's dates on or after their company's closing day.
    schedule_share: float
    people_per_service_day: float
    max_service_days: int
    anchor_counties: bool  # rank known sending counties first
    hubs: bool


PROFILES: Mapping[str, SeasonProfile] = {
    # Registered charter demand of 2019, calibrated so the plain county-and-date plan lands near
    # Cixi's 612 trips (docs/scenarios.md).
    "concentrated": SeasonProfile(
        counties_per_sqrt_worker=0.70,
        min_counties=2,
        max_counties=110,
        zipf_exponent=1.0,
        network_share=0.5,
        closing_offsets={9: 3, 8: 4, 7: 3, 6: 1},
        same_day_share=0.85,
        window_extra_days={0: 0.30, 1: 0.25, 2: 0.20, 3: 0.15, 4: 0.10},
        family_share=0.08,
        extra_seat_share=0.005,
        workers_per_company=60.0,
        schedule_share=0.965,
        people_per_service_day=275.0,
        max_service_days=3,
        anchor_counties=True,
        hubs=True,
    ),
    # Stress season: hundreds of counties, a long tail of small ones, narrow windows spread out.
    "dispersed": SeasonProfile(
        counties_per_sqrt_worker=5.5,
        min_counties=2,
        max_counties=600,
        zipf_exponent=0.7,
        network_share=0.2,
        closing_offsets={o: 1.0 for o in range(1, 14)},
        same_day_share=0.4,
        window_extra_days={0: 0.7, 1: 0.3},
        family_share=0.08,
        extra_seat_share=0.005,
        workers_per_company=40.0,
        schedule_share=0.0,
        people_per_service_day=150.0,
        max_service_days=1,
        anchor_counties=False,
        hubs=True,
    ),
}


@dataclass(frozen=True)
class BadRow:
    """A deliberately wrong row: which worker, which column, what is wrong and the unserved reason
    the planner should give (docs/plan-format.md vocabulary)."""

    worker_id: str
    column: str
    kind: str
    expected_reason: str


@dataclass(frozen=True)
class GeneratedSeason:
    """A generated season. `scenario.workers` carry their true `home_adcode`; `home_text` is the
    free-text or adcode form written to workers.csv, keyed by worker_id."""

    scenario: Scenario
    seed: int
    profile: str
    home_text: Mapping[str, str] = field(default_factory=dict)
    bad_rows: tuple[BadRow, ...] = ()

    @property
    def name(self) -> str:
        """The season's name."""
        return self.scenario.name


@dataclass(frozen=True)
class BundledSpec:
    """How a bundled scenario folder is generated (regenerate with `chunyun generate NAME`)."""

    workers: int
    seed: int
    profile: Profile
    options: Mapping[str, Any] = field(default_factory=dict)


BUNDLED_SPECS: Mapping[str, BundledSpec] = {
    "cixi-2019": BundledSpec(
        workers=20_710, seed=2019, profile="concentrated", options={"hub_radius_km": 12.0}
    ),
    "dispersed-stress": BundledSpec(
        workers=7_000, seed=7, profile="dispersed", options={"hub_radius_km": 12.0}
    ),
    "small": BundledSpec(
        workers=600, seed=11, profile="concentrated", options={"bad_rows": 7, "companies": 12}
    ),
    "tiny": BundledSpec(
        workers=60,
        seed=3,
        profile="concentrated",
        options={
            "companies": 4,
            "provinces": (("安徽", 0.7), ("河南", 0.3)),
            "counties": 3,
            "first_departure": dt.date(2019, 1, 28),
            "last_departure": dt.date(2019, 1, 29),
            "hub_radius_km": 0.0,
        },
    ),
}


def generate_bundled(name: str) -> GeneratedSeason:
    """The season of bundled scenario folder `name`, exactly as shipped."""
    try:
        spec = BUNDLED_SPECS[name]
    except KeyError:
        known = ", ".join(sorted(BUNDLED_SPECS))
        raise InvalidInput(f"no bundled scenario {name!r}; bundled: {known}") from None
    return generate_season(name, spec.workers, spec.seed, profile=spec.profile, **spec.options)


def generate_season(
    name: str,
    workers: int,
    seed: int,
    *,
    profile: Profile = "concentrated",
    direction: Direction = "home",
    festival_date: dt.date = FESTIVAL_2019,
    first_departure: dt.date | None = None,
    last_departure: dt.date | None = None,
    companies: int | None = None,
    counties: int | None = None,
    provinces: Sequence[tuple[str, float]] = PROVINCE_SHARES,
    hub_radius_km: float = 12.0,
    bad_rows: int = 0,
    origins: Sequence[str] = (),
) -> GeneratedSeason:
    """Generate a season of `workers` registered travellers, deterministically from `seed`.

    `profile` shapes concentration and windows (`PROFILES`); `direction` "home" puts windows before
    `festival_date` (factory gate to home county), "return" after it. `first_departure` and
    `last_departure` default to 14 days to 1 day before the festival (home) or 4 to 16 days after
    it (return). `companies` and `counties` override the profile's counts; `provinces` gives
    (province short name, share) pairs. `hub_radius_km` goes to the scenario's policy when the
    season has hubs. `bad_rows` deliberately wrong rows are added (documented in `bad_rows`).
    `origins` (county names or codes, prefecture or province names: optimizer.region) makes a
    many-origin season: companies spread evenly over those counties, gates around each county
    seat, one hub and one operator (depot at the seat) per county; empty: Cixi alone.
    """
    if workers < 1:
        raise InvalidInput("workers must be at least 1")
    if profile not in PROFILES:
        raise InvalidInput(f"profile must be one of {', '.join(PROFILES)}, not {profile!r}")
    if direction not in ("home", "return"):
        raise InvalidInput(f"direction must be 'home' or 'return', not {direction!r}")
    if bad_rows < 0:
        raise InvalidInput("bad_rows must not be negative")
    spec = PROFILES[profile]
    sign = -1 if direction == "home" else 1
    if first_departure is None:
        first_departure = festival_date + dt.timedelta(days=-14 if direction == "home" else 4)
    if last_departure is None:
        last_departure = festival_date + dt.timedelta(days=-1 if direction == "home" else 16)
    if first_departure > last_departure:
        raise InvalidInput("first_departure must not be after last_departure")

    region = expand_region(origins) if origins else ()
    rng = np.random.default_rng(seed)
    builder = _Builder(rng)

    county_pool = _draw_counties(rng, spec, workers, counties, provinces)
    county_adcodes = [c.adcode for c, _ in county_pool]
    county_weights = np.array([w for _, w in county_pool])
    county_weights = county_weights / county_weights.sum()
    by_adcode = {c.adcode: c for c, _ in county_pool}

    n_companies = companies or max(1, round(workers / spec.workers_per_company))
    n_companies = min(n_companies, workers)
    towns = _origin_towns(region) if region else CIXI_TOWNS
    company_rows, sizes = _draw_companies(rng, builder, towns, n_companies, workers)

    closing_days = list(spec.closing_offsets)
    closing_p = np.array([spec.closing_offsets[d] for d in closing_days], dtype=float)
    closing_p /= closing_p.sum()
    extra_days = list(spec.window_extra_days)
    extra_p = np.array([spec.window_extra_days[d] for d in extra_days], dtype=float)
    extra_p /= extra_p.sum()

    def clamp(day: dt.date) -> dt.date:
        return min(max(day, first_departure), last_departure)

    # Each county's published departure dates, in travel order (home: earliest first).
    service_days: dict[str, list[dt.date]] = {}
    for adcode, weight in zip(county_adcodes, county_weights, strict=True):
        wanted = math.ceil(weight * workers / spec.people_per_service_day)
        k = max(1, min(spec.max_service_days, wanted, len(closing_days)))
        offsets = rng.choice(closing_days, size=k, replace=False, p=closing_p)
        days = {clamp(festival_date + dt.timedelta(days=sign * int(o))) for o in offsets}
        service_days[adcode] = sorted(days, reverse=direction == "return")

    worker_rows: list[Worker] = []
    home_text: dict[str, str] = {}
    width = max(5, len(str(workers)))
    party_count = 0
    for company, size in zip(company_rows, sizes, strict=True):
        network_n = int(rng.integers(1, 4))
        network = rng.choice(len(county_adcodes), size=network_n, p=county_weights)
        closing = festival_date + dt.timedelta(
            days=sign * int(rng.choice(closing_days, p=closing_p))
        )
        remaining = size
        while remaining > 0:
            unit = _draw_unit(rng, spec, remaining)
            remaining -= len(unit)
            if rng.random() < spec.network_share:
                county_index = int(network[int(rng.integers(network_n))])
            else:
                county_index = int(rng.choice(len(county_adcodes), p=county_weights))
            county = by_adcode[county_adcodes[county_index]]
            start = closing
            if rng.random() < spec.schedule_share:
                # Home: the first published date on or after closing; return: on or before.
                options = service_days[county.adcode]
                after = [d for d in options if (d - closing).days * -sign >= 0]
                start = after[0] if after else options[-1]
            elif rng.random() >= spec.same_day_share:
                shift = int(rng.choice((-2, -1, 1, 2), p=(0.2, 0.35, 0.3, 0.15)))
                start = closing + dt.timedelta(days=shift)
            start = clamp(start)
            end = clamp(start + dt.timedelta(days=int(rng.choice(extra_days, p=extra_p))))
            party = ""
            if len(unit) > 1:
                party_count += 1
                party = f"P{party_count:05d}"
            surname = builder.surname()
            family_phone = builder.phone()
            for member in unit:
                worker_id = f"W{len(worker_rows) + 1:0{width}d}"
                person_surname = surname if member.kind != "spouse" else builder.surname()
                phone = family_phone if member.kind in ("head", "child") else builder.phone()
                seats = (
                    2
                    if member.kind == "head"
                    and len(unit) == 1
                    and (rng.random() < spec.extra_seat_share)
                    else 1
                )
                worker_rows.append(
                    Worker(
                        worker_id=worker_id,
                        company_id=company.company_id,
                        name=person_surname + builder.given_name(member.female),
                        id_number=builder.id_number(
                            county.adcode, member.age, member.female, festival_date.year
                        ),
                        phone=phone,
                        home=county.name,
                        earliest=start,
                        latest=end,
                        party=party,
                        seats=seats,
                        home_adcode=county.adcode,
                    )
                )
                home_text[worker_id] = builder.home_form(county)

    bad: list[BadRow] = []
    if bad_rows:
        worker_rows, bad = _add_bad_rows(
            rng, worker_rows, home_text, bad_rows, first_departure, last_departure
        )
    worker_rows = [replace(w, home=home_text[w.worker_id]) for w in worker_rows]

    hubs = _hubs(towns) if spec.hubs and hub_radius_km > 0 else ()
    policy = Policy(hub_radius_km=hub_radius_km) if hubs else Policy()
    total_seats = total_seats_of(worker_rows)
    fleet = _origin_fleet(total_seats, towns) if region else None
    scenario = Scenario(
        name=name,
        direction=direction,
        origin=region[0] if region else CIXI_ADCODE,
        origins=region,
        festival_date=festival_date,
        first_departure=first_departure,
        last_departure=last_departure,
        companies=tuple(company_rows),
        workers=tuple(worker_rows),
        fleet=fleet or _fleet(total_seats),
        hubs=hubs,
        policy=policy,
        solver=SolverParams(time_limit_s=60.0),
    )
    return GeneratedSeason(
        scenario=scenario,
        seed=seed,
        profile=profile,
        home_text=home_text,
        bad_rows=tuple(bad),
    )


# --------------------------------------------------------------------------------------------
# Writing a scenario folder


WORKER_COLUMNS = (
    "worker_id",
    "company_id",
    "name",
    "id_number",
    "phone",
    "home",
    "earliest",
    "latest",
    "party",
    "seats",
)
COMPANY_COLUMNS = ("company_id", "name", "lon", "lat", "town", "no_hub")
FLEET_COLUMNS = (
    "vehicle_type",
    "seats",
    "count",
    "cost_per_km",
    "fixed_cost",
    "operator",
    "depot_lon",
    "depot_lat",
    "available_from",
    "available_to",
)
HUB_COLUMNS = ("hub_id", "name", "lon", "lat")


def write_scenario(season: GeneratedSeason, folder: str | Path) -> Path:
    """Write `season` as a scenario folder (created if needed; its files are overwritten).

    Files: scenario.toml, companies.csv, workers.csv, fleet.csv and, when the season has hubs,
    hubs.csv. CSVs are UTF-8 with a header row and `\\n` line ends; dates are ISO (YYYY-MM-DD);
    coordinates WGS-84 degrees. Returns the folder.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    scenario = season.scenario
    # A many-origin season names each gate's and hub's county (one-origin folders stay as they
    # were, byte for byte).
    counties = len(scenario.origins) > 1
    (out / "scenario.toml").write_text(_scenario_toml(season), encoding="utf-8")
    _write_csv(
        out / "companies.csv",
        COMPANY_COLUMNS + (("county",) if counties else ()),
        (
            (c.company_id, c.name, f"{c.lon:.6f}", f"{c.lat:.6f}", c.town, "1" if c.no_hub else "0")
            + ((c.county,) if counties else ())
            for c in scenario.companies
        ),
    )
    _write_csv(
        out / "workers.csv",
        WORKER_COLUMNS,
        (
            (
                w.worker_id,
                w.company_id,
                w.name,
                w.id_number,
                w.phone,
                w.home,
                w.earliest.isoformat(),
                w.latest.isoformat(),
                w.party,
                str(w.seats),
            )
            for w in scenario.workers
        ),
    )
    # Operators' registration places (charter sign) only when one is named: folders without
    # them stay as they were, byte for byte.
    registered = any(v.registered for v in scenario.fleet)
    _write_csv(
        out / "fleet.csv",
        FLEET_COLUMNS + (("registered",) if registered else ()),
        (
            (
                v.vehicle_type,
                str(v.seats),
                str(v.count),
                f"{v.cost_per_km:g}",
                f"{v.fixed_cost:g}",
                v.operator,
                "" if v.depot_lon is None else f"{v.depot_lon:.6f}",
                "" if v.depot_lat is None else f"{v.depot_lat:.6f}",
                v.available_from.isoformat() if v.available_from else "",
                v.available_to.isoformat() if v.available_to else "",
            )
            + ((v.registered,) if registered else ())
            for v in scenario.fleet
        ),
    )
    hubs_file = out / "hubs.csv"
    if scenario.hubs:
        _write_csv(
            hubs_file,
            HUB_COLUMNS + (("county",) if counties else ()),
            (
                (h.hub_id, h.name, f"{h.lon:.6f}", f"{h.lat:.6f}")
                + ((h.county,) if counties else ())
                for h in scenario.hubs
            ),
        )
    elif hubs_file.exists():
        hubs_file.unlink()
    return out


def _write_csv(path: Path, header: Sequence[str], rows: Any) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.date):
        return f'"{value.isoformat()}"'
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _scenario_toml(season: GeneratedSeason) -> str:
    s = season.scenario
    lines = [
        f"# Generated by: chunyun generate {s.name} --workers {len(s.workers)} --seed {season.seed}"
        f" --profile {season.profile}"
        + (" --direction return" if s.direction == "return" else "")
        + (f" --origins {','.join(s.origins)}" if len(s.origins) > 1 else ""),
        "# Format: docs/scenarios.md. Dates are ISO (YYYY-MM-DD), coordinates WGS-84.",
    ]
    for bad in season.bad_rows:
        lines.append(
            f"# Deliberate bad row: {bad.worker_id} {bad.column} ({bad.kind})"
            f" -> {bad.expected_reason}"
        )
    lines += [
        f"name = {_toml_value(s.name)}",
        f"direction = {_toml_value(s.direction)}",
        f"origin = {_toml_value(s.origin)}",
    ]
    if len(s.origins) > 1:
        lines.append("region = [" + ", ".join(_toml_value(code) for code in s.origins) + "]")
    lines += [
        f"festival_date = {_toml_value(s.festival_date)}",
        f"first_departure = {_toml_value(s.first_departure)}",
        f"last_departure = {_toml_value(s.last_departure)}",
    ]
    default = Policy()
    changed = [
        (f.name, getattr(s.policy, f.name))
        for f in fields(Policy)
        if getattr(s.policy, f.name) != getattr(default, f.name)
    ]
    if changed:
        lines += ["", "[policy]"] + [f"{key} = {_toml_value(value)}" for key, value in changed]
    lines += [
        "",
        "[solver]",
        f"time_limit_s = {_toml_value(s.solver.time_limit_s)}",
    ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Drawing the pieces


@dataclass(frozen=True)
class _Member:
    kind: Literal["head", "spouse", "child"]
    age: int
    female: bool


def _draw_unit(rng: np.random.Generator, spec: SeasonProfile, room: int) -> list[_Member]:
    """One travelling unit: a single worker, or a family of 2-4 (a couple and children)."""
    head_female = bool(rng.random() < 0.35)
    head = _Member("head", _adult_age(rng), head_female)
    if room < 2 or rng.random() >= spec.family_share:
        return [head]
    size = int(rng.choice((2, 3, 4), p=(0.45, 0.4, 0.15)))
    size = min(size, room)
    members = [head]
    couple = (size == 2 and rng.random() < 0.6) or (size > 2 and rng.random() < 0.8)
    if couple:
        spouse_age = max(18, min(60, head.age + int(rng.integers(-4, 5))))
        members.append(_Member("spouse", spouse_age, not head_female))
    while len(members) < size:
        child_age = int(rng.integers(1, min(17, max(2, head.age - 19))))
        members.append(_Member("child", child_age, bool(rng.random() < 0.5)))
    return members


def _adult_age(rng: np.random.Generator) -> int:
    return min(58, max(18, round(float(rng.normal(36, 9)))))


def _draw_counties(
    rng: np.random.Generator,
    spec: SeasonProfile,
    workers: int,
    counties: int | None,
    provinces: Sequence[tuple[str, float]],
) -> list[tuple[County, float]]:
    """(county, weight) pairs: weights are province share x Zipf over the province's ranking."""
    gazetteer = load_gazetteer()
    target = counties or round(spec.counties_per_sqrt_worker * math.sqrt(workers))
    target = max(spec.min_counties, min(spec.max_counties, target))
    target = max(target, 1)
    total_share = sum(share for _, share in provinces)
    pool: list[tuple[County, float]] = []
    # Largest-remainder split of the county count over provinces, each province at least one.
    raw = [share / total_share * target for _, share in provinces]
    counts = [max(1, math.floor(r)) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - math.floor(raw[i]), reverse=True)
    for i in order:
        if sum(counts) >= target:
            break
        counts[i] += 1
    for (province, share), count in zip(provinces, counts, strict=True):
        ranked = _ranked_counties(rng, gazetteer, province, spec.anchor_counties)
        if not ranked:
            raise InvalidInput(f"the gazetteer has no counties in province {province!r}")
        chosen = ranked[:count]
        zipf = np.array([1.0 / (rank + 1) ** spec.zipf_exponent for rank in range(len(chosen))])
        zipf = zipf / zipf.sum() * share / total_share
        pool.extend(zip(chosen, zipf.tolist(), strict=True))
    return pool


def _ranked_counties(
    rng: np.random.Generator, gazetteer: Gazetteer, province: str, anchors: bool
) -> list[County]:
    in_province = sorted(
        (c for c in gazetteer.in_province(province) if c.has_coordinates), key=lambda c: c.adcode
    )
    # Rural counties and county-level cities send far more workers than city districts.
    rural = [c for c in in_province if not c.name.endswith("区") or province == "重庆"]
    districts = [c for c in in_province if c not in rural]
    first: list[County] = []
    if anchors:
        by_short = {c.short_name: c for c in in_province}
        by_short.update({c.name: c for c in in_province})
        for short in SENDING_COUNTIES.get(province, ()):
            county = by_short.get(short) or next(
                (c for c in in_province if c.name.startswith(short)), None
            )
            if county is not None and county not in first:
                first.append(county)
    rest = [c for c in rural if c not in first]
    rest = [rest[i] for i in rng.permutation(len(rest))] if rest else []
    tail = [districts[i] for i in rng.permutation(len(districts))] if districts else []
    return first + rest + tail


def _draw_companies(
    rng: np.random.Generator,
    builder: _Builder,
    towns: Sequence[Town],
    n_companies: int,
    workers: int,
) -> tuple[list[Company], list[int]]:
    """Companies spread over the towns, and how many of the workers each registers."""
    weights = rng.lognormal(0.0, 1.1, size=n_companies)
    sizes = _split(workers, weights)
    town_p = np.array([t.weight for t in towns], dtype=float)
    town_p /= town_p.sum()
    width = max(3, len(str(n_companies)))
    companies: list[Company] = []
    # The biggest employers fill coaches on their own and keep their gate (no_hub).
    big = sorted(range(n_companies), key=lambda i: -sizes[i])[: max(0, n_companies // 100)]
    for i in range(n_companies):
        # Origin counties of a many-origin season take companies in turn (an even spread).
        town = (
            towns[i % len(towns)]
            if towns[0].county
            else towns[int(rng.choice(len(towns), p=town_p))]
        )
        # Industrial zones sit within a few km of a town centre (0.01 deg ~ 1 km).
        lon = town.lon + float(rng.normal(0, town.spread_deg or 0.012))
        lat = town.lat + float(rng.normal(0, town.spread_deg or 0.010))
        companies.append(
            Company(
                company_id=f"C{i + 1:0{width}d}",
                name=builder.company_name(town),
                lon=round(lon, 6),
                lat=round(lat, 6),
                town=town.name,
                no_hub=i in big and sizes[i] >= 100,
                county=town.county,
            )
        )
    return companies, sizes


def _split(total: int, weights: np.ndarray) -> list[int]:
    """Split `total` into positive integers proportional to `weights` (largest remainders)."""
    n = len(weights)
    if total < n:
        raise InvalidInput("fewer workers than companies")
    share = weights / weights.sum() * (total - n)
    sizes = np.floor(share).astype(int) + 1
    left = total - int(sizes.sum())
    for i in np.argsort(-(share - np.floor(share)), kind="stable")[:left]:
        sizes[i] += 1
    return [int(s) for s in sizes]


def _hubs(towns: Sequence[Town]) -> tuple[Hub, ...]:
    return tuple(
        Hub(hub_id=f"H{i + 1}", name=t.hub, lon=t.lon + 0.003, lat=t.lat - 0.002, county=t.county)
        for i, t in enumerate(t for t in towns if t.hub)
    )


def total_seats_of(workers: Sequence[Worker]) -> int:
    """Seats the workers take (children's and infants' seats included)."""
    return sum(w.seats for w in workers)


def _origin_towns(region: Sequence[str]) -> tuple[Town, ...]:
    """One gathering area per origin county: its seat, equal weights, gates within a few km."""
    return tuple(
        Town(
            name=f"{county.name}城区",
            lon=float(county.lon or 0.0),
            lat=float(county.lat or 0.0),
            weight=1.0,
            hub=f"{county.short_name}汽车站",
            county=county.adcode,
            county_name=county.name,
            spread_deg=0.02,
        )
        for county in region_counties(region)
    )


def _origin_fleet(total_seats: int, towns: Sequence[Town]) -> tuple[VehicleType, ...]:
    """One operator per origin county (its depot at the county seat), each with the three coach
    types and a share of the counts `_fleet` gives the whole season."""
    whole = {v.vehicle_type: v for v in _fleet(total_seats)}
    share = 1 / len(towns)
    return tuple(
        replace(
            vehicle,
            vehicle_type=f"{vehicle.vehicle_type}-{town.county}",
            count=math.ceil(vehicle.count * share) + 1,
            operator=f"{town.county_name}公运",
            depot_lon=town.lon,
            depot_lat=town.lat,
        )
        for town in towns
        for vehicle in whole.values()
    )


def _fleet(total_seats: int) -> tuple[VehicleType, ...]:
    """The operator's physical coaches for the season.

    Sized for coaches that are away for days: a coach to Guizhou is gone three or four days and
    the main departure days are few, so the season needs about as many coaches as the seats bound
    (total seats / 53) and more, not just enough for one day's departures.
    """
    coaches = total_seats / 53
    counts = {
        "coach-53": math.ceil(0.8 * coaches) + 2,
        "coach-45": math.ceil(0.3 * coaches) + 1,
        "coach-35": math.ceil(0.15 * coaches) + 1,
    }
    depot = CIXI_TOWNS[0]
    return tuple(
        VehicleType(
            vehicle_type=name,
            seats=seats,
            count=counts[name],
            cost_per_km=per_km,
            fixed_cost=fixed,
            operator=OPERATOR,
            depot_lon=depot.lon,
            depot_lat=depot.lat,
        )
        for name, seats, per_km, fixed in COACH_TYPES
    )


def _add_bad_rows(
    rng: np.random.Generator,
    workers: list[Worker],
    home_text: dict[str, str],
    count: int,
    first_departure: dt.date,
    last_departure: dt.date,
) -> tuple[list[Worker], list[BadRow]]:
    """Spoil `count` single travellers' rows, cycling through the kinds a real upload has."""
    singles = [i for i, w in enumerate(workers) if not w.party]
    picks = sorted(rng.choice(len(singles), size=min(count, len(singles)), replace=False))
    bad: list[BadRow] = []
    out = list(workers)
    for n, pick in enumerate(picks):
        i = singles[int(pick)]
        w = out[i]
        kind = _BAD_KINDS[n % len(_BAD_KINDS)]
        if kind == "id_check_digit":
            wrong = "0" if w.id_number[-1] != "0" else "1"
            out[i] = replace(w, id_number=w.id_number[:-1] + wrong)
            bad.append(BadRow(w.worker_id, "id_number", kind, "invalid_row"))
        elif kind == "phone_short":
            out[i] = replace(w, phone=w.phone[:-1])
            bad.append(BadRow(w.worker_id, "phone", kind, "invalid_row"))
        elif kind == "unknown_home":
            home_text[w.worker_id] = "外地"
            out[i] = replace(w, home_adcode=None)
            bad.append(BadRow(w.worker_id, "home", kind, "unknown_home"))
        elif kind == "ambiguous_home":
            home_text[w.worker_id] = "鼓楼"
            out[i] = replace(w, home_adcode=None)
            bad.append(BadRow(w.worker_id, "home", kind, "ambiguous_home"))
        elif kind == "window_reversed":
            out[i] = replace(w, earliest=w.latest + dt.timedelta(days=2))
            bad.append(BadRow(w.worker_id, "latest", kind, "invalid_row"))
        elif kind == "unknown_company":
            out[i] = replace(w, company_id="C999X")
            bad.append(BadRow(w.worker_id, "company_id", kind, "unknown_company"))
        else:  # window_outside_season
            day = last_departure + dt.timedelta(days=3)
            out[i] = replace(w, earliest=day, latest=day + dt.timedelta(days=1))
            bad.append(BadRow(w.worker_id, "earliest", kind, "no_date_in_window"))
    return out, bad


_BAD_KINDS = (
    "id_check_digit",
    "phone_short",
    "unknown_home",
    "ambiguous_home",
    "window_reversed",
    "unknown_company",
    "window_outside_season",
)


# --------------------------------------------------------------------------------------------
# Names, ID numbers, phones, address forms

# Common surnames with rough relative frequencies (2019 household register order).
# fmt: off
_SURNAMES = (
    ("王", 72), ("李", 71), ("张", 69), ("刘", 54), ("陈", 46), ("杨", 32), ("黄", 24), ("赵", 20),
    ("吴", 20), ("周", 19), ("徐", 15), ("孙", 15), ("马", 13), ("朱", 13), ("胡", 12), ("郭", 11),
    ("何", 11), ("林", 10), ("高", 10), ("罗", 10), ("郑", 9), ("梁", 9), ("谢", 7), ("宋", 7),
    ("唐", 7), ("许", 7), ("韩", 6), ("邓", 6), ("冯", 6), ("曹", 6), ("彭", 6), ("曾", 5),
    ("肖", 5), ("田", 5), ("董", 5), ("潘", 5), ("袁", 5), ("蔡", 4), ("蒋", 4), ("余", 4),
    ("于", 4), ("杜", 4), ("叶", 4), ("程", 4), ("魏", 4), ("苏", 4), ("吕", 4), ("丁", 4),
    ("任", 4), ("卢", 3), ("姚", 3), ("沈", 3), ("钟", 3), ("姜", 3), ("崔", 3), ("谭", 3),
    ("陆", 3), ("范", 3), ("汪", 3), ("廖", 3), ("石", 3), ("金", 3), ("韦", 3), ("贾", 3),
    ("夏", 2), ("付", 2), ("方", 2), ("邹", 2), ("熊", 2), ("白", 2), ("孟", 2), ("秦", 2),
    ("邱", 2), ("侯", 2), ("江", 2), ("尹", 2), ("薛", 2), ("闫", 2), ("段", 2), ("雷", 2),
    ("龙", 2), ("黎", 2), ("史", 2), ("陶", 2), ("贺", 2), ("毛", 2), ("郝", 2), ("顾", 2),
    ("龚", 2), ("邵", 2), ("万", 2), ("覃", 2), ("武", 2), ("钱", 2), ("戴", 1), ("严", 1),
    ("莫", 1), ("孔", 1), ("向", 1), ("常", 1),
)
# fmt: on
_MALE_CHARS = "伟强磊军勇杰涛斌超明刚平辉鹏华飞波林海峰建国志东文龙成亮俊浩宇鑫阳凯健祥兵春永德"
_FEMALE_CHARS = "芳娟敏静丽艳霞燕红玲梅琴慧婷雪萍洁玉兰英凤莉颖欣怡秀云华倩丹琳月桂香翠"
# Mobile number segments in use in 2019 (China Mobile, Unicom, Telecom).
# fmt: off
_PHONE_SEGMENTS = (
    "134", "135", "136", "137", "138", "139", "147", "150", "151", "152", "157", "158", "159",
    "178", "182", "183", "184", "187", "188", "198", "130", "131", "132", "155", "156", "166",
    "175", "176", "185", "186", "133", "149", "153", "173", "177", "180", "181", "189", "199",
)
# fmt: on
_BRAND_CHARS = "华东明利达兴宏泰恒丰博凯瑞鑫信盛腾宇德顺嘉浩天中海新金光龙峰伟永佳荣昌辉宝通正"
# fmt: off
_INDUSTRIES = (
    "电器", "家电", "轴承", "塑料", "五金", "针织", "服饰", "模具", "汽配", "灯具", "化纤", "毛绒",
    "橡塑", "电子", "机械", "密封件", "阀门", "线缆", "包装", "卫浴",
)
# fmt: on
_KINDS = ("有限公司", "有限公司", "有限公司", "股份有限公司", "厂")
# Town names common to many counties, used after the county in some home addresses.
_HOME_TOWNS = ("城关镇", "城南镇", "城东乡", "新集镇", "老城镇", "王集镇", "城北乡", "河口镇")


class _Builder:
    """Draws names, ID numbers, phones and address forms, keeping IDs and phones unique."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.surnames = [s for s, _ in _SURNAMES]
        weights = np.array([w for _, w in _SURNAMES], dtype=float)
        self.surname_p = weights / weights.sum()
        self.ids: set[str] = set()
        self.phones: set[str] = set()
        self.company_names: set[str] = set()
        self.gazetteer = load_gazetteer()
        seen: dict[str, int] = {}
        self.shorts_in_province: dict[str, set[str]] = {}
        for county in self.gazetteer:
            seen[county.short_name] = seen.get(county.short_name, 0) + 1
            self.shorts_in_province.setdefault(county.province_adcode, set()).add(county.short_name)
        # A short county name is ambiguous when another county, a prefecture or a province
        # goes by it too (邵阳 is 邵阳县 and 邵阳市): such counties are written in full.
        self.ambiguous_short = {name for name, n in seen.items() if n > 1}
        self.ambiguous_short |= {p.short_name for p in self.gazetteer.prefectures.values()}
        self.ambiguous_short |= {p.short_name for p in self.gazetteer.provinces.values()}

    def surname(self) -> str:
        return self.surnames[int(self.rng.choice(len(self.surnames), p=self.surname_p))]

    def given_name(self, female: bool) -> str:
        chars = _FEMALE_CHARS if female else _MALE_CHARS
        length = 1 if self.rng.random() < 0.3 else 2
        return "".join(chars[int(self.rng.integers(len(chars)))] for _ in range(length))

    def phone(self) -> str:
        while True:
            segment = _PHONE_SEGMENTS[int(self.rng.integers(len(_PHONE_SEGMENTS)))]
            number = segment + f"{int(self.rng.integers(0, 100_000_000)):08d}"
            if number not in self.phones:
                self.phones.add(number)
                return number

    def id_number(self, adcode: str, age: int, female: bool, year: int) -> str:
        """A GB 11643 ID: region = home county, a birth date `age` years before `year`'s
        festival, an order code odd for men and even for women, and the check character."""
        while True:
            born = dt.date(year - age - 1, 3, 1) + dt.timedelta(days=int(self.rng.integers(365)))
            order = int(self.rng.integers(0, 500)) * 2 + (0 if female else 1)
            first17 = f"{adcode}{born:%Y%m%d}{order:03d}"
            number = first17 + id_check_char(first17)
            if number not in self.ids:
                self.ids.add(number)
                return number

    def company_name(self, town: Town) -> str:
        while True:
            brand = "".join(
                _BRAND_CHARS[int(self.rng.integers(len(_BRAND_CHARS)))] for _ in range(2)
            )
            industry = _INDUSTRIES[int(self.rng.integers(len(_INDUSTRIES)))]
            kind = _KINDS[int(self.rng.integers(len(_KINDS)))]
            place = town.name[:2] if self.rng.random() < 0.3 else ""
            name = f"{town.county_name or '慈溪市'}{place}{brand}{industry}{kind}"
            if name not in self.company_names:
                self.company_names.add(name)
                return name

    @functools.cache  # noqa: B019 (one builder per season, few provinces)
    def _towns_for(self, province_adcode: str) -> list[str]:
        shorts = self.shorts_in_province[province_adcode]
        return [t for t in _HOME_TOWNS if not any(name in t for name in shorts)]

    def home_form(self, county: County) -> str:
        """The home as an employer types it: full, short, prefecture + county, with a town, or
        the adcode. Bare county names are used only when no other county shares them."""
        province_short = self.gazetteer.provinces[county.province_adcode].short_name
        prefecture = self.gazetteer.prefectures.get(county.prefecture_adcode)
        prefecture_short = (
            prefecture.short_name
            if prefecture is not None
            and county.province_adcode not in MUNICIPALITY_ADCODES
            and "直辖" not in prefecture.name
            else province_short
        )
        clear = county.short_name not in self.ambiguous_short and len(county.short_name) >= 2
        short = county.short_name if clear else county.name
        # A town written after the county must not contain a county name of the same province
        # (资溪县城东乡 would also read as 东乡区).
        towns = self._towns_for(county.province_adcode)
        forms = [
            (county.full_name, 0.30),
            (f"{province_short}{short}", 0.22),
            (f"{prefecture_short}{short}", 0.18),
            (county.adcode, 0.12),
        ]
        if towns:
            forms.append((county.full_name + towns[int(self.rng.integers(len(towns)))], 0.12))
        if clear:
            forms.append((short, 0.06))
        p = np.array([w for _, w in forms])
        return forms[int(self.rng.choice(len(forms), p=p / p.sum()))][0]
