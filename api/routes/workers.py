"""Registration of workers: JSON or a CSV/XLSX upload, all or nothing, and reading them back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, File, Query, Response, UploadFile, status

from api import convert, crud, intake, models
from api.core.db import begin_write
from api.deps import (
    CurrentUser,
    MaskedQuery,
    SeasonQuery,
    SessionDep,
    SettingsDep,
    company_scope,
    shows_unmasked,
)
from api.errors import Conflict, TooLarge, message
from api.schemas import AssignmentPublic, RegistrationResult, WorkerCreate, WorkerPublic
from optimizer.errors import ChunyunError

router = APIRouter(prefix="/workers", tags=["workers"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CompanyQuery = Annotated[
    str | None,
    Query(
        description="dispatchers: the company of every row (else the company_id column); "
        "employers: ignored, rows are always their own company's"
    ),
]


def _publish(
    session: SessionDep,
    *,
    user: models.User,
    season: models.Season,
    rows: Sequence[models.Worker],
    masked: bool,
    action: str,
) -> list[WorkerPublic]:
    """Workers as the caller may see them, with seats; unmasked reads go to the audit log.
    The database work is done and committed first; the answer is built after."""
    unmasked = shows_unmasked(user, masked)
    if unmasked:
        begin_write(session)  # the audit entry is written with the read
    assignments: dict[str, AssignmentPublic] = {}
    published = crud.latest_published_plan(session, season=season)
    if published is not None and rows:
        found = crud.assignments_of_workers(
            session, plan_id=published.id, worker_keys=(str(r.id) for r in rows)
        )
        dates = crud.trip_departure_dates(session, plan_id=published.id) if found else {}
        assignments = {
            key: AssignmentPublic(
                plan_id=published.id,
                trip_id=a.trip_id,
                seat=a.seat,
                seat_count=a.seat_count,
                departure_date=dates.get(a.trip_id),
            )
            for key, a in found.items()
        }
    if unmasked:
        crud.record_unmasked_read(
            session,
            user=user,
            action=action,
            season_id=season.id,
            worker_keys=(str(r.id) for r in rows),
        )
    # Saved before the (CPU-only) answer is built: a SQLite writer's turn ends here.
    session.commit()
    return [
        convert.worker_public(
            r, season_name=season.name, masked=not unmasked, assignment=assignments.get(str(r.id))
        )
        for r in rows
    ]


def _register(
    session: SessionDep,
    *,
    user: models.User,
    season_name: str | None,
    company_id: str | None,
    frame: pd.DataFrame,
    first_row: int,
    action: str,
) -> RegistrationResult:
    season = crud.resolve_season(session, name=season_name)
    if not season.is_open:
        raise Conflict(f"season {season.name!r} is closed for registration")
    company_ids = {c.company_id for c in crud.list_companies(session, season=season)}
    # Checking rows is CPU work: end the transaction first, so a SQLite writer's lock is not
    # held while a big file is checked (the season is read again before writing).
    session.commit()
    checked = intake.check_rows(
        frame,
        season=season,
        company_ids=company_ids,
        user=user,
        company_id=company_id,
        first_row=first_row,
    )
    session.refresh(season)
    if not season.is_open:
        raise Conflict(f"season {season.name!r} is closed for registration")
    workers = intake.check_desk(session, season=season, checked=checked, user=user)
    rows, created = crud.upsert_workers(
        session,
        season=season,
        workers=workers,
        only_company=user.company_id if user.role == "employer" else None,
    )
    return RegistrationResult(
        created=created,
        updated=len(rows) - created,
        workers=_publish(session, user=user, season=season, rows=rows, masked=False, action=action),
    )


@router.get("")
def list_workers(
    session: SessionDep,
    user: CurrentUser,
    season: SeasonQuery = None,
    company_id: Annotated[str | None, Query(description="dispatchers: one company")] = None,
    masked: MaskedQuery = False,
) -> list[WorkerPublic]:
    """Registered workers of the season; an employer gets its own only."""
    row = crud.resolve_season(session, name=season)
    scope = company_scope(user) or company_id
    rows = crud.list_workers(session, season=row, company_id=scope)
    return _publish(session, user=user, season=row, rows=rows, masked=masked, action="list workers")


@router.post("", response_model=RegistrationResult)
def register_workers(
    session: SessionDep,
    user: CurrentUser,
    workers_in: list[WorkerCreate] | WorkerCreate,
    season: SeasonQuery = None,
    company_id: CompanyQuery = None,
) -> Response:
    """Register one or many workers (JSON). Rows are numbered from 1 in any error report."""
    items = workers_in if isinstance(workers_in, list) else [workers_in]
    return _answer(
        _register(
            session,
            user=user,
            season_name=season,
            company_id=company_id,
            frame=intake.frame_from_json(items),
            first_row=1,
            action="register workers (JSON)",
        )
    )


@router.post(
    "/upload",
    response_model=RegistrationResult,
    responses={422: {"description": "every bad row (row, column, value, reason); nothing saved"}},
)
def upload_workers(
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    file: Annotated[UploadFile, File(description="CSV or XLSX with the template's columns")],
    season: SeasonQuery = None,
    company_id: CompanyQuery = None,
) -> Response:
    """Register workers from a CSV or XLSX file, all or nothing; rows as numbered in the sheet.

    Limits (413/422 naming the limit): the file's size, its rows, an XLSX's unpacked size, and
    the time reading it may take (docs/api.md, "Limits")."""
    # A sync route: reading, checking and saving run on a worker thread, never the event loop.
    content = file.file.read(settings.max_upload_bytes + 1)
    if len(content) > settings.max_upload_bytes:
        raise TooLarge(message("body_too_large", limit=settings.max_upload_bytes))
    filename = _clean_filename(file.filename or "upload.csv")
    frame = intake.read_upload(
        filename,
        content,
        limits=intake.UploadLimits(
            max_rows=settings.max_upload_rows,
            max_unpacked_bytes=settings.max_xlsx_unpacked_bytes,
            seconds=settings.upload_parse_seconds,
        ),
    )
    return _answer(
        _register(
            session,
            user=user,
            season_name=season,
            company_id=company_id,
            frame=frame,
            first_row=2,
            action=f"register workers (upload {filename})",
        )
    )


def _answer(result: RegistrationResult) -> Response:
    """The registration's answer as JSON, serialised here on the request's own thread: left to
    FastAPI, a sync route's answer waits for a worker thread a second time, behind every queued
    upload, so under load all answers would leave at the end."""
    return Response(result.model_dump_json(), media_type="application/json")


def template_for(session: SessionDep, *, season_name: str | None) -> bytes:
    """The template, with the season's dates when the season can be told (else without)."""
    try:
        row = crud.resolve_season(session, name=season_name)
    except ChunyunError:
        return intake.template_workbook()
    return intake.template_workbook(
        first_departure=row.first_departure, last_departure=row.last_departure
    )


def _clean_filename(name: str) -> str:
    """The uploaded file's name fit for messages and the audit log: no control characters
    (NUL cannot be stored), at most 100 characters."""
    cleaned = "".join(c for c in name if c.isprintable()).strip()
    return (cleaned or "upload.csv")[-100:]


@router.get(
    "/template.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "the upload template"}},
)
def download_template(
    session: SessionDep, _user: CurrentUser, season: SeasonQuery = None
) -> Response:
    """The upload template with the Chinese headers (工号, 姓名, 身份证号, ...): every data row
    formatted (text for ID numbers and phones, dates as dates), an instructions sheet with an
    example and the season's departure dates (when the season is known)."""
    return Response(
        content=template_for(session, season_name=season),
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="workers-template.xlsx"'},
    )


@router.get("/{worker_id}")
def read_worker(
    session: SessionDep, user: CurrentUser, worker_id: int, masked: MaskedQuery = False
) -> WorkerPublic:
    """One registration, with its seat in the latest published plan."""
    row = crud.get_worker(session, worker_id=worker_id, company_id=company_scope(user))
    season = crud.get_season_by_id(session, season_id=row.season_id)
    [public] = _publish(
        session, user=user, season=season, rows=[row], masked=masked, action="read worker"
    )
    return public


@router.delete("/{worker_id}", status_code=status.HTTP_204_NO_CONTENT)
def withdraw_worker(session: SessionDep, user: CurrentUser, worker_id: int) -> Response:
    """Withdraw a registration. A seat in the published plan is freed and the withdrawal put on
    the plan's change list (GET /plans/{id}/changes) and its notices."""
    row = crud.get_worker(session, worker_id=worker_id, company_id=company_scope(user))
    crud.delete_worker(session, worker=row)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
