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

from tests.api.conftest import Service, make_id_number, open_season, worker_row
from tests.web.conftest import Browser, plan_and_publish
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
    plan_id, trips = plan_and_publish(svc, dispatcher, SEASON)
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


def test_plan_page_shows_costs_changes_and_downloads(world: dict[str, Any]) -> None:
    dispatcher, plan_id = world["dispatcher"], world["plan_id"]
    page = dispatcher.get(f"/d/plans/{plan_id}")
    assert page.status_code == 200
    for part in ('id="cost-list"', 'id="change-list"', 'id="late"', "crews/template.xlsx"):
        assert part in page.text, part
    assert "阿尔法电器" in page.text and "贝塔纺织" in page.text and "本季合计" in page.text
    for url in (
        f"/d/plans/{plan_id}/crews/template.xlsx",
        f"/d/plans/{plan_id}/duties.csv",
        f"/d/plans/{plan_id}/documents.zip?company_id=ALPHA",
        f"/pages/plans/{plan_id}/trips.csv",
        f"/pages/plans/{plan_id}/changes-notices.csv",
        f"/pages/plans/{plan_id}/statements/ALPHA.pdf",
        f"/pages/plans/{plan_id}/statements/BETA.xlsx",
        f"/pages/plans/{plan_id}/companies/BETA/notices.csv",
    ):
        assert dispatcher.get(url).status_code == 200, url
    assert "变更" in dispatcher.get(f"/pages/plans/{plan_id}/changes-notices.csv").text
    assert world["alpha"].get(f"/d/plans/{plan_id}", follow_redirects=False).status_code == 403


def test_a_bad_crew_sheet_lists_every_bad_row_and_saves_nothing(world: dict[str, Any]) -> None:
    dispatcher, plan_id, trip = world["dispatcher"], world["plan_id"], world["trips"][0]
    header = (
        "车次,车牌号,车型,核定座位,经营者,驾驶员1姓名,驾驶员1驾驶证号,驾驶员1手机号,"
        "随车人员,随车人员手机号\n"
    )
    row = f"{trip['trip_id']},浙X,C53,53,慈溪客运,司机,123,12345,领队,13800000001\n"
    answer = dispatcher.post(
        f"/d/plans/{plan_id}/crews", files={"file": ("crews.csv", (header + row).encode("utf-8"))}
    )
    assert answer.status_code == 422, answer.text[-2000:]
    table = answer.text[answer.text.index('id="crew-problems"') :]
    columns = set(re.findall(r'<td class="num">\d+</td><td>([^<]+)</td>', table))
    assert {"车牌号", "驾驶员1驾驶证号", "驾驶员1手机号"} <= columns, columns
    crew = (
        world["svc"]
        .call("GET", f"/api/plans/{plan_id}/trips/{trip['trip_id']}", "dispatcher")
        .json()["crew"]
    )
    assert crew is None


def test_changes_are_listed_confirmed_and_kept_to_the_company(world: dict[str, Any]) -> None:
    alpha, dispatcher, plan_id = world["alpha"], world["dispatcher"], world["plan_id"]
    svc = world["svc"]
    workers = svc.call("GET", f"/api/workers?season={SEASON}", "alpha").json()
    assert alpha.post(f"/e/workers/{workers[0]['id']}/withdraw").status_code == 303
    late = dispatcher.post(f"/d/plans/{plan_id}/late")
    assert late.status_code == 303
    page = dispatcher.get(f"/d/plans/{plan_id}")
    assert "已取消" in page.text and 'id="confirm-changes"' in page.text
    assert dispatcher.post(f"/d/plans/{plan_id}/changes/confirm").status_code == 303
    changes = svc.call("GET", f"/api/plans/{plan_id}/changes", "dispatcher").json()
    assert changes and all(c["confirmed_at"] for c in changes)
    assert 'id="confirm-changes"' not in dispatcher.get(f"/d/plans/{plan_id}").text
    # An employer's downloads stop at its own company.
    beta = world["beta"]
    assert beta.get(f"/pages/plans/{plan_id}/statements/ALPHA.pdf").status_code == 404
    assert beta.get(f"/pages/plans/{plan_id}/companies/ALPHA/notices.csv").status_code == 404
    notices = beta.get(f"/pages/plans/{plan_id}/changes-notices.csv")
    assert notices.status_code == 200 and ",ALPHA," not in notices.text and ",BETA," in notices.text
    assert beta.post(f"/d/plans/{plan_id}/changes/confirm").status_code == 403
    assert dispatcher.post(f"/d/plans/{plan_id}/late", token=False).status_code == 403


def test_season_page_sets_subsidy_drop_points_and_addresses(world: dict[str, Any]) -> None:
    dispatcher, svc = world["dispatcher"], world["svc"]
    base = f"/d/seasons/{SEASON}"
    page = dispatcher.get(base)
    assert page.status_code == 200
    assert 'id="subsidy"' in page.text and 'id="drop-points"' in page.text
    assert (
        dispatcher.post(base + "/subsidy", {"share": "40", "cap_per_company": "1000"}).status_code
        == 303
    )
    season = svc.call("GET", f"/api/seasons/{SEASON}", "dispatcher").json()
    assert season["subsidy"] == {"share": 0.4, "cap_per_company": 1000.0}
    refused = dispatcher.post(base + "/subsidy", {"share": "150"})
    assert refused.status_code == 422 and "补贴比例" in refused.text
    saved = dispatcher.post(
        base + "/drop-points",
        {"adcode": "341221", "point_name": "临泉县汽车站", "address": "城关镇"},
    )
    assert saved.status_code == 303
    assert "临泉县汽车站" in dispatcher.get(base).text
    unknown = dispatcher.post(base + "/drop-points", {"adcode": "999999", "point_name": "某站"})
    assert unknown.status_code in (404, 422)
    assert dispatcher.post(base + "/drop-points/341221/delete").status_code == 303
    assert svc.call("GET", f"/api/seasons/{SEASON}/drop-points", "dispatcher").json() == []
    address = dispatcher.post(base + "/companies/ALPHA/address", {"address": "慈溪市古塘街道1号"})
    assert address.status_code == 303
    company = svc.call("GET", f"/api/companies/ALPHA?season={SEASON}", "dispatcher").json()
    assert company["address"] == "慈溪市古塘街道1号"
    assert world["alpha"].get(base, follow_redirects=False).status_code == 403
    assert (
        world["alpha"].post(base + "/companies/ALPHA/address", {"address": "x"}).status_code == 403
    )


def test_employer_documents_show_own_statement_changes_and_sheets(world: dict[str, Any]) -> None:
    alpha, beta, plan_id = world["alpha"], world["beta"], world["plan_id"]
    svc = world["svc"]
    workers = svc.call("GET", f"/api/workers?season={SEASON}", "beta").json()
    assert beta.post(f"/e/workers/{workers[0]['id']}/withdraw").status_code == 303
    page = alpha.get(f"/e/documents?season={SEASON}")
    assert page.status_code == 200
    assert "/statements/ALPHA.pdf" in page.text and "/statements/BETA" not in page.text
    assert 'data-company="BETA"' not in page.text and "sheet.pdf" in page.text
    assert alpha.get(f"/pages/plans/{plan_id}/statements/ALPHA.xlsx").status_code == 200
    own = beta.get(f"/e/documents?season={SEASON}")
    assert 'data-company="BETA"' in own.text and "已取消" in own.text
    assert "/statements/ALPHA" not in own.text
    assert world["dispatcher"].get("/e/documents", follow_redirects=False).status_code == 403


def test_a_late_registration_no_trip_fits_goes_to_a_new_trips_job(world: dict[str, Any]) -> None:
    """Late, to a county no published trip serves: waiting, and the plan page links the planning
    job that adds its trip; the published trips stay as they are."""
    dispatcher, svc, plan_id = world["dispatcher"], world["svc"], world["plan_id"]
    before = svc.call("GET", f"/api/plans/{plan_id}/trips", "dispatcher").json()
    late = worker_row(530, company_id="ALPHA", worker_id="LATE-W", home="522427")
    assert svc.call("POST", f"/api/workers?season={SEASON}", "dispatcher", json=[late]).is_success
    assert dispatcher.post(f"/d/plans/{plan_id}/late").status_code == 303
    changes = svc.call("GET", f"/api/plans/{plan_id}/changes", "dispatcher").json()
    [waiting] = [c for c in changes if c["staff_number"] == "LATE-W"]
    assert waiting["kind"] == "late_waiting" and waiting["new_trips_plan"] is not None
    page = dispatcher.get(f"/d/plans/{plan_id}")
    assert f"新车次：方案 {waiting['new_trips_plan']}" in page.text
    assert f'href="/d/plans/{waiting["new_trips_plan"]}"' in page.text
    svc.wait_for_jobs()
    job = svc.call("GET", f"/api/plans/{waiting['new_trips_plan']}", "dispatcher").json()
    assert job["status"] == "succeeded" and job["published_at"] is None
    assert set(job["changes"]["locked_trips_kept"]) == {t["trip_id"] for t in before}
    assert waiting["worker"] in job["changes"]["workers_newly_seated"]
    assert svc.call("GET", f"/api/plans/{plan_id}/trips", "dispatcher").json() == before
