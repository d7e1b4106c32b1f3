"""The coach operator's crew sheet: a template with one row per trip, and reading it back.

Read with the same limits and readers as worker uploads (api/intake.py: read-only XLSX, row and
size limits, CSV in UTF-8 or GB18030). A row without a plate is left out (not yet assigned);
every other row becomes one trip's Crew, checked by `api.operations.assign_crews`.
"""

from __future__ import annotations

import io
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from api import intake
from api.errors import CrewRejected, RowProblem, message
from api.spreadsheet import from_spreadsheet
from optimizer import model as domain
from optimizer.crews import normalize_crew

MAX_DRIVERS_IN_SHEET = 3
# Chinese headings and the fields they fill, in template order.
INFO_HEADERS = {"车次": "trip_id", "发车时间": "departure", "线路": "route", "需驾驶员": "needed"}
CREW_HEADERS: dict[str, str] = {
    "车牌号": "plate",
    "车型": "coach_type",
    "核定座位": "coach_seats",
    "经营者": "operator",
    **{
        f"驾驶员{n}{label}": f"driver{n}_{key}"
        for n in range(1, MAX_DRIVERS_IN_SHEET + 1)
        for label, key in (("姓名", "name"), ("驾驶证号", "licence"), ("手机号", "phone"))
    },
    "随车人员": "escort_name",
    "随车人员手机号": "escort_phone",
}
HEADERS = {**INFO_HEADERS, **CREW_HEADERS}
FIRST_DATA_ROW = 2


def template_workbook(trips: Sequence[domain.Trip]) -> bytes:
    """The crew template of a plan: trip, departure, route and drivers needed filled in (with any
    crew already assigned), the rest to fill. Every cell is text, so nothing runs as a formula."""
    book = Workbook()
    sheet = book.active
    sheet.title = "车辆与驾驶员"
    sheet.append(list(HEADERS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for trip in sorted(trips, key=lambda t: (t.departure, t.trip_id)):
        served = [s.name or s.adcode or "" for s in trip.stops if s.kind != "rest"]
        values = [
            trip.trip_id,
            f"{trip.departure:%Y-%m-%d %H:%M}",
            " → ".join(dict.fromkeys(v for v in served if v)),
            str(trip.drivers),
        ]
        crew = trip.crew
        if crew is not None:
            values += [crew.plate, crew.coach_type, str(crew.coach_seats), crew.operator]
            for n in range(MAX_DRIVERS_IN_SHEET):
                driver = crew.drivers[n] if n < len(crew.drivers) else None
                values += [driver.name, driver.licence, driver.phone] if driver else ["", "", ""]
            values += [crew.escort_name, crew.escort_phone]
        sheet.append(values)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.data_type = "s"
            cell.number_format = "@"
    for column in range(1, len(HEADERS) + 1):
        sheet.column_dimensions[get_column_letter(column)].width = 16
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def read_crews(
    filename: str, content: bytes, *, max_rows: int
) -> tuple[dict[str, domain.Crew], dict[str, int]]:
    """The crews in an operator's sheet by trip id, and the sheet row of each trip.

    Raises CrewRejected naming row, column, value and reason for a cell that is not a number
    where one is needed or a trip listed twice; InvalidInput when columns are missing."""
    frame = intake.read_upload(filename, content, limits=intake.UploadLimits(max_rows=max_rows))
    frame = frame.rename(columns={c: HEADERS.get(str(c).strip(), str(c)) for c in frame.columns})
    required = ["trip_id", "plate", "coach_type", "coach_seats", "operator"]
    missing = [h for h, key in HEADERS.items() if key in required and key not in frame.columns]
    if missing:
        raise CrewRejected(
            [
                RowProblem(
                    1, "", "", message("crew_import_missing_columns", columns="、".join(missing))
                )
            ]
        )
    crews: dict[str, domain.Crew] = {}
    rows: dict[str, int] = {}
    problems: list[RowProblem] = []
    for offset, record in enumerate(frame.to_dict("records")):
        row = FIRST_DATA_ROW + offset

        def cell(key: str, record: Mapping[Hashable, Any] = record) -> str:
            return from_spreadsheet(str(record.get(key, "") or "").strip())

        trip_id, plate = cell("trip_id"), cell("plate")
        if not plate:
            continue
        if trip_id in rows:
            problems.append(
                RowProblem(row, "车次", trip_id, message("crew_import_twice", first=rows[trip_id]))
            )
            continue
        rows[trip_id] = row
        seats_text = cell("coach_seats")
        if not seats_text.isdigit() or not 1 <= int(seats_text) <= 100:
            problems.append(RowProblem(row, "核定座位", seats_text, message("crew_import_seats")))
            continue
        drivers = tuple(
            domain.Driver(
                name=cell(f"driver{n}_name"),
                licence=cell(f"driver{n}_licence"),
                phone=cell(f"driver{n}_phone"),
            )
            for n in range(1, MAX_DRIVERS_IN_SHEET + 1)
            if any(cell(f"driver{n}_{k}") for k in ("name", "licence", "phone"))
        )
        crews[trip_id] = normalize_crew(
            domain.Crew(
                plate=plate,
                coach_type=cell("coach_type"),
                coach_seats=int(seats_text),
                operator=cell("operator"),
                drivers=drivers,
                escort_name=cell("escort_name"),
                escort_phone=cell("escort_phone"),
            )
        )
    if problems:
        raise CrewRejected(problems)
    return crews, rows
