"""The employer's (HR clerk's) pages: the template, uploads with every bad row shown, the
company's workers with their status and, once a plan is published, their seats; downloads of
the company's manifests and SMS notice list. Every figure comes from the API's route functions,
so an employer sees exactly what the API shows it and nothing of another company."""

from __future__ import annotations

import csv
import dataclasses
import io
from dataclasses import dataclass
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api import convert, crud, intake, models, outputs, schemas
from api.core.db import begin_write
from api.deps import SessionDep, SettingsDep, company_scope
from api.documents.context import plate
from api.errors import RegistrationRejected, RowProblem
from api.i18n import N_, translate, translate_detail, translate_reason, unserved_reason
from api.routes import operations as operation_routes
from api.routes import plans as plan_routes
from api.routes import workers as worker_routes
from api.spreadsheet import spreadsheet_safe
from api.web.common import page_season
from api.web.deps import FormChecked, PageEmployer, PageUser, page_locale, render
from optimizer import model as domain
from optimizer.errors import ChunyunError

router = APIRouter(include_in_schema=False)

HEADER_OF = {column: header for header, column in intake.CHINESE_HEADERS.items()}
NOT_ASSIGNED = N_("not assigned")
DONE = {
    "uploaded": N_("The file was registered: {created} new, {updated} updated."),
    "withdrawn": N_("The registration was withdrawn."),
    "saved": N_("The changes were saved."),
}


@dataclass(frozen=True)
class Seat:
    """Where a worker sits in the published plan, as the clerk tells the worker."""

    trip_id: str
    date: str
    departure: str
    boarding: str
    seat: str
    plate: str
    drivers: str


def column_header(column: str) -> str:
    """The template's header of a column (工号, 身份证号, ...), or the column's own name."""
    return HEADER_OF.get(column, column)


def problem_rows(locale: str, problems: list[RowProblem]) -> list[dict[str, Any]]:
    """Row problems as the page's table shows them: the template's header, the reason (what
    to do) in the page's language."""
    return [
        {
            "row": p.row,
            "column": column_header(p.column),
            "value": p.value,
            "reason": translate_reason(locale, p.reason),
            "candidates": p.candidates,
        }
        for p in problems
    ]


def seats_of(
    session: SessionDep, *, user: models.User, season: models.Season
) -> tuple[models.Plan | None, dict[str, Seat], dict[str, str]]:
    """The season's published plan, the seat of each of the caller's workers in it (by worker
    key) and, for those without one, why (unserved reason code)."""
    published = crud.latest_published_plan(session, season=season)
    if published is None:
        return None, {}, {}
    seats: dict[str, Seat] = {}
    scope = company_scope(user)
    for trip, _locked in plan_routes._trips_for(session, plan=published, user=user):
        shown = convert.trip_public(trip, locked=False, company_id=scope)
        for passenger in trip.passengers:
            if scope is not None and passenger.company_id != scope:
                continue
            board = shown.stops[passenger.board_stop]
            seats[passenger.worker_id] = Seat(
                trip_id=trip.trip_id,
                date=f"{board.depart:%Y-%m-%d}",
                departure=f"{board.depart:%H:%M}",
                boarding=board.name,
                seat=str(passenger.seat)
                if passenger.seat_count <= 1
                else f"{passenger.seat}-{passenger.seat + passenger.seat_count - 1}",
                plate=plate(trip),
                drivers=", ".join(str(n) for n in getattr(trip, "driver_names", ()) or ()),
            )
    public = plan_routes._plan_public(session, plan=published, user=user)
    unserved = {str(u.get("worker")): str(u.get("reason")) for u in public.unserved}
    return published, seats, unserved


@router.get("/e/workers", response_class=HTMLResponse)
def workers_page(
    request: Request,
    session: SessionDep,
    user: PageEmployer,
    season: str | None = None,
    q: str = "",
    status: str = "",
    done: str = "",
    created: int = 0,
    updated: int = 0,
) -> Response:
    """The company's registered workers: search, status, seat once published; party members
    listed together."""
    locale = page_locale(request)
    row = page_season(session, season)
    if row is None:
        return render(request, "employer/workers.html", {"season": None, "seasons": []})
    seasons = crud.list_seasons(session)
    public = worker_routes.list_workers(session, user, season=row.name, masked=True)
    published, seats, unserved = seats_of(session, user=user, season=row)
    needle = q.strip().lower()
    shown: list[dict[str, Any]] = []
    for worker in public:
        key = str(worker.id)
        seat = seats.get(key)
        if seat is not None:
            state = "seated"
        elif published is not None:
            state = "unserved"
        else:
            state = "registered"
        if status and status != state:
            continue
        text = " ".join([worker.worker_id, worker.name, worker.home, worker.party, worker.phone])
        if needle and needle not in text.lower():
            continue
        shown.append(
            {
                "worker": worker,
                "state": state,
                "seat": seat,
                "why": unserved_reason(locale, unserved[key]) if key in unserved else "",
            }
        )
    # Party members together: each party right after its first member.
    shown = _parties_together(shown)
    message = (
        translate(locale, DONE[done], created=created, updated=updated) if done in DONE else ""
    )
    return render(
        request,
        "employer/workers.html",
        {
            "season": row,
            "seasons": seasons,
            "items": shown,
            "total": len(public),
            "published": published,
            "q": q,
            "status": status,
            "message": message,
            "not_assigned": translate(locale, NOT_ASSIGNED),
        },
    )


def _parties_together(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`items` in registration order, each party's members right after its first member."""
    ordered: list[dict[str, Any]] = []
    placed: set[int] = set()
    by_party: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        if item["worker"].party:
            by_party.setdefault(item["worker"].party, []).append(item)
    for item in sorted(items, key=lambda i: i["worker"].id):
        if id(item) in placed:
            continue
        members = by_party.get(item["worker"].party, [item]) if item["worker"].party else [item]
        for member in members:
            if id(member) not in placed:
                placed.add(id(member))
                ordered.append(member)
    return ordered


@router.get("/e/template.xlsx")
def template(session: SessionDep, _user: PageUser, season: str | None = None) -> Response:
    """The upload template (the API's, with the season's dates)."""
    return Response(
        content=worker_routes.template_for(session, season_name=season),
        media_type=worker_routes.XLSX,
        headers={"Content-Disposition": 'attachment; filename="workers-template.xlsx"'},
    )


@router.get("/e/upload", response_class=HTMLResponse)
def upload_page(request: Request, session: SessionDep, user: PageEmployer) -> Response:
    return render(request, "employer/upload.html", {"season": page_season(session, None)})


@router.post("/e/upload", response_class=HTMLResponse)
def upload(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: PageEmployer,
    _form: FormChecked,
    file: Annotated[UploadFile, File()],
    season: Annotated[str | None, Form(max_length=128)] = None,
) -> Response:
    """Register the file through the API's upload, all or nothing; every bad row is shown."""
    locale = page_locale(request)
    try:
        answer = worker_routes.upload_workers(session, settings, user, file, season=season or None)
    except RegistrationRejected as rejected:
        session.rollback()
        return render(
            request,
            "employer/upload.html",
            {
                "season": page_season(session, season or None),
                "error": translate_detail(locale, str(rejected)),
                "problems": problem_rows(locale, rejected.problems),
                "filename": file.filename or "",
            },
            status_code=422,
        )
    except ChunyunError as error:
        session.rollback()
        return render(
            request,
            "employer/upload.html",
            {
                "season": page_season(session, season or None),
                "error": translate_detail(locale, str(error)),
            },
            status_code=422,
        )
    result = schemas.RegistrationResult.model_validate_json(bytes(answer.body))
    return RedirectResponse(
        f"/e/workers?done=uploaded&created={result.created}&updated={result.updated}",
        status_code=303,
    )


@router.post("/e/workers/{worker_id}/withdraw")
def withdraw(
    session: SessionDep, user: PageEmployer, _form: FormChecked, worker_id: int
) -> Response:
    worker_routes.withdraw_worker(session, user, worker_id)
    return RedirectResponse("/e/workers?done=withdrawn", status_code=303)


EDITABLE = ("name", "phone", "home", "earliest", "latest", "party", "seats")


@router.get("/e/workers/{worker_id}/edit", response_class=HTMLResponse)
def edit_page(
    request: Request, session: SessionDep, user: PageEmployer, worker_id: int
) -> Response:
    worker = worker_routes.read_worker(session, user, worker_id, masked=True)
    return render(request, "employer/edit.html", {"worker": worker, "values": {}})


@router.post("/e/workers/{worker_id}/edit", response_class=HTMLResponse)
def edit(
    request: Request,
    session: SessionDep,
    user: PageEmployer,
    _form: FormChecked,
    worker_id: int,
    name: Annotated[str, Form(max_length=128)] = "",
    phone: Annotated[str, Form(max_length=20)] = "",
    home: Annotated[str, Form(max_length=256)] = "",
    earliest: Annotated[str, Form(max_length=32)] = "",
    latest: Annotated[str, Form(max_length=32)] = "",
    party: Annotated[str, Form(max_length=64)] = "",
    seats: Annotated[str, Form(max_length=8)] = "1",
) -> Response:
    """Save one row through the registration's own checks (a blank phone keeps the old one;
    the ID number and 工号 stay as registered)."""
    locale = page_locale(request)
    row = crud.get_worker(session, worker_id=worker_id, company_id=company_scope(user))
    season = crud.get_season_by_id(session, season_id=row.season_id)
    values = {
        "worker_id": row.worker_code,
        "company_id": row.company_id,
        "name": name,
        "id_number": row.id_number,
        "phone": phone.strip() or row.phone,
        "home": home,
        "earliest": earliest,
        "latest": latest,
        "party": party,
        "seats": seats,
    }
    frame = pd.DataFrame.from_records([values], columns=list(intake.COLUMNS)).astype(str)
    try:
        worker_routes._register(
            session,
            user=user,
            season_name=season.name,
            company_id=None,
            frame=frame,
            first_row=1,
            action="edit worker (page)",
        )
    except RegistrationRejected as rejected:
        session.rollback()
        worker = worker_routes.read_worker(session, user, worker_id, masked=True)
        return render(
            request,
            "employer/edit.html",
            {
                "worker": worker,
                "values": {**values, "phone": phone},
                "problems": problem_rows(locale, rejected.problems),
            },
            status_code=422,
        )
    return RedirectResponse("/e/workers?done=saved", status_code=303)


# --- downloads -----------------------------------------------------------------------------------


@router.get("/e/documents", response_class=HTMLResponse)
def documents_page(
    request: Request, session: SessionDep, user: PageEmployer, season: str | None = None
) -> Response:
    """The company's trips in the published plan, with their manifests and trip sheets, the
    notice lists, the company's statement and its changes since publishing (the API's own
    answers to this employer: its company only)."""
    row = page_season(session, season)
    published = crud.latest_published_plan(session, season=row) if row else None
    trips: list[domain.Trip] = []
    costs = None
    changes: list[schemas.ChangePublic] = []
    if published is not None:
        trips = [t for t, _ in plan_routes._trips_for(session, plan=published, user=user)]
        costs = operation_routes.read_costs(session, user, published.id)
        changes = operation_routes.read_changes(session, user, published.id)
    return render(
        request,
        "employer/documents.html",
        {
            "season": row,
            "plan": published,
            "trips": sorted(trips, key=lambda t: t.departure),
            "costs": costs,
            "changes": changes,
            "change_kinds": CHANGE_KINDS,
        },
    )


CHANGE_KINDS = {
    "withdrawal": N_("cancelled"),
    "late_placed": N_("newly seated"),
    "late_waiting": N_("waiting for a seat"),
    "edit": N_("details changed"),
    "moved": N_("moved to another trip"),
}


NOTICE_COLUMNS = (
    ("worker_id", N_("Worker ID")),
    ("name", N_("Name")),
    ("phone", N_("Phone")),
    ("status", N_("Status")),
    ("date", N_("Date")),
    ("time", N_("Departure")),
    ("gate", N_("Boarding point")),
    ("trip_id", N_("Trip")),
    ("seat", N_("Seat")),
    ("message", N_("SMS text")),
)


@router.get("/pages/plans/{plan_id}/notices.csv")
def notices_csv(request: Request, session: SessionDep, user: PageUser, plan_id: int) -> Response:
    """The SMS notice list of the caller's workers (employers: their own; dispatchers: all):
    one row per worker with the text to send (api/documents/notices.py)."""
    from api.documents.notices import worker_notices

    locale = page_locale(request)
    plan = plan_routes._visible_plan(session, plan_id=plan_id, user=user)
    scope = company_scope(user)
    trips = [
        convert.trip_for_company(t, scope)
        for t, _ in plan_routes._trips_for(session, plan=plan, user=user)
    ]
    workers = crud.list_workers(session, season=plan.season, company_id=scope)
    companies = crud.list_companies(session, season=plan.season)
    scenario = convert.scenario_for_documents(
        plan.season, companies=companies, workers=workers, masked=False
    )
    public = plan_routes._plan_public(session, plan=plan, user=user)
    unserved = tuple(
        domain.Unserved(str(u["worker"]), domain.UnservedReason(u["reason"]), "")
        for u in public.unserved
    )
    drawn = dataclasses.replace(
        outputs.plan_for_maps(
            season=plan.season.name, direction=plan.season.direction, trips=trips, kpis=plan.kpis
        ),
        unserved=unserved,
    )
    # The list carries phones to send the texts to: an unmasked read, written to the audit log.
    begin_write(session)
    crud.record_unmasked_read(
        session,
        user=user,
        action=f"SMS notice list of plan {plan.id}",
        season_id=plan.season_id,
        worker_keys=(str(w.id) for w in workers),
    )
    rows = worker_notices(drawn, scenario)
    codes = {str(w.id): w.worker_code for w in workers}
    for item in rows:  # the document keys workers by the service's key; clerks know the 工号
        item["worker_id"] = codes.get(item["worker_id"], item["worker_id"])
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([translate(locale, label) for _key, label in NOTICE_COLUMNS])
    for item in rows:
        writer.writerow(
            [spreadsheet_safe(str(item.get(key, ""))) for key, _label in NOTICE_COLUMNS]
        )
    filename = f"{plan.season.name}-{plan.id}-notices.csv"
    return Response(
        ("\ufeff" + buffer.getvalue()).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/pages/plans/{plan_id}/trips/{trip_id}/manifest.{fmt}")
def manifest(
    request: Request,
    session: SessionDep,
    user: PageUser,
    plan_id: int,
    trip_id: str,
    fmt: plan_routes.ManifestFormat,
) -> Response:
    """A trip's manifest as the API gives it to the caller (employers: own rows, masked), in
    the pages' language."""
    return plan_routes.read_manifest(
        session, user, plan_id, trip_id, fmt, masked=False, locale=page_locale(request)
    )


# --- documents of the operations (trip sheets, statements, lists with changes) ------------------
# The API's own route functions answer: an employer gets exactly what the API gives it (its own
# company's rows, or 404), a dispatcher everything.


@router.get("/pages/plans/{plan_id}/trips/{trip_id}/sheet.pdf")
def trip_sheet(
    request: Request, session: SessionDep, user: PageUser, plan_id: int, trip_id: str
) -> Response:
    """The trip sheet (包车客运行程单) with the charter sign's data, in the pages' language."""
    return operation_routes.read_trip_sheet(
        session, user, plan_id, trip_id, locale=page_locale(request)
    )


@router.get("/pages/plans/{plan_id}/changes-notices.csv")
def notices_with_changes_csv(session: SessionDep, user: PageUser, plan_id: int) -> Response:
    """The SMS notice list with its 变更 column (changes since publishing)."""
    return operation_routes.read_notices(session, user, plan_id, masked=user.role != "dispatcher")


@router.get("/pages/plans/{plan_id}/trips.csv")
def trips_csv(session: SessionDep, user: PageUser, plan_id: int) -> Response:
    return operation_routes.read_trips_csv(session, user, plan_id)


@router.get("/pages/plans/{plan_id}/statements/{company_id}.xlsx")
def statement_xlsx(
    request: Request, session: SessionDep, user: PageUser, plan_id: int, company_id: str
) -> Response:
    """A company's charter statement (包车费用结算单); employers: their own only."""
    return operation_routes.company_statement_xlsx(
        session, user, plan_id, company_id, locale=page_locale(request)
    )


@router.get("/pages/plans/{plan_id}/statements/{company_id}.pdf")
def statement_pdf(
    request: Request, session: SessionDep, user: PageUser, plan_id: int, company_id: str
) -> Response:
    return operation_routes.company_statement_pdf(
        session, user, plan_id, company_id, locale=page_locale(request)
    )


@router.get("/pages/plans/{plan_id}/companies/{company_id}/notices.csv")
def company_notices(session: SessionDep, user: PageUser, plan_id: int, company_id: str) -> Response:
    """One company's departures list with the changes; employers: their own only."""
    return operation_routes.read_company_notices(session, user, plan_id, company_id)
