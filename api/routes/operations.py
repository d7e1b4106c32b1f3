"""Operations on a plan: the coach and crew of each trip (PUT per trip, or an operator's
XLSX/CSV import with its template), all or nothing, dispatchers only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Response, UploadFile

from api import convert, crew_import, crud, models, operations
from api.core.db import begin_write
from api.deps import CurrentUser, DispatcherUser, SessionDep, SettingsDep, company_scope
from api.documents.statement import statement_pdf_bytes, statement_xlsx_bytes
from api.errors import NotFound, TooLarge, message
from api.schemas import CostsPublic, CrewIn, TripPublic
from optimizer.costs import SeasonCosts, costs_to_json, season_costs
from optimizer.model import Trip

router = APIRouter(prefix="/plans", tags=["operations"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"
CREW_REFUSED: dict[int | str, dict[str, Any]] = {
    422: {"description": "every problem (row, column, value, reason); nothing saved"},
}


@router.put("/{plan_id}/trips/{trip_id}/crew", responses=CREW_REFUSED)
def assign_crew(
    session: SessionDep, user: DispatcherUser, plan_id: int, trip_id: str, crew: CrewIn
) -> TripPublic:
    """Assign the coach (plate, type, seats, operator), drivers (name, licence, phone; as many
    as the trip's timetable needs) and escort to a trip. Refused (422, nothing saved) when the
    crew is short, the coach too small, or the plate or a driver is on an overlapping trip."""
    begin_write(session)
    plan = crud.get_plan(session, plan_id=plan_id)
    [(trip, locked)] = operations.assign_crews(
        session, plan=plan, crews={trip_id: convert.crew_from_schema(crew)}, user=user
    )
    return convert.trip_public(trip, locked=locked)


@router.delete("/{plan_id}/trips/{trip_id}/crew")
def clear_crew(session: SessionDep, user: DispatcherUser, plan_id: int, trip_id: str) -> TripPublic:
    """Take the coach and crew off a trip: it prints as unassigned (未分配) again."""
    begin_write(session)
    plan = crud.get_plan(session, plan_id=plan_id)
    [(trip, locked)] = operations.assign_crews(
        session, plan=plan, crews={trip_id: None}, user=user, action="clear crew"
    )
    return convert.trip_public(trip, locked=locked)


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
    return [convert.trip_public(t, locked=locked) for t, locked in changed]


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
    session: SessionDep, user: models.User, plan_id: int, company_id: str, fmt: str
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
        content, media = statement_xlsx_bytes(statement, costs, trips, name), XLSX
    else:
        content, media = statement_pdf_bytes(statement, costs, trips, name), PDF
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
    session: SessionDep, user: CurrentUser, plan_id: int, company_id: str
) -> Response:
    """A company's charter statement (包车费用结算单) as XLSX: its share of each trip, subsidy
    and amount payable. Employers: their own company's only."""
    return _statement(session, user, plan_id, company_id, "xlsx")


@router.get(
    "/{plan_id}/costs/{company_id}.pdf",
    response_class=Response,
    responses={200: {"content": {PDF: {}}, "description": "the company's statement"}},
)
def company_statement_pdf(
    session: SessionDep, user: CurrentUser, plan_id: int, company_id: str
) -> Response:
    """The company's charter statement as an A4 PDF (as the XLSX)."""
    return _statement(session, user, plan_id, company_id, "pdf")


def _ascii(name: str) -> str:
    return "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name)
