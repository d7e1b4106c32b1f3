"""Coaches and crews through the service: PUT per trip, the operator's XLSX import, and the
documents that print them."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.api.conftest import Service, make_id_number, open_season, worker_row


def crew_body(plate: str = "浙B12345", *, drivers: int = 2, first: int = 700) -> dict[str, Any]:
    return {
        "plate": plate,
        "coach_type": "C53",
        "coach_seats": 53,
        "operator": "宁波长运包车公司",
        "drivers": [
            {
                "name": f"司机{n}",
                "licence": make_id_number(first + n, region="330282"),
                "phone": f"1380000{first + n:04d}",
            }
            for n in range(drivers)
        ],
        "escort_name": "王车长",
        "escort_phone": "13912345678",
    }


@pytest.fixture(scope="module")
def plan(service: Service) -> dict[str, Any]:
    open_season(service, "crews-2026", companies=[("ALPHA", "阿尔法电器")])
    rows = [worker_row(n, company_id="ALPHA") for n in range(1, 61)]
    response = service.call("POST", "/api/workers?season=crews-2026", "dispatcher", json=rows)
    assert response.is_success, response.text
    result = service.run_plan("crews-2026")
    assert result["status"] == "succeeded", result["message"]
    trips = service.call("GET", f"/api/plans/{result['id']}/trips", "dispatcher").json()
    assert len(trips) >= 2 and all(t["crew"] is None for t in trips)
    return {"id": result["id"], "trips": trips}


def put_crew(service: Service, plan: dict[str, Any], trip_id: str, body: dict[str, Any]) -> Any:
    return service.call(
        "PUT", f"/api/plans/{plan['id']}/trips/{trip_id}/crew", "dispatcher", json=body
    )


def test_a_crew_short_of_the_timetable_is_refused(service: Service, plan: dict[str, Any]) -> None:
    """The fake planner's trips need two drivers: one is refused, nothing is saved."""
    trip = plan["trips"][0]
    response = put_crew(service, plan, trip["trip_id"], crew_body(drivers=1))
    assert response.status_code == 422
    [problem] = response.json()["problems"]
    assert problem["column"] == "drivers" and "needs 2 driver(s); 1 given" in problem["reason"]
    url = f"/api/plans/{plan['id']}/trips/{trip['trip_id']}"
    again = service.call("GET", url, "dispatcher")
    # The sign's fixed words follow the JSON API's language: English unless Chinese is asked.
    assert again.json()["crew"] is None and again.json()["sign"]["plate"] == "unassigned"
    zh = service.call("GET", url, "dispatcher", params={"lang": "zh"}).json()["sign"]
    assert zh["plate"] == zh["operator"] == "未分配"
    assert " 至 " in zh["validity"] and " to " in again.json()["sign"]["validity"]


def test_a_plate_on_two_overlapping_trips_is_refused(
    service: Service, plan: dict[str, Any]
) -> None:
    """Two trips leaving the same morning cannot have the same coach."""
    first, second = plan["trips"][0], plan["trips"][1]
    assert first["departure"] < second["arrival"] and second["departure"] < first["arrival"]
    assert put_crew(service, plan, first["trip_id"], crew_body("浙B11111")).status_code == 200
    response = put_crew(service, plan, second["trip_id"], crew_body("浙B11111", first=720))
    assert response.status_code == 422
    reasons = [p["reason"] for p in response.json()["problems"]]
    assert reasons == [f"this coach is already on trip {first['trip_id']}, whose times overlap"]
    clash = put_crew(service, plan, second["trip_id"], crew_body("浙B22222"))
    assert clash.status_code == 422 and "this driver is already on trip" in clash.text
    assert put_crew(service, plan, second["trip_id"], crew_body("浙B22222", first=720)).is_success


def test_documents_of_an_assigned_trip_carry_plate_drivers_and_phones(
    service: Service, plan: dict[str, Any]
) -> None:
    """Once assigned, the trip, its sign and its PDF manifest name plate, operator, drivers with
    phones and the escort; an employer sees the drivers' licences masked."""
    trip_id = plan["trips"][2 if len(plan["trips"]) > 2 else 0]["trip_id"]
    body = crew_body("浙B33333", first=740)
    assigned = put_crew(service, plan, trip_id, body)
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["sign"]["plate"] == "浙B33333"
    assert assigned.json()["sign"]["operator"] == "宁波长运包车公司"
    url = f"/api/plans/{plan['id']}/trips/{trip_id}/manifest.pdf"
    pdf = service.call("GET", url, "dispatcher")
    assert pdf.status_code == 200
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    flat = "".join(text.split())
    assert "浙B33333" in flat and "未分配" not in flat
    for driver in body["drivers"]:
        assert driver["name"] in flat and driver["phone"] in flat
    assert "王车长" in flat and "13912345678" in flat


def test_an_unassigned_trip_prints_as_unassigned(service: Service, plan: dict[str, Any]) -> None:
    trip_id = plan["trips"][-1]["trip_id"]
    service.call("DELETE", f"/api/plans/{plan['id']}/trips/{trip_id}/crew", "dispatcher")
    url = f"/api/plans/{plan['id']}/trips/{trip_id}/manifest.pdf"
    pdf = service.call("GET", url, "dispatcher")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    flat = "".join(text.split())
    # Signature lines are blanks to sign; the plate, drivers and escort read 未分配.
    assert "车牌号未分配" in flat and "驾驶员2名，未分配" in flat and "随车人员未分配" in flat


def test_the_operators_sheet_is_imported_all_or_nothing(
    service: Service, plan: dict[str, Any]
) -> None:
    """The template lists every trip; a sheet with one bad row saves nothing and names row,
    column, value and reason; the corrected sheet assigns every filled row."""
    template = service.call("GET", f"/api/plans/{plan['id']}/crews/template.xlsx", "dispatcher")
    assert template.status_code == 200
    book = load_workbook(io.BytesIO(template.content))
    sheet = book.active
    headers = [c.value for c in sheet[1]]
    trip_rows = list(sheet.iter_rows(min_row=2))
    assert len(trip_rows) == len(plan["trips"])
    column = {h: i for i, h in enumerate(headers)}
    for n, row in enumerate(trip_rows):
        values = {
            "车牌号": f"浙B9{n:04d}",
            "车型": "C53",
            "核定座位": "53",
            "经营者": "宁波长运包车公司",
            "驾驶员1姓名": f"甲{n}",
            "驾驶员1驾驶证号": make_id_number(800 + 2 * n, region="330282"),
            "驾驶员1手机号": f"1370000{2 * n:04d}",
            "驾驶员2姓名": f"乙{n}",
            "驾驶员2驾驶证号": make_id_number(801 + 2 * n, region="330282"),
            "驾驶员2手机号": f"1370000{2 * n + 1:04d}",
            "随车人员": '=HYPERLINK("x")',
            "随车人员手机号": "13912345678",
        }
        for key, value in values.items():
            row[column[key]].value = value
            row[column[key]].data_type = "s"
    trip_rows[1][column["驾驶员2手机号"]].value = "12345"

    def upload() -> Any:
        buffer = io.BytesIO()
        book.save(buffer)
        files = {"file": ("crews.xlsx", buffer.getvalue())}
        return service.call("POST", f"/api/plans/{plan['id']}/crews", "dispatcher", files=files)

    refused = upload()
    assert refused.status_code == 422
    assert refused.json()["problems"] == [
        {
            "row": 3,
            "column": "drivers[2].phone",
            "value": "12345",
            "reason": "is not a mainland mobile number (11 digits starting 13-19)",
            "candidates": [],
        }
    ]
    trips = service.call("GET", f"/api/plans/{plan['id']}/trips", "dispatcher").json()
    assert not any(t["crew"] and t["crew"]["plate"].startswith("浙B9") for t in trips)
    trip_rows[1][column["驾驶员2手机号"]].value = "13700009999"
    accepted = upload()
    assert accepted.status_code == 200, accepted.text
    assert sorted(t["crew"]["plate"] for t in accepted.json()) == sorted(
        f"浙B9{n:04d}" for n in range(len(trip_rows))
    )
    assert all(t["crew"]["escort_name"] == '=HYPERLINK("x")' for t in accepted.json())


def test_hand_changes_keep_the_charter_sign_rule(service: Service) -> None:
    """Once the fleet says C53 belongs to an operator registered in 余姚, a move onto a 慈溪 ->
    home trip is refused (409) and so is a crew of that operator (422), each naming the trip,
    the counties and the operator, in Chinese when asked; a crew of an operator registered at
    one end (here the season's default, 宁波) is taken."""
    season = "sign-2026"
    open_season(service, season)
    rows = [
        worker_row(
            81, company_id="ALPHA", home="341221", earliest="2026-02-06", latest="2026-02-06"
        ),
        worker_row(82, company_id="ALPHA", home="341221", earliest="2026-02-07"),
    ]
    answer = service.call("POST", f"/api/workers?season={season}", "dispatcher", json=rows)
    assert answer.status_code == 200, answer.text
    keys = {w["worker_id"]: str(w["id"]) for w in answer.json()["workers"]}
    result = service.run_plan(season)
    assert result["status"] == "succeeded", result["message"]
    trips = service.call("GET", f"/api/plans/{result['id']}/trips", "dispatcher").json()
    seat_of = {p["worker"]: t["trip_id"] for t in trips for p in t["passengers"]}
    target = seat_of[keys["W0082"]]
    assert seat_of[keys["W0081"]] != target
    yuyao = {
        "vehicle_type": "C53",
        "seats": 53,
        "count": 20,
        "cost_per_km": 8.0,
        "fixed_cost": 1500,
        "operator": "余姚公运",
        "registered": "330281",
    }
    fleet = service.call("POST", f"/api/fleet?season={season}", "dispatcher", json=[yuyao])
    assert fleet.status_code == 200, fleet.text
    url = f"/api/plans/{result['id']}/moves"
    move = {"worker": keys["W0081"], "to_trip": target}
    refused = service.call("POST", url, "dispatcher", json=move)
    assert refused.status_code == 409, refused.text
    detail = refused.json()["detail"]
    assert f"trip {target} runs from 慈溪市 to 临泉县" in detail and "余姚公运" in detail
    zh = service.client.post(
        url, json=move, headers={**service.headers("dispatcher"), "Accept-Language": "zh"}
    )
    assert zh.status_code == 409
    assert f"车次 {target} 从慈溪市开往临泉县" in zh.json()["detail"]

    crew = {**crew_body("浙B66666", first=780), "operator": "余姚公运"}
    answer = put_crew(service, {"id": result["id"]}, target, crew)
    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["problems"]
    assert problem["column"] == "operator" and problem["value"] == "余姚公运"
    assert problem["reason"].startswith(f"charter sign: trip {target} runs from 慈溪市 to 临泉县")
    assert put_crew(
        service, {"id": result["id"]}, target, crew_body("浙B66666", first=780)
    ).is_success
