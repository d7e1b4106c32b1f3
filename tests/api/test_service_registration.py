"""Registration: JSON and CSV/XLSX uploads, validated whole, all or nothing, no duplicates."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pandas as pd
import pytest

from tests.api.conftest import Service, make_id_number, open_season, worker_row

SEASON = "reg-2026"
CHINESE = {
    "worker_id": "工号",
    "name": "姓名",
    "id_number": "身份证号",
    "phone": "手机号",
    "home": "家乡地址",
    "earliest": "最早出发日期",
    "latest": "最晚出发日期",
    "party": "同行编号",
    "seats": "座位数",
}


@pytest.fixture(scope="module")
def svc(service: Service) -> Service:
    open_season(service, SEASON, companies=[("ALPHA", "阿尔法电器"), ("BETA", "贝塔制造")])
    service.add_user("alpha", "employer", "ALPHA")
    service.add_user("beta", "employer", "BETA")
    return service


def csv_file(rows: list[dict[str, Any]], *, chinese: bool = False) -> bytes:
    frame = pd.DataFrame(rows)
    if chinese:
        frame = frame.rename(columns=CHINESE)
    return frame.to_csv(index=False).encode("utf-8")


def xlsx_file(rows: list[dict[str, Any]]) -> bytes:
    buffer = io.BytesIO()
    pd.DataFrame(rows).rename(columns=CHINESE).astype(str).to_excel(buffer, index=False)
    return buffer.getvalue()


def upload(svc: Service, user: str, name: str, content: bytes, **params: str) -> Any:
    query = "&".join(f"{k}={v}" for k, v in {"season": SEASON, **params}.items())
    return svc.call("POST", f"/api/workers/upload?{query}", user, files={"file": (name, content)})


def count(svc: Service, company: str | None = None) -> int:
    url = f"/api/workers?season={SEASON}" + (f"&company_id={company}" if company else "")
    response = svc.call("GET", url, "dispatcher")
    assert response.status_code == 200
    return len(response.json())


def test_json_registration_one_or_many(svc: Service) -> None:
    """POST /api/workers takes one object or a list; the employer's rows are its company's."""
    one = svc.call("POST", f"/api/workers?season={SEASON}", "alpha", json=worker_row(1))
    assert one.status_code == 200, one.text
    assert one.json()["created"] == 1
    many = svc.call(
        "POST",
        f"/api/workers?season={SEASON}",
        "alpha",
        json=[worker_row(2, company_id="BETA"), worker_row(3)],
    )
    assert many.status_code == 200, many.text
    assert [w["company_id"] for w in many.json()["workers"]] == ["ALPHA", "ALPHA"]
    assert count(svc, "BETA") == 0


def test_upload_csv_twice_updates_instead_of_duplicating(svc: Service) -> None:
    """The same file twice creates each worker once; the second upload updates them."""
    rows = [worker_row(n) for n in range(10, 15)]
    first = upload(svc, "beta", "workers.csv", csv_file(rows))
    assert first.status_code == 200, first.text
    assert (first.json()["created"], first.json()["updated"]) == (5, 0)
    before = count(svc)
    rows[0]["phone"] = "13700000000"
    second = upload(svc, "beta", "workers.csv", csv_file(rows))
    assert (second.json()["created"], second.json()["updated"]) == (0, 5)
    assert count(svc) == before
    [worker] = [
        w
        for w in svc.call("GET", f"/api/workers?season={SEASON}", "dispatcher").json()
        if w["worker_id"] == "W0010"
    ]
    assert worker["phone"] == "13700000000"


def test_upload_xlsx_with_chinese_headers(svc: Service) -> None:
    """An XLSX with the Chinese template headers registers like a CSV."""
    rows = [worker_row(n) for n in range(20, 23)]
    response = upload(svc, "beta", "名单.xlsx", xlsx_file(rows))
    assert response.status_code == 200, response.text
    assert {w["company_id"] for w in response.json()["workers"]} == {"BETA"}
    assert {w["earliest"] for w in response.json()["workers"]} == {"2026-02-06"}


def test_chinese_csv_in_gb18030(svc: Service) -> None:
    """A CSV saved by Excel on Chinese Windows (GB18030) is read correctly."""
    rows = [worker_row(30, name="李四")]
    content = pd.DataFrame(rows).rename(columns=CHINESE).to_csv(index=False).encode("gb18030")
    response = upload(svc, "beta", "workers.csv", content)
    assert response.status_code == 200, response.text
    assert response.json()["workers"][0]["name"] == "李四"


def test_every_bad_row_reported_and_nothing_written(svc: Service) -> None:
    """A file with every kind of bad row is rejected whole, each bad row listed once or more."""
    before = count(svc)
    bad_id = make_id_number(41)[:-1] + ("0" if make_id_number(41)[-1] != "0" else "1")
    rows = [
        worker_row(40),  # good row: must not be saved either
        worker_row(41, id_number=bad_id),  # check digit
        worker_row(42, id_number="3401211990"),  # length
        worker_row(43, phone="0574-6301234"),  # landline
        worker_row(44, home="火星"),  # no county
        worker_row(45, earliest="2026-01-20"),  # before the season
        worker_row(46, latest="2026-03-01"),  # after the season
        worker_row(47, earliest="2026-02-10", latest="2026-02-08"),  # reversed
        worker_row(48, earliest="tomorrow"),  # not a date
        worker_row(49, seats="0"),  # seats
        worker_row(50, name=""),  # name missing
        worker_row(51, worker_id="W0040"),  # duplicate worker_id
        worker_row(52, id_number=make_id_number(40)),  # same person twice
    ]
    response = upload(svc, "alpha", "bad.csv", csv_file(rows))
    assert response.status_code == 422, response.text
    body = response.json()
    assert "nothing was saved" in body["detail"]
    reported = {(p["row"], p["column"]) for p in body["problems"]}
    expected = {
        (3, "id_number"),
        (4, "id_number"),
        (5, "phone"),
        (6, "home"),
        (7, "earliest"),
        (8, "latest"),
        (9, "latest"),
        (10, "earliest"),
        (11, "seats"),
        (12, "name"),
        (13, "worker_id"),
        (14, "id_number"),
    }
    assert expected <= reported
    assert all(p["reason"] for p in body["problems"])
    assert 2 not in {p["row"] for p in body["problems"]}
    assert count(svc) == before


def test_json_rows_numbered_from_one(svc: Service) -> None:
    """JSON registrations report bad items by position, starting at 1."""
    response = svc.call(
        "POST",
        f"/api/workers?season={SEASON}",
        "alpha",
        json=[worker_row(60), worker_row(61, phone="12345")],
    )
    assert response.status_code == 422
    assert [(p["row"], p["column"]) for p in response.json()["problems"]] == [(2, "phone")]


def test_dispatcher_rows_need_a_known_company(svc: Service) -> None:
    """A dispatcher's row naming no known company is a bad row; ?company_id= sets it."""
    rejected = svc.call(
        "POST",
        f"/api/workers?season={SEASON}",
        "dispatcher",
        json=[worker_row(70, company_id="NOPE")],
    )
    assert rejected.status_code == 422
    assert rejected.json()["problems"][0]["column"] == "company_id"
    accepted = svc.call(
        "POST", f"/api/workers?season={SEASON}&company_id=BETA", "dispatcher", json=[worker_row(70)]
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["workers"][0]["company_id"] == "BETA"


def test_employer_cannot_take_over_another_companys_worker(svc: Service) -> None:
    """Re-registering a person another employer registered is refused, not moved."""
    svc.call("POST", f"/api/workers?season={SEASON}", "beta", json=worker_row(80))
    response = svc.call("POST", f"/api/workers?season={SEASON}", "alpha", json=worker_row(80))
    assert response.status_code == 422
    reason = response.json()["problems"][0]["reason"]
    # The answer neither names the other company nor says another employer has the person.
    assert "ask the dispatcher" in reason and "employer" not in reason and "BETA" not in reason
    assert "贝塔" not in response.text
    assert response.json()["problems"][0]["value"] != make_id_number(80)  # masked


def test_template_round_trip(svc: Service) -> None:
    """The template: headers only on the data sheet (an untouched template registers nobody),
    every data row formatted (text for ID numbers and phones, dates as dates), an instructions
    sheet; filled in as a clerk would (an ID number typed into row 3, dates as dates), it
    uploads cleanly."""
    from openpyxl import load_workbook

    template = svc.call("GET", "/api/workers/template.xlsx", "alpha")
    assert template.status_code == 200
    frame = pd.read_excel(io.BytesIO(template.content), dtype=str)
    assert list(frame.columns)[:3] == ["工号", "姓名", "身份证号"]
    assert frame.dropna(how="all").empty
    book = load_workbook(io.BytesIO(template.content))
    sheet = book.worksheets[0]
    headers = [c.value for c in sheet[1]]
    assert "填写说明" in book.sheetnames
    for row in (2, 3, 500):
        assert sheet.cell(row, headers.index("身份证号") + 1).number_format == "@"
        assert sheet.cell(row, headers.index("手机号") + 1).number_format == "@"
        assert sheet.cell(row, headers.index("最早出发日期") + 1).number_format == "yyyy-mm-dd"
    refused = upload(svc, "alpha", "template.xlsx", template.content)
    assert refused.status_code == 422
    for row, serial in ((2, 95), (3, 96)):
        values = worker_row(serial)
        for column, key in (
            ("工号", "worker_id"),
            ("姓名", "name"),
            ("身份证号", "id_number"),
            ("手机号", "phone"),
            ("家乡地址", "home"),
        ):
            sheet.cell(row, headers.index(column) + 1).value = values[key]
        sheet.cell(row, headers.index("最早出发日期") + 1).value = dt.datetime(2026, 2, 6)
        sheet.cell(row, headers.index("最晚出发日期") + 1).value = dt.datetime(2026, 2, 10)
    buffer = io.BytesIO()
    book.save(buffer)
    response = upload(svc, "alpha", "template.xlsx", buffer.getvalue())
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 2


def test_closed_season_refuses_registration(svc: Service) -> None:
    """After the dispatcher closes the season, registrations get 409."""
    open_season(svc, "closed-2026")
    assert (
        svc.call(
            "PATCH", "/api/seasons/closed-2026", "dispatcher", json={"is_open": False}
        ).status_code
        == 200
    )
    response = svc.call(
        "POST",
        "/api/workers?season=closed-2026",
        "dispatcher",
        json=worker_row(90, company_id="ALPHA"),
    )
    assert response.status_code == 409
    assert "closed" in response.json()["detail"]


def test_unreadable_file_is_a_clear_error(svc: Service) -> None:
    """A file that is not CSV or XLSX gets a 422 naming the problem."""
    response = upload(svc, "alpha", "workers.pdf", b"%PDF-1.4")
    assert response.status_code == 422
    assert ".csv or .xlsx" in response.json()["detail"]


def test_ambiguous_home_lists_the_candidate_counties(svc: Service) -> None:
    """A home matching several counties (鼓楼) is a bad row carrying the candidates; a
    free-text home that names one county is resolved to its adcode."""
    pytest.importorskip("optimizer.geography.resolve")
    response = svc.call(
        "POST",
        f"/api/workers?season={SEASON}",
        "alpha",
        json=[worker_row(110, home="安徽阜阳临泉"), worker_row(111, home="鼓楼")],
    )
    assert response.status_code == 422
    [problem] = response.json()["problems"]
    assert (problem["row"], problem["column"], problem["value"]) == (2, "home", "鼓楼")
    assert any(c.startswith("320106") for c in problem["candidates"])
    assert any(c.startswith("350102") for c in problem["candidates"])
    fixed = svc.call(
        "POST",
        f"/api/workers?season={SEASON}",
        "alpha",
        json=[worker_row(110, home="安徽阜阳临泉"), worker_row(111, home="福建福州鼓楼")],
    )
    assert fixed.status_code == 200, fixed.text
    assert [w["home_adcode"] for w in fixed.json()["workers"]] == ["341221", "350102"]


def test_season_defaults_to_the_only_open_one(svc: Service) -> None:
    """Without ?season=, registration goes to the only open season; with two open, 409 asks."""
    for name in ("closed-2026",):
        svc.call("PATCH", f"/api/seasons/{name}", "dispatcher", json={"is_open": False})
    only = svc.call("POST", "/api/workers", "alpha", json=worker_row(120))
    assert only.status_code == 200, only.text
    assert only.json()["workers"][0]["season"] == SEASON
    open_season(svc, "second-2026")
    both = svc.call("POST", "/api/workers", "alpha", json=worker_row(121))
    assert both.status_code == 409
    assert "name one with ?season=NAME" in both.json()["detail"]
    svc.call("PATCH", "/api/seasons/second-2026", "dispatcher", json={"is_open": False})
