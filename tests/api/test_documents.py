"""Manifests, trip sheets and notices: readable Chinese, embedded fonts, exact round trips."""

from __future__ import annotations

import csv
import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from api.documents import (
    manifest_csv_text,
    manifest_pdf_bytes,
    manifest_rows,
    manifest_xlsx_bytes,
    notices_by_company,
    read_manifest_csv,
    read_manifest_xlsx,
    render_plan,
    trip_sheet_pdf_bytes,
    worker_notices,
    write_manifest_csv,
    write_manifest_pdf,
    write_manifest_xlsx,
    write_trip_sheet_pdf,
)
from api.documents.fonts import FALLBACK_FONT_NAME, markup, missing_characters
from optimizer.geography.distance import GreatCircleProvider
from optimizer.model import Passenger
from tests.maps import fixtures

PDFTOPPM = shutil.which("pdftoppm")
PDFFONTS = shutil.which("pdffonts")


@pytest.fixture(scope="module")
def scenario():  # type: ignore[no-untyped-def]
    return fixtures.scenario()


def trip_names(trip, scenario) -> list[str]:  # type: ignore[no-untyped-def]
    workers = {w.worker_id: w for w in scenario.workers}
    return [workers[p.worker_id].name for p in trip.passengers]


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def pdf_fonts(path: Path) -> dict[str, bool]:
    """Every font the PDF's pages use, by base name, and whether its program is embedded."""
    fonts: dict[str, bool] = {}
    for page in PdfReader(path).pages:
        resources = page["/Resources"].get_object()
        for font_ref in resources.get("/Font", {}).get_object().values():
            font = font_ref.get_object()
            descendants = font.get("/DescendantFonts")
            descriptor_owner = descendants[0].get_object() if descendants else font
            descriptor = descriptor_owner.get("/FontDescriptor")
            embedded = descriptor is not None and any(
                key in descriptor.get_object() for key in ("/FontFile", "/FontFile2", "/FontFile3")
            )
            fonts[str(font["/BaseFont"])] = embedded
    return fonts


STANDARD_14 = {"/Helvetica", "/Times-Roman", "/Courier", "/Symbol", "/ZapfDingbats"}


def test_manifest_rows_are_ordered_by_seat_with_masked_ids(scenario) -> None:  # type: ignore[no-untyped-def]
    """Rows follow seat order, a child's seat shows as a range, ID numbers are masked."""
    trip = fixtures.guizhou_trip()
    rows = manifest_rows(trip, scenario)
    assert [r["seat"] for r in rows] == ["1", "2", "3-4", "5", "6"]
    assert [r["name"] for r in rows] == ["龙云飞", "吴玥", "禄丽华", "禄小龙", "马骉"]
    workers = {w.worker_id: w for w in scenario.workers}
    for row in rows:
        full = workers[row["worker"]].id_number
        assert row["id_number"] == full[:4] + "*" * 10 + full[-4:]
        assert row["board_stop"] == "周巷客运站"
    assert rows[2]["alight_stop"] == "威宁县城" and rows[0]["alight_stop"] == "毕节市七星关区"
    assert rows[2]["party"] == "P-LU"
    assert rows[0]["company"] == "慈溪市华丰电器有限公司"


def test_manifest_pdf_text_has_every_passenger_and_no_full_id(scenario, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The PDF opens, its text has each Chinese name and the header, never a full ID number."""
    trip = fixtures.anhui_trip()
    path = write_manifest_pdf(trip, scenario, tmp_path / "m.pdf")
    reader = PdfReader(path)
    assert reader.pages[0].mediabox.width == pytest.approx(A4[0], abs=1)
    text = pdf_text(path)
    for name in trip_names(trip, scenario):
        assert name in text
    for needle in ("旅客名单", trip.trip_id, "2019-01-28", "07:30", "大型客车49座", "阜南县城"):
        assert needle in text
    for worker in scenario.workers:
        assert worker.id_number not in text


def test_pdf_fonts_are_embedded_and_cover_every_character(scenario, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """All text is in an embedded font that has a glyph for every name (no tofu anywhere)."""
    trip = fixtures.anhui_trip()
    for write in (write_manifest_pdf, write_trip_sheet_pdf):
        path = write(trip, scenario, tmp_path / f"{write.__name__}.pdf")
        fonts = pdf_fonts(path)
        assert any("WenQuanYi" in name for name in fonts)
        assert all(embedded for name, embedded in fonts.items() if name not in STANDARD_14), fonts
    everything = "".join(w.name for w in scenario.workers) + "".join(
        c.name for c in scenario.companies
    )
    assert missing_characters(everything) == set()


def test_the_embedding_check_catches_a_non_embedded_cid_font(tmp_path: Path) -> None:
    """Negative control: ReportLab's STSong-Light is reported as not embedded."""
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    path = tmp_path / "cid.pdf"
    canvas = Canvas(str(path), pagesize=A4)
    canvas.setFont("STSong-Light", 12)
    canvas.drawString(72, 720, "王喆")
    canvas.save()
    fonts = pdf_fonts(path)
    assert fonts["/STSong-Light"] is False
    assert not any("WenQuanYi" in name for name in fonts)


@pytest.mark.skipif(PDFTOPPM is None or PDFFONTS is None, reason="poppler-utils not installed")
def test_a_manifest_page_renders_to_png_without_font_trouble(scenario, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """pdftoppm renders the first page with no font warnings; pdffonts lists it embedded."""
    path = write_manifest_pdf(fixtures.guizhou_trip(), scenario, tmp_path / "m.pdf")
    fonts = subprocess.run(
        [PDFFONTS, str(path)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    cjk = [line for line in fonts if "WenQuanYi" in line]
    assert cjk and all(line.split()[-5] == "yes" for line in cjk)  # the "emb" column
    result = subprocess.run(
        [PDFTOPPM, "-r", "60", "-png", "-f", "1", "-l", "1", str(path), str(tmp_path / "page")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "font" not in result.stderr.lower(), result.stderr
    png = next(tmp_path.glob("page*.png"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 10_000


def test_manifest_xlsx_and_csv_round_trip(scenario, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Reading back the workbook and the CSV gives exactly the manifest rows (as text)."""
    trip = fixtures.guizhou_trip()
    rows = manifest_rows(trip, scenario)
    assert read_manifest_xlsx(write_manifest_xlsx(trip, scenario, tmp_path / "m.xlsx")) == rows
    assert read_manifest_csv(write_manifest_csv(trip, scenario, tmp_path / "m.csv")) == rows
    assert (tmp_path / "m.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_trip_sheet_lists_sign_data_and_every_rest_with_the_night_park(
    scenario, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The sheet carries origin, destination, via, crew, distance, validity and all rests."""
    trip = fixtures.guizhou_trip()
    # Table cells wrap, so compare without white space.
    text = re.sub(r"\s", "", pdf_text(write_trip_sheet_pdf(trip, scenario, tmp_path / "s.pdf")))
    for needle in (
        "包车客运标志牌",
        "周巷客运站",
        "威宁县城",
        "毕节市七星关区",
        "3 名",
        "1,885 km",
        "2019-01-29 至 2019-01-30",
        "慈溪公运",
        "夜间停车 02:00-05:00",
    ):
        assert re.sub(r"\s", "", needle) in text, needle
    for stop in trip.stops:
        assert stop.name in text


def test_every_worker_gets_one_short_notice(scenario) -> None:  # type: ignore[no-untyped-def]
    """One SMS per registered worker: the seated with time, gate, coach and seat; the rest why."""
    plan = fixtures.plan()
    rows = worker_notices(plan, scenario, contact_phone="0574-63012345")
    assert sorted(r["worker_id"] for r in rows) == sorted(w.worker_id for w in scenario.workers)
    by_id = {r["worker_id"]: r for r in rows}
    lu = by_id["W011"]["message"]
    assert lu.startswith("【春运包车】禄丽华您好")
    for part in ("1月29日14:00发车", "13:40前到周巷客运站上车", "车次T0129-01", "座位3-4号"):
        assert part in lu
    assert "0574-63012345" in lu
    unserved = by_id["W014"]
    assert unserved["status"] == "未安排" and "同方向人数不足" in unserved["message"]
    assert all(len(r["message"]) <= 140 for r in rows)
    for row in rows:
        assert not re.search(r"\d{17}[\dX]", row["message"])


def test_notices_split_per_employer(scenario) -> None:  # type: ignore[no-untyped-def]
    """Each employer's list holds exactly its own workers."""
    rows = worker_notices(fixtures.plan(), scenario)
    grouped = notices_by_company(rows)
    assert set(grouped) == {"C1", "C2"}
    for company, items in grouped.items():
        assert {r["company_id"] for r in items} == {company}
    assert sum(len(v) for v in grouped.values()) == len(scenario.workers)


def test_render_plan_writes_the_whole_folder(scenario, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """map.html, trip maps, manifests in three formats, trip sheets and notices are all written."""
    plan = fixtures.plan()
    written = render_plan(plan, scenario, tmp_path / "out", GreatCircleProvider())
    out = tmp_path / "out"
    expected = {"map.html", "notices.csv", "notices/C1.csv", "notices/C2.csv"}
    for trip in plan.trips:
        expected |= {
            f"trips/{trip.trip_id}.html",
            f"manifests/{trip.trip_id}.pdf",
            f"manifests/{trip.trip_id}.xlsx",
            f"manifests/{trip.trip_id}.csv",
            f"trip_sheets/{trip.trip_id}.pdf",
        }
    found = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert found == expected
    assert {str(p.relative_to(out)) for p in written.all()} == expected


def test_unknown_passenger_keeps_its_row(scenario) -> None:  # type: ignore[no-untyped-def]
    """A passenger missing from the scenario is listed by id rather than dropped."""
    trip = fixtures.anhui_trip()
    trip = dataclasses.replace(
        trip, passengers=(*trip.passengers, Passenger("W999", "C9", 9, 0, 5))
    )
    rows = manifest_rows(trip, scenario)
    assert rows[-1]["worker"] == "W999" and rows[-1]["name"] == ""
    assert rows[-1]["company"] == "C9"


def test_in_memory_documents_match_the_files(scenario, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The bytes variants (for download responses) hold the same documents as the files."""
    trip = fixtures.anhui_trip()
    pdf = tmp_path / "m.pdf"
    pdf.write_bytes(manifest_pdf_bytes(trip, scenario))
    assert all(name in pdf_text(pdf) for name in trip_names(trip, scenario))
    xlsx = tmp_path / "m.xlsx"
    xlsx.write_bytes(manifest_xlsx_bytes(trip, scenario))
    assert read_manifest_xlsx(xlsx) == manifest_rows(trip, scenario)
    csv_path = tmp_path / "m.csv"
    csv_path.write_text(manifest_csv_text(trip, scenario), encoding="utf-8")
    assert read_manifest_csv(csv_path) == manifest_rows(trip, scenario)
    sheet = tmp_path / "s.pdf"
    sheet.write_bytes(trip_sheet_pdf_bytes(trip, scenario))
    assert "包车客运标志牌" in pdf_text(sheet)


def test_a_character_the_font_lacks_falls_back_instead_of_vanishing() -> None:
    """An extension-B character (not in the shipped font) is set in the CID fallback font."""
    assert missing_characters("吉𠮷") == {"𠮷"}
    assert markup("吉𠮷<") == f'吉<font name="{FALLBACK_FONT_NAME}">𠮷</font>&lt;'


def test_a_re_render_leaves_no_paper_of_a_vanished_trip(scenario, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Rendering a plan with one trip fewer removes that trip's old maps and papers."""
    plan = fixtures.plan()
    out = tmp_path / "out"
    render_plan(plan, scenario, out, GreatCircleProvider())
    (out / "notes.txt").write_text("the dispatcher's own file", encoding="utf-8")
    render_plan(plan.replace(trips=plan.trips[:1]), scenario, out, GreatCircleProvider())
    gone = plan.trips[1].trip_id
    assert not list(out.rglob(f"{gone}.*"))
    assert (out / "manifests" / f"{plan.trips[0].trip_id}.pdf").is_file()
    assert (out / "notes.txt").is_file()


def test_a_formula_in_a_name_stays_text_in_spreadsheets(scenario, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A name starting with "=" is never run as a formula by Excel, and still reads back."""
    evil = '=HYPERLINK("http://x","点我")'
    workers = tuple(
        dataclasses.replace(w, name=evil) if w.worker_id == "W009" else w for w in scenario.workers
    )
    changed = scenario.replace(workers=workers)
    trip = fixtures.guizhou_trip()
    xlsx = write_manifest_xlsx(trip, changed, tmp_path / "m.xlsx")
    cells = [c for row in load_workbook(xlsx)["旅客名单"].iter_rows() for c in row]
    assert [c.data_type for c in cells if c.value == evil] == ["s"]
    csv_path = write_manifest_csv(trip, changed, tmp_path / "m.csv")
    assert "'=HYPERLINK" in csv_path.read_text(encoding="utf-8-sig")
    assert read_manifest_csv(csv_path)[0]["name"] == evil
    assert read_manifest_xlsx(xlsx)[0]["name"] == evil


def test_an_empty_plan_still_tells_the_unserved(scenario, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """With no trip at all, the map and the notices to the unserved are still written."""
    plan = fixtures.plan().replace(trips=())
    written = render_plan(plan, scenario, tmp_path / "out", GreatCircleProvider())
    assert written.overview is not None and written.overview.is_file()
    assert written.manifests == [] and written.trip_sheets == []
    rows = read_notices(tmp_path / "out" / "notices.csv")
    assert [r["登记编号"] for r in rows] == ["W014"]


def test_return_trips_are_announced_as_such(scenario) -> None:  # type: ignore[no-untyped-def]
    """Notices of a return season speak of 返岗包车."""
    rows = worker_notices(fixtures.plan().replace(direction="return"), scenario)
    assert all("返岗包车" in r["message"] for r in rows)


def read_notices(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))
