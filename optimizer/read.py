"""Reading a scenario folder: scenario.toml, companies.csv, workers.csv, fleet.csv, hubs.csv.

A folder that cannot be planned (no scenario.toml, a bad key, a missing table) raises
`InvalidInput` with a message naming the file. Bad rows do not raise: they become
`Scenario.problems` and the workers concerned are reported unserved, while planning goes on.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.errors import InvalidInput
from optimizer.geography.resolve import resolve_many
from optimizer.intake import (
    Resolution,
    parse_companies,
    parse_date,
    parse_fleet,
    parse_hubs,
    parse_workers,
)
from optimizer.model import Hub, InputProblem, Policy, Scenario, SolverParams, SubsidyRule
from optimizer.origins import with_operator_depots
from optimizer.region import expand_region, origin_county

SCENARIO_FILE = "scenario.toml"
REQUIRED_KEYS = (
    "name",
    "direction",
    "festival_date",
    "first_departure",
    "last_departure",
)
OPTIONAL_TABLES = ("policy", "solver", "subsidy")


def read_table(path: Path) -> pd.DataFrame:
    """A CSV table with every column as text (no guessing of dtypes, blanks stay empty strings)."""
    try:
        return pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding="utf-8-sig", skipinitialspace=True
        )
    except FileNotFoundError:
        raise InvalidInput(
            f"{path.name} is missing from the scenario folder {path.parent}"
        ) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise InvalidInput(f"{path.name} is not a readable UTF-8 CSV table: {error}") from None


def _toml_date(settings: Mapping[str, Any], key: str) -> dt.date:
    value = settings[key]
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return parse_date(str(value))
    except ValueError:
        raise InvalidInput(
            f"{SCENARIO_FILE}: {key} = {value!r} is not a date (YYYY-MM-DD)"
        ) from None


def read_settings(path: Path) -> dict[str, Any]:
    """The parsed scenario.toml, checked for the required keys."""
    try:
        with path.open("rb") as handle:
            settings = tomllib.load(handle)
    except FileNotFoundError:
        raise InvalidInput(
            f"{SCENARIO_FILE} is missing from the scenario folder {path.parent}"
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise InvalidInput(f"{SCENARIO_FILE} is not valid TOML: {error}") from None
    missing = [key for key in REQUIRED_KEYS if key not in settings]
    if "origin" not in settings and "region" not in settings:
        missing.append("origin (or region)")
    if missing:
        raise InvalidInput(f"{SCENARIO_FILE} lacks required key(s): {', '.join(missing)}")
    known = set(REQUIRED_KEYS) | set(OPTIONAL_TABLES) | {"description", "origin", "region"}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise InvalidInput(
            f"{SCENARIO_FILE} has unknown key(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known))}"
        )
    for table in OPTIONAL_TABLES:
        if table in settings and not isinstance(settings[table], dict):
            raise InvalidInput(f"{SCENARIO_FILE}: [{table}] must be a table")
    return settings


def read_origins(settings: Mapping[str, Any]) -> tuple[str, ...]:
    """The season's origin counties, main origin first: `region` (a prefecture, a province, or
    a list of counties, by name or code) expanded, with `origin` (if given) first."""
    region = settings.get("region")
    origin = str(settings["origin"]).strip() if "origin" in settings else ""
    if region is None:
        # Written as a name ("慈溪", "浙江省宁波市慈溪市") or a code, read as the county's code:
        # the planner looks the origin up by code.
        try:
            return (origin_county(origin),)
        except InvalidInput as error:
            raise InvalidInput(f"{SCENARIO_FILE}: {error}") from None
    if not isinstance(region, str | list) or (
        isinstance(region, list) and not all(isinstance(r, str | int) for r in region)
    ):
        raise InvalidInput(f"{SCENARIO_FILE}: region must be a name or a list of names")
    try:
        counties = expand_region(region if isinstance(region, str) else [str(r) for r in region])
        main = expand_region(origin) if origin else counties[:1]
    except InvalidInput as error:
        raise InvalidInput(f"{SCENARIO_FILE}: {error}") from None
    if len(main) != 1 or main[0] not in counties:
        raise InvalidInput(f"{SCENARIO_FILE}: origin {origin!r} is not one county of the region")
    return tuple(dict.fromkeys((main[0], *counties)))


def resolve_homes(texts: Sequence[str]) -> dict[str, Resolution]:
    """The resolver's answer for each distinct home text (free text or adcode)."""
    distinct = sorted({text for text in texts if text})
    return dict(zip(distinct, resolve_many(distinct), strict=True))


def read_scenario(folder: str | Path) -> Scenario:
    """The scenario stored in `folder` (see docs/plan-format.md and the upload template).

    Raises InvalidInput when the folder cannot be planned at all; bad rows go to
    `Scenario.problems` instead.
    """
    root = Path(folder)
    if not root.is_dir():
        raise InvalidInput(f"scenario folder {root} does not exist")
    settings = read_settings(root / SCENARIO_FILE)
    try:
        policy = Policy.from_mapping(settings.get("policy", {}))
        solver = SolverParams.from_mapping(settings.get("solver", {}))
        subsidy = SubsidyRule.from_mapping(settings.get("subsidy", {}))
    except TypeError as error:
        raise InvalidInput(f"{SCENARIO_FILE}: {error}") from None
    first = _toml_date(settings, "first_departure")
    last = _toml_date(settings, "last_departure")
    # Refused here, naming the file, rather than by the Scenario's own check in English only.
    if settings["direction"] not in ("home", "return"):
        raise InvalidInput(
            f"{SCENARIO_FILE}: direction = {settings['direction']!r} must be home or return"
        )
    if first > last:
        raise InvalidInput(
            f"{SCENARIO_FILE}: first_departure {first.isoformat()} is after last_departure "
            f"{last.isoformat()}"
        )

    origins = read_origins(settings)
    # A one-origin folder keeps its companies' county blank (the origin) unless it names one.
    region = origins if "region" in settings else ()
    companies, problems = parse_companies(read_table(root / "companies.csv"), region)
    fleet, fleet_problems = parse_fleet(read_table(root / "fleet.csv"))
    if region:
        fleet = list(with_operator_depots(fleet))
    hubs: list[Hub] = []
    hub_problems: list[InputProblem] = []
    if (root / "hubs.csv").exists():
        hubs, hub_problems = parse_hubs(read_table(root / "hubs.csv"), region)
    worker_table = read_table(root / "workers.csv")
    homes = worker_table["home"].astype(str).str.strip().tolist() if "home" in worker_table else []
    workers, worker_problems = parse_workers(
        worker_table,
        first_departure=first,
        last_departure=last,
        company_ids={c.company_id for c in companies},
        resolutions=resolve_homes(homes),
    )
    return Scenario(
        name=str(settings["name"]),
        direction=settings["direction"],
        origin=origins[0],
        origins=origins,
        festival_date=_toml_date(settings, "festival_date"),
        first_departure=first,
        last_departure=last,
        companies=tuple(companies),
        workers=tuple(workers),
        fleet=tuple(fleet),
        hubs=tuple(hubs),
        policy=policy,
        solver=solver,
        subsidy=subsidy,
        problems=tuple(problems + fleet_problems + hub_problems + worker_problems),
    )
