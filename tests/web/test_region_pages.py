"""The pages of a province (many-origin) season: the dispatcher sees the region and the figures
per origin county, sets a company's origin county from the region's counties (a county outside
it is refused), and the plan's trip list names each trip's origin county."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from api.demo import load_scenario
from api.jobs import optimizer_planner
from optimizer import model as domain
from optimizer.read import read_scenario
from scenarios.generate import generate_season, write_scenario
from tests.api.conftest import Service
from tests.web.conftest import Browser

NAME = "region-pages"


@pytest.fixture(scope="module")
def region(service: Service, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("region-pages")
    season = generate_season(NAME, 160, 7, origins=["慈溪", "余姚"], companies=6)
    scenario = read_scenario(write_scenario(season, Path(folder) / NAME))
    scenario = dataclasses.replace(
        scenario, solver=domain.SolverParams(time_limit_s=20.0, part_solution_limit=3)
    )
    with service.session() as session:
        load_scenario(session, scenario=scenario, employers=0, dispatcher="region-dispatcher")
    service.planner = optimizer_planner
    dispatcher = Browser(service)
    assert dispatcher.sign_in("dispatcher").status_code == 303
    return {"svc": service, "dispatcher": dispatcher, "scenario": scenario}


def test_the_season_page_shows_the_region_and_each_origins_figures(region: dict[str, Any]) -> None:
    dispatcher: Browser = region["dispatcher"]
    page = dispatcher.get(f"/d/seasons/{NAME}")
    assert page.status_code == 200
    assert 'id="region"' in page.text and "慈溪市" in page.text and "余姚市" in page.text
    assert 'id="by-origin"' in page.text
    # Each company row has the region's counties to choose from, its own selected.
    assert page.text.count('<select name="county"') == len(region["scenario"].companies)


def test_a_company_county_is_set_from_the_select_and_an_outside_one_is_refused(
    region: dict[str, Any],
) -> None:
    dispatcher: Browser = region["dispatcher"]
    svc: Service = region["svc"]
    company = region["scenario"].companies[0]
    url = f"/d/seasons/{NAME}/companies/{company.company_id}/address"
    other = "330281" if company.county == "330282" else "330282"
    saved = dispatcher.post(url, {"address": "工业路 1 号", "county": other})
    assert saved.status_code == 303, saved.text[:2000]
    listed = svc.call("GET", f"/api/companies/{company.company_id}?season={NAME}", "dispatcher")
    assert listed.json()["county"] == other

    refused = dispatcher.post(url, {"address": "工业路 1 号", "county": "北仑"})
    assert refused.status_code == 422
    assert "北仑" in refused.text
    after = svc.call("GET", f"/api/companies/{company.company_id}?season={NAME}", "dispatcher")
    assert after.json()["county"] == other  # nothing changed
    dispatcher.post(url, {"address": "", "county": company.county})


def test_the_plan_page_lists_trips_by_origin_county(region: dict[str, Any]) -> None:
    dispatcher: Browser = region["dispatcher"]
    svc: Service = region["svc"]
    started = dispatcher.post(f"/d/seasons/{NAME}/plans", {"time_limit_s": "20"})
    assert started.status_code == 303
    svc.wait_for_jobs()
    page = dispatcher.get(started.headers["location"])
    assert page.status_code == 200
    assert 'id="by-origin"' in page.text and 'id="cross-origin"' in page.text
    plan_id = int(started.headers["location"].rsplit("/", 1)[1])
    kpis = svc.call("GET", f"/api/plans/{plan_id}", "dispatcher").json()["kpis"]
    trips_table = page.text.split('id="trips"', 1)[1].split("</table>", 1)[0]
    origins = trips_table.count("<td>慈溪市</td>") + trips_table.count("<td>余姚市</td>")
    assert origins == kpis["trips"] > 0
    season = dispatcher.get(f"/d/seasons/{NAME}")
    assert f"(#{plan_id})" in season.text
