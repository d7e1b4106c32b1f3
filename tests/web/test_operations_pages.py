"""The pages of the operations (issue 14) on the service: a trip's coach and crew form with
its refusals shown by field in Chinese, the charter sign and trip sheet, the plan's crew
sheet, changes, late registrations, costs and downloads, and an employer seeing its own rows
only."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from tests.api.conftest import Service, make_id_number, open_season
from tests.web.conftest import Browser
from tests.web.test_pages import csv_rows

SEASON = "ops-pages-2026"


@pytest.fixture(scope="module")
def world(service: Service) -> Iterator[dict[str, Any]]:
    """Two companies with workers, a plan published."""
    svc = service
    open_season(svc, SEASON, companies=(("ALPHA", "阿尔法电器"), ("BETA", "贝塔纺织")))
    svc.add_user("alpha", "employer", "ALPHA")
    svc.add_user("beta", "employer", "BETA")
    alpha, beta, dispatcher = Browser(svc), Browser(svc), Browser(svc)
    for browser, name in ((alpha, "alpha"), (beta, "beta"), (dispatcher, "dispatcher")):
        assert browser.sign_in(name).status_code == 303
    answer = alpha.post("/e/upload", files={"file": ("a.csv", csv_rows([1, 2]).encode("utf-8"))})
    assert answer.status_code == 303, answer.text
    answer = beta.post("/e/upload", files={"file": ("b.csv", csv_rows([11]).encode("utf-8"))})
    assert answer.status_code == 303, answer.text
    started = dispatcher.post(f"/d/seasons/{SEASON}/plans", {"time_limit_s": "5"})
    assert started.status_code == 303
    svc.wait_for_jobs()
    plan_url = started.headers["location"]
    assert dispatcher.post(plan_url + "/publish").status_code == 303
    plan_id = int(plan_url.rsplit("/", 1)[1])
    trips = svc.call("GET", f"/api/plans/{plan_id}/trips", "dispatcher").json()
    yield {
        "alpha": alpha,
        "beta": beta,
        "dispatcher": dispatcher,
        "plan_id": plan_id,
        "trips": trips,
        "svc": svc,
    }


def _crew_form(drivers: int, first: int = 700) -> dict[str, str]:
    form = {
        "plate": "浙B12345",
        "coach_type": "C53",
        "coach_seats": "53",
        "operator": "慈溪市长运客运有限公司",
        "escort_name": "周领队",
        "escort_phone": "13800000099",
    }
    for n in range(1, drivers + 1):
        form[f"driver_name_{n}"] = f"司机{n}"
        form[f"driver_licence_{n}"] = make_id_number(first + n)
        form[f"driver_phone_{n}"] = f"1380000{first + n:04d}"
    return form


def _trip_url(world: dict[str, Any], trip: dict[str, Any]) -> str:
    return f"/d/plans/{world['plan_id']}/trips/{quote(trip['trip_id'])}"


def test_the_crew_form_refuses_a_short_crew_with_the_reason_by_the_field(
    world: dict[str, Any],
) -> None:
    dispatcher, trip = world["dispatcher"], world["trips"][0]
    url = _trip_url(world, trip)
    page = dispatcher.get(url)
    assert page.status_code == 200
    assert 'id="crew-form"' in page.text and "未分配" in page.text
    assert "sheet.pdf" in page.text
    short = dispatcher.post(url + "/crew", _crew_form(trip["drivers"] - 1))
    assert short.status_code == 422
    needed = f"本车次行程需要 {trip['drivers']} 名驾驶员"
    assert re.search(r'data-field="drivers">[^<]*' + needed, short.text), short.text[-3000:]
    assert (
        world["svc"]
        .call("GET", f"/api/plans/{world['plan_id']}/trips/{trip['trip_id']}", "dispatcher")
        .json()["crew"]
        is None
    )
    # A bad licence and an empty plate: each named next to its own input, in Chinese.
    form = _crew_form(trip["drivers"])
    form["plate"] = ""
    form["driver_licence_1"] = "123"
    bad = dispatcher.post(url + "/crew", form)
    assert bad.status_code == 422
    assert 'data-field="plate">必填' in bad.text
    assert 'value="123"' in bad.text  # what was typed stays in the form


def test_the_crew_form_saves_and_the_sign_and_sheet_show_it(world: dict[str, Any]) -> None:
    dispatcher, trip = world["dispatcher"], world["trips"][0]
    url = _trip_url(world, trip)
    saved = dispatcher.post(url + "/crew", _crew_form(trip["drivers"]))
    assert saved.status_code == 303, saved.text[-2000:]
    page = dispatcher.get(saved.headers["location"])
    assert "浙B12345" in page.text and "慈溪市长运客运有限公司" in page.text
    sheet = dispatcher.get(
        f"/pages/plans/{world['plan_id']}/trips/{quote(trip['trip_id'])}/sheet.pdf"
    )
    assert sheet.status_code == 200 and sheet.content.startswith(b"%PDF")
    cleared = dispatcher.post(url + "/crew/clear")
    assert cleared.status_code == 303
    assert (
        world["svc"]
        .call("GET", f"/api/plans/{world['plan_id']}/trips/{trip['trip_id']}", "dispatcher")
        .json()["crew"]
        is None
    )


def test_the_crew_form_is_for_dispatchers_with_a_form_token(world: dict[str, Any]) -> None:
    trip = world["trips"][0]
    url = _trip_url(world, trip)
    assert world["alpha"].get(url, follow_redirects=False).status_code == 403
    refused = world["dispatcher"].post(url + "/crew", _crew_form(trip["drivers"]), token=False)
    assert refused.status_code == 403
    assert world["alpha"].post(url + "/crew", _crew_form(trip["drivers"])).status_code == 403
