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
    legal_title,
    plate_text,
    route_summary,
    seat_label,
    spreadsheet_safe,
    stop_kind,
    texts,
)
from api.documents.pdf import (
    CONTENT_WIDTH,
    build_pdf,
    grid_table,
    key_value_table,
    long_time,
    para,
    styles,
)
from api.i18n import DEFAULT_LOCALE, LOCALES, N_, gettext_in
from optimizer.identity import mask_id_number, normalize_phone
from optimizer.model import Scenario, Trip

# Row keys and their column headings, in print order. The CLI's and the service's CSV, XLSX and
# PDF manifests all use these columns, filled by `manifest_rows` (the one row builder). The CSV's
# headings are these Chinese ones in every language: other systems read the CSV back by them
# (`read_manifest_csv`); the XLSX and PDF, read by people, head them with `MANIFEST_LABELS` in
# the reader's language (the catalogue's Chinese of each is the heading here).
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
MANIFEST_LABELS: dict[str, str] = {
    "seat": N_("Seat no."),
    "name": N_("Full name"),
    "id_number": N_("ID card no."),
    "phone": N_("Mobile no."),
    "company": N_("Workplace"),
    "board_stop": N_("Pickup point"),
    "alight_stop": N_("Drop-off point"),
    "party": N_("Travelling with"),
    "staff_number": N_("Staff no."),
    "worker": N_("Registration no."),
    "change": N_("Change"),
}
# A passenger seated after publishing (`Passenger.late`) is flagged on every manifest.
LATE_LABEL = "发布后新增"
LATE_TEXT = N_("added after publishing")
PRINTED_KEYS = ("seat", "name", "id_number", "phone", "company", "board_stop", "alight_stop")
CONFIDENTIAL = "本名单含旅客个人信息，仅供本次运输核验使用，请妥善保管，不得外传。"
CONFIDENTIAL_TEXT = N_(
    "This list holds passengers' personal data, for checking this journey only: keep it safe "
    "and do not pass it on."
)
# The legal title; in English "Passenger list (旅客名单)" (docs/maps-and-documents.md). Also the
# manifest's sheet in the workbook, in either language (`read_manifest_xlsx` reads both).
SHEET_TEXT = N_("Passenger list")


def manifest_labels(locale: str = DEFAULT_LOCALE) -> dict[str, str]:
    """The manifest's column headings in `locale`, by row key (XLSX and PDF)."""
    return {key: gettext_in(locale, msgid) for key, msgid in MANIFEST_LABELS.items()}


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


def manifest_lines(
    trip: Trip, scenario: Scenario, *, full_ids: bool = False, locale: str = DEFAULT_LOCALE
) -> list[ManifestLine]:
    """One line per passenger of `trip`, ordered by seat (the one manifest row builder).

    `id_number` is masked (first 4 and last 4 characters) unless `full_ids` (a dispatcher's
    audited download); phones are as the scenario holds them (the service masks them in the
    scenario it passes for a masked view). A passenger missing from the scenario's workers (a
    withdrawn registration) keeps its key and empty personal fields. Rests' names and the
    late flag are in `locale`.
    """
    names = Names.of(scenario, locale)
    late = gettext_in(locale, LATE_TEXT)
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
                change=late if passenger.late else "",
            )
        )
    return lines


def manifest_rows(
    trip: Trip, scenario: Scenario, *, full_ids: bool = False, locale: str = DEFAULT_LOCALE
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
        for line in manifest_lines(trip, scenario, full_ids=full_ids, locale=locale)
    ]


def manifest_header(
    trip: Trip, scenario: Scenario, locale: str = DEFAULT_LOCALE
) -> list[tuple[str, str]]:
    """The header of a manifest as (label, value) pairs in `locale`, in print order."""
    _ = texts(locale)
    names = Names.of(scenario, locale)
    origin, destination, via = route_summary(trip, names)
    people = sum(p.seat_count for p in trip.passengers)
    return [
        (_("Trip"), trip.trip_id),
        (_("Departure date"), f"{trip.departure:%Y-%m-%d}"),
        (_("Departure time"), f"{trip.departure:%H:%M}"),
        (
            _("Coach type"),
            _(
                "{vehicle_type} ({seats} seats licensed)",
                vehicle_type=trip.vehicle_type,
                seats=trip.seats,
            ),
        ),
        (_("Plate no."), plate_text(trip, locale)),
        (_("Driver(s)"), drivers_text(trip, locale)),
        (_("Escort"), escort_text(trip, locale)),
        (_("Route"), f"{origin} → {destination}"),
        (_("Via"), _(", ").join(via) if via else _("none")),
        (
            _("Passengers"),
            _("{people} people, {seats} seats", people=len(trip.passengers), seats=people),
        ),
        (_("Distance"), f"{trip.distance_km:,.0f} km"),
    ]


def _stop_lines(trip: Trip, scenario: Scenario, locale: str = DEFAULT_LOCALE) -> list[list[str]]:
    """Where people board and alight, numbered as on the trip sheet (rests are on the sheet)."""
    _ = texts(locale)
    names = Names.of(scenario, locale)
    rows = [
        ["#", _("Stopping point"), _("Kind"), _("Arrives"), _("Departs"), _("Board"), _("Alight")]
    ]
    for index, stop in enumerate(trip.stops):
        if stop.kind == "rest":
            continue
        board = sum(p.seat_count for p in trip.passengers if p.board_stop == index)
        alight = sum(p.seat_count for p in trip.passengers if p.alight_stop == index)
        rows.append(
            [
                str(index + 1),
                names.stop(stop),
                stop_kind(stop, locale),
                f"{stop.arrive:%m-%d %H:%M}",
                f"{stop.depart:%m-%d %H:%M}",
                str(board),
                str(alight),
            ]
        )
    return rows


def write_manifest_csv(trip: Trip, scenario: Scenario, path: str | Path) -> Path:
    """Write the manifest as UTF-8 CSV with a BOM (so Excel opens it) and Chinese headings.

    The CSV is for other systems and has no language: its headings and cells are the same
    whatever language the reader chose (see `MANIFEST_COLUMNS`)."""
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
    trip: Trip,
    scenario: Scenario,
    path: str | Path,
    *,
    full_ids: bool = False,
    locale: str = DEFAULT_LOCALE,
) -> Path:
    """Write the manifest as an Excel workbook set up to print on A4 (header block, then the list).

    Cells are text (seat "12-13", ID numbers) so Excel never turns them into numbers. Headings
    and labels are in `locale`.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    _manifest_workbook(trip, scenario, full_ids=full_ids, locale=locale).save(target)
    return target


def _manifest_workbook(
    trip: Trip, scenario: Scenario, *, full_ids: bool = False, locale: str = DEFAULT_LOCALE
) -> Workbook:
    _ = texts(locale)
    labels = manifest_labels(locale)
    workbook = Workbook()
    sheet = workbook.active
    title = legal_title(SHEET_TEXT, locale)
    sheet.title = title
    thin = Side(style="thin", color="666666")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    width = len(MANIFEST_COLUMNS)

    sheet.cell(row=1, column=1, value=_("{title}  trip {trip}", title=title, trip=trip.trip_id))
    sheet.cell(row=1, column=1).font = Font(size=16, bold=True)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    header = manifest_header(trip, scenario, locale)
    row = 2
    for start in range(0, len(header), 3):
        for offset, (label, value) in enumerate(header[start : start + 3]):
            column = 1 + offset * 3
            sheet.cell(row=row, column=column, value=label).font = Font(bold=True)
            sheet.cell(row=row, column=column + 1, value=value)
        row += 1
    row += 1
    table_start = row
    for column, (key, _label) in enumerate(MANIFEST_COLUMNS, start=1):
        cell = sheet.cell(row=row, column=column, value=labels[key])
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="EEEEEE")
        cell.border = border
    for record in manifest_rows(trip, scenario, full_ids=full_ids, locale=locale):
        row += 1
        for column, (key, _label) in enumerate(MANIFEST_COLUMNS, start=1):
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
    sheet.oddFooter.left.text = _(CONFIDENTIAL_TEXT)
    sheet.oddFooter.right.text = _("page {page} of {pages}", page="&P", pages="&N")

    stops = workbook.create_sheet(_("Stops"))
    for line in _stop_lines(trip, scenario, locale):
        stops.append(line)
    for column, size in enumerate((4, 24, 22, 13, 13, 6, 6), start=1):
        stops.column_dimensions[get_column_letter(column)].width = size
    return workbook


def read_manifest_xlsx(path: str | Path) -> list[dict[str, str]]:
    """Rows of a manifest workbook written by `write_manifest_xlsx` in any language, keyed like
    `manifest_rows`."""
    book = load_workbook(path, read_only=True)
    titles = {legal_title(SHEET_TEXT, locale) for locale in LOCALES}
    sheet = book[next(name for name in book.sheetnames if name in titles)]
    by_label = {label: key for locale in LOCALES for key, label in manifest_labels(locale).items()}
    keys: list[str] | None = None
    rows: list[dict[str, str]] = []
    for values in sheet.iter_rows(values_only=True):
        if keys is None:
            if values and str(values[0]) in by_label and by_label[str(values[0])] == "seat":
                keys = [by_label[str(v)] for v in values if v is not None]
            continue
        rows.append({k: "" if v is None else str(v) for k, v in zip(keys, values, strict=False)})
    return rows


def manifest_story(
    trip: Trip, scenario: Scenario, *, full_ids: bool = False, locale: str = DEFAULT_LOCALE
) -> list[Flowable]:
    """The manifest as ReportLab flowables in `locale` (for embedding in a larger document)."""
    _ = texts(locale)
    style = styles()
    rows = manifest_rows(trip, scenario, full_ids=full_ids, locale=locale)
    labels = manifest_labels(locale)
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
    stop_rows = _stop_lines(trip, scenario, locale)
    stop_widths = [w * mm for w in (8, 52, 34, 24, 24, 20, 20)]
    stop_scale = CONTENT_WIDTH / sum(stop_widths)
    return [
        para(legal_title(SHEET_TEXT, locale), style["title"]),
        para(
            _(
                "Trip {trip}, departing {departure}",
                trip=trip.trip_id,
                departure=long_time(trip.departure, locale),
            ),
            style["subtitle"],
        ),
        Spacer(1, 4 * mm),
        key_value_table(manifest_header(trip, scenario, locale), 2, style["cell"]),
        Spacer(1, 3 * mm),
        para(_("Pickup and drop-off points (rests on the trip sheet)"), style["heading"]),
        grid_table(
            stop_rows,
            [w * stop_scale for w in stop_widths],
            style=style["cell"],
        ),
        Spacer(1, 3 * mm),
        para(_("Passengers ({count})", count=len(rows)), style["heading"]),
        grid_table(table_rows, [w * scale for w in widths], style=style["cell"]),
        Spacer(1, 6 * mm),
        para(
            _(
                "Expected {count}, present ______.  Driver's signature: __________  "
                "Escort's signature: __________  Checked at departure by: __________",
                count=len(rows),
            ),
            style["body"],
        ),
        Spacer(1, 2 * mm),
        para(_(CONFIDENTIAL_TEXT), style["small"]),
    ]


def _manifest_pdf(
    trip: Trip,
    scenario: Scenario,
    target: Path | BinaryIO,
    *,
    full_ids: bool = False,
    locale: str = DEFAULT_LOCALE,
) -> None:
    _ = texts(locale)
    title = legal_title(SHEET_TEXT, locale)
    build_pdf(
        target,
        manifest_story(trip, scenario, full_ids=full_ids, locale=locale),
        title=f"{title} {trip.trip_id}",
        footer=f"{title} "
        + _(
            "trip {trip} · {date} · personal data, keep safe",
            trip=trip.trip_id,
            date=f"{trip.departure:%Y-%m-%d}",
        ),
        locale=locale,
    )


def write_manifest_pdf(
    trip: Trip,
    scenario: Scenario,
    path: str | Path,
    *,
    full_ids: bool = False,
    locale: str = DEFAULT_LOCALE,
) -> Path:
    """Write the manifest as an A4 portrait PDF with the CJK font embedded; returns the path."""
    target = Path(path)
    _manifest_pdf(trip, scenario, target, full_ids=full_ids, locale=locale)
    return target


def manifest_pdf_bytes(trip: Trip, scenario: Scenario, locale: str = DEFAULT_LOCALE) -> bytes:
    """The manifest PDF as bytes (for a download response)."""
    buffer = io.BytesIO()
    _manifest_pdf(trip, scenario, buffer, locale=locale)
    return buffer.getvalue()


def manifest_xlsx_bytes(trip: Trip, scenario: Scenario, locale: str = DEFAULT_LOCALE) -> bytes:
    """The manifest workbook as bytes (for a download response)."""
    buffer = io.BytesIO()
    _manifest_workbook(trip, scenario, locale=locale).save(buffer)
    return buffer.getvalue()


def manifest_csv_text(trip: Trip, scenario: Scenario) -> str:
    """The manifest CSV as text, without the byte-order mark (for a download response)."""
    buffer = io.StringIO()
    _write_csv(trip, scenario, buffer)
    return buffer.getvalue()
