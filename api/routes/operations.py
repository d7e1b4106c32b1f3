"""Operations on a plan: the coach and crew of each trip (PUT per trip, or an operator's
XLSX/CSV import with its template), all or nothing, dispatchers only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Response, UploadFile

from api import convert, crew_import, crud, operations
from api.core.db import begin_write
from api.deps import DispatcherUser, SessionDep, SettingsDep
from api.errors import TooLarge, message
from api.schemas import CrewIn, TripPublic

router = APIRouter(prefix="/plans", tags=["operations"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
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
