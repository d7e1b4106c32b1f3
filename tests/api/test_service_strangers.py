"""Stranger seasons (benchmarks/strangers.py) uploaded through the service: the season, its
tables and the workers' file are taken, the product's planner plans them, and the plan's trips,
manifests, notices and map answer without a server error."""

from __future__ import annotations

import csv
import tomllib
from pathlib import Path
from typing import Any

import pytest

from api.jobs import optimizer_planner
from benchmarks.strangers import make
from optimizer.intake import parse_date
from optimizer.read import read_scenario
from tests.api.conftest import Service


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [
            {k.strip(): v.strip() for k, v in row.items() if k.strip() != "备注" and v.strip()}
            for row in csv.DictReader(handle)
        ]


def _season_body(folder: Path) -> dict[str, Any]:
    settings = tomllib.loads((folder / "scenario.toml").read_text(encoding="utf-8"))
    body = {
        key: str(settings[key])
        for key in ("name", "direction", "origin", "festival_date", "first_departure")
        if key in settings
    }
    body["last_departure"] = str(settings["last_departure"])
    if "region" in settings:
        body["region"] = settings["region"]
    return body | {"policy": settings.get("policy", {}), "solver": {"time_limit_s": 3}}


def upload(svc: Service, folder: Path) -> str:
    """Open the folder's season through the API (season, companies, hubs, fleet as JSON, the
    workers as the CSV file itself); the season's name."""
    body = _season_body(folder)
    name = body["name"]
    response = svc.call("POST", "/api/seasons", "dispatcher", json=body)
    assert response.status_code == 201, response.text
    truth = {"1", "是"}
    companies = [
        row | {"no_hub": row.get("no_hub", "") in truth} for row in _rows(folder / "companies.csv")
    ]
    response = svc.call("POST", f"/api/companies?season={name}", "dispatcher", json=companies)
    assert response.status_code == 200, response.text
    if (folder / "hubs.csv").exists():
        hubs = _rows(folder / "hubs.csv")
        response = svc.call("POST", f"/api/hubs?season={name}", "dispatcher", json=hubs)
        assert response.status_code == 200, response.text
    fleet = [
        row
        | {
            key: parse_date(row[key]).isoformat()
            for key in ("available_from", "available_to")
            if key in row
        }
        for row in _rows(folder / "fleet.csv")
    ]
    response = svc.call("POST", f"/api/fleet?season={name}", "dispatcher", json=fleet)
    assert response.status_code == 200, response.text
    with (folder / "workers.csv").open("rb") as handle:
        response = svc.call(
            "POST",
            f"/api/workers/upload?season={name}",
            "dispatcher",
            files={"file": ("workers.csv", handle, "text/csv")},
        )
    assert response.status_code == 200, response.text
    return name


@pytest.mark.parametrize("seed", [21])
def test_stranger_season_through_the_service(service: Service, seed: int, tmp_path: Path) -> None:
    """A stranger season uploaded through the API plans with the product's planner, and its
    trips, manifests, notices and map answer without a server error."""
    folder = tmp_path / "season"
    # Rows the upload takes whole (it is all or nothing): windows inside, homes by code.
    make(seed, folder, {"workers": "some", "windows": "whole", "home_text": "code"})
    read_scenario(folder)  # the folder itself reads
    service.planner = optimizer_planner
    name = upload(service, folder)
    plan = service.run_plan(name)
    assert plan["status"] == "succeeded", plan
    plan_id = plan["id"]
    trips = service.call("GET", f"/api/plans/{plan_id}/trips", "dispatcher")
    assert trips.status_code == 200, trips.text
    for url in (f"/api/plans/{plan_id}/map.html", f"/api/plans/{plan_id}/notices.csv"):
        assert service.call("GET", url, "dispatcher").status_code == 200, url
    for trip in trips.json()[:2]:
        url = f"/api/plans/{plan_id}/trips/{trip['trip_id']}/manifest.json"
        assert service.call("GET", url, "dispatcher").status_code == 200, url


def test_a_reversed_season_is_refused_in_chinese(service: Service) -> None:
    """Opening a season whose first departure is after its last is refused (422) in Chinese
    when Chinese is asked for (the detail was the Scenario's English text in every language)."""
    body = {
        "name": "reversed-2026",
        "direction": "home",
        "origin": "慈溪",
        "festival_date": "2026-02-17",
        "first_departure": "2026-02-15",
        "last_departure": "2026-02-14",
    }
    answer = service.client.post(
        "/api/seasons",
        json=body,
        headers=service.headers("dispatcher") | {"Accept-Language": "zh-CN"},
    )
    assert answer.status_code == 422
    assert "首个出发日 first_departure 不能晚于最后出发日 last_departure" in answer.json()["detail"]
