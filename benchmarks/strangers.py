"""Stranger seasons: scenario folders made by other means than ours, to find what breaks.

The product is judged on seasons "made by other means in the same input contract"
(docs/scenarios.md). This module is such another means: it shares no sampling code with
`scenarios/generate.py` or `benchmarks/family.py` (only the gazetteer, for real adcodes and
names, and the ID check character). Each knob of a season is drawn independently from the seed,
and most draws pick what a real dispatcher's season could have and ours rarely does: one home
county, hundreds of counties with one worker each, windows of one day at the season's edge or
outside it, 1-day and 30-day seasons, one coach, a type with no coaches, availability narrow or
disjoint from the season, one giant company or one company per worker, hubs far from the gates,
homes in Xinjiang and Tibet or in the origin's own prefecture, seats from 7 to 60, tariffs at
the edges, and every accepted way of writing a home.

    python -m benchmarks.strangers make --seed 7 --out DIR [--knob homes=far ...]
    python -m benchmarks.strangers check DIR [--time-limit 10]        # one JSON line
    python -m benchmarks.strangers sweep --seeds 0-39 [--time-limit 10] [--out F.json]

`check` reads, plans (`optimizer.season.solve_within_fleet`, as the product), checks the plan
with the independent checker (tests/checker.py) and the plan's own invariants (`invariants`),
writes plan.json and reads it back; `sweep` runs `check` on each seed's season in a child
process of its own (a crash or a hang is a finding, not the end of the sweep) and prints the
findings.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import datetime as dt
import io
import json
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optimizer.geography.gazetteer import County, load_gazetteer
from optimizer.identity import id_check_char

# Origins: manufacturing counties of the east coast where such programmes run (any county of
# these provinces may be drawn, not only Cixi).
ORIGIN_PROVINCES = ("33", "32", "44", "35", "31")
# Provinces workers come from, for the "mixed" homes: every province but the origin's is fair.
FAR_PROVINCES = ("65", "54")  # Xinjiang, Tibet: drives of 40 h and more
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国玉梅红春生文斌海燕"

KNOBS: dict[str, tuple[str, ...]] = {
    "direction": ("home", "return"),
    "days": ("1", "2", "short", "long", "30"),
    "homes": ("one", "singletons", "far", "near", "mixed", "odd"),
    "workers": ("1", "few", "some", "many"),
    "windows": ("whole", "blank", "edge", "outside", "random", "single"),
    "companies": ("normal", "singletons", "giant"),
    "fleet": ("ample", "one_type", "one_coach", "zero_type", "narrow", "disjoint", "tight"),
    "seats": ("small", "large", "mixed", "tiny"),
    "costs": ("normal", "zero", "huge", "fractional"),
    "hubs": ("none", "near", "far", "far_wide"),
    "home_text": ("mixed", "full", "province_county", "prefecture_county", "town", "code", "short"),
    "excel": ("no", "yes"),
    "parties": ("none", "families", "too_large"),
    "origins": ("one", "region"),
    "policy": ("default", "strict", "loose"),
    "depot": ("none", "origin", "far"),
}


@dataclass(frozen=True)
class Knobs:
    """One stranger season's choices, each drawn independently from the seed."""

    seed: int
    direction: str
    days: str
    homes: str
    workers: str
    windows: str
    companies: str
    fleet: str
    seats: str
    costs: str
    hubs: str
    home_text: str
    excel: str
    parties: str
    origins: str
    policy: str
    depot: str


def draw_knobs(seed: int, fixed: dict[str, str] | None = None) -> Knobs:
    """The knobs of season `seed`: each drawn from its own stream, `fixed` ones as given."""
    values: dict[str, Any] = {"seed": seed}
    for name, choices in KNOBS.items():
        stream = random.Random(f"{seed}:{name}")
        values[name] = stream.choice(choices)
    for name, value in (fixed or {}).items():
        if name not in KNOBS or value not in KNOBS[name]:
            raise ValueError(f"unknown knob {name}={value}; choices: {KNOBS.get(name)}")
        values[name] = value
    return Knobs(**values)


@dataclass
class _Season:
    knobs: Knobs
    rng: random.Random
    origin: County
    first: dt.date
    last: dt.date
    files: dict[str, list[dict[str, str]]]
    toml: list[str]


def _placed(counties: Sequence[County]) -> list[County]:
    return [c for c in counties if c.has_coordinates]


def _jitter(rng: random.Random, lon: float, lat: float, km: float) -> tuple[float, float]:
    """A point about `km` from (lon, lat) in a random direction."""
    angle = rng.uniform(0, 2 * math.pi)
    distance = rng.uniform(0, km)
    return (
        round(lon + distance * math.cos(angle) / (111.3 * math.cos(math.radians(lat))), 6),
        round(lat + distance * math.sin(angle) / 111.3, 6),
    )


def _origin(rng: random.Random) -> County:
    counties = [
        c
        for c in _placed(list(load_gazetteer()))
        if c.province_adcode[:2] in ORIGIN_PROVINCES and c.adcode[:2] != "71"
    ]
    return rng.choice(sorted(counties, key=lambda c: c.adcode))


def _season_dates(knobs: Knobs, rng: random.Random) -> tuple[dt.date, dt.date, dt.date]:
    festival = dt.date(2027, 2, 6) + dt.timedelta(days=rng.randint(-20, 20))
    length = {"1": 1, "2": 2, "short": rng.randint(3, 6), "long": rng.randint(10, 20), "30": 30}[
        knobs.days
    ]
    if knobs.direction == "home":
        last = festival - dt.timedelta(days=rng.randint(1, 3))
        first = last - dt.timedelta(days=length - 1)
    else:
        first = festival + dt.timedelta(days=rng.randint(1, 8))
        last = first + dt.timedelta(days=length - 1)
    return festival, first, last


def _homes(knobs: Knobs, rng: random.Random, origin: County, workers: int) -> list[County]:
    """The home county of each worker."""
    everything = sorted(load_gazetteer(), key=lambda c: c.adcode)
    placed = _placed(everything)
    inland = [c for c in placed if c.province_adcode[:2] not in (origin.province_adcode[:2], "71")]
    if knobs.homes == "one":
        return [rng.choice(inland)] * workers
    if knobs.homes == "singletons":
        return rng.sample(inland, min(workers, len(inland)))
    if knobs.homes == "far":
        pool = [c for c in placed if c.adcode[:2] in FAR_PROVINCES]
    elif knobs.homes == "near":
        pool = [c for c in placed if c.prefecture_adcode == origin.prefecture_adcode]
    elif knobs.homes == "odd":
        # Counties the roads do not reach or the gazetteer cannot place, amid ordinary ones.
        odd = [c for c in everything if not c.has_coordinates or c.adcode.startswith("4603")]
        pool = rng.sample(inland, 8) + odd
    else:
        pool = rng.sample(inland, rng.randint(5, 60))
    weights = [1 / (rank + 1) for rank in range(len(pool))]
    return rng.choices(pool, weights, k=workers)


def _home_text(form: str, county: County, rng: random.Random) -> str:
    if form == "mixed":
        form = rng.choice(KNOBS["home_text"][1:])
    if form == "full":
        return county.full_name
    if form == "province_county":
        return re.sub(r"(省|市|自治区|壮族|回族|维吾尔)+$", "", county.province) + county.short_name
    if form == "prefecture_county":
        return re.sub(r"(市|地区|自治州)$", "", county.prefecture) + county.short_name
    if form == "town":
        return county.full_name + rng.choice(("城关镇", "新华街道", "河口乡王家村", " 3组"))
    if form == "code":
        return county.adcode
    return county.short_name


def _id_number(rng: random.Random, county: County, serial: int) -> str:
    birth = dt.date(1965, 1, 1) + dt.timedelta(days=rng.randint(0, 13000))
    first17 = f"{county.adcode}{birth:%Y%m%d}{serial % 1000:03d}"
    return first17 + id_check_char(first17)


def _date_text(knobs: Knobs, rng: random.Random, day: dt.date) -> str:
    if knobs.excel == "yes":
        return rng.choice(
            (f"{day.year}/{day.month}/{day.day}", f"{day.year}年{day.month}月{day.day}日", f"{day}")
        )
    return day.isoformat()


def _window(knobs: Knobs, rng: random.Random, first: dt.date, last: dt.date) -> tuple[str, str]:
    span = (last - first).days
    kind = knobs.windows
    if kind == "whole":
        return _date_text(knobs, rng, first), _date_text(knobs, rng, last)
    if kind == "blank":
        return "", ""
    if kind == "edge":
        day = rng.choice((first, last))
        return _date_text(knobs, rng, day), _date_text(knobs, rng, day)
    if kind == "outside" and rng.random() < 0.3:
        # Entirely before or after the season, or straddling one end of it.
        side = rng.choice(("before", "after", "straddle_first", "straddle_last"))
        if side == "before":
            start, end = first - dt.timedelta(days=5), first - dt.timedelta(days=1)
        elif side == "after":
            start, end = last + dt.timedelta(days=1), last + dt.timedelta(days=4)
        elif side == "straddle_first":
            start, end = first - dt.timedelta(days=3), first
        else:
            start, end = last, last + dt.timedelta(days=3)
        return _date_text(knobs, rng, start), _date_text(knobs, rng, end)
    start = first + dt.timedelta(days=rng.randint(0, span))
    width = 0 if kind == "single" else rng.randint(0, 4)
    end = min(last, start + dt.timedelta(days=width))
    return _date_text(knobs, rng, start), _date_text(knobs, rng, end)


def _worker_count(knobs: Knobs, rng: random.Random) -> int:
    if knobs.homes == "singletons":
        return rng.randint(150, 400)
    return {"1": 1, "few": rng.randint(2, 12), "some": rng.randint(30, 150)}.get(
        knobs.workers, rng.randint(200, 600)
    )


def _seat_sizes(knobs: Knobs, rng: random.Random) -> list[int]:
    pool = {
        "small": (7, 9, 12, 15, 19),
        "large": (49, 53, 55, 57, 60),
        "tiny": (7,),
        "mixed": (7, 19, 33, 45, 53, 60),
    }[knobs.seats]
    count = 1 if knobs.fleet in ("one_type", "one_coach") else rng.randint(1, min(3, len(pool)))
    return sorted(rng.sample(pool, count), reverse=True)


def _fleet(
    knobs: Knobs, rng: random.Random, season: _Season, seats_needed: int
) -> list[dict[str, str]]:
    sizes = _seat_sizes(knobs, rng)
    rows: list[dict[str, str]] = []
    days = (season.last - season.first).days + 1
    for index, seats in enumerate(sizes):
        need = max(1, math.ceil(seats_needed / seats / max(1, min(days, 4))))
        count = {"ample": 3 * need + 2, "tight": max(1, need // 3), "one_coach": 1}.get(
            knobs.fleet, need + 1
        )
        if knobs.fleet == "zero_type" and index == 0:
            count = 0
        cost_per_km, fixed = {
            "normal": (rng.uniform(5, 11), rng.uniform(400, 2500)),
            "zero": (0.0, 0.0),
            "huge": (rng.uniform(500, 5000), rng.uniform(1e5, 1e6)),
            "fractional": (rng.uniform(0.001, 0.05), rng.uniform(0.01, 1)),
        }[knobs.costs]
        row = {
            "vehicle_type": f"{seats}座-{index}" if rng.random() < 0.5 else f"coach {seats}",
            "seats": str(seats),
            "count": str(count),
            "cost_per_km": f"{cost_per_km:.3f}",
            "fixed_cost": f"{fixed:.2f}",
        }
        if knobs.fleet == "narrow":
            day = season.first + dt.timedelta(days=rng.randint(0, days - 1))
            row["available_from"] = row["available_to"] = _date_text(knobs, rng, day)
        elif knobs.fleet == "disjoint" and (index == 0 or rng.random() < 0.5):
            start = season.last + dt.timedelta(days=rng.randint(1, 10))
            row["available_from"] = _date_text(knobs, rng, start)
            row["available_to"] = _date_text(knobs, rng, start + dt.timedelta(days=3))
        if knobs.depot != "none":
            if knobs.depot == "origin":
                assert season.origin.lon is not None and season.origin.lat is not None
                lon, lat = _jitter(rng, season.origin.lon, season.origin.lat, 5)
            else:
                shaanxi = [c for c in _placed(list(load_gazetteer())) if c.adcode[:2] == "61"]
                far = rng.choice(shaanxi)
                assert far.lon is not None and far.lat is not None
                lon, lat = far.lon, far.lat
            row |= {"operator": "某某公运", "depot_lon": str(lon), "depot_lat": str(lat)}
        rows.append(row)
    return rows


def _companies(
    knobs: Knobs, rng: random.Random, origins: Sequence[County], workers: int
) -> list[dict[str, str]]:
    count = {"singletons": workers, "giant": 1}.get(knobs.companies, max(1, workers // 40))
    rows = []
    for index in range(count):
        gate_of = rng.choice(origins)
        assert gate_of.lon is not None and gate_of.lat is not None
        lon, lat = _jitter(rng, gate_of.lon, gate_of.lat, 6)
        rows.append(
            {
                "company_id": f"C{index:04d}",
                "name": gate_of.short_name
                + rng.choice("宏华丰盛鑫达")
                + rng.choice(("电器", "针织", "模具", "五金"))
                + "厂",
                "lon": str(lon),
                "lat": str(lat),
                "no_hub": rng.choice(("", "0", "1", "是", "否")),
            }
        )
    return rows


def _hubs(knobs: Knobs, rng: random.Random, origin: County) -> tuple[list[dict[str, str]], float]:
    if knobs.hubs == "none":
        return [], 0.0
    assert origin.lon is not None and origin.lat is not None
    rows = []
    for index in range(rng.randint(1, 4)):
        if knobs.hubs == "near":
            lon, lat = _jitter(rng, origin.lon, origin.lat, 5)
        else:
            lon, lat = _jitter(rng, origin.lon + rng.choice((-1, 1)) * 0.9, origin.lat, 20)
        rows.append({"hub_id": f"H{index}", "name": f"站{index}", "lon": str(lon), "lat": str(lat)})
    radius = {"near": 12.0, "far": 12.0, "far_wide": 250.0}[knobs.hubs]
    return rows, radius


def _policy(knobs: Knobs, rng: random.Random, hub_radius_km: float) -> dict[str, Any]:
    policy: dict[str, Any] = {}
    if hub_radius_km:
        policy["hub_radius_km"] = hub_radius_km
    if knobs.policy == "strict":
        policy |= {
            "max_pickup_stops": 1,
            "max_dropoff_stops": 1,
            "min_load": rng.choice((5, 30)),
            "max_trip_km": 800.0,
        }
    elif knobs.policy == "loose":
        policy |= {
            "max_pickup_stops": 5,
            "max_dropoff_stops": 5,
            "detour_ratio": 2.0,
            "drop_radius_km": 30.0,
            "fresh_crew_at_origin": True,
        }
    return policy


def make_season(knobs: Knobs) -> _Season:
    """The tables and scenario.toml lines of the season `knobs` describe."""
    rng = random.Random(f"strangers:{knobs.seed}")
    origin = _origin(rng)
    festival, first, last = _season_dates(knobs, rng)
    origins = [origin]
    if knobs.origins == "region":
        siblings = _placed(
            [c for c in load_gazetteer() if c.prefecture_adcode == origin.prefecture_adcode]
        )
        others = [c for c in sorted(siblings, key=lambda c: c.adcode) if c != origin]
        origins = [origin, *others[:3]]
    season = _Season(knobs, rng, origin, first, last, {}, [])
    count = _worker_count(knobs, rng)
    homes = _homes(knobs, rng, origin, count)
    count = len(homes)
    companies = _companies(knobs, rng, origins, count)
    workers: list[dict[str, str]] = []
    party_left = 0
    party_id = ""
    window = ("", "")
    company = companies[0]["company_id"]
    home = homes[0]
    for index in range(count):
        if party_left > 0:
            party_left -= 1
        else:
            home = homes[index]
            company = (
                companies[index]["company_id"]
                if knobs.companies == "singletons"
                else rng.choice(companies)["company_id"]
            )
            window = _window(knobs, rng, first, last)
            party_id = ""
            if knobs.parties == "families" and rng.random() < 0.2:
                party_left, party_id = rng.randint(1, 3), f"F{index}"
            elif knobs.parties == "too_large" and index == 0:
                # One party larger than small coaches (8 people) or than any (61), never more
                # than a third of the season.
                party_left = min(count // 3, rng.choice((7, 60)))
                party_id = "BIG"
        seats = rng.choice(("", "1")) if knobs.excel == "yes" else ""
        if rng.random() < 0.01:
            seats = "2"
        workers.append(
            {
                "worker_id": f"W{index:05d}",
                "company_id": company,
                "name": rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2))),
                "id_number": _id_number(rng, home, index),
                "phone": f"1{rng.choice('3456789')}{rng.randint(0, 10**9 - 1):09d}",
                "home": _home_text(knobs.home_text, home, rng),
                "earliest": window[0],
                "latest": window[1],
                "party": party_id,
                "seats": seats,
            }
        )
    hubs, radius = _hubs(knobs, rng, origin)
    seats_needed = count + 5
    season.files = {
        "companies.csv": companies,
        "workers.csv": workers,
        "fleet.csv": _fleet(knobs, rng, season, seats_needed),
    }
    if hubs:
        season.files["hubs.csv"] = hubs
    # The origin as a code, a full name or a name (which may be ambiguous: a refusal then).
    origin_text = rng.choice((origin.adcode,) * 2 + (origin.full_name,) * 2 + (origin.name,))
    lines = [
        f"# python -m benchmarks.strangers make --seed {knobs.seed}",
        f"# knobs: {json.dumps(dataclasses.asdict(knobs), ensure_ascii=False)}",
        f'name = "stranger-{knobs.seed}"',
        f'direction = "{knobs.direction}"',
    ]
    if knobs.origins == "region":
        lines.append(f"region = {json.dumps([c.adcode for c in origins])}")
        lines.append(f'origin = "{origin.adcode}"')
    else:
        lines.append(f'origin = "{origin_text}"')
    lines += [
        f'festival_date = "{festival}"',
        f"first_departure = {first}" if rng.random() < 0.5 else f'first_departure = "{first}"',
        f'last_departure = "{last}"',
    ]
    policy = _policy(knobs, rng, radius)
    if policy:
        lines.append("\n[policy]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in policy.items()]
    season.toml = lines
    return season


def write_season(season: _Season, folder: Path) -> Path:
    """Write the season's folder; with the `excel` knob as Excel saves a CSV (byte-order mark,
    CRLF) with its columns in another order and a column the contract does not know."""
    folder.mkdir(parents=True, exist_ok=True)
    excel = season.knobs.excel == "yes"
    for name, rows in season.files.items():
        columns = list(dict.fromkeys(key for row in rows for key in row))
        if excel:
            season.rng.shuffle(columns)
            columns.append("备注")
        buffer = io.StringIO()
        writer = csv.DictWriter(
            buffer, columns, restval="", lineterminator="\r\n" if excel else "\n"
        )
        writer.writeheader()
        writer.writerows(rows)
        encoding = "utf-8-sig" if excel else "utf-8"
        (folder / name).write_text(buffer.getvalue(), encoding=encoding, newline="")
    (folder / "scenario.toml").write_text("\n".join(season.toml) + "\n", encoding="utf-8")
    return folder


def make(seed: int, folder: Path, fixed: dict[str, str] | None = None) -> Knobs:
    """Write stranger season `seed` into `folder`; its knobs."""
    knobs = draw_knobs(seed, fixed)
    write_season(make_season(knobs), folder)
    return knobs


# ------------------------------------------------------------------------------------------
# Checking one season


def _csv_worker_ids(folder: Path) -> set[str]:
    with (folder / "workers.csv").open(encoding="utf-8-sig", newline="") as handle:
        return {
            (row.get("worker_id") or "").strip()
            for row in csv.DictReader(handle)
            if (row.get("worker_id") or "").strip()
        }


_ENGLISH_RUN = re.compile(r"[A-Za-z]{2,}(?:[ ,;:'()-]+[A-Za-z]{2,}){3,}")


def english_left(text: str) -> bool:
    """Whether a text shown in Chinese still carries a run of four English words or more."""
    return _ENGLISH_RUN.search(text) is not None


def invariants(folder: Path, scenario: Any, plan: Any) -> list[str]:
    """The plan's own promises beyond the checker's rules: every row of workers.csv seated or
    unserved, the KPIs consistent, every message a clerk sees translated."""
    from api.i18n import translate_plan_notes, translate_reason, translate_unserved_detail

    found: list[str] = []
    kpis = plan.kpis
    seated = {p.worker_id for t in plan.trips for p in t.passengers}
    unserved = {u.worker_id for u in plan.unserved}
    lost = _csv_worker_ids(folder) - seated - unserved
    if lost:
        found.append(f"lost workers (neither seated nor unserved): {sorted(lost)[:5]}")
    if kpis.seated + kpis.unserved != kpis.workers:
        found.append(f"kpis: seated {kpis.seated} + unserved {kpis.unserved} != {kpis.workers}")
    bound = getattr(kpis, "fleet_servable_bound", None)
    if bound is not None and bound < kpis.seated:
        found.append(f"kpis: fleet_servable_bound {bound} < seated {kpis.seated}")
    if kpis.unserved == 0 and kpis.lower_bound_trips > kpis.trips:
        found.append(f"kpis: lower_bound_trips {kpis.lower_bound_trips} > trips {kpis.trips}")
    for entry in plan.unserved:
        if not entry.reason:
            found.append(f"unserved {entry.worker_id} without a reason")
    shown = [translate_reason("zh_CN", p.reason) for p in scenario.problems]
    shown += [translate_unserved_detail("zh_CN", u.detail) for u in plan.unserved if u.detail]
    shown += translate_plan_notes("zh_CN", list(plan.notes))
    english = sorted({text for text in shown if english_left(text)})
    found += [f"English in a Chinese message: {text[:160]}" for text in english[:5]]
    return found


def check(folder: Path, time_limit_s: float | None = None) -> dict[str, Any]:
    """Read, plan, check and write season `folder`; the findings (empty lists: none)."""
    from optimizer.errors import InvalidInput
    from optimizer.read import read_scenario
    from optimizer.season import solve_within_fleet, with_duties
    from optimizer.solve import default_distance_provider
    from optimizer.write import read_plan, write_plan
    from tests.checker import check_plan

    result: dict[str, Any] = {"folder": str(folder)}
    started = time.perf_counter()
    try:
        scenario = read_scenario(folder)
    except InvalidInput as error:
        # A refusal is an answer, not a crash; it must name what is wrong.
        result["refused"] = str(error)
        return result
    if time_limit_s is not None:
        scenario = scenario.replace(
            solver=dataclasses.replace(scenario.solver, time_limit_s=time_limit_s)
        )
    provider = default_distance_provider()
    plan, duties = solve_within_fleet(scenario, distances=provider)
    plan = with_duties(plan, duties)
    result["plan_s"] = round(time.perf_counter() - started, 1)
    result |= {
        "workers": plan.kpis.workers,
        "seated": plan.kpis.seated,
        "unserved": plan.kpis.unserved,
        "trips": plan.kpis.trips,
        "reasons": sorted({str(u.reason) for u in plan.unserved}),
    }
    result["servable_bound"] = plan.kpis.fleet_servable_bound
    # Not broken rules, but worth a look: nobody seated where the bound says some could be,
    # or a plan far over its time budget.
    suspects = []
    if plan.kpis.seated == 0 and (plan.kpis.fleet_servable_bound or 0) > 0:
        suspects.append(f"nobody seated, servable bound {plan.kpis.fleet_servable_bound}")
    budget = scenario.solver.time_limit_s
    if result["plan_s"] > 3 * budget + 60:
        suspects.append(f"planning took {result['plan_s']} s on a {budget:.0f} s budget")
    result["suspects"] = suspects
    result["checker"] = check_plan(scenario, plan, provider=provider)[:10]
    result["invariants"] = invariants(folder, scenario, plan)
    with tempfile.TemporaryDirectory() as out:
        write_plan(plan, scenario, out, scenario_dir=folder)
        text = Path(out, "plan.json").read_text(encoding="utf-8")

        def refuse(constant: str) -> None:
            raise ValueError(f"plan.json holds {constant}, which is not JSON")

        try:
            json.loads(text, parse_constant=refuse)
            back = read_plan(out)
            if len(back.trips) != len(plan.trips) or len(back.unserved) != len(plan.unserved):
                result["invariants"].append("plan.json read back differs in trips or unserved")
        except ValueError as error:
            result["invariants"].append(str(error))
    return result


def _run_child(folder: Path, time_limit_s: float, timeout_s: float) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.strangers", "check", str(folder)]
    command += ["--time-limit", str(time_limit_s)]
    root = Path(__file__).resolve().parents[1]
    environment = os.environ | {"PYTHONPATH": str(root)}
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
            cwd=root,
            env=environment,
        )
    except subprocess.TimeoutExpired:
        return {"folder": str(folder), "crash": f"no answer within {timeout_s:.0f} s"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        return {"folder": str(folder), "crash": done.stderr.strip()[-1500:]}
    parsed: dict[str, Any] = json.loads(lines[-1])
    return parsed


def findings(result: dict[str, Any]) -> list[str]:
    """What is wrong in one season's check result."""
    found = []
    if "crash" in result:
        found.append("crash: " + result["crash"].splitlines()[-1] if result["crash"] else "crash")
    found += [f"checker: {e}" for e in result.get("checker", [])]
    found += list(result.get("invariants", []))
    return found


def _seeds(text: str) -> list[int]:
    seeds: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        seeds += list(range(int(low), int(high or low) + 1))
    return seeds


def sweep(
    seeds: Sequence[int], time_limit_s: float, workdir: Path, fixed: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Make, plan and check each seed's season in a child process; the results in order."""
    results = []
    for seed in seeds:
        folder = workdir / f"stranger-{seed}"
        knobs = make(seed, folder, fixed)
        started = time.perf_counter()
        result = _run_child(folder, time_limit_s, timeout_s=30 * time_limit_s + 300)
        result |= {"seed": seed, "knobs": dataclasses.asdict(knobs)}
        result["wall_s"] = round(time.perf_counter() - started, 1)
        result["findings"] = findings(result)
        status = "REFUSED" if "refused" in result else "FOUND" if result["findings"] else "ok"
        print(
            f"seed {seed:3d} {status:7s} {result['wall_s']:6.1f} s "
            f"seated {result.get('seated', '-')}/{result.get('workers', '-')} "
            f"{' '.join(f'{k}={v}' for k, v in result['knobs'].items() if k != 'seed')}",
            flush=True,
        )
        for line in result["findings"][:4] + result.get("suspects", []):
            print(f"    {line[:300]}", flush=True)
        if "refused" in result:
            print(f"    refused: {result['refused'][:300]}", flush=True)
        results.append(result)
    return results


def _fixed(values: Sequence[str]) -> dict[str, str]:
    return dict(value.split("=", 1) for value in values)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.strangers", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    maker = commands.add_parser("make", help="write one stranger season")
    maker.add_argument("--seed", type=int, required=True)
    maker.add_argument("--out", type=Path, required=True)
    maker.add_argument("--knob", action="append", default=[], help="name=value, e.g. homes=far")
    checker = commands.add_parser("check", help="plan and check one folder (one JSON line)")
    checker.add_argument("folder", type=Path)
    checker.add_argument("--time-limit", type=float, default=None)
    sweeper = commands.add_parser("sweep", help="make, plan and check many seeds")
    sweeper.add_argument("--seeds", default="0-19", help="e.g. 0-39 or 3,5,8-10")
    sweeper.add_argument("--time-limit", type=float, default=10.0)
    sweeper.add_argument("--workdir", type=Path, default=None)
    sweeper.add_argument("--knob", action="append", default=[])
    sweeper.add_argument("--out", type=Path, default=None, help="results as JSON")
    args = parser.parse_args(argv)
    if args.command == "make":
        knobs = make(args.seed, args.out, _fixed(args.knob))
        print(json.dumps(dataclasses.asdict(knobs), ensure_ascii=False))
    elif args.command == "check":
        try:
            result = check(args.folder, args.time_limit)
        except Exception:  # a crash is the finding: print it for the sweep
            traceback.print_exc()
            raise SystemExit(1) from None
        print(json.dumps(result, ensure_ascii=False, default=str))
    else:
        workdir = args.workdir or Path(tempfile.mkdtemp(prefix="strangers-"))
        results = sweep(_seeds(args.seeds), args.time_limit, workdir, _fixed(args.knob))
        found = [r for r in results if r["findings"]]
        refused = [r for r in results if "refused" in r]
        print(
            f"{len(results)} seasons: {len(found)} with findings, {len(refused)} refused; "
            f"folders in {workdir}"
        )
        if args.out:
            args.out.write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str))


if __name__ == "__main__":
    main()
