"""The demo season behind `chunyun serve --demo`: a bundled scenario plus a few accounts."""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sqlalchemy.orm import Session

from api import convert, crud, models, schemas
from optimizer import model as domain

# Bundled scenarios tried in order: the smallest that exists is planned in seconds.
DEMO_SCENARIOS = ("tiny", "small")
EMPLOYER_ACCOUNTS = 3


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str
    company_id: str | None


def demo_scenario_dir() -> Path:
    """The folder of the bundled demo scenario (scenarios/tiny, else scenarios/small)."""
    root = Path(str(resources.files("scenarios")))
    for name in DEMO_SCENARIOS:
        if (root / name / "scenario.toml").is_file():
            return root / name
    raise FileNotFoundError(f"no bundled demo scenario ({', '.join(DEMO_SCENARIOS)}) in {root}")


def store_scenario(
    session: Session, *, scenario: domain.Scenario, max_time_limit_s: float | None = None
) -> tuple[models.Season, list[domain.Worker]]:
    """Store `scenario` as an open season (`chunyun season import`, the demo): its region,
    policy and solver (the time limit capped at `max_time_limit_s`), companies, fleet, hubs and
    valid workers; rows with problems are left out, as a registration desk would refuse them.
    Returns the season and the workers stored."""
    time_limit_s = scenario.solver.time_limit_s
    if max_time_limit_s is not None:
        time_limit_s = min(time_limit_s, max_time_limit_s)
    season = crud.create_season(
        session,
        season_in=schemas.SeasonCreate(
            name=scenario.name,
            direction=scenario.direction,
            origin=scenario.origin,
            region=list(scenario.origins) if len(scenario.origins) > 1 else None,
            festival_date=scenario.festival_date,
            first_departure=scenario.first_departure,
            last_departure=scenario.last_departure,
            policy={
                f.name: getattr(scenario.policy, f.name)
                for f in dataclasses.fields(scenario.policy)
                if getattr(scenario.policy, f.name) != f.default
            },
            solver={
                **{
                    f.name: getattr(scenario.solver, f.name)
                    for f in dataclasses.fields(scenario.solver)
                    if getattr(scenario.solver, f.name) != f.default
                },
                "time_limit_s": time_limit_s,
            },
        ),
    )
    crud.upsert_companies(
        session,
        season=season,
        companies_in=[
            schemas.CompanyCreate(
                company_id=c.company_id,
                name=c.name,
                lon=c.lon,
                lat=c.lat,
                no_hub=c.no_hub,
                town=c.town,
                address=c.address,
                county=c.county,
            )
            for c in scenario.companies
        ],
    )
    crud.upsert_vehicle_types(
        session,
        season=season,
        fleet_in=[
            schemas.VehicleTypeCreate(
                vehicle_type=v.vehicle_type,
                seats=v.seats,
                count=v.count,
                cost_per_km=v.cost_per_km,
                fixed_cost=v.fixed_cost,
                operator=v.operator,
                depot_lon=v.depot_lon,
                depot_lat=v.depot_lat,
                available_from=v.available_from,
                available_to=v.available_to,
                registered=v.registered,
            )
            for v in scenario.fleet
        ],
    )
    crud.upsert_hubs(
        session,
        season=season,
        hubs_in=[
            schemas.HubCreate(hub_id=h.hub_id, name=h.name, lon=h.lon, lat=h.lat, county=h.county)
            for h in scenario.hubs
        ],
    )
    bad = {p.worker_id for p in scenario.problems if p.worker_id}
    good = [w for w in scenario.workers if w.worker_id not in bad and w.home_adcode]
    crud.upsert_workers(session, season=season, workers=good)
    return season, good


def load_scenario(
    session: Session,
    *,
    scenario: domain.Scenario,
    employers: int = EMPLOYER_ACCOUNTS,
    dispatcher: str = "dispatcher",
) -> list[DemoAccount]:
    """Store `scenario` as an open season (`store_scenario`, time limit at most 30 s) with a
    dispatcher and `employers` employer accounts. Returns the accounts with their fresh
    passwords."""
    _season, good = store_scenario(session, scenario=scenario, max_time_limit_s=30.0)
    accounts = [DemoAccount(dispatcher, secrets.token_urlsafe(9), "dispatcher", None)]
    busiest = sorted(
        {w.company_id for w in good}, key=lambda c: -sum(w.company_id == c for w in good)
    )
    for company_id in busiest[:employers]:
        accounts.append(
            DemoAccount(f"employer-{company_id}", secrets.token_urlsafe(9), "employer", company_id)
        )
    for account in accounts:
        crud.create_user(
            session,
            user_in=schemas.UserCreate(
                username=account.username,
                password=account.password,
                role=account.role,  # type: ignore[arg-type]
                company_id=account.company_id,
            ),
        )
    return accounts


def season_scenario(session: Session, *, name: str) -> domain.Scenario:
    """The season called `name` as a scenario (its region, companies and hubs with their
    counties, fleet, policy and solver, every registered worker under the employer's own
    worker_id): what `export_season` writes."""
    season = crud.resolve_season(session, name=name)
    scenario = convert.season_to_scenario(
        season,
        companies=crud.list_companies(session, season=season),
        fleet=crud.list_vehicle_types(session, season=season),
        workers=crud.list_workers(session, season=season),
        hubs=crud.list_hubs(session, season=season),
    )
    workers = tuple(
        dataclasses.replace(w, worker_id=w.staff_number or w.worker_id) for w in scenario.workers
    )
    return dataclasses.replace(scenario, workers=workers)


def export_season(session: Session, *, name: str, folder: Path) -> Path:
    """Write the season called `name` as a scenario folder (docs/scenarios.md): the inverse of
    `load_scenario`, so a folder imported and exported means the same (region, counties, fleet,
    workers). Returns the folder."""
    from scenarios.generate import GeneratedSeason, write_scenario

    scenario = season_scenario(session, name=name)
    out = write_scenario(GeneratedSeason(scenario, seed=0, profile="exported"), folder)
    toml = out / "scenario.toml"
    lines = toml.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[0] = f"# Exported from the chunyun service: season {scenario.name}\n"
    toml.write_text("".join(lines), encoding="utf-8")
    return out
