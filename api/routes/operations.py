"""Operations on a plan: the coach and crew of each trip (PUT per trip, or an operator's
XLSX/CSV import with its template), all or nothing, dispatchers only."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, File, Response, UploadFile

from api import convert, crew_import, crud, models, operations, outputs
from api.core.db import begin_write
from api.deps import (
    CurrentUser,
    DispatcherUser,
    JobRunnerDep,
    MaskedQuery,
    SessionDep,
    SettingsDep,
    company_scope,
    shows_unmasked,
)
from api.documents.notices import (
    COMPANY_COLUMNS,
    NOTICE_COLUMNS,
    notices_by_company,
    notices_csv_bytes,
    notices_with_changes,
    worker_notices,
)
from api.documents.statement import statement_pdf_bytes, statement_xlsx_bytes
from api.documents.trip_sheet import trip_sheet_pdf_bytes
from api.errors import Conflict, NotFound, TooLarge, message
from api.i18n import DEFAULT_LOCALE
from api.routes.plans import AnswerLocale, PaperLocale
from api.schemas import (
    ChangePublic,
    ChangesConfirm,
    CostsPublic,
    CrewIn,
    LatePlacementPublic,
    TripPublic,
)
from api.spreadsheet import spreadsheet_safe
from optimizer.costs import SeasonCosts, costs_to_json, season_costs
from optimizer.identity import mask_phone
from optimizer.model import Trip
from optimizer.write import (
    DUTY_COLUMNS,
    TRIP_COLUMNS,
    depot_names,
    duty_rows,
    trip_origins,
    trip_row,
)

router = APIRouter(prefix="/plans", tags=["operations"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"
CSV = "text/csv; charset=utf-8"
CREW_REFUSED: dict[int | str, dict[str, Any]] = {
    422: {"description": "every problem (row, column, value, reason); nothing saved"},
}


@router.put("/{plan_id}/trips/{trip_id}/crew", responses=CREW_REFUSED)
def assign_crew(
    session: SessionDep,
    user: DispatcherUser,
    plan_id: int,
    trip_id: str,
    crew: CrewIn,
    locale: AnswerLocale,
) -> TripPublic:
    """Assign the coach (plate, type, seats, operator), drivers (name, licence, phone; as many
    as the trip's timetable needs) and escort to a trip. Refused (422, nothing saved) when the
    crew is short, the coach too small, or the plate or a driver is on an overlapping trip."""
    begin_write(session)
    plan = crud.get_plan(session, plan_id=plan_id)
    [(trip, locked)] = operations.assign_crews(
        session, plan=plan, crews={trip_id: convert.crew_from_schema(crew)}, user=user
    )
    return convert.trip_public(trip, locked=locked, locale=locale)


@router.delete("/{plan_id}/trips/{trip_id}/crew")
def clear_crew(
    session: SessionDep,
    user: DispatcherUser,
    plan_id: int,
    trip_id: str,
    locale: AnswerLocale,
) -> TripPublic:
    """Take the coach and crew off a trip: it prints as unassigned (未分配) again."""
    begin_write(session)
    plan = crud.get_plan(session, plan_id=plan_id)
    [(trip, locked)] = operations.assign_crews(
        session, plan=plan, crews={trip_id: None}, user=user, action="clear crew"
    )
    return convert.trip_public(trip, locked=locked, locale=locale)


@router.get(
    "/{plan_id}/crews/template.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "the operator's crew template"}},
)
def crew_template(session: SessionDep, _user: DispatcherUser, plan_id: int) -> Response:
    """The operator's template: one row per trip of the plan, its date, route and drivers
    needed filled in; plate, coach, drivers and escort to fill."""
    plan = crud.get_plan(session, plan_id=plan_id)
    trips = [t for t, _ in crud.plan_trips(session, plan_id=plan.id)]
    return Response(
        content=crew_import.template_workbook(trips),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="crews-plan-{plan.id}.xlsx"'},
    )


@router.post("/{plan_id}/crews", responses=CREW_REFUSED)
def import_crews(
    session: SessionDep,
    settings: SettingsDep,
    user: DispatcherUser,
    plan_id: int,
    file: Annotated[UploadFile, File(description="the crew template (XLSX) or a CSV like it")],
    locale: AnswerLocale,
) -> list[TripPublic]:
    """Import the operator's coaches and crews, all or nothing: every bad row is reported with
    its row, column, value and reason, and nothing is saved."""
    content = file.file.read(settings.max_upload_bytes + 1)
    if len(content) > settings.max_upload_bytes:
        raise TooLarge(message("body_too_large", limit=settings.max_upload_bytes))
    crews, rows = crew_import.read_crews(
        file.filename or "crews.xlsx", content, max_rows=settings.max_upload_rows
    )
    begin_write(session)
    plan = crud.get_plan(session, plan_id=plan_id)
    changed = operations.assign_crews(
        session, plan=plan, crews=crews, user=user, rows=rows, action="import crews"
    )
    return [convert.trip_public(t, locked=locked, locale=locale) for t, locked in changed]


def _visible_plan(session: SessionDep, *, plan_id: int, user: models.User) -> models.Plan:
    plan = crud.get_plan(session, plan_id=plan_id)
    if user.role != "dispatcher" and plan.published_at is None:
        raise NotFound(f"no plan {plan_id}")
    return plan


def _costs(session: SessionDep, plan: models.Plan) -> tuple[SeasonCosts, list[Trip]]:
    trips = [t for t, _ in crud.plan_trips(session, plan_id=plan.id)]
    return season_costs(trips, convert.subsidy_rule(plan.season)), trips


@router.get("/{plan_id}/costs")
def read_costs(session: SessionDep, user: CurrentUser, plan_id: int) -> CostsPublic:
    """Who pays what: each trip's cost split over its companies pro rata by passenger-km (in
    fen, adding up to the trip's cost), the subsidy per company under the season's rule, and
    the season totals. An employer gets its own company's statement only (no totals)."""
    plan = _visible_plan(session, plan_id=plan_id, user=user)
    data = costs_to_json(_costs(session, plan)[0])
    scope = company_scope(user)
    if scope is not None:
        data["companies"] = [c for c in data["companies"] if c["company_id"] == scope]
        for key in ("total_cost_fen", "total_subsidy_fen", "total_payable_fen", "unallocated_fen"):
            data[key] = None
        data["unallocated_trips"] = []
    return CostsPublic(plan_id=plan.id, **data)


def _statement(
    session: SessionDep,
    user: models.User,
    plan_id: int,
    company_id: str,
    fmt: str,
    locale: str = DEFAULT_LOCALE,
) -> Response:
    plan = _visible_plan(session, plan_id=plan_id, user=user)
    scope = company_scope(user)
    if scope is not None and scope != company_id:
        raise NotFound(f"no statement for company {company_id!r}")
    costs, trips = _costs(session, plan)
    statement = next((c for c in costs.companies if c.company_id == company_id), None)
    if statement is None:
        raise NotFound(f"plan {plan.id} carries nobody of company {company_id!r}")
    company = crud.get_company(session, season=plan.season, company_id=company_id)
    name = company.name if company is not None else company_id
    if fmt == "xlsx":
        content, media = statement_xlsx_bytes(statement, costs, trips, name, locale), XLSX
    else:
        content, media = statement_pdf_bytes(statement, costs, trips, name, locale), PDF
    filename = f"statement-plan-{plan.id}-{company_id}.{fmt}"
    return Response(
        content,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{_ascii(filename)}"'},
    )


@router.get(
    "/{plan_id}/costs/{company_id}.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "the company's statement"}},
)
def company_statement_xlsx(
    session: SessionDep,
    user: CurrentUser,
    plan_id: int,
    company_id: str,
    locale: PaperLocale,
) -> Response:
    """A company's charter statement (包车费用结算单) as XLSX: its share of each trip, subsidy
    and amount payable. Employers: their own company's only. In the language asked for
    (`lang`, Accept-Language; default Chinese)."""
    return _statement(session, user, plan_id, company_id, "xlsx", locale)


@router.get(
    "/{plan_id}/costs/{company_id}.pdf",
    response_class=Response,
    responses={200: {"content": {PDF: {}}, "description": "the company's statement"}},
)
def company_statement_pdf(
    session: SessionDep,
    user: CurrentUser,
    plan_id: int,
    company_id: str,
    locale: PaperLocale,
) -> Response:
    """The company's charter statement as an A4 PDF (as the XLSX)."""
    return _statement(session, user, plan_id, company_id, "pdf", locale)


def _ascii(name: str) -> str:
    return "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name)


# --- changes after publishing ---------------------------------------------------------------------


def _change_public(change: models.PlanChange) -> ChangePublic:
    seat = change.detail.get("seat")
    return ChangePublic(
        id=change.id,
        kind=change.kind,
        worker=change.worker_key,
        staff_number=str(change.detail.get("staff_number", "")),
        name=str(change.detail.get("name", "")),
        company_id=change.company_id,
        trip_id=change.trip_id,
        seat=int(seat) if isinstance(seat, int) else None,
        from_trip_id=str(change.detail.get("from_trip", "")),
        fields=[str(f) for f in change.detail.get("fields", [])],
        new_trips_plan=_int_or_none(change.detail.get("new_trips_plan")),
        created_at=change.created_at,
        confirmed_at=change.confirmed_at,
    )


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) else None


def _published(session: SessionDep, plan_id: int) -> models.Plan:
    plan = crud.get_plan(session, plan_id=plan_id)
    latest = crud.latest_published_plan(session, season=plan.season)
    if latest is None or latest.id != plan.id:
        raise Conflict(message("late_not_published", plan_id=plan.id))
    return plan


@router.post("/{plan_id}/late")
def place_late(
    session: SessionDep,
    settings: SettingsDep,
    user: DispatcherUser,
    runner: JobRunnerDep,
    plan_id: int,
) -> LatePlacementPublic:
    """Seat registrations made after publishing (and edited ones that lost their seat) in free
    seats of the published plan's trips, locked ones included: a trip keeps its coach, crew,
    times, stops and passengers; the late worker boards and alights where it already stops,
    within the seat and ride limits. Those that fit nowhere wait: a planning job starts for them
    (`new_trips_plan`; the published trips locked, only new trips added), whose plan the
    dispatcher checks (its `changes`) and publishes. Each is put on the change list; audited."""
    begin_write(session)
    plan = _published(session, plan_id)
    placed, waiting = operations.place_late_registrations(session, plan=plan, user=user)
    pending = [
        c for c in operations.list_changes(session, plan=plan)
        if c.kind == "late_waiting" and "new_trips_plan" not in c.detail
    ]  # fmt: skip
    job = None
    if pending:
        time_limit_s = plan.season.solver.get("time_limit_s", settings.plan_time_limit_s)
        job = operations.start_new_trips_job(
            session, plan=plan, user=user, time_limit_s=float(time_limit_s)
        )
    public = LatePlacementPublic(
        placed=[_change_public(c) for c in placed],
        waiting=[_change_public(c) for c in waiting],
        new_trips_plan=job.id if job is not None else None,
    )
    if job is not None:
        # A worker claims the row once it is committed.
        session.commit()
        runner.submit(job.id)
    return public


@router.get("/{plan_id}/changes")
def read_changes(session: SessionDep, user: CurrentUser, plan_id: int) -> list[ChangePublic]:
    """What changed since the plan was published (withdrawals, late registrations), with
    whether the dispatcher confirmed each; employers see their own company's."""
    plan = _visible_plan(session, plan_id=plan_id, user=user)
    changes = operations.list_changes(session, plan=plan, company_id=company_scope(user))
    return [_change_public(c) for c in changes]


@router.post("/{plan_id}/changes/confirm")
def confirm_changes(
    session: SessionDep, user: DispatcherUser, plan_id: int, body: ChangesConfirm
) -> list[ChangePublic]:
    """Confirm the listed changes (all unconfirmed ones when `ids` is empty); audited."""
    begin_write(session)
    plan = crud.get_plan(session, plan_id=plan_id)
    return [
        _change_public(c)
        for c in operations.confirm_changes(session, plan=plan, ids=body.ids, user=user)
    ]


def _notice_rows(
    session: SessionDep, *, plan: models.Plan, user: models.User, scope: str | None, masked: bool
) -> list[dict[str, str]]:
    """The notice rows of `plan` for workers of `scope` (None: all), with the changes since
    publishing; full phones only for a dispatcher not asking for masks (audited)."""
    unmasked = shows_unmasked(user, masked)
    if unmasked:
        begin_write(session)
    workers = crud.list_workers(session, season=plan.season, company_id=scope)
    companies = crud.list_companies(session, season=plan.season)
    scenario = convert.scenario_for_documents(
        plan.season,
        companies=companies,
        workers=workers,
        masked=not unmasked,
        drop_points=operations.list_drop_points(session, season=plan.season),
    )
    trips = [
        convert.trip_for_company(t, scope) for t, _ in crud.plan_trips(session, plan_id=plan.id)
    ]
    domain_plan = outputs.plan_for_maps(
        season=plan.season.name, direction=plan.season.direction, trips=trips, kpis=plan.kpis
    ).replace(unserved=convert.unserved_from_data(plan.unserved))
    names = {c.company_id: c.name for c in companies}
    changes = [
        {
            "kind": c.kind,
            "worker_id": c.worker_key,
            "staff_number": str(c.detail.get("staff_number", "")),
            "name": str(c.detail.get("name", "")),
            "phone": str(c.detail.get("phone", ""))
            if unmasked
            else mask_phone(str(c.detail.get("phone", ""))),
            "company_id": c.company_id,
            "company": names.get(c.company_id, c.company_id),
            "trip_id": c.trip_id,
            "seat": str(c.detail.get("seat", "")),
        }
        for c in operations.list_changes(session, plan=plan, company_id=scope)
    ]
    rows = notices_with_changes(
        worker_notices(domain_plan, scenario), changes, direction=plan.season.direction
    )
    if unmasked:
        crud.record_unmasked_read(
            session,
            user=user,
            action=f"notices of plan {plan.id}",
            season_id=plan.season_id,
            worker_keys=[r["worker_id"] for r in rows],
        )
    return rows


@router.get(
    "/{plan_id}/notices.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "the SMS notice list"}},
)
def read_notices(
    session: SessionDep, user: CurrentUser, plan_id: int, masked: MaskedQuery = False
) -> Response:
    """The SMS notice list (one message per worker) with a 变更 column saying which rows are
    changes since publishing; withdrawn workers get a cancellation notice. Employers get their
    own workers, phones masked; a dispatcher's full list is audited."""
    plan = _visible_plan(session, plan_id=plan_id, user=user)
    rows = _notice_rows(session, plan=plan, user=user, scope=company_scope(user), masked=masked)
    return Response(
        notices_csv_bytes(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="notices-plan-{plan.id}.csv"'},
    )


# --- the CLI's other documents, from the service ------------------------------------------------


def _csv(rows: Sequence[Sequence[object]], header: Sequence[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([spreadsheet_safe(str(v)) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _download(content: bytes, media: str, filename: str) -> Response:
    return Response(
        content,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{_ascii(filename)}"'},
    )


def _scoped_trips(session: SessionDep, plan: models.Plan, user: models.User) -> list[Trip]:
    scope = company_scope(user)
    trips = [t for t, _ in crud.plan_trips(session, plan_id=plan.id)]
    if scope is None:
        return trips
    return [
        convert.trip_for_company(t, scope)
        for t in trips
        if any(p.company_id == scope for p in t.passengers)
    ]


@router.get(
    "/{plan_id}/trips.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "one row per trip"}},
)
def read_trips_csv(session: SessionDep, user: CurrentUser, plan_id: int) -> Response:
    """trips.csv as the CLI writes it (one row per trip); employers: trips carrying their
    workers, other companies' gates unnamed. Formula-like cells are quoted."""
    plan = _visible_plan(session, plan_id=plan_id, user=user)
    origins = trip_origins(
        [t for t, _ in crud.plan_trips(session, plan_id=plan.id)],
        crud.origin_scenario(session, season=plan.season),
    )
    rows = [trip_row(t, origins.get(t.trip_id, "")) for t in _scoped_trips(session, plan, user)]
    return _download(_csv(rows, TRIP_COLUMNS), CSV, f"trips-plan-{plan.id}.csv")


@router.get(
    "/{plan_id}/duties.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "coach duties, day by day"}},
)
def read_duties_csv(session: SessionDep, _user: DispatcherUser, plan_id: int) -> Response:
    """duties.csv as the CLI writes it: the plan's trips chained into the work of physical
    coaches (optimizer.duties, from the origin county's seat), day by day (dispatchers)."""
    from optimizer.duties import TimetableEmptyDriveTimer, build_duties
    from optimizer.season import depot_of
    from optimizer.solve import default_distance_provider

    plan = crud.get_plan(session, plan_id=plan_id)
    trips = [t for t, _ in crud.plan_trips(session, plan_id=plan.id)]
    scenario = convert.season_to_scenario(
        plan.season,
        companies=crud.list_companies(session, season=plan.season),
        fleet=crud.list_vehicle_types(session, season=plan.season),
        workers=(),
    )
    rows: list[list[object]] = []
    if trips:
        result = build_duties(
            trips,
            scenario.fleet,
            depot=depot_of(scenario),
            timer=TimetableEmptyDriveTimer(default_distance_provider(), scenario.policy),
            policy=scenario.policy,
        )
        rows = [
            [r[c] for c in DUTY_COLUMNS]
            for r in duty_rows(result.duties, trips, depot_names(scenario))
        ]
    return _download(_csv(rows, DUTY_COLUMNS), CSV, f"duties-plan-{plan.id}.csv")


@router.get(
    "/{plan_id}/trips/{trip_id}/sheet.pdf",
    response_class=Response,
    responses={200: {"content": {PDF: {}}, "description": "the trip sheet (包车客运行程单)"}},
)
def read_trip_sheet(
    session: SessionDep,
    user: CurrentUser,
    plan_id: int,
    trip_id: str,
    locale: PaperLocale,
) -> Response:
    """The trip sheet: the charter sign's data (plate, operator, drivers with phones, escort, or
    未分配) and the timetable with every rest. Employers: trips carrying their workers. In the
    language asked for (`lang`, Accept-Language; default Chinese)."""
    plan = _visible_plan(session, plan_id=plan_id, user=user)
    scope = company_scope(user)
    trip, _ = crud.get_plan_trip(session, plan_id=plan.id, trip_id=trip_id)
    if scope is not None and not any(p.company_id == scope for p in trip.passengers):
        raise NotFound(f"plan {plan.id} has no trip {trip_id!r}")
    companies = crud.list_companies(session, season=plan.season)
    scenario = convert.season_to_scenario(
        plan.season,
        companies=companies,
        fleet=crud.list_vehicle_types(session, season=plan.season),
        workers=(),
    ).replace(
        drop_points=tuple(
            convert.drop_point_to_domain(d)
            for d in operations.list_drop_points(session, season=plan.season)
        )
    )
    content = trip_sheet_pdf_bytes(convert.trip_for_company(trip, scope), scenario, locale)
    return _download(content, PDF, f"trip-sheet-{plan.id}-{trip.trip_id}.pdf")


@router.get(
    "/{plan_id}/companies/{company_id}/notices.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "the company's notice list"}},
)
def read_company_notices(
    session: SessionDep, user: CurrentUser, plan_id: int, company_id: str
) -> Response:
    """One company's list of its workers' departures (as the CLI's companies/<id>.csv), with
    the changes since publishing. Employers: their own company only, phones masked."""
    scope = company_scope(user)
    if scope is not None and scope != company_id:
        raise NotFound(f"no list for company {company_id!r}")
    plan = _visible_plan(session, plan_id=plan_id, user=user)
    if crud.get_company(session, season=plan.season, company_id=company_id) is None:
        raise NotFound(f"no company {company_id!r} in season {plan.season.name!r}")
    rows = _notice_rows(session, plan=plan, user=user, scope=company_id, masked=scope is not None)
    grouped = notices_by_company(rows).get(company_id, [])
    labels = dict(NOTICE_COLUMNS)
    keys = [*COMPANY_COLUMNS, "change"]
    table = [[r.get(k, "") for k in keys] for r in grouped]
    return _download(
        _csv(table, [labels[k] for k in keys]), CSV, f"notices-plan-{plan.id}-{company_id}.csv"
    )
