"""Generated seasons and bundled scenario folders: format, valid identities, parties,
determinism, and the calibration of cixi-2019 against Cixi's real 2019 figures."""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from api.cli import app
from optimizer.baseline import hand_planning_trips, plain_county_date_trips
from optimizer.bounds import SeatedDemand, lower_bounds
from optimizer.errors import InvalidInput
from optimizer.geography.gazetteer import load_gazetteer
from optimizer.identity import id_number_problem, phone_problem
from optimizer.model import Scenario
from optimizer.read import read_scenario
from scenarios import BUNDLED, bundled_path
from scenarios.generate import (
    BUNDLED_SPECS,
    PROVINCE_SHARES,
    GeneratedSeason,
    generate_bundled,
    generate_season,
    write_scenario,
)

# The command line's texts are read in English (its default is Chinese).
pytestmark = pytest.mark.usefixtures("english_cli")

# Cixi's hand-made 2019 season (DOMAIN.md); how close the bundled season's plain plan must be.
CIXI_2019_TRIPS = 612
CIXI_2019_PEOPLE = 20_710
CIXI_2019_PER_COACH = CIXI_2019_PEOPLE / CIXI_2019_TRIPS
TRIPS_TOLERANCE = 0.08  # relative
PER_COACH_TOLERANCE = 2.5  # people per coach

COLUMNS = {
    "workers.csv": [
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
    ],
    "companies.csv": ["company_id", "name", "lon", "lat", "town", "no_hub"],
    "fleet.csv": [
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
    ],
    "hubs.csv": ["hub_id", "name", "lon", "lat"],
}


def table(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def cixi() -> Scenario:
    """The bundled cixi-2019 folder as the planner reads it (free-text homes resolved)."""
    return read_scenario(bundled_path("cixi-2019"))


@pytest.fixture(scope="module")
def small_season() -> GeneratedSeason:
    return generate_bundled("small")


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_folder_has_the_documented_columns_and_types(name: str) -> None:
    """Every bundled folder has exactly the columns of docs/scenarios.md, with parseable values."""
    folder = bundled_path(name)
    settings = tomllib.loads((folder / "scenario.toml").read_text(encoding="utf-8"))
    assert settings["name"] == name
    assert settings["direction"] in ("home", "return")
    assert settings["origin"] == "330282"
    first = dt.date.fromisoformat(settings["first_departure"])
    last = dt.date.fromisoformat(settings["last_departure"])
    festival = dt.date.fromisoformat(settings["festival_date"])
    assert first <= last < festival
    for file, columns in COLUMNS.items():
        if file == "hubs.csv" and not (folder / file).exists():
            continue
        assert list(table(folder, file).columns) == columns, file
    workers = table(folder, "workers.csv")
    assert workers["worker_id"].is_unique
    assert workers["seats"].astype(int).between(1, 2).all()
    assert (workers["home"] != "").all()
    companies = table(folder, "companies.csv")
    assert companies["company_id"].is_unique
    # Gates in Cixi (WGS-84): between Hangzhou Bay and the hills, 121.0-121.7 E, 30.0-30.4 N.
    assert companies["lon"].astype(float).between(121.0, 121.7).all()
    assert companies["lat"].astype(float).between(30.0, 30.4).all()
    assert set(companies["no_hub"]) <= {"0", "1"}
    fleet = table(folder, "fleet.csv")
    assert sorted(fleet["seats"].astype(int)) == [35, 45, 53]
    assert (fleet["count"].astype(int) > 0).all()
    assert settings.get("policy", {}).get("hub_radius_km", 0) == (
        12.0 if (folder / "hubs.csv").exists() else 0
    )


@pytest.mark.parametrize("name", ["tiny", "dispersed-stress"])
def test_clean_bundled_folders_read_without_problems(name: str) -> None:
    """Clean folders: every row valid, every home resolved to the county of the ID number."""
    scenario = read_scenario(bundled_path(name))
    assert scenario.problems == ()
    assert all(w.home_adcode == w.id_number[:6] for w in scenario.workers)


def test_cixi_2019_is_clean_and_homes_resolve_to_the_id_region(cixi: Scenario) -> None:
    """cixi-2019 has no bad rows; each free-text home resolves to the ID number's county."""
    assert cixi.problems == ()
    assert len(cixi.workers) == CIXI_2019_PEOPLE
    assert all(w.home_adcode == w.id_number[:6] for w in cixi.workers)


def test_identities_are_valid_and_unique(cixi: Scenario) -> None:
    """ID numbers pass GB 11643 with a plausible age; phones are mainland mobiles; IDs unique."""
    festival = cixi.festival_date
    assert len({w.id_number for w in cixi.workers}) == len(cixi.workers)
    for worker in cixi.workers:
        assert id_number_problem(worker.id_number) is None, worker
        assert phone_problem(worker.phone) is None, worker
        born = dt.date(
            int(worker.id_number[6:10]), int(worker.id_number[10:12]), int(worker.id_number[12:14])
        )
        assert 0 < (festival - born).days / 365.25 < 61
    # Adults have their own phone; children travel on a parent's.
    phone_users = Counter(w.phone for w in cixi.workers)
    assert max(phone_users.values()) <= 4


def test_home_texts_mix_the_forms_employers_type(cixi: Scenario) -> None:
    """Homes are written in full, short, with a town after the county, and as adcodes."""
    homes = [w.home for w in cixi.workers]
    adcodes = sum(h.isdigit() for h in homes)
    full = sum(h.endswith(("县", "市", "区", "旗")) and "省" in h for h in homes)
    with_town = sum(h.endswith(("镇", "乡")) for h in homes)
    short = sum(not h.isdigit() and "省" not in h and "自治区" not in h for h in homes)
    for count in (adcodes, full, with_town, short):
        assert count > len(homes) * 0.05


def test_parties_share_company_home_and_window(cixi: Scenario) -> None:
    """Family parties of 2-4 people have one company, one home county and one window."""
    parties: dict[str, list] = defaultdict(list)
    for worker in cixi.workers:
        if worker.party:
            parties[worker.party].append(worker)
    assert len(parties) > 100
    for members in parties.values():
        assert 2 <= len(members) <= 4
        assert len({(w.company_id, w.home_adcode, w.earliest, w.latest) for w in members}) == 1
    # Some party members are children (born less than 18 years before the festival).
    children = [w for members in parties.values() for w in members if int(w.id_number[6:10]) > 2001]
    assert children


def test_generation_is_deterministic_per_seed(tmp_path: Path) -> None:
    """The same seed writes byte-identical folders; another seed writes another season."""
    first = write_scenario(generate_season("demo", 300, 5), tmp_path / "a")
    second = write_scenario(generate_season("demo", 300, 5), tmp_path / "b")
    other = write_scenario(generate_season("demo", 300, 6), tmp_path / "c")
    for file in ("scenario.toml", "companies.csv", "workers.csv", "fleet.csv", "hubs.csv"):
        assert (first / file).read_bytes() == (second / file).read_bytes(), file
    assert (first / "workers.csv").read_bytes() != (other / "workers.csv").read_bytes()


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_folders_are_reproduced_by_their_recipe(name: str, tmp_path: Path) -> None:
    """`chunyun generate NAME` rebuilds the shipped folder exactly (so the calibration holds)."""
    written = write_scenario(generate_bundled(name), tmp_path / name)
    shipped = bundled_path(name)
    assert sorted(p.name for p in shipped.iterdir()) == sorted(p.name for p in written.iterdir())
    for path in shipped.iterdir():
        assert path.read_bytes() == (written / path.name).read_bytes(), path.name


def test_small_lists_its_deliberate_bad_rows(small_season: GeneratedSeason) -> None:
    """small's bad rows are the documented ones, and the reader reports exactly those rows."""
    kinds = {bad.kind for bad in small_season.bad_rows}
    assert kinds == {
        "id_check_digit",
        "phone_short",
        "unknown_home",
        "ambiguous_home",
        "window_reversed",
        "unknown_company",
        "window_outside_season",
    }
    toml = (bundled_path("small") / "scenario.toml").read_text(encoding="utf-8")
    for bad in small_season.bad_rows:
        assert f"{bad.worker_id} {bad.column} ({bad.kind})" in toml
    scenario = read_scenario(bundled_path("small"))
    reported = {p.worker_id: p.column for p in scenario.problems}
    expected = {
        bad.worker_id: bad.column
        for bad in small_season.bad_rows
        if bad.expected_reason != "no_date_in_window"
    }
    assert reported == expected
    outside = next(b for b in small_season.bad_rows if b.kind == "window_outside_season")
    worker = next(w for w in scenario.workers if w.worker_id == outside.worker_id)
    assert worker.earliest > scenario.last_departure


def test_cixi_2019_plain_plan_lands_near_the_real_2019_season(cixi: Scenario) -> None:
    """One coach group per county and date: ~612 trips, ~34 people per coach, as in 2019."""
    plain = plain_county_date_trips(cixi)
    assert plain.people == CIXI_2019_PEOPLE
    assert abs(plain.trips - CIXI_2019_TRIPS) <= TRIPS_TOLERANCE * CIXI_2019_TRIPS, plain
    assert abs(plain.people_per_coach - CIXI_2019_PER_COACH) <= PER_COACH_TOLERANCE, plain
    # The seat bound ⌈seats / 53⌉ is about 391 coaches.
    assert abs(plain.seat_bound_trips - 391) <= 5
    # Each company alone would need far more coaches.
    assert hand_planning_trips(cixi).trips > 3 * plain.trips


def test_cixi_2019_demand_is_concentrated(cixi: Scenario) -> None:
    """About a hundred home counties, a few main days, provinces in the survey's order."""
    counties = Counter(w.home_adcode for w in cixi.workers)
    assert 80 <= len(counties) <= 130
    days = Counter(w.earliest for w in cixi.workers)
    main_days = sum(n for _, n in days.most_common(4))
    assert main_days >= 0.9 * len(cixi.workers)
    assert all(
        dt.timedelta(days=1) <= cixi.festival_date - d <= dt.timedelta(days=14) for d in days
    )
    gazetteer = load_gazetteer()
    provinces = Counter(gazetteer[w.home_adcode].province for w in cixi.workers)
    top3 = provinces["安徽省"] + provinces["四川省"] + provinces["江西省"]
    assert abs(top3 / len(cixi.workers) - 0.576) < 0.02
    assert provinces.most_common(1)[0][0] == "安徽省"
    for short, share in PROVINCE_SHARES:
        name = gazetteer.province(short).name
        assert abs(provinces[name] / len(cixi.workers) - share) <= 0.3 * share, name


@pytest.mark.parametrize("seed", [1])
def test_calibration_holds_for_other_seeds(seed: int) -> None:
    """The concentrated profile, not one lucky seed, lands near Cixi's 2019 figures."""
    season = generate_season("cixi-like", CIXI_2019_PEOPLE, seed)
    plain = plain_county_date_trips(season.scenario)
    assert abs(plain.trips - CIXI_2019_TRIPS) <= TRIPS_TOLERANCE * CIXI_2019_TRIPS
    assert abs(plain.people_per_coach - CIXI_2019_PER_COACH) <= PER_COACH_TOLERANCE


def _bounds(scenario: Scenario):
    demands = [
        SeatedDemand(w.seats, w.home_adcode, (w.earliest, w.latest), None, 0.0)
        for w in scenario.workers
        if w.home_adcode
    ]
    return lower_bounds(
        demands,
        largest_coach=53,
        county_stop_limit=scenario.policy.max_dropoff_stops,
        boarding_stop_limit=scenario.policy.max_pickup_stops,
        county_stops_fixed=True,
    )


def test_which_bound_governs(cixi: Scenario) -> None:
    """cixi-2019 is seat-bound (a few early stragglers add a coach or two by date intervals); in
    dispersed-stress the date-and-stop bound governs by far."""
    concentrated = _bounds(cixi)
    assert concentrated.seat_bound > 2 * concentrated.county_stop_bound
    assert concentrated.seat_bound <= concentrated.trips <= concentrated.seat_bound + 3
    dispersed = read_scenario(bundled_path("dispersed-stress"))
    assert len({w.home_adcode for w in dispersed.workers}) >= 300
    stress = _bounds(dispersed)
    assert stress.trips == stress.county_stop_bound > 4 * stress.seat_bound


def test_return_direction_puts_windows_after_the_festival() -> None:
    """The return wave (返岗) departs after the festival, within the season's dates."""
    season = generate_season("back", 200, 4, direction="return").scenario
    assert season.direction == "return"
    assert season.festival_date < season.first_departure
    for worker in season.workers:
        assert season.first_departure <= worker.earliest <= worker.latest <= season.last_departure


def test_tiny_is_tiny() -> None:
    """tiny: ~60 workers, 3-4 companies, 2-3 counties in one or two provinces, 2 dates."""
    scenario = generate_bundled("tiny").scenario
    assert len(scenario.workers) == 60
    assert 3 <= len(scenario.companies) <= 4
    counties = {w.home_adcode for w in scenario.workers}
    assert 2 <= len(counties) <= 3
    assert len({c[:2] for c in counties if c}) <= 2
    assert len({w.earliest for w in scenario.workers}) == 2


def test_invalid_requests_are_refused() -> None:
    """Bad generator arguments raise InvalidInput with a clear message."""
    with pytest.raises(InvalidInput, match="workers must be at least 1"):
        generate_season("x", 0, 1)
    with pytest.raises(InvalidInput, match="profile must be one of"):
        generate_season("x", 10, 1, profile="flat")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="no bundled scenario 'nope'"):
        generate_bundled("nope")
    with pytest.raises(InvalidInput, match="no bundled scenario 'nope'"):
        bundled_path("nope")
    assert set(BUNDLED) == set(BUNDLED_SPECS)


def test_cli_generate_writes_a_plannable_folder(tmp_path: Path) -> None:
    """`chunyun generate` writes a folder the planner reads, and refuses unknown recipes."""
    out = tmp_path / "demo"
    result = CliRunner().invoke(
        app, ["generate", "demo", "--workers", "120", "--seed", "9", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "plain county-and-date plan" in result.output
    scenario = read_scenario(out)
    assert len(scenario.workers) == 120
    assert scenario.problems == ()
    refused = CliRunner().invoke(app, ["generate", "demo", "--out", str(tmp_path / "x")])
    assert refused.exit_code != 0
    assert not (tmp_path / "x").exists()
    stress = CliRunner().invoke(
        app,
        [
            "generate",
            "s",
            "--workers",
            "150",
            "--seed",
            "1",
            "--profile",
            "dispersed",
            "--bad-rows",
            "3",
            "--out",
            str(tmp_path / "s"),
        ],
    )
    assert stress.exit_code == 0, stress.output
    assert math.isclose(len(read_scenario(tmp_path / "s").problems), 3, abs_tol=1)
