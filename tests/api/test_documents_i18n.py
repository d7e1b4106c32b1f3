"""The papers in the reader's language through the one catalogue: an English manifest, trip
sheet and statement carry no Chinese but names (and the legal titles' Chinese in brackets), the
default is the Chinese of before, the CSV files keep their headings for the programs that read
them, and the service, the pages and the command line each pick the language."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from pypdf import PdfReader

from api.documents import render_plan
from api.documents.manifest import (
    MANIFEST_COLUMNS,
    manifest_csv_text,
    manifest_pdf_bytes,
    manifest_xlsx_bytes,
    read_manifest_xlsx,
)
from api.documents.statement import statement_pdf_bytes, statement_xlsx_bytes
from api.documents.trip_sheet import sign_fields, timetable_rows, trip_sheet_pdf_bytes
from api.i18n import document_locale
from optimizer.costs import season_costs
from optimizer.geography.distance import GreatCircleProvider
from tests.api.conftest import Service, open_season, worker_row
from tests.maps import fixtures

LEGAL = ("旅客名单", "包车客运标志牌")


def pdf_text(content: bytes) -> str:
    """The PDF's text, a Chinese name the table wrapped over two lines joined again."""
    text = "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages)
    return re.sub(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])", "", text)


def xlsx_text(content: bytes) -> str:
    book = load_workbook(io.BytesIO(content))
    cells = [sheet.title for sheet in book.worksheets]
    for sheet in book.worksheets:
        cells += [sheet.oddFooter.left.text or "", sheet.oddFooter.right.text or ""]
        cells += [str(v) for row in sheet.iter_rows(values_only=True) for v in row if v]
    return "\n".join(cells)


def test_an_english_manifest_has_no_chinese_but_names() -> None:
    scenario = fixtures.scenario()
    for trip in fixtures.plan().trips:
        pdf = pdf_text(manifest_pdf_bytes(trip, scenario, "en"))
        xlsx = xlsx_text(manifest_xlsx_bytes(trip, scenario, "en"))
        for text in (pdf, xlsx):
            assert fixtures.cjk_besides_names(text, LEGAL) == set(), trip.trip_id
            assert "Passenger list (旅客名单)" in text
            assert "Seat no." in text and "Pickup point" in text
        assert "page 1 of 1" in pdf and "unassigned" in pdf
        chinese = pdf_text(manifest_pdf_bytes(trip, scenario))
        assert "座位号" in chinese and "第 1 页 / 共 1 页" in chinese and "Seat no." not in chinese


def test_an_english_workbook_reads_back_like_the_chinese_one(tmp_path: Path) -> None:
    scenario = fixtures.scenario()
    trip = fixtures.guizhou_trip()
    rows = {}
    for locale in ("zh_CN", "en"):
        path = tmp_path / f"{locale}.xlsx"
        path.write_bytes(manifest_xlsx_bytes(trip, scenario, locale))
        rows[locale] = read_manifest_xlsx(path)
    assert rows["en"] == rows["zh_CN"]
    assert len(rows["en"]) == len(trip.passengers)


def test_an_english_trip_sheet_names_the_sign_in_both_languages() -> None:
    scenario = fixtures.scenario()
    trip = fixtures.guizhou_trip()
    text = pdf_text(trip_sheet_pdf_bytes(trip, scenario, "en"))
    assert fixtures.cjk_besides_names(text, LEGAL) == set()
    assert "Charter coach sign (包车客运标志牌)" in text
    labels = [label for label, _value in sign_fields(trip, scenario, "en")]
    assert labels[:3] == ["From", "To", "Via"]
    assert dict(sign_fields(trip, scenario, "en"))["Plate no."] == "unassigned"
    assert dict(sign_fields(trip, scenario))["车牌号"] == "未分配"
    header, *rows = timetable_rows(trip, scenario, "en")
    assert header[1:4] == ["Place", "Kind", "Arrives"]
    assert "night park 02:00-05:00" in [row[2] for row in rows]
    assert "包车客运行程单" in pdf_text(trip_sheet_pdf_bytes(trip, scenario))


def test_an_english_statement_has_no_chinese_but_the_company() -> None:
    plan = fixtures.plan()
    costs = season_costs(plan.trips)
    statement = costs.companies[0]
    name = next(c.name for c in fixtures.scenario().companies if c.company_id == "C1")
    for content in (
        pdf_text(statement_pdf_bytes(statement, costs, plan.trips, name, "en")),
        xlsx_text(statement_xlsx_bytes(statement, costs, plan.trips, name, "en")),
    ):
        assert fixtures.cjk_besides_names(content) == set()
        assert "Charter cost statement" in content and "Passenger-km" in content
    chinese = pdf_text(statement_pdf_bytes(statement, costs, plan.trips, name))
    assert "包车费用结算单" in chinese and "人公里" in chinese


def test_an_english_render_keeps_the_csv_files_as_programs_read_them(tmp_path: Path) -> None:
    plan = fixtures.plan()
    scenario = fixtures.scenario()
    provider = GreatCircleProvider()
    english = render_plan(plan, scenario, tmp_path / "en", provider, locale="en")
    chinese = render_plan(plan, scenario, tmp_path / "zh", provider)
    for path in english.all():
        if path.suffix == ".csv":
            other = chinese.out_dir / path.relative_to(english.out_dir)
            assert path.read_bytes() == other.read_bytes(), path.name
    trip = plan.trips[0]
    header = next(csv.reader(io.StringIO(manifest_csv_text(trip, scenario))))
    assert header == [label for _key, label in MANIFEST_COLUMNS]
    assert english.overview is not None
    page = english.overview.read_text(encoding="utf-8")
    assert "Departure date" in page and "发车日期" not in page
    assert "Passenger list (旅客名单)" in pdf_text(english.manifests[0].read_bytes())


def test_the_language_of_a_paper() -> None:
    assert document_locale() == "zh_CN"
    assert document_locale(None, "en-US,en;q=0.9") == "en"
    assert document_locale(None, "zh-CN,zh;q=0.9,en;q=0.8") == "zh_CN"
    assert document_locale(None, "*") == "zh_CN"
    assert document_locale("en", "zh-CN") == "en"
    assert document_locale("zh", "en") == "zh_CN"


def _get(service: Service, url: str, **headers: str) -> Any:
    response = service.client.request(
        "GET", url, headers={**service.headers("dispatcher"), **headers}
    )
    assert response.status_code == 200, response.text
    return response


def test_the_service_sends_papers_and_maps_in_the_language_asked_for(service: Service) -> None:
    open_season(service, "lang-2026")
    people = [worker_row(n, company_id="ALPHA") for n in range(1, 21)]
    assert service.call("POST", "/api/workers?season=lang-2026", "dispatcher", json=people)
    plan = service.run_plan("lang-2026")
    base = f"/api/plans/{plan['id']}"
    trip_id = service.call("GET", f"{base}/trips", "dispatcher").json()[0]["trip_id"]

    default = pdf_text(_get(service, f"{base}/trips/{trip_id}/manifest.pdf").content)
    asked = pdf_text(_get(service, f"{base}/trips/{trip_id}/manifest.pdf?lang=en").content)
    header = pdf_text(
        _get(service, f"{base}/trips/{trip_id}/manifest.pdf", **{"Accept-Language": "en"}).content
    )
    assert "座位号" in default and "Seat no." not in default
    assert "Seat no." in asked and "Seat no." in header and "座位号" not in asked

    sheet = pdf_text(_get(service, f"{base}/trips/{trip_id}/sheet.pdf?lang=en").content)
    assert "Charter coach sign (包车客运标志牌)" in sheet
    statement = pdf_text(_get(service, f"{base}/costs/ALPHA.pdf?lang=en").content)
    assert "Charter cost statement" in statement and "包车费用结算单" not in statement
    workbook = xlsx_text(_get(service, f"{base}/trips/{trip_id}/manifest.xlsx?lang=en").content)
    assert "Full name" in workbook and "姓名" not in workbook

    trip_map = _get(service, f"{base}/trips/{trip_id}/map.html?lang=en").text
    assert "Pickup point" in trip_map
    assert "Departure date" in _get(service, f"{base}/map.html?lang=en").text
    assert "Departure date" not in _get(service, f"{base}/map.html").text

    refused = service.call("GET", f"{base}/map.html?lang=<script>", "dispatcher")
    assert refused.status_code == 422


def test_the_pages_send_papers_and_maps_in_the_users_language(service: Service) -> None:
    from tests.web.conftest import Browser

    open_season(service, "pages-lang-2026")
    people = [worker_row(n, company_id="ALPHA") for n in range(1, 11)]
    assert service.call("POST", "/api/workers?season=pages-lang-2026", "dispatcher", json=people)
    plan = service.run_plan("pages-lang-2026")
    trip_id = service.call("GET", f"/api/plans/{plan['id']}/trips", "dispatcher").json()[0][
        "trip_id"
    ]
    browser = Browser(service)
    assert browser.sign_in("dispatcher").status_code == 303
    sheet = f"/pages/plans/{plan['id']}/trips/{trip_id}/sheet.pdf"
    assert "包车客运行程单" in pdf_text(browser.client.get(sheet).content)
    assert "座位号" in pdf_text(
        browser.client.get(f"/pages/plans/{plan['id']}/trips/{trip_id}/manifest.pdf").content
    )
    browser.client.get("/lang/en?next=/")
    assert "Charter trip sheet" in pdf_text(browser.client.get(sheet).content)
    manifest = browser.client.get(f"/pages/plans/{plan['id']}/trips/{trip_id}/manifest.pdf")
    assert "Seat no." in pdf_text(manifest.content)
    page = browser.client.get(f"/d/plans/{plan['id']}/map")
    assert page.status_code == 200 and "Departure date" in page.text


def test_the_command_line_renders_in_its_language(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from api.cli import app
    from api.cli.text import set_locale
    from optimizer.write import write_plan
    from tests.api.test_render_cli import write_scenario_folder

    scenario = fixtures.scenario()
    scenario_dir = write_scenario_folder(scenario, tmp_path / "scenario-in")
    plan_dir = Path(write_plan(fixtures.plan(), scenario, tmp_path / "plan"))
    base = ["render", str(plan_dir), "--scenario", str(scenario_dir), "--provider", "great-circle"]
    try:
        for lang, label in (("zh", "发车日期"), ("en", "Departure date")):
            result = CliRunner().invoke(app, ["--lang", lang, *base])
            assert result.exit_code == 0, result.output
            assert label in (plan_dir / "map.html").read_text(encoding="utf-8")
            sheet = pdf_text((plan_dir / "trip_sheets" / "T0129-01.pdf").read_bytes())
            assert ("Charter trip sheet" in sheet) == (lang == "en")
    finally:
        set_locale(None)


def test_the_workers_sms_are_chinese_unless_asked_and_the_list_keeps_its_codes() -> None:
    from api.documents.notices import worker_notices

    plan = fixtures.plan()
    scenario = fixtures.scenario()
    chinese = worker_notices(plan, scenario, contact_phone="0574-63012345")
    english = worker_notices(plan, scenario, contact_phone="0574-63012345", locale="en")
    assert [r["worker_id"] for r in english] == [r["worker_id"] for r in chinese]
    for zh, en in zip(chinese, english, strict=True):
        assert "您好" in zh["message"] and "Dear " in en["message"]
        assert fixtures.cjk_besides_names(en["message"], ("春运包车",)) == set(), en["message"]
        # The coded cells an SMS gateway or an employer's program reads stay as they are.
        assert {k: v for k, v in en.items() if k != "message"} == {
            k: v for k, v in zh.items() if k != "message"
        }
    assert any("no seat could be found" in r["message"] for r in english)
