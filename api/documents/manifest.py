"""The passenger list (旅客名单) of one trip: rows, CSV, XLSX and a printable A4 PDF.

ID numbers are masked on every output (the crew checks the card against name and the visible
digits); phones are in full because the crew must be able to call a missing passenger.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from api.documents.context import (
    Names,
    drivers_text,
    escort_text,
    from_spreadsheet,
    plate_text,
    route_summary,
    seat_label,
    spreadsheet_safe,
    stop_kind,
)
from api.documents.pdf import CONTENT_WIDTH, build_pdf, grid_table, key_value_table, para, styles
from optimizer.identity import mask_id_number, normalize_phone
from optimizer.model import Scenario, Trip

# Row keys and their column headings, in print order. The CLI's and the service's CSV, XLSX and
# PDF manifests all use these columns, filled by `manifest_rows` (the one row builder).
MANIFEST_COLUMNS: tuple[tuple[str, str], ...] = (
    ("seat", "座位号"),
    ("name", "姓名"),
    ("id_number", "身份证号"),
    ("phone", "手机号"),
    ("company", "工作单位"),
    ("board_stop", "上车点"),
    ("alight_stop", "下车点"),
    ("party", "同行"),
    ("staff_number", "工号"),
    ("worker", "登记编号"),
    ("change", "变更"),
)
# A passenger seated after publishing (`Passenger.late`) is flagged on every manifest.
LATE_LABEL = "发布后新增"
PRINTED_KEYS = ("seat", "name", "id_number", "phone", "company", "board_stop", "alight_stop")
CONFIDENTIAL = "本名单含旅客个人信息，仅供本次运输核验使用，请妥善保管，不得外传。"


@dataclass(frozen=True)
class ManifestLine:
    """One passenger of a manifest, every field the printed and JSON manifests show.

    `worker` is the planner's key, `staff_number` the employer's 工号 (see `Worker`).
    """

    seat: int
    seat_count: int
    seat_label: str
    worker: str
    staff_number: str
    name: str
    id_number: str
    phone: str
    company_id: str
    company: str
    party: str
    board_stop: str
    board_time: dt.datetime | None
    alight_stop: str
    alight_adcode: str
    change: str = ""


def manifest_lines(trip: Trip, scenario: Scenario, *, full_ids: bool = False) -> list[ManifestLine]:
    """One line per passenger of `trip`, ordered by seat (the one manifest row builder).

    `id_number` is masked (first 4 and last 4 characters) unless `full_ids` (a dispatcher's
    audited download); phones are as the scenario holds them (the service masks them in the
    scenario it passes for a masked view). A passenger missing from the scenario's workers (a
    withdrawn registration) keeps its key and empty personal fields.
    """
    names = Names.of(scenario)
    lines = []
    for passenger in sorted(trip.passengers, key=lambda p: (p.seat <= 0, p.seat, p.worker_id)):
        worker = names.workers.get(passenger.worker_id)
        board = trip.stops[passenger.board_stop] if passenger.board_stop < len(trip.stops) else None
        alight = (
            trip.stops[passenger.alight_stop] if passenger.alight_stop < len(trip.stops) else None
        )
        lines.append(
            ManifestLine(
                seat=passenger.seat,
                seat_count=passenger.seat_count,
                seat_label=seat_label(passenger.seat, passenger.seat_count),
                worker=passenger.worker_id,
                staff_number=worker.staff_number if worker else "",
                name=worker.name if worker else "",
                id_number=(worker.id_number if full_ids else mask_id_number(worker.id_number))
                if worker
                else "",
                phone=normalize_phone(worker.phone) if worker else "",
                company_id=passenger.company_id,
                company=names.company(passenger.company_id),
                party=passenger.party or (worker.party if worker else ""),
                board_stop=names.stop(board) if board else "",
                board_time=board.depart if board else None,
                alight_stop=names.stop(alight) if alight else "",
                alight_adcode=(alight.adcode or "") if alight else "",
                change=LATE_LABEL if passenger.late else "",
            )
        )
    return lines


def manifest_rows(
    trip: Trip, scenario: Scenario, *, full_ids: bool = False
) -> list[dict[str, str]]:
    """The lines of `manifest_lines` as text, keyed like `MANIFEST_COLUMNS` (CSV, XLSX, PDF)."""
    return [
        {
            "seat": line.seat_label,
            "name": line.name,
            "id_number": line.id_number,
            "phone": line.phone,
            "company": line.company,
            "board_stop": line.board_stop,
            "alight_stop": line.alight_stop,
            "party": line.party,
            "staff_number": line.staff_number,
            "worker": line.worker,
            "change": line.change,
        }
        for line in manifest_lines(trip, scenario, full_ids=full_ids)
    ]


def manifest_header(trip: Trip, scenario: Scenario) -> list[tuple[str, str]]:
    """The header of a manifest as (label, value) pairs, in print order."""
    names = Names.of(scenario)
    origin, destination, via = route_summary(trip, names)
    people = sum(p.seat_count for p in trip.passengers)
    return [
        ("车次", trip.trip_id),
        ("发车日期", f"{trip.departure:%Y-%m-%d}"),
        ("发车时间", f"{trip.departure:%H:%M}"),
        ("车型", f"{trip.vehicle_type}（核定 {trip.seats} 座）"),
        ("车牌号", plate_text(trip)),
        ("驾驶员", drivers_text(trip)),
        ("随车人员", escort_text(trip)),
        ("线路", f"{origin} → {destination}"),
        ("途经", "、".join(via) if via else "无"),
        ("乘客", f"{len(trip.passengers)} 人，占 {people} 座"),
        ("里程", f"{trip.distance_km:,.0f} km"),
    ]


def _stop_lines(trip: Trip, scenario: Scenario) -> list[list[str]]:
    """Where people board and alight, numbered as on the trip sheet (rests are on the sheet)."""
    names = Names.of(scenario)
    rows = [["#", "停靠点", "类型", "到达", "出发", "上车", "下车"]]
    for index, stop in enumerate(trip.stops):
        if stop.kind == "rest":
            continue
        board = sum(p.seat_count for p in trip.passengers if p.board_stop == index)
        alight = sum(p.seat_count for p in trip.passengers if p.alight_stop == index)
        rows.append(
            [
                str(index + 1),
                names.stop(stop),
                stop_kind(stop),
                f"{stop.arrive:%m-%d %H:%M}",
                f"{stop.depart:%m-%d %H:%M}",
                str(board),
                str(alight),
            ]
        )
    return rows


def write_manifest_csv(trip: Trip, scenario: Scenario, path: str | Path) -> Path:
    """Write the manifest as UTF-8 CSV with a BOM (so Excel opens it) and Chinese headings."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8-sig", newline="") as handle:
        _write_csv(trip, scenario, handle)
    return target


def manifest_csv_bytes(trip: Trip, scenario: Scenario, *, full_ids: bool = False) -> bytes:
    """The manifest CSV as bytes (UTF-8 with BOM, formula-like cells quoted), for downloads."""
    buffer = io.StringIO()
    _write_csv(trip, scenario, buffer, full_ids=full_ids)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _write_csv(trip: Trip, scenario: Scenario, handle: TextIO, *, full_ids: bool = False) -> None:
    writer = csv.writer(handle)
    writer.writerow([label for _, label in MANIFEST_COLUMNS])
    for row in manifest_rows(trip, scenario, full_ids=full_ids):
        writer.writerow([spreadsheet_safe(row[key]) for key, _ in MANIFEST_COLUMNS])


def read_manifest_csv(path: str | Path) -> list[dict[str, str]]:
    """Rows of a manifest CSV written by `write_manifest_csv`, keyed like `manifest_rows`."""
    by_label = {label: key for key, label in MANIFEST_COLUMNS}
    with Path(path).open(encoding="utf-8-sig", newline="") as handle:
        return [
            {by_label[k]: from_spreadsheet(v) for k, v in row.items()}
            for row in csv.DictReader(handle)
        ]


def write_manifest_xlsx(
    trip: Trip, scenario: Scenario, path: str | Path, *, full_ids: bool = False
) -> Path:
    """Write the manifest as an Excel workbook set up to print on A4 (header block, then the list).

    Cells are text (seat "12-13", ID numbers) so Excel never turns them into numbers.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    _manifest_workbook(trip, scenario, full_ids=full_ids).save(target)
    return target


def _manifest_workbook(trip: Trip, scenario: Scenario, *, full_ids: bool = False) -> Workbook:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "旅客名单"
    thin = Side(style="thin", color="666666")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    width = len(MANIFEST_COLUMNS)

    sheet.cell(row=1, column=1, value=f"旅客名单  车次 {trip.trip_id}")
    sheet.cell(row=1, column=1).font = Font(size=16, bold=True)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    header = manifest_header(trip, scenario)
    row = 2
    for start in range(0, len(header), 3):
        for offset, (label, value) in enumerate(header[start : start + 3]):
            column = 1 + offset * 3
            sheet.cell(row=row, column=column, value=label).font = Font(bold=True)
            sheet.cell(row=row, column=column + 1, value=value)
        row += 1
    row += 1
    table_start = row
    for column, (_, label) in enumerate(MANIFEST_COLUMNS, start=1):
        cell = sheet.cell(row=row, column=column, value=label)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="EEEEEE")
        cell.border = border
    for record in manifest_rows(trip, scenario, full_ids=full_ids):
        row += 1
        for column, (key, _) in enumerate(MANIFEST_COLUMNS, start=1):
            cell = sheet.cell(row=row, column=column, value=record[key])
            # openpyxl would store a text starting with "=" as a formula: keep it text.
            cell.data_type = "s"
            cell.number_format = "@"
            cell.border = border
            cell.alignment = Alignment(vertical="center", wrap_text=key == "company")
    for column, size in enumerate((8, 10, 22, 14, 26, 16, 16, 8, 10, 10), start=1):
        sheet.column_dimensions[get_column_letter(column)].width = size
    sheet.freeze_panes = sheet.cell(row=table_start + 1, column=1)
    sheet.print_title_rows = f"{table_start}:{table_start}"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.oddFooter.left.text = CONFIDENTIAL
    sheet.oddFooter.right.text = "第 &P 页 / 共 &N 页"

    stops = workbook.create_sheet("停靠点")
    for line in _stop_lines(trip, scenario):
        stops.append(line)
    for column, size in enumerate((4, 24, 22, 13, 13, 6, 6), start=1):
        stops.column_dimensions[get_column_letter(column)].width = size
    return workbook


def read_manifest_xlsx(path: str | Path) -> list[dict[str, str]]:
    """Rows of a manifest workbook written by `write_manifest_xlsx`, keyed like `manifest_rows`."""
    sheet = load_workbook(path, read_only=True)["旅客名单"]
    by_label = {label: key for key, label in MANIFEST_COLUMNS}
    keys: list[str] | None = None
    rows: list[dict[str, str]] = []
    for values in sheet.iter_rows(values_only=True):
        if keys is None:
            if values and values[0] == MANIFEST_COLUMNS[0][1]:
                keys = [by_label[str(v)] for v in values if v is not None]
            continue
        rows.append({k: "" if v is None else str(v) for k, v in zip(keys, values, strict=False)})
    return rows


def manifest_story(trip: Trip, scenario: Scenario, *, full_ids: bool = False) -> list[Flowable]:
    """The manifest as ReportLab flowables (for embedding in a larger document)."""
    style = styles()
    rows = manifest_rows(trip, scenario, full_ids=full_ids)
    labels = dict(MANIFEST_COLUMNS)
    table_rows: list[list[Any]] = [[labels[k] for k in PRINTED_KEYS]]
    table_rows += [
        [
            f"{row[k]} {row['change']}" if k == "seat" and row["change"] else row[k]
            for k in PRINTED_KEYS
        ]
        for row in rows
    ]
    widths = [w * mm for w in (13, 19, 33, 24, 41, 26, 26)]
    scale = CONTENT_WIDTH / sum(widths)
    stop_rows = _stop_lines(trip, scenario)
    stop_widths = [w * mm for w in (8, 52, 34, 24, 24, 20, 20)]
    stop_scale = CONTENT_WIDTH / sum(stop_widths)
    return [
        para("旅客名单", style["title"]),
        para(f"车次 {trip.trip_id}　{trip.departure:%Y年%m月%d日 %H:%M} 发车", style["subtitle"]),
        Spacer(1, 4 * mm),
        key_value_table(manifest_header(trip, scenario), 2, style["cell"]),
        Spacer(1, 3 * mm),
        para("上下车站点（途中休息见行程单）", style["heading"]),
        grid_table(
            stop_rows,
            [w * stop_scale for w in stop_widths],
            style=style["cell"],
        ),
        Spacer(1, 3 * mm),
        para(f"乘客（{len(rows)} 人）", style["heading"]),
        grid_table(table_rows, [w * scale for w in widths], style=style["cell"]),
        Spacer(1, 6 * mm),
        para(
            f"应到 {len(rows)} 人，实到 ______ 人。　驾驶员签字：__________　"
            "随车人员签字：__________　发车核验人：__________",
            style["body"],
        ),
        Spacer(1, 2 * mm),
        para(CONFIDENTIAL, style["small"]),
    ]


def _manifest_pdf(
    trip: Trip, scenario: Scenario, target: Path | BinaryIO, *, full_ids: bool = False
) -> None:
    build_pdf(
        target,
        manifest_story(trip, scenario, full_ids=full_ids),
        title=f"旅客名单 {trip.trip_id}",
        footer=f"旅客名单 车次 {trip.trip_id} · {trip.departure:%Y-%m-%d} · 含个人信息，请妥善保管",
    )


def write_manifest_pdf(
    trip: Trip, scenario: Scenario, path: str | Path, *, full_ids: bool = False
) -> Path:
    """Write the manifest as an A4 portrait PDF with the CJK font embedded; returns the path."""
    target = Path(path)
    _manifest_pdf(trip, scenario, target, full_ids=full_ids)
    return target


def manifest_pdf_bytes(trip: Trip, scenario: Scenario) -> bytes:
    """The manifest PDF as bytes (for a download response)."""
    buffer = io.BytesIO()
    _manifest_pdf(trip, scenario, buffer)
    return buffer.getvalue()


def manifest_xlsx_bytes(trip: Trip, scenario: Scenario) -> bytes:
    """The manifest workbook as bytes (for a download response)."""
    buffer = io.BytesIO()
    _manifest_workbook(trip, scenario).save(buffer)
    return buffer.getvalue()


def manifest_csv_text(trip: Trip, scenario: Scenario) -> str:
    """The manifest CSV as text, without the byte-order mark (for a download response)."""
    buffer = io.StringIO()
    _write_csv(trip, scenario, buffer)
    return buffer.getvalue()
