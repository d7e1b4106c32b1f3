"""Province (many-origin) seasons through the service: the region and the counties are stored,
checked and planned as the command line plans the same folder (issue 15)."""

from __future__ import annotations

import dataclasses
import functools
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from api import convert, crud
from api.demo import export_season, load_scenario
from api.jobs import optimizer_planner
from optimizer import model as domain
from optimizer.read import read_scenario
from scenarios.generate import generate_season, write_scenario
from tests.api.conftest import SEASON, Service

CIXI, YUYAO, BEILUN = "330282", "330281", "330206"


@functools.cache
def _folder(root: str) -> Path:
    season = generate_season("two-origins", 240, 5, origins=["慈溪", "余姚"], companies=8)
    return write_scenario(season, Path(root) / "two-origins")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _folder(str(tmp_path_factory.mktemp("region")))


def _deterministic(scenario: domain.Scenario) -> domain.Scenario:
    # A solution limit per routed part, not a clock: the same plan on any machine.
    solver = domain.SolverParams(time_limit_s=30.0, part_solution_limit=3)
    return dataclasses.replace(scenario, solver=solver)


def test_a_region_folder_round_trips_through_the_database(
    service: Service, folder: Path, tmp_path: Path
) -> None:
    """Import (the folder into a season) then export (the season as the planner's scenario):
    the same origins, main origin, companies' and hubs' counties, fleet and depots."""
    scenario = dataclasses.replace(read_scenario(folder), name="round-trip")
    assert len(scenario.origins) == 2
    with service.session() as session:
        load_scenario(session, scenario=scenario, employers=0, dispatcher="rt-dispatcher")
    with service.session() as session:
        season = crud.resolve_season(session, name="round-trip")
        back = convert.season_to_scenario(
            season,
            companies=crud.list_companies(session, season=season),
            fleet=crud.list_vehicle_types(session, season=season),
            workers=[],
            hubs=crud.list_hubs(session, season=season),
        )
    assert back.origin == scenario.origin and back.origins == scenario.origins
    assert {c.company_id: c.county for c in back.companies} == {
        c.company_id: c.county for c in scenario.companies
    }
    assert {h.hub_id: h.county for h in back.hubs} == {h.hub_id: h.county for h in scenario.hubs}
    assert sorted(back.fleet, key=lambda v: v.vehicle_type) == sorted(
        scenario.fleet, key=lambda v: v.vehicle_type
    )
    public = service.call("GET", "/api/seasons/round-trip", "dispatcher").json()
    assert public["region"] == list(scenario.origins)

    # Exported as a folder and read again: the same files' meaning.
    with service.session() as session:
        out = export_season(session, name="round-trip", folder=tmp_path / "exported")
    again = read_scenario(out)
    assert (again.origin, again.origins) == (scenario.origin, scenario.origins)
    assert again.companies == scenario.companies
    assert again.hubs == scenario.hubs
    assert sorted(again.fleet, key=lambda v: v.vehicle_type) == sorted(
        scenario.fleet, key=lambda v: v.vehicle_type
    )
    assert (again.policy, again.first_departure, again.last_departure) == (
        scenario.policy,
        scenario.first_departure,
        scenario.last_departure,
    )
    people = lambda s: sorted(  # noqa: E731
        (w.worker_id, w.id_number, w.home_adcode, w.earliest, w.latest, w.party, w.seats)
        for w in s.workers
    )
    assert people(again) == people(scenario)
    assert not again.problems


def test_a_season_opens_with_a_region_and_refuses_a_county_outside_it(service: Service) -> None:
    body = {**SEASON, "name": "ningbo-two", "origin": "", "region": ["慈溪", "余姚"]}
    opened = service.call("POST", "/api/seasons", "dispatcher", json=body)
    assert opened.status_code == 201, opened.text
    assert opened.json()["origin"] == CIXI and opened.json()["region"] == [CIXI, YUYAO]

    gates = [
        {"company_id": "A", "name": "甲", "lon": 121.24, "lat": 30.17, "county": "余姚"},
        {"company_id": "B", "name": "乙", "lon": 121.55, "lat": 29.89, "county": "北仑"},
    ]
    refused = service.call("POST", "/api/companies?season=ningbo-two", "dispatcher", json=gates)
    assert refused.status_code == 422, refused.text
    problem = refused.json()["problems"]
    assert problem == [
        {
            "row": 2,
            "column": "county",
            "value": "北仑",
            "reason": "is not one of the season's origin counties",
            "candidates": [],
        }
    ]
    listed = service.call("GET", "/api/companies?season=ningbo-two", "dispatcher").json()
    assert listed == []  # one bad row: nothing was written
    chinese = service.client.post(
        "/api/companies?season=ningbo-two",
        json=gates,
        headers={**service.headers("dispatcher"), "Accept-Language": "zh-CN"},
    )
    assert chinese.status_code == 422
    assert chinese.json()["problems"][0]["reason"] != problem[0]["reason"]

    gates[1]["county"] = ""  # blank: the origin county holding the gate (Cixi's seat)
    gates[1]["lon"], gates[1]["lat"] = 121.266, 30.170
    saved = service.call("POST", "/api/companies?season=ningbo-two", "dispatcher", json=gates)
    assert saved.status_code == 200, saved.text
    assert {c["company_id"]: c["county"] for c in saved.json()} == {"A": YUYAO, "B": CIXI}

    # The region may grow; it may not lose a county a company lies in.
    shrink = service.call(
        "PATCH", "/api/seasons/ningbo-two", "dispatcher", json={"region": ["慈溪"]}
    )
    assert shrink.status_code == 422, shrink.text
    grow = service.call(
        "PATCH", "/api/seasons/ningbo-two", "dispatcher", json={"region": ["慈溪", "余姚", "北仑"]}
    )
    assert grow.status_code == 200, grow.text
    assert grow.json()["region"] == [CIXI, YUYAO, BEILUN]


def test_an_unknown_region_or_origin_outside_it_is_refused(service: Service) -> None:
    unknown = {**SEASON, "name": "nowhere", "origin": "", "region": ["不存在县"]}
    answer = service.call("POST", "/api/seasons", "dispatcher", json=unknown)
    assert answer.status_code == 422 and "不存在县" in answer.json()["detail"]
    outside = {**SEASON, "name": "outside", "origin": "北仑", "region": ["慈溪", "余姚"]}
    answer = service.call("POST", "/api/seasons", "dispatcher", json=outside)
    assert answer.status_code == 422 and "not one county of the region" in answer.json()["detail"]
    nothing = {**SEASON, "name": "no-origin", "origin": ""}
    assert service.call("POST", "/api/seasons", "dispatcher", json=nothing).status_code == 422
    names = [s["name"] for s in service.call("GET", "/api/seasons", "dispatcher").json()]
    assert not {"nowhere", "outside", "no-origin"} & set(names)


def _shape(trips: list[domain.Trip], workers: dict[str, str]) -> Counter[Any]:
    """Trips as what they do, independent of worker keys: date, coach type, the stops (kind,
    company or hub or county) and the riders by their ID numbers."""
    return Counter(
        (
            t.departure_date,
            t.vehicle_type,
            tuple((s.kind, s.company_id, s.hub_id, s.adcode) for s in t.stops if s.kind != "rest"),
            tuple(sorted(workers[p.worker_id] for p in t.passengers)),
        )
        for t in trips
    )


def test_a_region_season_plans_through_the_job_as_the_command_line_does(
    service: Service, folder: Path
) -> None:
    scenario = _deterministic(dataclasses.replace(read_scenario(folder), name="job-vs-cli"))
    # The service lists companies, hubs and coach types by id; the planner breaks ties by input
    # order, so the command line plans the folder with its rows in that order.
    command_line = optimizer_planner(
        dataclasses.replace(
            scenario,
            companies=tuple(sorted(scenario.companies, key=lambda c: c.company_id)),
            hubs=tuple(sorted(scenario.hubs, key=lambda h: h.hub_id)),
            fleet=tuple(sorted(scenario.fleet, key=lambda v: v.vehicle_type)),
        ),
        locked=(),
        progress=None,
    )
    with service.session() as session:
        load_scenario(session, scenario=scenario, employers=0, dispatcher="job-dispatcher")
    service.planner = optimizer_planner
    job = service.run_plan("job-vs-cli")
    assert job["status"] == "succeeded", job["message"]
    assert job["kpis"]["origins"] == 2
    assert job["kpis"]["trips_by_origin"] == command_line.kpis.trips_by_origin
    assert job["kpis"]["cross_origin_trips"] == command_line.kpis.cross_origin_trips
    assert job["kpis"]["trips"] == command_line.kpis.trips
    with service.session() as session:
        stored = [t for t, _ in crud.plan_trips(session, plan_id=job["id"])]
        keys = {
            str(k): w.id_number
            for k, w in crud.workers_by_key(
                session, keys=[p.worker_id for t in stored for p in t.passengers]
            ).items()
        }
    by_number = {w.worker_id: w.id_number for w in scenario.workers}
    job_shape, cli_shape = _shape(stored, keys), _shape(list(command_line.trips), by_number)
    assert job_shape - cli_shape == Counter() and cli_shape - job_shape == Counter(), (
        list(job_shape - cli_shape)[:2],
        list(cli_shape - job_shape)[:2],
    )

    csv_text = service.call("GET", f"/api/plans/{job['id']}/trips.csv", "dispatcher").text
    header, *rows = csv_text.strip().splitlines()
    assert header.split(",")[-2:] == ["origin", "origin_name"]
    origins = Counter(row.split(",")[-2] for row in rows)
    assert dict(origins) == command_line.kpis.trips_by_origin
    assert {row.split(",")[-1] for row in rows} <= {"慈溪市", "余姚市"}
    listed = service.call("GET", f"/api/plans/{job['id']}/trips", "dispatcher").json()
    assert dict(Counter(t["origin"] for t in listed)) == command_line.kpis.trips_by_origin
    assert {t["origin_name"] for t in listed} <= {"慈溪市", "余姚市"}
