"""Registrations in, validated by the optimizer's intake, all or nothing.

JSON bodies and uploaded CSV/XLSX files become one table with the workers.csv columns, which
`optimizer.intake.parse_workers` validates exactly as `chunyun plan` does (ID number GB 11643,
mainland mobile, home resolved to a county, dates). The service adds the rules of a registration
desk on top: dates inside the season, one row per person, and an employer's rows are its own.
"""

from __future__ import annotations

import datetime as dt
import io
import time
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from api import crud, models, schemas
from api.errors import RegistrationRejected, RowProblem, TooLarge, message
from optimizer import model as domain
from optimizer.errors import InvalidInput
from optimizer.intake import FIRST_DATA_ROW, WORKER_COLUMNS, WORKER_OPTIONAL, parse_workers
from optimizer.places import county_name
from optimizer.read import resolve_homes

# The Chinese upload template (GET /api/workers/template.xlsx) and the workers.csv columns.
CHINESE_HEADERS: dict[str, str] = {
    "工号": "worker_id",
    "单位编号": "company_id",
    "姓名": "name",
    "身份证号": "id_number",
    "手机号": "phone",
    "家乡地址": "home",
    "最早出发日期": "earliest",
    "最晚出发日期": "latest",
    "同行编号": "party",
    "座位数": "seats",
}
TEMPLATE_HEADERS = tuple(h for h in CHINESE_HEADERS if h != "单位编号")
COLUMNS = WORKER_COLUMNS + WORKER_OPTIONAL


@dataclass(frozen=True)
class UploadLimits:
    """Bounds on reading one uploaded file (from the settings; see docs/api.md, "Limits")."""

    max_rows: int = 50_000
    # The template has 10 columns; cells further right are ignored, never read into memory.
    max_columns: int = 64
    max_unpacked_bytes: int = 200 * 1024 * 1024
    max_zip_entries: int = 1_000
    seconds: float = 60.0


def read_upload(
    filename: str, content: bytes, *, limits: UploadLimits | None = None
) -> pd.DataFrame:
    """The table in an uploaded CSV or XLSX file, every cell as text, headers in English.

    Raises InvalidInput (422) naming the limit when the file has too many rows, unpacks too big,
    or takes longer than `limits.seconds` to read."""
    limits = limits or UploadLimits()
    deadline = time.monotonic() + limits.seconds
    name = filename.lower()
    if name.endswith((".xlsx", ".xlsm")):
        frame = _read_xlsx(filename, content, limits, deadline)
    elif name.endswith((".csv", ".txt")):
        frame = _read_csv(filename, content, limits)
    else:
        raise InvalidInput(f"{filename}: send a .csv or .xlsx file (the template is an .xlsx)")
    _check_deadline(deadline, limits)
    return normalise_headers(frame)


def _check_deadline(deadline: float, limits: UploadLimits) -> None:
    if time.monotonic() > deadline:
        raise InvalidInput(message("upload_slow", seconds=limits.seconds))


def _read_xlsx(
    filename: str, content: bytes, limits: UploadLimits, deadline: float
) -> pd.DataFrame:
    """The first sheet, read in openpyxl's read-only (streaming) mode: the declared dimensions
    are ignored, only the first `max_columns` columns and `max_rows` rows are ever built, and
    the archive's unpacked size is checked before anything is parsed."""
    from openpyxl import load_workbook

    unreadable = f"{filename} is not a readable Excel workbook (.xlsx)"
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise InvalidInput(unreadable) from None
    unpacked = sum(entry.file_size for entry in entries)
    if len(entries) > limits.max_zip_entries or unpacked > limits.max_unpacked_bytes:
        raise TooLarge(message("upload_unpacked", limit=limits.max_unpacked_bytes))
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged file
        raise InvalidInput(unreadable) from None
    try:
        sheet: Any = book.worksheets[0]
        # Excel records the used range; a sheet claiming more rows than the limit is refused
        # before a cell is read (a single far cell once grew the server to 22.9 GB).
        if sheet.max_row is not None and sheet.max_row > limits.max_rows + 1:
            raise TooLarge(
                message(
                    "upload_sheet_rows",
                    sheet=sheet.title,
                    rows=sheet.max_row,
                    limit=limits.max_rows,
                )
            )
        # Nor is the claimed width trusted: only the first max_columns columns are built.
        sheet.reset_dimensions()
        rows: list[list[str]] = []
        for number, values in enumerate(
            sheet.iter_rows(
                max_row=limits.max_rows + 2, max_col=limits.max_columns, values_only=True
            ),
            start=1,
        ):
            if number % 1000 == 0:
                _check_deadline(deadline, limits)
            cells = ["" if v is None else _cell_text(v) for v in values]
            if number > limits.max_rows + 1:
                if any(cells):
                    raise TooLarge(message("upload_rows", limit=limits.max_rows))
                continue
            rows.append(cells)
    except (InvalidInput, TooLarge):
        raise
    except Exception:
        raise InvalidInput(unreadable) from None
    finally:
        book.close()
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        return pd.DataFrame(columns=list(COLUMNS))
    header, body = rows[0], rows[1:]
    width = max(len(header), *(len(r) for r in body)) if body else len(header)
    while (
        width > 0
        and not header[width - 1]
        and not any(len(r) >= width and r[width - 1] for r in body)
    ):
        width -= 1
    header = [
        h or f"column {i + 1}" for i, h in enumerate(header[:width] + [""] * (width - len(header)))
    ]
    body = [(r + [""] * width)[:width] for r in body]
    return pd.DataFrame(body, columns=header, dtype=str)


def _cell_text(value: object) -> str:
    # Excel stores whole numbers typed into a cell as floats: 1.0 is the text "1".
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    return str(value)


def _read_csv(filename: str, content: bytes, limits: UploadLimits) -> pd.DataFrame:
    # Excel on Chinese Windows saves CSV as GB18030, everything else as UTF-8 (maybe with a BOM).
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        try:
            frame = pd.read_csv(
                io.StringIO(text),
                dtype=str,
                keep_default_na=False,
                skipinitialspace=True,
                nrows=limits.max_rows + 1,
            )
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
            raise InvalidInput(f"{filename} is not a readable CSV table: {error}") from None
        if len(frame) > limits.max_rows:
            raise TooLarge(message("upload_rows", limit=limits.max_rows))
        return frame
    raise InvalidInput(f"{filename} is neither UTF-8 nor GB18030 text")


def normalise_headers(frame: pd.DataFrame) -> pd.DataFrame:
    """Rename the Chinese template headers to the workers.csv column names."""
    renamed = {c: CHINESE_HEADERS.get(str(c).strip(), str(c).strip()) for c in frame.columns}
    return frame.rename(columns=renamed)


def frame_from_json(workers_in: Sequence[schemas.WorkerCreate]) -> pd.DataFrame:
    """The JSON registrations as a workers.csv table (text cells)."""
    records = [
        {k: "" if v is None else str(v) for k, v in w.model_dump().items()} for w in workers_in
    ]
    return pd.DataFrame.from_records(records, columns=list(COLUMNS))


def validate_registrations(
    session: Session,
    *,
    season: models.Season,
    frame: pd.DataFrame,
    user: models.User,
    company_id: str | None = None,
    first_row: int = FIRST_DATA_ROW,
) -> list[domain.Worker]:
    """Every row of `frame` as a valid worker, or RegistrationRejected listing every bad row.

    An employer's rows always belong to its own company; a dispatcher's rows take the
    `company_id` column, or `company_id` when given. `first_row` is the number reported for the
    first data row (2 for files: the header is row 1; 1 for JSON lists).
    """
    checked = check_rows(
        frame,
        season=season,
        company_ids={c.company_id for c in crud.list_companies(session, season=season)},
        user=user,
        company_id=company_id,
        first_row=first_row,
    )
    return check_desk(session, season=season, checked=checked, user=user)


@dataclass(frozen=True)
class CheckedRows:
    """Rows checked without the database: valid workers, problems so far, row numbers."""

    workers: list[domain.Worker]
    problems: list[RowProblem]
    row_of: Mapping[str, int]


def check_rows(
    frame: pd.DataFrame,
    *,
    season: models.Season,
    company_ids: set[str],
    user: models.User,
    company_id: str | None = None,
    first_row: int = FIRST_DATA_ROW,
) -> CheckedRows:
    """Everything about the rows that needs no database: the planner's intake (ID number,
    mobile, home county, dates, seats), the season's dates, one row per person, and what the
    database can hold (text lengths, seats). CPU work only, so it runs outside any transaction.
    """
    frame = frame.copy()
    if frame.empty:
        raise InvalidInput("no rows to register")
    if user.role == "employer":
        frame["company_id"] = user.company_id
    elif company_id is not None:
        frame["company_id"] = company_id
    elif "company_id" not in frame.columns:
        frame["company_id"] = ""
    for column in COLUMNS:
        if column not in frame.columns and column in WORKER_OPTIONAL:
            frame[column] = ""
    homes = frame["home"].astype(str).str.strip().tolist() if "home" in frame else []
    workers, problems = parse_workers(
        frame,
        first_departure=season.first_departure,
        last_departure=season.last_departure,
        company_ids=company_ids,
        resolutions=resolve_homes(homes),
    )
    shift = first_row - FIRST_DATA_ROW
    report = [_row_problem(p, workers, shift) for p in problems]
    row_of = _rows_by_worker_id(frame, shift)
    report += _storage_problems(frame, shift)
    report += _season_problems(season=season, workers=workers, row_of=row_of)
    bad_rows = {p.row for p in report}
    return CheckedRows(
        workers=[w for w in workers if row_of.get(w.worker_id, 0) not in bad_rows]
        if report
        else workers,
        problems=report,
        row_of=row_of,
    )


def check_desk(
    session: Session, *, season: models.Season, checked: CheckedRows, user: models.User
) -> list[domain.Worker]:
    """The rules that need the database: no employer takes over a person another company
    registered. Raises RegistrationRejected with every problem of the file."""
    report = list(checked.problems)
    report += _claimed_problems(
        session, season=season, workers=checked.workers, row_of=checked.row_of, user=user
    )
    if report:
        report.sort(key=lambda p: (p.row, p.column))
        raise RegistrationRejected(report)
    return checked.workers


def _row_problem(
    problem: domain.InputProblem, workers: Sequence[domain.Worker], shift: int
) -> RowProblem:
    candidates: list[str] = []
    if problem.column == "home":
        for worker in workers:
            if worker.worker_id == problem.worker_id and worker.home_candidates:
                candidates = [f"{code} {county_name(code)}" for code in worker.home_candidates]
    return RowProblem(
        row=problem.row + shift if problem.row >= FIRST_DATA_ROW else problem.row,
        column=problem.column,
        value=problem.value,
        reason=problem.reason,
        candidates=candidates,
    )


# What the database columns hold (api/models.py Worker); longer text is a bad row, not a crash.
MAX_TEXT = {
    "worker_id": 64,
    "company_id": 64,
    "name": 128,
    "id_number": 18,
    "phone": 20,
    "home": 256,
    "party": 64,
}
MAX_SEATS = 10  # one person and their children on a coach; more is a typing mistake
SHOWN_VALUE_CHARS = 60  # a refused value is echoed back at most this long


def _storage_problems(frame: pd.DataFrame, shift: int) -> list[RowProblem]:
    problems: list[RowProblem] = []
    for column, limit in MAX_TEXT.items():
        if column not in frame:
            continue
        for index, value in enumerate(frame[column].astype(str).tolist()):
            text_value = value.strip()
            if len(text_value) > limit:
                problems.append(
                    RowProblem(
                        index + FIRST_DATA_ROW + shift,
                        column,
                        text_value[:SHOWN_VALUE_CHARS] + "…",
                        f"is {len(text_value)} characters long; at most {limit}",
                    )
                )
            elif "\x00" in text_value:
                problems.append(
                    RowProblem(
                        index + FIRST_DATA_ROW + shift,
                        column,
                        text_value.replace("\x00", "")[:SHOWN_VALUE_CHARS],
                        "holds a NUL character; retype the value",
                    )
                )
    if "seats" in frame:
        for index, value in enumerate(frame["seats"].astype(str).tolist()):
            try:
                seats = float(value) if value.strip() else 1.0
            except ValueError:
                continue  # the intake reports it
            if seats > MAX_SEATS:
                problems.append(
                    RowProblem(
                        index + FIRST_DATA_ROW + shift,
                        "seats",
                        value[:SHOWN_VALUE_CHARS],
                        f"at most {MAX_SEATS} seats per row (a person and their children)",
                    )
                )
    return problems


def _season_problems(
    *, season: models.Season, workers: Sequence[domain.Worker], row_of: Mapping[str, int]
) -> list[RowProblem]:
    """Season dates and one row per person."""
    problems: list[RowProblem] = []
    first, last = season.first_departure, season.last_departure
    seen: dict[str, int] = {}
    for worker in workers:
        row = row_of.get(worker.worker_id, 0)
        for column, day in (("earliest", worker.earliest), ("latest", worker.latest)):
            if not first <= day <= last:
                problems.append(
                    RowProblem(
                        row,
                        column,
                        day.isoformat(),
                        f"must lie inside the season's departures, {first} to {last}",
                    )
                )
        if worker.id_number in seen:
            problems.append(
                RowProblem(
                    row,
                    "id_number",
                    _masked(worker.id_number),
                    f"the same ID number is on row {seen[worker.id_number]}; one row per person",
                )
            )
        else:
            seen[worker.id_number] = row
    return problems


def _claimed_problems(
    session: Session,
    *,
    season: models.Season,
    workers: Sequence[domain.Worker],
    row_of: Mapping[str, int],
    user: models.User,
) -> list[RowProblem]:
    """An employer may not re-register a person another company registered; the answer does
    not say that, let alone which company: the dispatcher resolves it."""
    if not workers or user.role != "employer":
        return []
    existing = crud.workers_by_id_number(
        session, season=season, id_numbers=(w.id_number for w in workers)
    )
    problems: list[RowProblem] = []
    for worker in workers:
        known = existing.get(worker.id_number)
        if known is not None and known.company_id != user.company_id:
            problems.append(
                RowProblem(
                    row_of.get(worker.worker_id, 0),
                    "id_number",
                    _masked(worker.id_number),
                    message("claimed_elsewhere"),
                )
            )
    return problems


def _rows_by_worker_id(frame: pd.DataFrame, shift: int = 0) -> Mapping[str, int]:
    rows: dict[str, int] = {}
    if "worker_id" not in frame:
        return rows
    for index, value in enumerate(frame["worker_id"].tolist()):
        rows.setdefault(str(value).strip(), index + FIRST_DATA_ROW + shift)
    return rows


def _masked(id_number: str) -> str:
    from optimizer.identity import mask_id_number

    return mask_id_number(id_number)


# Rows of the template's data sheet formatted in advance (text for ID numbers and phones,
# dates as dates), so a value typed into any of them is kept as typed.
TEMPLATE_ROWS = 2000
_DATE_HEADERS = ("最早出发日期", "最晚出发日期")
_NUMBER_HEADERS = ("座位数",)


def template_workbook(
    *, first_departure: dt.date | None = None, last_departure: dt.date | None = None
) -> bytes:
    """The Chinese upload template: the data sheet (headers only; every data row formatted:
    text for 工号, ID numbers, phones and addresses, dates as dates), and an instructions sheet
    with an example row, the season's departure dates when known. The example lives on the
    instructions sheet, so nothing in the data sheet can fail the season."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet: Any = book.active
    sheet.title = "登记表"
    sheet.append(list(TEMPLATE_HEADERS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, header in enumerate(TEMPLATE_HEADERS, start=1):
        if header in _DATE_HEADERS:
            number_format = "yyyy-mm-dd"
        elif header in _NUMBER_HEADERS:
            number_format = "0"
        else:
            # Text, so Excel keeps 18-digit ID numbers, phones and leading zeros exactly.
            number_format = "@"
        for row in range(2, TEMPLATE_ROWS + 2):
            sheet.cell(row=row, column=index).number_format = number_format
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = 22 if header in ("身份证号", "家乡地址") else 14
        if header in _DATE_HEADERS and first_departure and last_departure:
            rule = DataValidation(
                type="date",
                operator="between",
                formula1=f"DATE({first_departure.year},{first_departure.month},{first_departure.day})",
                formula2=f"DATE({last_departure.year},{last_departure.month},{last_departure.day})",
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="日期不在本季发车期内",
                error=f"请填 {first_departure} 至 {last_departure} 之间的日期",
            )
            rule.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
            sheet.add_data_validation(rule)
    sheet.freeze_panes = "A2"
    notes = book.create_sheet("填写说明")
    window = (
        f"{first_departure} 至 {last_departure}"
        if first_departure and last_departure
        else "本季发车日期内"
    )
    lines = [
        ["请在“登记表”工作表中每行填写一人，第一行表头不要修改。"],
        ["工号: 本单位员工编号（必填，同一文件内不重复）"],
        ["姓名: 与身份证一致（实名购票，必填）"],
        ["身份证号: 18 位居民身份证号码，末位可以是 X（表格已设为文本格式，直接输入即可）"],
        ["手机号: 11 位大陆手机号"],
        ["家乡地址: 省市县，如 安徽省阜阳市临泉县，或 6 位行政区划代码"],
        [f"最早/最晚出发日期: {window}，如 2027-01-28 或 2027/1/28；留空表示不限"],
        ["同行编号: 须同车的家人填相同编号；座位数: 含儿童占座，默认 1"],
        ["整个文件一次校验: 有任何错误行则全部不保存，并列出每个错误行和改法。"],
        [],
        ["示例（不要复制到登记表）:"],
        list(TEMPLATE_HEADERS),
        [
            "A001",
            "张三",
            "110101199003074258",
            "13812345678",
            "安徽省阜阳市临泉县",
            str(first_departure or ""),
            str(last_departure or ""),
            "",
            "1",
        ],
    ]
    for line in lines:
        notes.append(line)
    notes.column_dimensions["A"].width = 60
    for cell in notes[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=False)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
