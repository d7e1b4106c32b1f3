"""The service with the real planner (optimizer.solve) on the bundled tiny season: plan,
publish, register more workers, re-plan: published trips come back unchanged."""

from __future__ import annotations

from typing import Any

import pytest

from api.demo import demo_scenario_dir, load_scenario
from api.jobs import optimizer_planner
from tests.api.conftest import PASSWORD, Service, worker_row

pytest.importorskip("optimizer.solve")


@pytest.fixture(scope="module")
def svc(service: Service) -> Any:
    from optimizer.read import read_scenario

    scenario = read_scenario(demo_scenario_dir())
    with service.session() as session:
        accounts = load_scenario(session, scenario=scenario, dispatcher="demo-dispatcher")
    service.planner = optimizer_planner
    service.scenario = scenario  # type: ignore[attr-defined]
    service.accounts = accounts  # type: ignore[attr-defined]
    return service


def test_demo_season_is_loaded_with_accounts(svc: Any) -> None:
    """The demo loader stores the season's companies, fleet and workers and makes accounts."""
    name = svc.scenario.name
    assert len(
        svc.call("GET", f"/api/workers?season={name}&masked=true", "dispatcher").json()
    ) == len(svc.scenario.workers)
    roles = [a.role for a in svc.accounts]
    assert roles.count("dispatcher") == 1 and roles.count("employer") >= 1
    employer = next(a for a in svc.accounts if a.role == "employer")
    token = svc.client.post(
        "/api/auth/token", data={"username": employer.username, "password": employer.password}
    )
    assert token.status_code == 200
    assert employer.password != PASSWORD


def test_real_planner_keeps_published_trips(svc: Any) -> None:
    """Plan with optimizer.solve, publish, add workers, re-plan: locked trips are identical
    and the newcomers are seated or reported unserved."""
    season = svc.scenario.name
    first = svc.run_plan(season, time_limit_s=3)
    assert first["status"] == "succeeded", first["message"]
    assert first["kpis"]["seated"] + first["kpis"]["unserved"] == len(svc.scenario.workers)
    svc.call("POST", f"/api/plans/{first['id']}/publish", "dispatcher")
    published = svc.call("GET", f"/api/plans/{first['id']}/trips", "dispatcher").json()

    home = svc.scenario.workers[0].home_adcode
    company = svc.scenario.workers[0].company_id
    day = svc.scenario.first_departure.isoformat()
    newcomers = [
        worker_row(n, company_id=company, home=home, earliest=day, latest=day)
        for n in range(700, 704)
    ]
    added = svc.call("POST", f"/api/workers?season={season}", "dispatcher", json=newcomers)
    assert added.status_code == 200, added.text

    second = svc.run_plan(season, time_limit_s=3)
    assert second["status"] == "succeeded", second["message"]
    after = {
        t["trip_id"]: t
        for t in svc.call("GET", f"/api/plans/{second['id']}/trips", "dispatcher").json()
    }
    for trip in published:
        assert after[trip["trip_id"]] == trip
    new_keys = {str(w["id"]) for w in added.json()["workers"]}
    seated = set(second["changes"]["workers_newly_seated"])
    unserved = {u["worker"] for u in second["unserved"]}
    assert new_keys <= seated | unserved
    assert second["kpis"]["workers"] == len(svc.scenario.workers) + 4
