"""Registrations in, validated by the optimizer's intake, all or nothing.

JSON bodies and uploaded CSV/XLSX files become one table with the workers.csv columns, which
`optimizer.intake.parse_workers` validates exactly as `chunyun plan` does (ID number GB 11643,
mainland mobile, home resolved to a county, dates). The service adds the rules of a registration
desk on top: dates inside the season, one row per person, and an employer's rows are its own.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from api import crud, models, schemas
from api.errors import RegistrationRejected, RowProblem
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


def read_upload(filename: str, content: bytes) -> pd.DataFrame:
    """The table in an uploaded CSV or XLSX file, every cell as text, headers in English."""
    name = filename.lower()
    if name.endswith((".xlsx", ".xlsm")):
        try:
            frame = pd.read_excel(io.BytesIO(content), dtype=str, engine="openpyxl")
        except Exception as error:  # openpyxl raises many kinds for a damaged file
            raise InvalidInput(
                f"{filename} is not a readable Excel workbook (.xlsx): {error}"
            ) from None
        frame = frame.fillna("")
    elif name.endswith((".csv", ".txt")):
        frame = _read_csv(filename, content)
    else:
        raise InvalidInput(f"{filename}: send a .csv or .xlsx file (the template is an .xlsx)")
    return normalise_headers(frame)


def _read_csv(filename: str, content: bytes) -> pd.DataFrame:
    # Excel on Chinese Windows saves CSV as GB18030, everything else as UTF-8 (maybe with a BOM).
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        try:
            return pd.read_csv(
                io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True
            )
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
            raise InvalidInput(f"{filename} is not a readable CSV table: {error}") from None
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
    companies = crud.list_companies(session, season=season)
    workers, problems = parse_workers(
        frame,
        first_departure=season.first_departure,
        last_departure=season.last_departure,
        company_ids={c.company_id for c in companies},
        resolutions=resolve_homes(homes),
    )
    shift = first_row - FIRST_DATA_ROW
    report = [_row_problem(p, workers, shift) for p in problems]
    report += _desk_problems(session, season=season, frame=frame, workers=workers, user=user)
    if report:
        report.sort(key=lambda p: (p.row, p.column))
        raise RegistrationRejected(report)
    return workers


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


def _desk_problems(
    session: Session,
    *,
    season: models.Season,
    frame: pd.DataFrame,
    workers: Sequence[domain.Worker],
    user: models.User,
) -> list[RowProblem]:
    """The registration desk's rules beyond the planner's: season dates, one row per person,
    and no employer taking over a person another company registered."""
    if not workers:
        return []
    row_of = _rows_by_worker_id(frame)
    problems: list[RowProblem] = []
    first, last = season.first_departure, season.last_departure
    seen: dict[str, int] = {}
    existing = crud.workers_by_id_number(
        session, season=season, id_numbers=(w.id_number for w in workers)
    )
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
        known = existing.get(worker.id_number)
        if known is not None and user.role == "employer" and known.company_id != user.company_id:
            problems.append(
                RowProblem(
                    row,
                    "id_number",
                    _masked(worker.id_number),
                    "this person is already registered for the season by another employer; "
                    "ask the dispatcher",
                )
            )
    return problems


def _rows_by_worker_id(frame: pd.DataFrame) -> Mapping[str, int]:
    rows: dict[str, int] = {}
    if "worker_id" not in frame:
        return rows
    for index, value in enumerate(frame["worker_id"].tolist()):
        rows.setdefault(str(value).strip(), index + FIRST_DATA_ROW)
    return rows


def _masked(id_number: str) -> str:
    from optimizer.identity import mask_id_number

    return mask_id_number(id_number)


def template_workbook() -> bytes:
    """The Chinese upload template: headers, one example row, text-formatted columns."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet: Any = book.active
    sheet.title = "workers"
    sheet.append(list(TEMPLATE_HEADERS))
    sheet.append(
        [
            "A001",
            "张三",
            "110101199003074258",
            "13812345678",
            "安徽省阜阳市临泉县",
            "2026-02-05",
            "2026-02-10",
            "",
            "1",
        ]
    )
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column_cells in sheet.columns:
        # Text format, so Excel keeps 18-digit ID numbers and leading zeros exactly.
        for cell in column_cells:
            cell.number_format = "@"
        sheet.column_dimensions[column_cells[0].column_letter].width = 18
    notes = book.create_sheet("说明")
    for line in (
        ["工号: 本单位员工编号 (必填, 同一文件内不重复)"],
        ["身份证号: 18 位居民身份证号码 (GB 11643 校验)"],
        ["手机号: 11 位大陆手机号"],
        ["家乡地址: 省市县, 如 安徽省阜阳市临泉县, 或 6 位行政区划代码"],
        ["最早/最晚出发日期: YYYY-MM-DD, 须在本季发车日期内; 留空表示不限"],
        ["同行编号: 须同车的家人填相同编号; 座位数: 含儿童占座, 默认 1"],
        ["整个文件一次校验: 有任何错误行则全部不保存, 并列出每个错误行"],
    ):
        notes.append(line)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
