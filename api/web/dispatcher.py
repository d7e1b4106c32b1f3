"""The dispatcher's pages: seasons, demand at a glance, companies, hubs and fleet, planning jobs
watched live, plan review (KPIs against their bounds, trips with filters, a trip's timetable
and map, the unserved with reasons and fixes), publishing, the documents zip, the audit log and
the accounts. Each page calls the API's route functions and crud; nothing here decides a rule."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Sequence
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api import crew_import, crud, models, schemas
from api.deps import JobRunnerDep, SessionDep, SettingsDep
from api.errors import MESSAGES, Conflict, CrewRejected, NotFound, RegistrationRejected
from api.i18n import (
    N_,
    json_locale,
    translate,
    translate_audit_action,
    translate_detail,
    translate_reason,
    unserved_fix,
    unserved_reason,
)
from api.routes import companies as company_routes
from api.routes import moves as move_routes
from api.routes import operations as operation_routes
from api.routes import places as place_routes
from api.routes import plans as plan_routes
from api.routes import seasons as season_routes
from api.routes import users as user_routes
from api.web.common import page_season
from api.web.deps import FormChecked, PageDispatcher, page_locale, render
from api.web.employer import CHANGE_KINDS
from optimizer.charter import SIGN_REFUSED
from optimizer.errors import ChunyunError
from optimizer.places import county_name
from optimizer.write import trip_origins

router = APIRouter(include_in_schema=False)

DONE = {
    "opened": N_("The season was opened."),
    "closed": N_("Registration is closed."),
    "reopened": N_("Registration is open again."),
    "policy": N_("The policy was saved."),
    "subsidy": N_("The subsidy rule was saved; statements use it from now on."),
    "drop_point": N_("The drop-off point was saved; documents print it for the county."),
    "drop_point_removed": N_("The drop-off point was removed; the county prints by its name."),
    "address": N_("The company's address was saved; notices print it with the gate."),
    "published": N_("The plan was published: employers see their workers' seats now."),
    "cancelling": N_("Cancelling: the job stops at its next progress report and keeps no plan."),
    "user_added": N_("The account was added."),
    "disabled": N_("The account was disabled; its sign-ins have ended."),
    "enabled": N_("The account was enabled."),
    "revoked": N_("Every sign-in of the account has ended."),
    "moved": N_("The worker was moved; the audit log records it."),
    "locked": N_("The trip is locked: the next plan keeps it as it is."),
    "unlocked": N_("The trip is unlocked: the next plan places its workers anew."),
    "crew": N_("The coach and crew were saved; the trip sheet prints them."),
    "crews": N_("The crew sheet was imported: every trip in it has its coach and crew."),
    "late": N_("Late registrations were placed in free seats; see the change list."),
    "confirmed": N_("The changes were confirmed; the audit log records it."),
    "crew_cleared": N_("The coach and crew were taken off the trip; it prints as unassigned."),
}


# Words shown from stored values (job states, roles), translated where shown.
STORED_WORDS = (
    N_("queued"),
    N_("running"),
    N_("succeeded"),
    N_("failed"),
    N_("cancelled"),
    N_("employer"),
    N_("dispatcher"),
)


def _message(request: Request, done: str) -> str:
    return translate(page_locale(request), DONE[done]) if done in DONE else ""


def province_name(adcode: str | None) -> str:
    """The province of a county code, by name."""
    if not adcode:
        return "?"
    from optimizer.geography.gazetteer import load_gazetteer

    try:
        return load_gazetteer().province(adcode[:2]).name
    except Exception:  # an unknown or retired code: show the code
        return adcode[:2]


# --- seasons -------------------------------------------------------------------------------------


@router.get("/d/seasons", response_class=HTMLResponse)
def seasons_page(
    request: Request, session: SessionDep, user: PageDispatcher, done: str = ""
) -> Response:
    seasons = season_routes.list_seasons(session, user)
    counts = {s.id: crud.count_workers(session, season=s) for s in crud.list_seasons(session)}
    return render(
        request,
        "dispatcher/seasons.html",
        {"seasons": seasons, "counts": counts, "message": _message(request, done), "values": {}},
    )


@router.post("/d/seasons", response_class=HTMLResponse)
def open_season(
    request: Request,
    session: SessionDep,
    user: PageDispatcher,
    _form: FormChecked,
    name: Annotated[str, Form(max_length=128)],
    direction: Annotated[str, Form(max_length=16)],
    origin: Annotated[str, Form(max_length=16)],
    festival_date: Annotated[str, Form(max_length=10)],
    first_departure: Annotated[str, Form(max_length=10)],
    last_departure: Annotated[str, Form(max_length=10)],
    policy: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    """Open a season through the API's own checks."""
    values = {
        "name": name,
        "direction": direction,
        "origin": origin,
        "festival_date": festival_date,
        "first_departure": first_departure,
        "last_departure": last_departure,
        "policy": policy,
    }
    try:
        season_in = schemas.SeasonCreate.model_validate({**values, "policy": _json_table(policy)})
        season_routes.create_season(session, user, season_in)
    except (ChunyunError, ValueError) as error:
        session.rollback()
        return render(
            request,
            "dispatcher/seasons.html",
            {
                "seasons": season_routes.list_seasons(session, user),
                "counts": {},
                "error": _error_text(request, error),
                "values": values,
            },
            status_code=422,
        )
    return RedirectResponse("/d/seasons?done=opened", status_code=303)


def _json_table(text: str) -> dict[str, Any]:
    if not text.strip():
        return {}
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError('the policy must be a JSON object, e.g. {"max_dropoff_stops": 3}')
    return value


# Form fields as the forms name them, and what a refused value needs, for form errors.
FIELD_LABELS = {
    "name": N_("Name"),
    "direction": N_("Direction"),
    "origin": N_("Origin (county code of the employers' city)"),
    "festival_date": N_("Festival date"),
    "first_departure": N_("First departure"),
    "last_departure": N_("Last departure"),
    "policy": N_("Policy"),
    "username": N_("User name"),
    "password": N_("Password"),
    "role": N_("Role"),
    "company_id": N_("Company ID"),
    "share": N_("Subsidy share (%)"),
    "cap_per_company": N_("Cap per company (RMB)"),
    "address": N_("Address"),
    "adcode": N_("County"),
    "county": N_("Origin county"),
}
FIELD_PROBLEMS = {
    "missing": N_("is required"),
    "string_too_short": N_("is required"),
    "string_too_long": N_("is too long"),
    "date_from_datetime_parsing": N_("must be a date written YYYY-MM-DD"),
    "date_parsing": N_("must be a date written YYYY-MM-DD"),
    "literal_error": N_("is not one of the choices"),
    "string_pattern_mismatch": N_("holds a NUL character; retype the value"),
}
FIELD_PROBLEM = N_("{field}: {problem}")
NOT_VALID = N_("is not valid")
NOT_JSON = N_("the policy must be a JSON object, e.g. {example}")


def _error_text(request: Request, error: Exception) -> str:
    """A refused form in the page's language: each field by its label, what it needs."""
    locale = page_locale(request)
    if isinstance(error, ValidationError):
        parts = []
        for item in error.errors():
            where = str(item.get("loc", ("",))[-1])
            label = translate(locale, FIELD_LABELS[where]) if where in FIELD_LABELS else where
            problem = FIELD_PROBLEMS.get(str(item.get("type")), NOT_VALID)
            parts.append(
                translate(locale, FIELD_PROBLEM, field=label, problem=translate(locale, problem))
            )
        return "; ".join(parts)
    if isinstance(error, RegistrationRejected):  # e.g. a county outside the season's region
        return "; ".join(
            translate(
                locale,
                FIELD_PROBLEM,
                field=translate(locale, FIELD_LABELS[p.column])
                if p.column in FIELD_LABELS
                else p.column,
                problem=f"{p.value} {translate_reason(locale, p.reason)}",
            )
            for p in error.problems
        )
    if isinstance(error, ValueError) and not isinstance(error, ChunyunError):  # policy not JSON
        return translate(locale, NOT_JSON, example='{"max_dropoff_stops": 3}')
    return translate_detail(locale, str(error))


@router.post("/d/seasons/{name}/registration")
def set_registration(
    session: SessionDep,
    user: PageDispatcher,
    _form: FormChecked,
    name: str,
    open_: Annotated[str, Form(alias="open")] = "0",
) -> Response:
    """Close registration, or open it again."""
    is_open = open_ == "1"
    season_routes.update_season(session, user, name, schemas.SeasonUpdate(is_open=is_open))
    done = "reopened" if is_open else "closed"
    return RedirectResponse(f"/d/seasons/{name}?done={done}", status_code=303)


@router.post("/d/seasons/{name}/policy", response_class=HTMLResponse)
def set_policy(
    request: Request,
    session: SessionDep,
    user: PageDispatcher,
    _form: FormChecked,
    name: str,
    policy: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    try:
        update = schemas.SeasonUpdate(policy=_json_table(policy))
        season_routes.update_season(session, user, name, update)
    except (ChunyunError, ValueError) as error:
        session.rollback()
        return season_page(request, session, user, name, error=_error_text(request, error))
    return RedirectResponse(f"/d/seasons/{name}?done=policy", status_code=303)


@router.get("/d/seasons/{name}", response_class=HTMLResponse)
def season_page(
    request: Request,
    session: SessionDep,
    user: PageDispatcher,
    name: str,
    done: str = "",
    error: str = "",
) -> Response:
    """A season at a glance: demand by province, county and date, companies (and those with
    nobody registered), hubs, fleet, plans, and the button that starts a plan."""
    season = page_season(session, name)
    if season is None:
        raise NotFound(f"no season called {name!r}")
    workers = crud.list_workers(session, season=season)
    companies = crud.list_companies(session, season=season)
    registered = Counter(w.company_id for w in workers)
    by_province: Counter[str] = Counter()
    by_county: Counter[str] = Counter()
    by_date: Counter[dt.date] = Counter()
    for worker in workers:
        by_province[province_name(worker.home_adcode)] += worker.seats
        by_county[worker.home_adcode or "?"] += worker.seats
        by_date[worker.earliest] += worker.seats
    counties = [
        (code, county_name(code), province_name(code), seats)
        for code, seats in by_county.most_common(30)
    ]
    dates = sorted(by_date.items())
    top = max([n for _, n in dates] + [1])
    plans = crud.list_plans(session, season=season)
    origins = _origin_figures(season, companies, workers, plans)
    return render(
        request,
        "dispatcher/season.html",
        {
            "season": season,
            "workers": len(workers),
            "seats": sum(w.seats for w in workers),
            "provinces": by_province.most_common(),
            "counties": counties,
            "dates": dates,
            "date_top": top,
            "companies": companies,
            "registered": registered,
            "missing": [c for c in companies if not registered.get(c.company_id)],
            "hubs": crud.list_hubs(session, season=season),
            "fleet": crud.list_vehicle_types(session, season=season),
            "plans": sorted(plans, key=lambda p: p.id, reverse=True),
            "policy": json.dumps(season.policy, ensure_ascii=False, indent=2),
            "subsidy": season_routes.read_season(session, user, season.name).subsidy,
            "drop_points": place_routes.list_drop_points(session, user, season.name),
            "demand_counties": sorted(
                ((code, county_name(code)) for code in by_county if code != "?"),
                key=lambda item: item[1],
            ),
            "origins": origins,
            "region": [(code, county_name(code)) for code in season.region or ()],
            "message": _message(request, done),
            "error": error,
        },
        status_code=422 if error else 200,
    )


def _origin_figures(
    season: models.Season,
    companies: Sequence[models.Company],
    workers: Sequence[models.Worker],
    plans: Sequence[models.Plan],
) -> dict[str, Any]:
    """Per origin county of a season with a region: its companies, the seats registered at its
    gates, and the trips of the latest finished plan that leave from it; and that plan's trips
    boarding in several origin counties."""
    if not season.region:
        return {}
    county_of = {c.company_id: c.county or season.origin for c in companies}
    finished = [p for p in plans if p.status == "succeeded" and p.kpis]
    latest = max(finished, key=lambda p: p.id) if finished else None
    kpis = (latest.kpis or {}) if latest is not None else {}
    trips = kpis.get("trips_by_origin", {})
    rows = []
    for code in season.region:
        rows.append(
            {
                "code": code,
                "name": county_name(code),
                "companies": sum(1 for c in county_of.values() if c == code),
                "seats": sum(w.seats for w in workers if county_of.get(w.company_id) == code),
                "trips": trips.get(code, 0) if latest is not None else None,
            }
        )
    return {
        "rows": rows,
        "plan": latest,
        "cross": kpis.get("cross_origin_trips", 0),
    }


@router.post("/d/seasons/{name}/subsidy", response_class=HTMLResponse)
def set_subsidy(
    request: Request,
    session: SessionDep,
    user: PageDispatcher,
    _form: FormChecked,
    name: str,
    share: Annotated[str, Form(max_length=16)] = "",
    cap_per_company: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """The season's subsidy rule (share of each company's cost, capped), through the API."""
    try:
        share_value = float(share) / 100 if share.strip() else None
        rule = schemas.SubsidyIn.model_validate(
            {"share": share_value, "cap_per_company": cap_per_company.strip() or None}
        )
        season_routes.update_season(session, user, name, schemas.SeasonUpdate(subsidy=rule))
    except ValueError as error:  # pydantic's ValidationError is a ValueError
        session.rollback()
        text = (
            _error_text(request, error)
            if isinstance(error, ValidationError)
            else translate(
                page_locale(request),
                FIELD_PROBLEM,
                field=translate(page_locale(request), FIELD_LABELS["share"]),
                problem=translate(page_locale(request), NOT_VALID),
            )
        )
        return season_page(request, session, user, name, error=text)
    return RedirectResponse(f"/d/seasons/{quote(name)}?done=subsidy", status_code=303)


@router.post("/d/seasons/{name}/drop-points", response_class=HTMLResponse)
def set_drop_point(
    request: Request,
    session: SessionDep,
    user: PageDispatcher,
    _form: FormChecked,
    name: str,
    adcode: Annotated[str, Form(max_length=6, pattern=r"^\d{6}$")],
    point_name: Annotated[str, Form(max_length=128)] = "",
    address: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    """Name a county's drop-off point (the API's own check that the county exists)."""
    try:
        point = schemas.DropPointIn.model_validate({"name": point_name, "address": address})
        place_routes.set_drop_point(session, user, name, adcode, point)
    except (ChunyunError, ValidationError) as error:
        session.rollback()
        return season_page(request, session, user, name, error=_error_text(request, error))
    return RedirectResponse(f"/d/seasons/{quote(name)}?done=drop_point", status_code=303)


@router.post("/d/seasons/{name}/drop-points/{adcode}/delete")
def delete_drop_point(
    session: SessionDep, user: PageDispatcher, _form: FormChecked, name: str, adcode: str
) -> Response:
    place_routes.delete_drop_point(session, user, name, adcode)
    return RedirectResponse(f"/d/seasons/{quote(name)}?done=drop_point_removed", status_code=303)


@router.post("/d/seasons/{name}/companies/{company_id}/address", response_class=HTMLResponse)
def set_company_address(
    request: Request,
    session: SessionDep,
    user: PageDispatcher,
    _form: FormChecked,
    name: str,
    company_id: str,
    address: Annotated[str, Form(max_length=256)] = "",
    county: Annotated[str | None, Form(max_length=64)] = None,
) -> Response:
    """The company's street address (printed with its gate on notices) and, in a season with
    a region, its gate's origin county, through the API (a county outside the region is
    refused there)."""
    company = company_routes.read_company(session, user, company_id, season=name)
    values = {**company.model_dump(exclude={"season"}), "address": address.strip()}
    if county is not None:
        values["county"] = county.strip()
    try:
        changed = schemas.CompanyCreate.model_validate(values)
        company_routes.upsert_companies(session, user, changed, season=name)
    except (ChunyunError, ValidationError) as error:
        session.rollback()
        return season_page(request, session, user, name, error=_error_text(request, error))
    return RedirectResponse(f"/d/seasons/{quote(name)}?done=address#companies", status_code=303)


# --- planning ------------------------------------------------------------------------------------


@router.post("/d/seasons/{name}/plans")
def start_plan(
    session: SessionDep,
    settings: SettingsDep,
    user: PageDispatcher,
    runner: JobRunnerDep,
    _form: FormChecked,
    name: str,
    time_limit_s: Annotated[float | None, Form(gt=0, le=3600)] = None,
) -> Response:
    """Start a planning job (the API's) and go to its page, which follows it live."""
    plan = plan_routes.start_plan(
        session,
        settings,
        user,
        runner,
        schemas.PlanCreate(season=name, time_limit_s=time_limit_s),
    )
    return RedirectResponse(f"/d/plans/{plan.id}", status_code=303)


def _kpi_rows(kpis: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    """KPI name, value, and the bound it is measured against."""
    if not kpis:
        return []
    rows = [
        (N_("Workers"), f"{kpis.get('workers', 0)}", ""),
        (N_("Seated"), f"{kpis.get('seated', 0)}", _servable(kpis)),
        (N_("Unserved"), f"{kpis.get('unserved', 0)}", ""),
        (
            N_("Trips"),
            f"{kpis.get('trips', 0)}",
            f"≥ {kpis.get('lower_bound_trips', 0)}",
        ),
        (
            N_("Coach km"),
            f"{kpis.get('coach_km', 0):,.0f}",
            f"≥ {kpis.get('lower_bound_coach_km', 0):,.0f}",
        ),
        (N_("Seat use"), f"{kpis.get('seat_utilization', 0):.1%}", ""),
        (N_("Cost"), f"{kpis.get('cost', 0):,.0f}", ""),
        (N_("Solve time (s)"), f"{kpis.get('solve_seconds', 0):.1f}", ""),
    ]
    return rows


def _servable(kpis: dict[str, Any]) -> str:
    """At most how many workers any plan can seat with the season's coaches, when known."""
    bound = kpis.get("fleet_servable_bound")
    return "" if bound is None else f"≤ {bound}"


def _fleet_advice(locale: str, kpis: dict[str, Any] | None) -> list[str]:
    """The coaches to add so that everyone is seated (only when workers ran out of coaches)."""
    advice = ((kpis or {}).get("fleet") or {}).get("advice") or []
    return [
        translate(
            locale,
            MESSAGES["fleet_advice"],
            add=a["add"],
            vehicle_type=a["vehicle_type"],
            from_date=dt.date.fromisoformat(str(a["from_date"])),
        )
        for a in advice
    ] + [
        translate(locale, MESSAGES[SIGN_REFUSED], trip=trip)
        for trip in ((kpis or {}).get("fleet") or {}).get("sign_refused") or []
    ]


@router.get("/d/plans/{plan_id}", response_class=HTMLResponse)
def plan_page(
    request: Request,
    session: SessionDep,
    user: PageDispatcher,
    plan_id: int,
    date: str = "",
    province: str = "",
    use_below: str = "",
    done: str = "",
) -> Response:
    return _plan_view(
        request,
        session,
        user,
        plan_id,
        date=date,
        province=province,
        use_below=use_below,
        done=done,
    )


def _plan_view(
    request: Request,
    session: SessionDep,
    user: models.User,
    plan_id: int,
    *,
    date: str = "",
    province: str = "",
    use_below: str = "",
    done: str = "",
    error: str = "",
    crew_problems: list[dict[str, Any]] | None = None,
    filename: str = "",
) -> Response:
    """A plan: its job's progress while it runs; when finished, KPIs against the bounds, the
    trips (filter by date, province, seat use), the unserved with reasons and fixes, and the
    operations: crew sheet, changes since publishing, late registrations, costs, downloads."""
    locale = page_locale(request)
    plan = crud.get_plan(session, plan_id=plan_id)
    public = plan_routes.read_plan(session, user, plan_id, json_locale(locale))
    trips: list[dict[str, Any]] = []
    all_dates: set[str] = set()
    all_provinces: set[str] = set()
    origin_of: dict[str, str] = {}
    if plan.status == "succeeded":
        stored = crud.plan_trips(session, plan_id=plan.id)
        if plan.season.region:
            origin_of = trip_origins(
                [t for t, _ in stored], crud.origin_scenario(session, season=plan.season)
            )
        for trip, locked in stored:
            provinces = sorted(
                {province_name(s.adcode) for s in trip.stops if s.kind == "dropoff" and s.adcode}
            )
            day = f"{trip.departure_date:%Y-%m-%d}"
            all_dates.add(day)
            all_provinces.update(provinces)
            use = trip.seats_used / trip.seats if trip.seats else 0.0
            if date and day != date:
                continue
            if province and province not in provinces:
                continue
            if use_below and use * 100 >= float(use_below or 0):
                continue
            trips.append(
                {
                    "trip": trip,
                    "locked": locked,
                    "day": day,
                    "provinces": provinces,
                    "use": use,
                    "origin": county_name(origin_of[trip.trip_id])
                    if trip.trip_id in origin_of
                    else "",
                    "dropoffs": [
                        county_name(s.adcode)
                        for s in trip.stops
                        if s.kind == "dropoff" and s.adcode
                    ],
                }
            )
        trips.sort(key=lambda t: (t["trip"].departure, t["trip"].trip_id))
    unserved_workers = crud.workers_by_key(
        session, keys=[str(u.get("worker")) for u in public.unserved]
    )
    unserved = [
        {
            "worker": unserved_workers.get(str(u.get("worker"))),
            "key": str(u.get("worker")),
            "reason": unserved_reason(locale, str(u.get("reason"))),
            "fix": unserved_fix(locale, str(u.get("reason"))),
            # read_plan gave the detail in `locale` already (api.i18n.unserved_public).
            "detail": str(u.get("detail", "")),
        }
        for u in public.unserved
    ]
    return render(
        request,
        "dispatcher/plan.html",
        {
            "plan": plan,
            "public": public,
            "kpis": _kpi_rows(plan.kpis),
            "by_origin": [
                (code, county_name(code), n)
                for code, n in (plan.kpis or {}).get("trips_by_origin", {}).items()
            ]
            if plan.season.region
            else [],
            "cross_origin": (plan.kpis or {}).get("cross_origin_trips", 0),
            "fleet_advice": _fleet_advice(locale, plan.kpis),
            "trips": trips,
            "dates": sorted(all_dates),
            "provinces": sorted(all_provinces),
            "date": date,
            "province": province,
            "use_below": use_below,
            "unserved": unserved,
            "message": _message(request, done),
            "failure": translate_detail(locale, plan.message) if plan.status == "failed" else "",
            "error": error,
            "crew_problems": crew_problems or [],
            "filename": filename,
            **(_operations(session, user, plan) if plan.status == "succeeded" else {}),
        },
        status_code=422 if crew_problems or error else 200,
    )


# --- a plan's operations -------------------------------------------------------------------------

SHEET_COLUMN = {field: header for header, field in crew_import.CREW_HEADERS.items()}


def _operations(session: SessionDep, user: models.User, plan: models.Plan) -> dict[str, Any]:
    """What the plan page shows of the operations, from the API's own route functions."""
    published = crud.latest_published_plan(session, season=plan.season)
    names = {c.company_id: c.name for c in crud.list_companies(session, season=plan.season)}
    costs = operation_routes.read_costs(session, user, plan.id)
    return {
        "is_published": published is not None and published.id == plan.id,
        "changes": operation_routes.read_changes(session, user, plan.id),
        "change_kinds": CHANGE_KINDS,
        "costs": costs,
        "company_names": names,
    }


def sheet_column(field: str) -> str:
    """A crew problem's field as the sheet heads it: drivers[2].phone -> 驾驶员2手机号."""
    if field.startswith("drivers[") and "]." in field:
        number, part = field[len("drivers[") :].split("].", 1)
        field = f"driver{number}_{part}"
    return SHEET_COLUMN.get(field, field)


@router.get("/d/plans/{plan_id}/crews/template.xlsx")
def crew_template(session: SessionDep, user: PageDispatcher, plan_id: int) -> Response:
    return operation_routes.crew_template(session, user, plan_id)


@router.post("/d/plans/{plan_id}/crews", response_class=HTMLResponse)
def import_crews(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: PageDispatcher,
    _form: FormChecked,
    plan_id: int,
    file: Annotated[UploadFile, File()],
) -> Response:
    """Import the operator's crew sheet through the API, all or nothing; every bad row shown."""
    locale = page_locale(request)
    try:
        operation_routes.import_crews(session, settings, user, plan_id, file, json_locale())
    except CrewRejected as rejected:
        session.rollback()
        problems = [
            {
                "row": p.row,
                "column": sheet_column(p.column),
                "value": p.value,
                "reason": translate_reason(locale, p.reason),
            }
            for p in rejected.problems
        ]
        return _plan_view(
            request,
            session,
            user,
            plan_id,
            error=translate_detail(locale, str(rejected)),
            crew_problems=problems,
            filename=file.filename or "",
        )
    except ChunyunError as refused:
        session.rollback()
        return _plan_view(
            request, session, user, plan_id, error=translate_detail(locale, str(refused))
        )
    return RedirectResponse(f"/d/plans/{plan_id}?done=crews", status_code=303)


@router.post("/d/plans/{plan_id}/late")
def place_late(
    session: SessionDep,
    settings: SettingsDep,
    user: PageDispatcher,
    runner: JobRunnerDep,
    _form: FormChecked,
    plan_id: int,
) -> Response:
    """Seat late registrations in free seats of the published plan, and start the planning job
    of new trips for those that fit none (the API's placement)."""
    operation_routes.place_late(session, settings, user, runner, plan_id)
    return RedirectResponse(f"/d/plans/{plan_id}?done=late#changes", status_code=303)


@router.post("/d/plans/{plan_id}/changes/confirm")
def confirm_changes(
    session: SessionDep, user: PageDispatcher, _form: FormChecked, plan_id: int
) -> Response:
    """Confirm every unconfirmed change (audited)."""
    operation_routes.confirm_changes(session, user, plan_id, schemas.ChangesConfirm(ids=[]))
    return RedirectResponse(f"/d/plans/{plan_id}?done=confirmed#changes", status_code=303)


@router.get("/d/plans/{plan_id}/duties.csv")
def duties_csv(session: SessionDep, user: PageDispatcher, plan_id: int) -> Response:
    return operation_routes.read_duties_csv(session, user, plan_id)


@router.get("/d/plans/{plan_id}/progress", response_class=HTMLResponse)
def plan_progress(
    request: Request, session: SessionDep, user: PageDispatcher, plan_id: int
) -> Response:
    """The job's progress (polled by the plan page every second while the job runs); once the
    job has ended, the page reloads itself to show the plan."""
    public = plan_routes.read_plan(session, user, plan_id, json_locale(page_locale(request)))
    headers = {"HX-Refresh": "true"} if public.status not in ("queued", "running") else {}
    return render(request, "dispatcher/_progress.html", {"public": public}, headers=headers)


@router.post("/d/plans/{plan_id}/publish")
def publish(
    session: SessionDep, user: PageDispatcher, _form: FormChecked, plan_id: int
) -> Response:
    plan_routes.publish_plan(session, user, plan_id)
    return RedirectResponse(f"/d/plans/{plan_id}?done=published", status_code=303)


@router.post("/d/plans/{plan_id}/cancel")
def cancel(session: SessionDep, user: PageDispatcher, _form: FormChecked, plan_id: int) -> Response:
    """Cancel the planning job (the API's)."""
    plan_routes.cancel_plan(session, user, plan_id)
    return RedirectResponse(f"/d/plans/{plan_id}?done=cancelling", status_code=303)


@router.get("/d/plans/{plan_id}/trips/{trip_id}", response_class=HTMLResponse)
def trip_page(
    request: Request,
    session: SessionDep,
    user: PageDispatcher,
    plan_id: int,
    trip_id: str,
    done: str = "",
    error: str = "",
) -> Response:
    return _trip_view(request, session, user, plan_id, trip_id, done=done, error=error)


def _trip_view(
    request: Request,
    session: SessionDep,
    user: models.User,
    plan_id: int,
    trip_id: str,
    *,
    done: str = "",
    error: str = "",
    crew_values: dict[str, str] | None = None,
    crew_errors: dict[str, list[str]] | None = None,
) -> Response:
    """A trip: timetable, passengers (masked: the manifest downloads carry full rows, audited),
    its map, and its coach and crew (the form, the charter sign's data, the trip sheet)."""
    plan = crud.get_plan(session, plan_id=plan_id)
    trip, locked = crud.get_plan_trip(session, plan_id=plan.id, trip_id=trip_id)
    public = plan_routes.read_trip(
        session, user, plan_id, trip_id, json_locale(page_locale(request))
    )
    workers = crud.workers_by_key(session, keys=[p.worker_id for p in trip.passengers])
    companies = {c.company_id: c.name for c in crud.list_companies(session, season=plan.season)}
    others = [(t, is_locked) for t, is_locked in crud.plan_trips(session, plan_id=plan.id)]
    passengers = []
    for p in sorted(trip.passengers, key=lambda p: p.seat):
        alight = trip.stops[p.alight_stop]
        # Trips a move may go to: other unlocked trips stopping at the same place, with a seat.
        row = workers.get(p.worker_id)
        targets = [
            t
            for t, is_locked in others
            if t.trip_id != trip.trip_id
            and not is_locked
            and t.seats - t.seats_used >= p.seat_count
            and any(s.kind == alight.kind and s.adcode == alight.adcode for s in t.stops)
            and (row is None or row.earliest <= t.departure_date <= row.latest)
        ]
        passengers.append(
            {
                "passenger": p,
                "worker": workers.get(p.worker_id),
                "company": companies.get(p.company_id, p.company_id),
                "board": public.stops[p.board_stop].name,
                "alight": public.stops[p.alight_stop].name,
                "targets": targets,
            }
        )
    published = crud.latest_published_plan(session, season=plan.season)
    return render(
        request,
        "dispatcher/trip.html",
        {
            "plan": plan,
            "trip": public,
            "locked": locked,
            "passengers": passengers,
            "draft": plan.status == "succeeded" and plan.published_at is None,
            "lockable": published is not None and published.id == plan.id,
            "message": _message(request, done),
            "error": error,
            "crew_values": crew_values if crew_values is not None else _crew_values(public),
            "crew_errors": crew_errors or {},
            "driver_slots": range(1, max(MAX_DRIVER_SLOTS, public.drivers) + 1),
        },
        status_code=(422 if crew_errors else 409) if error or crew_errors else 200,
    )


# --- coach and crew of a trip ---------------------------------------------------------------------

MAX_DRIVER_SLOTS = 3
CREW_FIELDS = {
    "plate": N_("Plate"),
    "coach_type": N_("Coach type"),
    "coach_seats": N_("Approved seats"),
    "operator": N_("Operator"),
    "drivers": N_("Drivers"),
    "escort_name": N_("Escort"),
    "escort_phone": N_("Escort's mobile"),
}
DRIVER_FIELDS = {
    "name": N_("Driver {n}: name"),
    "licence": N_("Driver {n}: licence number"),
    "phone": N_("Driver {n}: mobile"),
}


def _crew_values(public: schemas.TripPublic) -> dict[str, str]:
    """The crew form's values: the trip's crew as assigned, else empty."""
    crew = public.crew
    if crew is None:
        return {"coach_type": public.vehicle_type, "coach_seats": str(public.seats)}
    values = {
        "plate": crew.plate,
        "coach_type": crew.coach_type,
        "coach_seats": str(crew.coach_seats),
        "operator": crew.operator,
        "escort_name": crew.escort_name,
        "escort_phone": crew.escort_phone,
    }
    for n, driver in enumerate(crew.drivers, start=1):
        values |= {f"driver_name_{n}": driver.name, f"driver_licence_{n}": driver.licence}
        values[f"driver_phone_{n}"] = driver.phone
    return values


def _slot(index: str) -> int:
    return int(index) + 1 if index.isdigit() else 1


def _crew_input(field: str) -> str:
    """The form input of a field as the API names it: `drivers[2].phone` -> driver_phone_2."""
    if field.startswith("drivers[") and "]." in field:
        number, part = field[len("drivers[") :].split("].", 1)
        return f"driver_{part}_{number}"
    return field


def _crew_label(locale: str, name: str) -> str:
    if name.startswith("driver_"):
        _, part, number = name.split("_", 2)
        if part in DRIVER_FIELDS:
            return translate(locale, DRIVER_FIELDS[part], n=number)
    return translate(locale, CREW_FIELDS[name]) if name in CREW_FIELDS else name


def _crew_validation_errors(locale: str, error: ValidationError) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for item in error.errors():
        loc = [str(part) for part in item.get("loc", ())]
        if len(loc) >= 3 and loc[0] == "drivers":
            name = f"driver_{loc[2]}_{_slot(loc[1])}"
        else:
            name = loc[0] if loc else "plate"
        problem = FIELD_PROBLEMS.get(str(item.get("type")), NOT_VALID)
        found.setdefault(name, []).append(translate(locale, problem))
    return found


Text = Annotated[str, Form(max_length=128)]


@router.post("/d/plans/{plan_id}/trips/{trip_id}/crew", response_class=HTMLResponse)
def assign_crew(
    request: Request,
    session: SessionDep,
    user: PageDispatcher,
    _form: FormChecked,
    plan_id: int,
    trip_id: str,
    plate: Text = "",
    coach_type: Text = "",
    coach_seats: Text = "",
    operator: Text = "",
    driver_name_1: Text = "",
    driver_licence_1: Text = "",
    driver_phone_1: Text = "",
    driver_name_2: Text = "",
    driver_licence_2: Text = "",
    driver_phone_2: Text = "",
    driver_name_3: Text = "",
    driver_licence_3: Text = "",
    driver_phone_3: Text = "",
    escort_name: Text = "",
    escort_phone: Text = "",
) -> Response:
    """Assign the coach and crew through the API's own checks (crew size from the timetable,
    coach seats, plate, licences, phones, overlapping trips); every refused field is shown next
    to its input, nothing saved."""
    locale = page_locale(request)
    values = {
        "plate": plate,
        "coach_type": coach_type,
        "coach_seats": coach_seats,
        "operator": operator,
        "driver_name_1": driver_name_1,
        "driver_licence_1": driver_licence_1,
        "driver_phone_1": driver_phone_1,
        "driver_name_2": driver_name_2,
        "driver_licence_2": driver_licence_2,
        "driver_phone_2": driver_phone_2,
        "driver_name_3": driver_name_3,
        "driver_licence_3": driver_licence_3,
        "driver_phone_3": driver_phone_3,
        "escort_name": escort_name,
        "escort_phone": escort_phone,
    }
    values = {key: value.strip() for key, value in values.items()}
    drivers = []
    for n in range(1, MAX_DRIVER_SLOTS + 1):
        driver = {part: values[f"driver_{part}_{n}"] for part in DRIVER_FIELDS}
        if any(driver.values()):
            drivers.append(driver)
    body = {
        "plate": values["plate"],
        "coach_type": values["coach_type"],
        "coach_seats": values["coach_seats"] or None,
        "operator": values["operator"],
        "drivers": drivers,
        "escort_name": values["escort_name"],
        "escort_phone": values["escort_phone"],
    }
    errors: dict[str, list[str]] = {}
    try:
        crew = schemas.CrewIn.model_validate(body)
        operation_routes.assign_crew(session, user, plan_id, trip_id, crew, json_locale())
    except ValidationError as invalid:
        errors = _crew_validation_errors(locale, invalid)
    except CrewRejected as rejected:
        session.rollback()
        for problem in rejected.problems:
            errors.setdefault(_crew_input(problem.column), []).append(
                translate_reason(locale, problem.reason)
            )
    if errors:
        summary = "; ".join(
            translate(locale, FIELD_PROBLEM, field=_crew_label(locale, name), problem=text)
            for name, texts in errors.items()
            for text in texts
        )
        return _trip_view(
            request,
            session,
            user,
            plan_id,
            trip_id,
            error=summary,
            crew_values=values,
            crew_errors=errors,
        )
    return RedirectResponse(f"/d/plans/{plan_id}/trips/{quote(trip_id)}?done=crew", status_code=303)


@router.post("/d/plans/{plan_id}/trips/{trip_id}/crew/clear")
def clear_crew(
    session: SessionDep, user: PageDispatcher, _form: FormChecked, plan_id: int, trip_id: str
) -> Response:
    operation_routes.clear_crew(session, user, plan_id, trip_id, json_locale())
    return RedirectResponse(
        f"/d/plans/{plan_id}/trips/{quote(trip_id)}?done=crew_cleared", status_code=303
    )


@router.post("/d/plans/{plan_id}/moves", response_class=HTMLResponse)
def move(
    request: Request,
    session: SessionDep,
    user: PageDispatcher,
    _form: FormChecked,
    plan_id: int,
    worker: Annotated[str, Form(max_length=32)],
    from_trip: Annotated[str, Form(max_length=64)],
    to_trip: Annotated[str, Form(max_length=64)],
) -> Response:
    """Move a worker (the API's move, audited); a refusal is shown on the trip page."""
    try:
        moved = move_routes.move_worker(
            session, user, plan_id, move_routes.MoveCreate(worker=worker, to_trip=to_trip)
        )
    except Conflict as refused:
        session.rollback()
        return _trip_view(
            request,
            session,
            user,
            plan_id,
            from_trip,
            error=translate_detail(page_locale(request), str(refused)),
        )
    target = moved.from_trip if not moved.dropped_trip else moved.to_trip
    return RedirectResponse(f"/d/plans/{plan_id}/trips/{quote(target)}?done=moved", status_code=303)


@router.post("/d/plans/{plan_id}/trips/{trip_id}/{action}")
def lock(
    session: SessionDep,
    user: PageDispatcher,
    _form: FormChecked,
    plan_id: int,
    trip_id: str,
    action: Literal["lock", "unlock"],
) -> Response:
    move_routes.lock_trip(session, user, plan_id, trip_id, action)
    return RedirectResponse(
        f"/d/plans/{plan_id}/trips/{quote(trip_id)}?done={action}ed", status_code=303
    )


@router.get("/d/plans/{plan_id}/trips/{trip_id}/map", response_class=HTMLResponse)
def trip_map(
    request: Request, session: SessionDep, user: PageDispatcher, plan_id: int, trip_id: str
) -> Response:
    return plan_routes.trip_map(session, user, plan_id, trip_id, locale=page_locale(request))


@router.get("/d/plans/{plan_id}/map", response_class=HTMLResponse)
def plan_map(request: Request, session: SessionDep, user: PageDispatcher, plan_id: int) -> Response:
    return plan_routes.overview_map(session, user, plan_id, locale=page_locale(request))


@router.get("/d/plans/{plan_id}/documents.zip")
def documents_zip(
    request: Request, session: SessionDep, user: PageDispatcher, plan_id: int, company_id: str = ""
) -> Response:
    """Every document of the plan, or (company_id) one company's zip."""
    if "\x00" in company_id or len(company_id) > 64:
        raise NotFound(f"no company {company_id!r}")
    return plan_routes.read_documents_zip(
        session, user, plan_id, company_id=company_id or None, locale=page_locale(request)
    )


# --- audit and accounts --------------------------------------------------------------------------


@router.get("/d/audit", response_class=HTMLResponse)
def audit_page(
    request: Request, session: SessionDep, user: PageDispatcher, username: str = ""
) -> Response:
    entries = crud.list_audit(session, username=username or None, limit=500)
    locale = page_locale(request)
    actions = {e.id: translate_audit_action(locale, e.action) for e in entries}
    return render(
        request,
        "dispatcher/audit.html",
        {"entries": entries, "actions": actions, "username": username},
    )


@router.get("/d/users", response_class=HTMLResponse)
def users_page(
    request: Request, session: SessionDep, user: PageDispatcher, done: str = ""
) -> Response:
    return render(
        request,
        "dispatcher/users.html",
        {"users": crud.list_users(session), "message": _message(request, done), "values": {}},
    )


@router.post("/d/users", response_class=HTMLResponse)
def add_user(
    request: Request,
    session: SessionDep,
    user: PageDispatcher,
    _form: FormChecked,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    role: Annotated[str, Form(max_length=16)] = "employer",
    company_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Add an account through the API's checks (password policy, the company must exist)."""
    values = {"username": username, "role": role, "company_id": company_id}
    try:
        user_in = schemas.UserCreate.model_validate(
            {**values, "password": password, "company_id": company_id or None}
        )
        user_routes.create_user(session, user, user_in)
    except (ChunyunError, ValueError) as error:
        session.rollback()
        return render(
            request,
            "dispatcher/users.html",
            {
                "users": crud.list_users(session),
                "error": _error_text(request, error),
                "values": values,
            },
            status_code=422,
        )
    return RedirectResponse("/d/users?done=user_added", status_code=303)


@router.post("/d/users/{user_id}/{action}")
def user_action(
    session: SessionDep, user: PageDispatcher, _form: FormChecked, user_id: int, action: str
) -> Response:
    """Disable, enable, or end every sign-in of an account (API, CLI and pages alike)."""
    if action == "disable":
        user_routes.disable_user(session, user, user_id)
        done = "disabled"
    elif action == "enable":
        user_routes.enable_user(session, user, user_id)
        done = "enabled"
    elif action == "revoke":
        user_routes.revoke_tokens(session, user, user_id)
        done = "revoked"
    else:
        raise NotFound(f"no action {action!r}")
    return RedirectResponse(f"/d/users?done={done}", status_code=303)


__all__ = ["models", "router"]
