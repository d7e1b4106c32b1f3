"""POST /api/seasons/{name}/fleet-size: the sized fleet of a stored season, dispatchers only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from api.demo import demo_scenario_dir, load_scenario
from api.sizing import SizingGate, get_fleet_sizer
from optimizer import model as domain
from optimizer.geography.distance import GreatCircleProvider
from optimizer.read import read_scenario
from optimizer.sizing import FleetSize, size_fleet
from tests.api.conftest import Service, open_season


@pytest.fixture(scope="module")
def svc(service: Service) -> Iterator[Service]:
    """The service holding the bundled demo season, sizing on great-circle distances."""
    scenario = read_scenario(demo_scenario_dir())
    with service.session() as session:
        load_scenario(session, scenario=scenario, dispatcher="demo-dispatcher")
    service.add_user("employer-sizing", "employer", scenario.companies[0].company_id)
    calls: list[float] = []

    def sizer(scenario: domain.Scenario, *, time_limit_s: float) -> FleetSize:
        calls.append(time_limit_s)
        return size_fleet(scenario, distances=GreatCircleProvider(), time_limit_s=time_limit_s)

    service.app.dependency_overrides[get_fleet_sizer] = lambda: sizer
    service.scenario = scenario  # type: ignore[attr-defined]
    service.sizing_calls = calls  # type: ignore[attr-defined]
    yield service
    del service.app.dependency_overrides[get_fleet_sizer]


def _url(svc: Any) -> str:
    return f"/api/seasons/{svc.scenario.name}/fleet-size"


def test_dispatcher_gets_the_sized_fleet(svc: Any) -> None:
    """200: every coach type of the season with its count and dates; everyone seatable seated."""
    response = svc.call("POST", _url(svc), "dispatcher", json={"time_limit_s": 2})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {
        "season",
        "fleet",
        "workers",
        "seated",
        "trips",
        "time_limit_s",
        "solve_seconds",
    }
    assert body["season"] == svc.scenario.name
    assert body["workers"] == len(svc.scenario.workers) == body["seated"]
    assert sorted(f["vehicle_type"] for f in body["fleet"]) == sorted(
        v.vehicle_type for v in svc.scenario.fleet
    )
    assert sum(f["count"] for f in body["fleet"]) > 0
    for line in body["fleet"]:
        assert set(line) == {"vehicle_type", "seats", "count", "needed_from", "needed_to"}
        if line["count"]:
            assert line["needed_from"] <= line["needed_to"]
            dt.date.fromisoformat(line["needed_from"])
    assert body["time_limit_s"] == 2 and svc.sizing_calls[-1] == 2


def test_without_a_body_the_season_time_limit_applies_capped_by_the_server(svc: Any) -> None:
    """No body: the season's [solver] time limit, never more than CHUNYUN_FLEET_SIZE_MAX_S."""
    before = svc.settings.fleet_size_max_s
    svc.settings.fleet_size_max_s = 1.5
    try:
        response = svc.call("POST", _url(svc), "dispatcher")
    finally:
        svc.settings.fleet_size_max_s = before
    assert response.status_code == 200, response.text
    assert response.json()["time_limit_s"] == 1.5 == svc.sizing_calls[-1]


def test_employer_may_not_size_the_fleet(svc: Any) -> None:
    """403 for an employer, 401 without sign-in; nothing is planned."""
    calls = len(svc.sizing_calls)
    response = svc.call("POST", _url(svc), "employer-sizing", json={})
    assert response.status_code == 403
    assert response.json()["detail"] == "only a dispatcher may do this"
    assert svc.call("POST", _url(svc), None).status_code == 401
    assert len(svc.sizing_calls) == calls


@pytest.mark.parametrize("limit", [0, -1, 301, "soon"])
def test_a_bad_time_limit_is_refused(svc: Any, limit: object) -> None:
    response = svc.call("POST", _url(svc), "dispatcher", json={"time_limit_s": limit})
    assert response.status_code == 422
    assert "time_limit_s" in response.json()["detail"]


def test_unknown_season_is_404(svc: Any) -> None:
    response = svc.call("POST", "/api/seasons/nowhere-2026/fleet-size", "dispatcher")
    assert response.status_code == 404
    assert response.json()["detail"] == "no season called 'nowhere-2026'"


def test_a_season_without_coach_types_says_what_to_do(svc: Any) -> None:
    """422 naming the missing fleet and where to add it."""
    body = {
        "name": "sizing-no-fleet",
        "direction": "home",
        "origin": "330282",
        "festival_date": "2026-02-17",
        "first_departure": "2026-02-05",
        "last_departure": "2026-02-14",
    }
    assert svc.call("POST", "/api/seasons", "dispatcher", json=body).status_code == 201
    response = svc.call("POST", "/api/seasons/sizing-no-fleet/fleet-size", "dispatcher")
    assert response.status_code == 422
    assert "has no coach types" in response.json()["detail"]
    chinese = svc.client.post(
        "/api/seasons/sizing-no-fleet/fleet-size",
        headers={**svc.headers("dispatcher"), "Accept-Language": "zh-CN"},
    )
    assert chinese.json()["detail"].startswith("季度 'sizing-no-fleet' 尚无车型")


def test_a_season_without_workers_needs_no_coach(svc: Any) -> None:
    open_season(svc, "sizing-empty")
    response = svc.call("POST", "/api/seasons/sizing-empty/fleet-size", "dispatcher")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["workers"] == body["seated"] == 0
    assert all(f["count"] == 0 and f["needed_from"] is None for f in body["fleet"])


def test_busy_server_answers_503_with_retry_after(svc: Any) -> None:
    """Beyond CHUNYUN_FLEET_SIZE_CONCURRENCY runs at once, the next caller is told to retry."""
    gate = SizingGate(1)
    previous = getattr(svc.app.state, "sizing_gate", None)
    svc.app.state.sizing_gate = gate
    try:
        with gate:
            response = svc.call("POST", _url(svc), "dispatcher", json={"time_limit_s": 1})
    finally:
        svc.app.state.sizing_gate = previous
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert "already sizing fleets" in response.json()["detail"]
