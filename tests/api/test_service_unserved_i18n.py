"""Why a worker has no seat, in the answer's language: the real planner leaves workers
fleet_exhausted on a one-coach fleet, and the JSON API gives their `detail` in Chinese when asked
(English otherwise, as stored), with the detail's message ids and values in `detail_parts`."""

from __future__ import annotations

import re
from typing import Any

import pytest

from api.jobs import optimizer_planner
from optimizer.details import DETAIL_TEMPLATES, DetailPart
from tests.api.conftest import Service, open_season, worker_row

CJK = re.compile(r"[\u4e00-\u9fff]")
SEASON = "short-fleet"
DAY = "2026-02-06"


@pytest.fixture(scope="module")
def plan(service: Service) -> dict[str, Any]:
    """A plan of 70 workers to one county on one date, with one 53-seat coach."""
    open_season(service, SEASON)
    fleet = [
        {"vehicle_type": "C53", "seats": 53, "count": 1, "cost_per_km": 8.0, "fixed_cost": 1500},
        {"vehicle_type": "C35", "seats": 35, "count": 0, "cost_per_km": 6.0, "fixed_cost": 1200},
    ]
    response = service.call("POST", f"/api/fleet?season={SEASON}", "dispatcher", json=fleet)
    assert response.status_code == 200, response.text
    rows = [
        worker_row(n, company_id="ALPHA", home="341221", earliest=DAY, latest=DAY)
        for n in range(70)
    ]
    added = service.call("POST", f"/api/workers?season={SEASON}", "dispatcher", json=rows)
    assert added.status_code == 200, added.text
    service.planner = optimizer_planner
    result = service.run_plan(SEASON, time_limit_s=3)
    assert result["status"] == "succeeded", result["message"]
    return result


def _exhausted(svc: Service, plan_id: int, **headers: str) -> list[dict[str, Any]]:
    response = svc.client.get(
        f"/api/plans/{plan_id}", headers={**svc.headers("dispatcher"), **headers}
    )
    assert response.status_code == 200, response.text
    return [u for u in response.json()["unserved"] if u["reason"] == "fleet_exhausted"]


def test_a_fleet_exhausted_detail_comes_in_english_by_default_with_its_ids(
    service: Service, plan: dict[str, Any]
) -> None:
    """English answer: the stored detail unchanged, and its parts rebuild it from the ids."""
    english = _exhausted(service, plan["id"])
    assert len(english) >= 70 - 53, plan["unserved"]
    for entry in english:
        assert entry["detail"] and not CJK.search(entry["detail"].replace("C53", "")), entry
        parts = entry["detail_parts"]
        assert parts and all(p["id"] in DETAIL_TEMPLATES and p["id"] != "text" for p in parts)
        rebuilt = "; ".join(DetailPart(p["id"], p["args"]).text() for p in parts)
        assert rebuilt == entry["detail"]


@pytest.mark.parametrize("asked", [{"Accept-Language": "zh-CN,zh;q=0.9"}, {"lang": "zh"}])
def test_a_fleet_exhausted_detail_comes_in_chinese_when_asked(
    service: Service, plan: dict[str, Any], asked: dict[str, str]
) -> None:
    """Chinese answer (header or ?lang=zh): the detail in Chinese with the same figures, and
    the same ids and values as the English answer."""
    english = {u["worker"]: u for u in _exhausted(service, plan["id"])}
    if "lang" in asked:
        response = service.call(
            "GET", f"/api/plans/{plan['id']}?lang={asked['lang']}", "dispatcher"
        )
        assert response.status_code == 200
        chinese = [u for u in response.json()["unserved"] if u["reason"] == "fleet_exhausted"]
    else:
        chinese = _exhausted(service, plan["id"], **asked)
    assert {u["worker"] for u in chinese} == set(english)
    for entry in chinese:
        same = english[entry["worker"]]
        assert CJK.search(entry["detail"]), entry
        assert entry["detail"] != same["detail"]
        assert entry["detail_parts"] == same["detail_parts"]
        figures = sorted(re.findall(r"\d+", same["detail"]))
        assert sorted(re.findall(r"\d+", entry["detail"])) == figures, (same, entry)
        assert not re.search(r"\b(coach|coaches|taken|away|every)\b", entry["detail"]), entry
