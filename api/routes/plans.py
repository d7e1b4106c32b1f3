"""Planning jobs, plans, publishing, and the published outputs (trips, manifests, maps).

Employers see published plans only, and in them only the trips that carry their workers and
only their own passengers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Response, status
from fastapi.responses import HTMLResponse

from api import convert, crud, models, operations, outputs
from api.core.db import begin_write
from api.deps import (
    CurrentUser,
    DispatcherUser,
    JobRunnerDep,
    MaskedQuery,
    SeasonQuery,
    SessionDep,
    SettingsDep,
    company_scope,
    shows_unmasked,
)
from api.documents.notices import safe_name
from api.errors import NotFound
from api.i18n import DEFAULT_LOCALE, document_locale, json_locale
from api.schemas import ManifestPublic, PlanCreate, PlanPublic, TripPublic
from optimizer import model as domain
from optimizer.write import trip_origins

router = APIRouter(prefix="/plans", tags=["plans"])

ManifestFormat = Literal["json", "csv", "xlsx", "pdf"]

# The language of a document or map (api.i18n.document_locale): ?lang=, else Accept-Language,
# else Chinese. The pages pass the user's choice as `lang`.
LangQuery = Annotated[
    str | None,
    Query(
        max_length=16,
        pattern=r"^[A-Za-z_-]*$",
        description="language of the document or map: zh (default) or en; "
        "without it, the first language of Accept-Language",
    ),
]
AcceptLanguage = Annotated[str | None, Header(include_in_schema=False)]
# The language of a JSON answer's texts for people (a plan's notes, the charter sign's fixed
# words): ?lang=, else English unless Accept-Language asks for Chinese (api.i18n.json_locale).
AnswerLangQuery = Annotated[
    str | None,
    Query(
        max_length=16,
        pattern=r"^[A-Za-z_-]*$",
        description="language of the plan's notes and the charter sign's words: en (default) "
        "or zh; without it, Chinese when Accept-Language asks for it first",
    ),
]


def answer_locale(lang: AnswerLangQuery = None, accept_language: AcceptLanguage = None) -> str:
    """The locale of a JSON answer's texts for people (`api.i18n.json_locale`)."""
    return json_locale(lang, accept_language)


AnswerLocale = Annotated[str, Depends(answer_locale)]


def paper_locale(lang: LangQuery = None, accept_language: AcceptLanguage = None) -> str:
    """The locale of a document or map (`api.i18n.document_locale`)."""
    return document_locale(lang, accept_language)


PaperLocale = Annotated[str, Depends(paper_locale)]


def _visible_plan(session: SessionDep, *, plan_id: int, user: models.User) -> models.Plan:
    """The plan, if the caller may see it: dispatchers any, employers published ones only."""
    plan = crud.get_plan(session, plan_id=plan_id)
    if user.role != "dispatcher" and plan.published_at is None:
        raise NotFound(f"no plan {plan_id}")
    return plan


def _plan_public(
    session: SessionDep, *, plan: models.Plan, user: models.User, locale: str = "en"
) -> PlanPublic:
    public = convert.plan_public(plan, locale=locale)
    scope = company_scope(user)
    if scope is None:
        return public
    own = {str(w.id) for w in crud.list_workers(session, season=plan.season, company_id=scope)}
    changes = None
    if public.changes is not None:
        changes = {
            key: [
                v for v in values if key.startswith("trips") or key.startswith("locked") or v in own
            ]
            for key, values in public.changes.items()
        }
    return public.model_copy(
        update={
            "unserved": [u for u in public.unserved if u.get("worker") in own],
            "problems": [],
            "changes": changes,
        }
    )


@router.post("", status_code=status.HTTP_202_ACCEPTED)
def start_plan(
    session: SessionDep,
    settings: SettingsDep,
    user: DispatcherUser,
    runner: JobRunnerDep,
    plan_in: PlanCreate,
) -> PlanPublic:
    """Start planning the season in the background (dispatchers only); poll GET /plans/{id}.

    Trips of the season's published plan are locked: the new plan keeps them unchanged and
    places the others; its `changes` say what moved. One job per season at a time (409).
    """
    season = crud.resolve_season(session, name=plan_in.season)
    time_limit_s = plan_in.time_limit_s or season.solver.get(
        "time_limit_s", settings.plan_time_limit_s
    )
    plan = crud.create_plan(
        session,
        season=season,
        user=user,
        time_limit_s=float(time_limit_s),
    )
    public = convert.plan_public(plan)
    # A worker (this process's or another machine's) claims the row once it is committed.
    session.commit()
    runner.submit(plan.id)
    return public


@router.get("")
def list_plans(
    session: SessionDep,
    user: CurrentUser,
    locale: AnswerLocale,
    season: SeasonQuery = None,
) -> list[PlanPublic]:
    """The season's plans (employers: published ones)."""
    row = crud.resolve_season(session, name=season)
    plans = crud.list_plans(session, season=row, published_only=user.role != "dispatcher")
    return [_plan_public(session, plan=p, user=user, locale=locale) for p in plans]


@router.get("/{plan_id}")
def read_plan(
    session: SessionDep,
    user: CurrentUser,
    plan_id: int,
    locale: AnswerLocale,
) -> PlanPublic:
    """Status, progress and KPIs of a planning job; `changes` after a re-plan; `notes` (how
    the plan was made) in English, or Chinese when asked (?lang=zh or Accept-Language: zh)."""
    plan = _visible_plan(session, plan_id=plan_id, user=user)
    return _plan_public(session, plan=plan, user=user, locale=locale)


@router.post("/{plan_id}/cancel")
def cancel_plan(session: SessionDep, user: DispatcherUser, plan_id: int) -> PlanPublic:
    """Cancel a planning job (dispatchers only): a queued job ends at once; a running one is
    stopped by its worker at its next progress report and writes no plan. A finished job: 409."""
    plan = crud.cancel_job(session, plan=crud.get_plan(session, plan_id=plan_id))
    return convert.plan_public(plan)


@router.post("/{plan_id}/publish")
def publish_plan(session: SessionDep, user: DispatcherUser, plan_id: int) -> PlanPublic:
    """Publish a finished plan (dispatchers only): its trips are locked from now on."""
    plan = crud.publish_plan(session, plan=crud.get_plan(session, plan_id=plan_id), user=user)
    return convert.plan_public(plan)


def _trips_for(
    session: SessionDep, *, plan: models.Plan, user: models.User
) -> list[tuple[domain.Trip, bool]]:
    trips = crud.plan_trips(session, plan_id=plan.id)
    scope = company_scope(user)
    if scope is None:
        return trips
    own = crud.trip_ids_of_company(session, plan_id=plan.id, company_id=scope)
    return [(t, locked) for t, locked in trips if t.trip_id in own]


def _trip_for(
    session: SessionDep, *, plan: models.Plan, trip_id: str, user: models.User
) -> tuple[domain.Trip, bool]:
    trip, locked = crud.get_plan_trip(session, plan_id=plan.id, trip_id=trip_id)
    scope = company_scope(user)
    if scope is not None and not any(p.company_id == scope for p in trip.passengers):
        raise NotFound(f"plan {plan.id} has no trip {trip_id!r}")
    return trip, locked


@router.get("/{plan_id}/trips")
def list_trips(
    session: SessionDep,
    user: CurrentUser,
    plan_id: int,
    locale: AnswerLocale,
) -> list[TripPublic]:
    """The plan's trips with timetables; an employer gets the trips carrying its workers. The
    charter sign's fixed words (unassigned, none) in English, or Chinese when asked."""
    plan = _visible_plan(session, plan_id=plan_id, user=user)
    scope = company_scope(user)
    trips = _trips_for(session, plan=plan, user=user)
    origins = _origins(session, plan, [t for t, _ in trips])
    return [
        convert.trip_public(
            t, locked=locked, company_id=scope, origin=origins.get(t.trip_id, ""), locale=locale
        )
        for t, locked in trips
    ]


def _origins(
    session: SessionDep, plan: models.Plan, trips: Sequence[domain.Trip]
) -> dict[str, str]:
    """Each trip's origin county, from the trips as planned (before an employer's view hides
    other companies' stops)."""
    return trip_origins(trips, crud.origin_scenario(session, season=plan.season))


@router.get("/{plan_id}/trips/{trip_id}")
def read_trip(
    session: SessionDep,
    user: CurrentUser,
    plan_id: int,
    trip_id: str,
    locale: AnswerLocale,
) -> TripPublic:
    plan = _visible_plan(session, plan_id=plan_id, user=user)
    trip, locked = _trip_for(session, plan=plan, trip_id=trip_id, user=user)
    origin = _origins(session, plan, [trip]).get(trip.trip_id, "")
    return convert.trip_public(
        trip,
        locked=locked,
        company_id=company_scope(user),
        origin=origin,
        locale=locale,
    )


def _manifest(
    session: SessionDep, *, plan: models.Plan, trip: domain.Trip, user: models.User, masked: bool
) -> tuple[ManifestPublic, domain.Trip, domain.Scenario]:
    """The caller's manifest, and the caller's view of trip and season for document writers."""
    scope = company_scope(user)
    unmasked = shows_unmasked(user, masked)
    if unmasked:
        begin_write(session)  # the audit entry is written with the read
    keys = [p.worker_id for p in trip.passengers if scope is None or p.company_id == scope]
    workers = crud.workers_by_key(session, keys=keys)
    companies = crud.list_companies(session, season=plan.season)
    if unmasked:
        crud.record_unmasked_read(
            session,
            user=user,
            action=f"manifest of plan {plan.id} trip {trip.trip_id}",
            season_id=plan.season_id,
            worker_keys=keys,
        )
    scenario = convert.scenario_for_documents(
        plan.season,
        companies=companies,
        workers=workers.values(),
        masked=not unmasked,
        drop_points=operations.list_drop_points(session, season=plan.season),
    )
    shown_trip = convert.trip_for_company(trip, scope)
    manifest = convert.manifest_public(shown_trip, scenario, plan_id=plan.id, masked=not unmasked)
    # Document writers get the caller's view of the trip, never other companies' passengers.
    return manifest, shown_trip, scenario


@router.get(
    "/{plan_id}/trips/{trip_id}/manifest.{fmt}",
    response_model=ManifestPublic,
    responses={
        200: {"content": {t: {} for t in outputs.MANIFEST_MEDIA_TYPES.values()}},
        501: {"description": "this format's writer is not installed"},
    },
)
def read_manifest(
    session: SessionDep,
    user: CurrentUser,
    plan_id: int,
    trip_id: str,
    fmt: Annotated[ManifestFormat, Path(description="json, csv, xlsx or pdf")],
    locale: PaperLocale,
    masked: MaskedQuery = False,
) -> Response:
    """The passenger list of a trip (旅客名单): seat, name, ID number, phone, company, boarding
    and alighting stop. Employers get their own workers' rows, always masked. XLSX and PDF are
    in the language asked for (`lang`, Accept-Language; default Chinese); the CSV's headings
    are fixed for the programs that read it."""
    plan = _visible_plan(session, plan_id=plan_id, user=user)
    trip, _ = _trip_for(session, plan=plan, trip_id=trip_id, user=user)
    manifest, shown_trip, scenario = _manifest(
        session, plan=plan, trip=trip, user=user, masked=masked
    )
    filename = f"{plan.season.name}-{plan.id}-{trip.trip_id}.{fmt}"
    if fmt == "json":
        return Response(manifest.model_dump_json(), media_type="application/json")
    if fmt == "csv":
        content = outputs.manifest_csv(shown_trip, scenario, full_ids=not manifest.masked)
    elif fmt == "xlsx":
        content = outputs.manifest_xlsx(
            shown_trip, scenario, full_ids=not manifest.masked, locale=locale
        )
    else:
        content = outputs.manifest_pdf(
            shown_trip, scenario, full_ids=not manifest.masked, locale=locale
        )
    return Response(
        content,
        media_type=outputs.MANIFEST_MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/{plan_id}/map.html", response_class=HTMLResponse)
def overview_map(
    session: SessionDep,
    _user: DispatcherUser,
    plan_id: int,
    locale: PaperLocale,
) -> HTMLResponse:
    """The season overview map of a plan (dispatchers only); works offline. In the language
    asked for (`lang`, Accept-Language; default Chinese)."""
    plan = crud.get_plan(session, plan_id=plan_id)
    if plan.status != "succeeded":
        raise NotFound(f"plan {plan_id} has no trips yet ({plan.status})")
    trips = [t for t, _ in crud.plan_trips(session, plan_id=plan.id)]
    drawn = outputs.plan_for_maps(
        season=plan.season.name, direction=plan.season.direction, trips=trips, kpis=plan.kpis
    )
    return HTMLResponse(outputs.overview_map_html(drawn, locale))


@router.get("/{plan_id}/trips/{trip_id}/map.html", response_class=HTMLResponse)
def trip_map(
    session: SessionDep,
    user: CurrentUser,
    plan_id: int,
    trip_id: str,
    locale: PaperLocale,
) -> HTMLResponse:
    """The map of one trip: numbered stops with times, rests and the route line, in the
    language asked for (`lang`, Accept-Language; default Chinese)."""
    plan = _visible_plan(session, plan_id=plan_id, user=user)
    trip, _ = _trip_for(session, plan=plan, trip_id=trip_id, user=user)
    return HTMLResponse(
        outputs.trip_map_html(
            convert.trip_for_company(trip, company_scope(user)),
            locale,
        )
    )


ZIP = "application/zip"


def unserved_of(plan: models.Plan, *, keys: set[str] | None = None) -> list[domain.Unserved]:
    """The plan's unserved workers (only `keys` when given), as domain objects."""
    return [
        domain.Unserved(str(u["worker"]), domain.UnservedReason(u["reason"]), str(u["detail"]))
        for u in plan.unserved
        if keys is None or str(u["worker"]) in keys
    ]


def documents_zip_of(
    session: SessionDep,
    *,
    plan: models.Plan,
    user: models.User,
    company_id: str | None = None,
    locale: str = DEFAULT_LOCALE,
) -> bytes:
    """Every document of `plan` as one zip, for a dispatcher: full rows, written to the audit
    log as an unmasked read. With `company_id`: that company's zip (its trips with only its
    passengers, other gates unnamed, its notices)."""
    from api.bundle import documents_zip, plan_of

    if plan.status != "succeeded":
        raise NotFound(f"plan {plan.id} has no trips yet ({plan.status})")
    trips = [t for t, _ in crud.plan_trips(session, plan_id=plan.id)]
    if company_id is not None:
        if crud.get_company(session, season=plan.season, company_id=company_id) is None:
            raise NotFound(f"no company {company_id!r} in season {plan.season.name!r}")
        trips = [
            convert.trip_for_company(t, company_id)
            for t in trips
            if any(p.company_id == company_id for p in t.passengers)
        ]
    keys = [p.worker_id for t in trips for p in t.passengers]
    unserved = unserved_of(plan)
    workers = crud.workers_by_key(session, keys=keys + [u.worker_id for u in unserved])
    if company_id is not None:
        workers = {k: w for k, w in workers.items() if w.company_id == company_id}
        unserved = [u for u in unserved if u.worker_id in workers]
    companies = crud.list_companies(session, season=plan.season)
    begin_write(session)
    crud.record_unmasked_read(
        session,
        user=user,
        action=f"documents zip of plan {plan.id}"
        + (f" company {company_id}" if company_id is not None else ""),
        season_id=plan.season_id,
        worker_keys=list(workers),
    )
    session.commit()
    scenario = convert.scenario_for_documents(
        plan.season,
        companies=companies,
        workers=workers.values(),
        masked=False,
        drop_points=operations.list_drop_points(session, season=plan.season),
    )
    drawn = plan_of(
        season=plan.season.name,
        direction=plan.season.direction,
        trips=trips,
        kpis=plan.kpis,
        unserved=unserved,
    )
    folder = f"{plan.season.name}-plan-{plan.id}"
    if company_id is not None:
        folder += f"-{safe_name(company_id)}"
    return documents_zip(drawn, scenario, folder=folder, locale=locale)


@router.get(
    "/{plan_id}/documents.zip",
    response_class=Response,
    responses={200: {"content": {ZIP: {}}, "description": "every document of the plan"}},
)
def read_documents_zip(
    session: SessionDep,
    user: DispatcherUser,
    plan_id: int,
    locale: PaperLocale,
    company_id: Annotated[
        str | None,
        Query(max_length=64, pattern=r"^[^\x00]*$", description="one company's zip only"),
    ] = None,
) -> Response:
    """Every document of a finished plan as one zip (dispatchers only): manifests (PDF, XLSX,
    CSV), trip sheets, the SMS notice lists (all and per company) and the maps; with
    `company_id`, one company's zip (its trips with its passengers only). Full rows: the
    download is written to the audit log."""
    plan = crud.get_plan(session, plan_id=plan_id)
    content = documents_zip_of(
        session,
        plan=plan,
        user=user,
        company_id=company_id,
        locale=locale,
    )
    name = f"{plan.season.name}-plan-{plan.id}"
    if company_id is not None:
        name += f"-{safe_name(company_id)}"
    return Response(
        content,
        media_type=ZIP,
        headers={"Content-Disposition": f'attachment; filename="{name}.zip"'},
    )
