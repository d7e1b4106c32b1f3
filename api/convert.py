"""The one place where database rows and API schemas meet the optimizer's domain objects."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from api import models, schemas
from api.documents.context import county_name
from api.documents.manifest import manifest_lines
from api.i18n import (
    ENGLISH,
    N_,
    gettext_in,
    recognise,
    translate_plan_notes,
    translate_progress,
    translate_reason,
    unserved_public,
)
from optimizer import model as domain
from optimizer.crews import UNASSIGNED, normalize_crew, sign_data
from optimizer.errors import InvalidInput
from optimizer.identity import mask_id_number, mask_phone
from optimizer.origins import with_operator_depots
from optimizer.region import county_of, expand_region, locate_county, origin_county
from optimizer.write import trip_from_json, trip_to_json

# --- seasons ---------------------------------------------------------------------------------


def check_season_tables(policy: Mapping[str, Any], solver: Mapping[str, Any]) -> None:
    """Raise InvalidInput (naming the key) when a season's [policy] or [solver] table is bad."""
    domain.Policy.from_mapping(policy)
    domain.SolverParams.from_mapping(solver)


recognise(
    N_("region: {place} is not a county, prefecture or province"),
    N_("region: {place} is ambiguous ({candidates}); write it in full"),
    N_("the region names no county, prefecture or province"),
    # The Scenario's own checks (optimizer/model.py), met by a season opened with them.
    N_("first_departure must not be after last_departure"),
    N_("direction must be 'home' or 'return', not {direction}"),
    N_("origin: {place} is not a county, prefecture or province"),
    N_("origin: {place} is ambiguous ({candidates}); write it in full"),
    N_(
        "origin {origin} names {count} counties, not one; name one county, or give them as "
        "the region"
    ),
)
NO_ORIGIN = N_("a season needs its origin county, or a region of origin counties")
ORIGIN_OUTSIDE_REGION = N_("origin {origin} is not one county of the region")
COUNTY_OUTSIDE_REGION = N_("is not one of the season's origin counties")
recognise(NO_ORIGIN, ORIGIN_OUTSIDE_REGION)


def season_origins(origin: str, region: Sequence[str] | None) -> tuple[str, ...]:
    """The origin counties of a season being opened, main origin first: `region` expanded (a
    prefecture, a province, county names or codes) with `origin` (name or code, default the
    region's first county) first; without a region, the one county `origin` names (by name or
    code; optimizer.region.origin_county), as its code.

    Raises InvalidInput naming an unknown or ambiguous place, or an origin outside the region."""
    origin = origin.strip()
    if region is None:
        if not origin:
            raise InvalidInput(NO_ORIGIN)
        return (origin_county(origin),)
    counties = expand_region(list(region))
    main = expand_region(origin) if origin else counties[:1]
    if len(main) != 1 or main[0] not in counties:
        raise InvalidInput(ORIGIN_OUTSIDE_REGION.format(origin=repr(origin)))
    return tuple(dict.fromkeys((main[0], *counties)))


def season_origin_list(season: models.Season) -> tuple[str, ...]:
    """The stored season's origin counties, main origin first (one-origin: just `origin`)."""
    return tuple(dict.fromkeys((season.origin, *(str(c) for c in season.region or ()))))


def row_county(text: str, lon: float, lat: float, season: models.Season) -> str | None:
    """The origin county (adcode) of a company's gate or a hub in `season`: its `county` text
    (name or code of one of the season's origin counties) or, blank, the origin county holding
    the point; "" in a season without a region when blank or the origin itself; None when the
    text names none of the season's origin counties."""
    text = text.strip()
    if not season.region:
        return (
            "" if not text or county_of(text, (season.origin,)) or text == season.origin else None
        )
    origins = season_origin_list(season)
    if not text:
        return locate_county(lon, lat, origins)
    return county_of(text, origins)


def check_season_dates(season: schemas.SeasonCreate) -> None:
    """Raise InvalidInput when the season's dates are not in order."""
    domain.Scenario(
        name=season.name,
        direction=season.direction,
        origin=season.origin or "-",
        festival_date=season.festival_date,
        first_departure=season.first_departure,
        last_departure=season.last_departure,
    )


def company_to_domain(row: models.Company) -> domain.Company:
    return domain.Company(
        company_id=row.company_id,
        name=row.name,
        lon=row.lon,
        lat=row.lat,
        no_hub=row.no_hub,
        town=row.town,
        address=row.address,
        county=row.county,
    )


def vehicle_type_to_domain(row: models.VehicleType) -> domain.VehicleType:
    return domain.VehicleType(
        vehicle_type=row.vehicle_type,
        seats=row.seats,
        count=row.count,
        cost_per_km=row.cost_per_km,
        fixed_cost=row.fixed_cost,
        operator=row.operator,
        depot_lon=row.depot_lon,
        depot_lat=row.depot_lat,
        available_from=row.available_from,
        available_to=row.available_to,
        registered=row.registered,
    )


def hub_to_domain(row: models.Hub) -> domain.Hub:
    return domain.Hub(hub_id=row.hub_id, name=row.name, lon=row.lon, lat=row.lat, county=row.county)


def worker_to_domain(row: models.Worker) -> domain.Worker:
    """The planner's view of a registration: its worker_id is the row key as text, its
    staff_number the employer's 工号 (or the row key when the employer gave none)."""
    return domain.Worker(
        worker_id=str(row.id),
        staff_number=row.worker_code,
        company_id=row.company_id,
        name=row.name,
        id_number=row.id_number,
        phone=row.phone,
        home=row.home,
        earliest=row.earliest,
        latest=row.latest,
        party=row.party,
        seats=row.seats,
        home_adcode=row.home_adcode,
    )


def season_to_scenario(
    season: models.Season,
    *,
    companies: Sequence[models.Company],
    fleet: Sequence[models.VehicleType],
    workers: Sequence[models.Worker],
    hubs: Sequence[models.Hub] = (),
    time_limit_s: float | None = None,
) -> domain.Scenario:
    """The scenario a planning job solves: the season's rows as they are now."""
    solver = dict(season.solver)
    if time_limit_s is not None:
        solver["time_limit_s"] = time_limit_s
    return domain.Scenario(
        name=season.name,
        direction=season.direction,  # type: ignore[arg-type]
        origin=season.origin,
        origins=season_origin_list(season),
        festival_date=season.festival_date,
        first_departure=season.first_departure,
        last_departure=season.last_departure,
        companies=tuple(company_to_domain(c) for c in companies),
        workers=tuple(worker_to_domain(w) for w in workers),
        fleet=with_operator_depots(tuple(vehicle_type_to_domain(v) for v in fleet))
        if season.region
        else tuple(vehicle_type_to_domain(v) for v in fleet),
        hubs=tuple(hub_to_domain(h) for h in hubs),
        policy=domain.Policy.from_mapping(season.policy),
        solver=domain.SolverParams.from_mapping(solver),
        subsidy=subsidy_rule(season),
    )


def subsidy_rule(season: models.Season) -> domain.SubsidyRule:
    """The season's subsidy rule (Cixi 2023's when the dispatcher set none)."""
    return domain.SubsidyRule.from_mapping(season.subsidy or {})


def scenario_for_documents(
    season: models.Season,
    *,
    companies: Sequence[models.Company],
    workers: Iterable[models.Worker],
    masked: bool,
    drop_points: Sequence[models.DropPoint] = (),
) -> domain.Scenario:
    """The season with just the given workers, for document writers; `masked` hides their ID
    numbers and phones before they reach any writer."""
    shown = []
    for row in workers:
        worker = worker_to_domain(row)
        if masked:
            worker = dataclasses.replace(
                worker, id_number=mask_id_number(row.id_number), phone=mask_phone(row.phone)
            )
        shown.append(worker)
    return domain.Scenario(
        name=season.name,
        direction=season.direction,  # type: ignore[arg-type]
        origin=season.origin,
        origins=season_origin_list(season),
        festival_date=season.festival_date,
        first_departure=season.first_departure,
        last_departure=season.last_departure,
        companies=tuple(company_to_domain(c) for c in companies),
        workers=tuple(shown),
        drop_points=tuple(drop_point_to_domain(d) for d in drop_points),
    )


def drop_point_to_domain(row: models.DropPoint) -> domain.DropPoint:
    return domain.DropPoint(adcode=row.adcode, name=row.name, address=row.address)


# --- plans: domain <-> stored JSON --------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


# The `trips.data` column holds plan.json's trip format: one Trip codec for files and database.
trip_to_data = trip_to_json
trip_from_data = trip_from_json


def kpis_to_data(plan: domain.Plan) -> dict[str, Any]:
    """The plan's KPIs, with the coach-duty figures under "fleet" when the planner made duties."""
    data: dict[str, Any] = _jsonable(dataclasses.asdict(plan.kpis))
    if plan.fleet_kpis is not None:
        data["fleet"] = _jsonable(dataclasses.asdict(plan.fleet_kpis))
    return data


def unserved_to_data(unserved: Iterable[domain.Unserved]) -> list[dict[str, Any]]:
    return [{"worker": u.worker_id, "reason": str(u.reason), "detail": u.detail} for u in unserved]


def unserved_from_data(data: Iterable[Mapping[str, Any]]) -> tuple[domain.Unserved, ...]:
    """The stored unserved list (`unserved_to_data`) as domain objects."""
    return tuple(
        domain.Unserved(str(u["worker"]), domain.UnservedReason(u["reason"]), u.get("detail", ""))
        for u in data
    )


def problems_to_data(problems: Iterable[domain.InputProblem]) -> list[dict[str, Any]]:
    return [
        {
            "table": p.table,
            "row": p.row,
            "column": p.column,
            "value": p.value,
            "reason": p.reason,
            "worker": p.worker_id,
        }
        for p in problems
    ]


def plan_changes(
    base: Sequence[domain.Trip], new: Sequence[domain.Trip], *, locked_ids: set[str]
) -> dict[str, Any]:
    """What a re-plan changed against the published plan it started from.

    Lists trips kept (locked), dropped and added, and workers newly seated, moved to another
    trip or no longer seated (worker keys as text).
    """
    base_seat = {p.worker_id: t.trip_id for t in base for p in t.passengers}
    new_seat = {p.worker_id: t.trip_id for t in new for p in t.passengers}
    base_ids = {t.trip_id for t in base}
    new_ids = {t.trip_id for t in new}
    return {
        "locked_trips_kept": sorted(locked_ids & new_ids),
        "trips_added": sorted(new_ids - base_ids),
        "trips_dropped": sorted(base_ids - new_ids),
        "workers_newly_seated": sorted(set(new_seat) - set(base_seat), key=_key_order),
        "workers_moved": sorted(
            (w for w in set(new_seat) & set(base_seat) if new_seat[w] != base_seat[w]),
            key=_key_order,
        ),
        "workers_no_longer_seated": sorted(set(base_seat) - set(new_seat), key=_key_order),
    }


def _key_order(key: str) -> tuple[int, str]:
    return (int(key), key) if key.isdigit() else (1 << 62, key)


def problem_public(locale: str, problem: Mapping[str, Any]) -> dict[str, Any]:
    """A stored input problem of a plan with its `reason` in `locale` (English as stored)."""
    return {**problem, "reason": translate_reason(locale, str(problem.get("reason", "")))}


def plan_public(row: models.Plan, *, locale: str = ENGLISH) -> schemas.PlanPublic:
    """A plan as the API shows it; its texts for people (notes, message, unserved details,
    problems' reasons) in `locale` (the stored plan keeps them in the optimizer's English, the
    data format)."""
    return schemas.PlanPublic(
        id=row.id,
        season=row.season.name,
        status=row.status,  # type: ignore[arg-type]
        progress=row.progress,
        message=translate_progress(locale, row.message),
        kpis=row.kpis,
        attempts=row.attempts or 0,
        cancel_requested=bool(row.cancel_requested),
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        published_at=row.published_at,
        base_plan_id=row.base_plan_id,
        changes=row.changes,
        unserved=[unserved_public(locale, u) for u in row.unserved],
        problems=[problem_public(locale, p) for p in row.problems],
        notes=translate_plan_notes(locale, [str(n) for n in row.notes]),
    )


# --- responses with personal data ----------------------------------------------------------------


def worker_public(
    row: models.Worker,
    *,
    season_name: str,
    masked: bool,
    assignment: schemas.AssignmentPublic | None = None,
) -> schemas.WorkerPublic:
    """A registration as shown to a caller; `masked` hides the ID number and phone."""
    return schemas.WorkerPublic(
        id=row.id,
        season=season_name,
        company_id=row.company_id,
        worker_id=row.worker_code,
        name=row.name,
        id_number=mask_id_number(row.id_number) if masked else row.id_number,
        phone=mask_phone(row.phone) if masked else row.phone,
        masked=masked,
        home=row.home,
        home_adcode=row.home_adcode,
        earliest=row.earliest,
        latest=row.latest,
        party=row.party,
        seats=row.seats,
        assignment=assignment,
    )


def trip_public(
    trip: domain.Trip,
    *,
    locked: bool,
    company_id: str | None = None,
    origin: str = "",
    locale: str = ENGLISH,
) -> schemas.TripPublic:
    """A trip for the caller; with `company_id`, only that company's passengers are listed.
    `origin` is the trip's origin county (optimizer.origins.trip_origin), shown with its name;
    the charter sign's fixed words are in `locale`."""
    passengers = [p for p in trip.passengers if company_id is None or p.company_id == company_id]
    shown = {p.worker_id for p in passengers}
    stops = [
        schemas.StopPublic(
            index=i,
            kind=s.kind,
            name=s.name
            if _stop_shown(s, company_id)
            else "其他单位上车点 (another company's gate)",
            lon=s.lon if _stop_shown(s, company_id) else round(s.lon, OTHER_GATE_DECIMALS),
            lat=s.lat if _stop_shown(s, company_id) else round(s.lat, OTHER_GATE_DECIMALS),
            arrive=s.arrive,
            depart=s.depart,
            km_from_previous=s.km_from_previous,
            company_id=s.company_id if company_id is None or s.company_id == company_id else None,
            hub_id=s.hub_id,
            adcode=s.adcode,
            board=[w for w in s.board if w in shown],
            alight=[w for w in s.alight if w in shown],
            note=s.note,
        )
        for i, s in enumerate(trip.stops)
    ]
    return schemas.TripPublic(
        trip_id=trip.trip_id,
        vehicle_type=trip.vehicle_type,
        seats=trip.seats,
        drivers=trip.drivers,
        departure_date=trip.departure_date,
        departure=trip.departure,
        arrival=trip.arrival,
        distance_km=trip.distance_km,
        driving_minutes=trip.driving_minutes,
        seats_used=trip.seats_used,
        locked=locked,
        stops=stops,
        passengers=[
            schemas.PassengerPublic(
                worker=p.worker_id,
                company_id=p.company_id,
                seat=p.seat,
                seat_count=p.seat_count,
                board_stop=p.board_stop,
                alight_stop=p.alight_stop,
                party=p.party,
            )
            for p in passengers
        ],
        crew=crew_public(trip.crew, masked=company_id is not None),
        sign=sign_public(trip, [_sign_stop(s) for s in stops if s.kind != "rest"], locale),
        origin=origin,
        origin_name=county_name(origin) if origin else "",
    )


def sign_public(trip: domain.Trip, stops: Sequence[str], locale: str) -> schemas.SignPublic:
    """The charter sign (optimizer.crews.sign_data) with its fixed words in `locale`: an
    unassigned plate or operator, no main stops, the list separator and the validity's "to"
    (the optimizer writes them in Chinese, as the sign is printed; see api/documents)."""
    sign = sign_data(trip, stops=stops)
    served = list(dict.fromkeys(stops))
    main = served[1:-1]

    def filled(value: str) -> str:
        return gettext_in(locale, "unassigned") if value == UNASSIGNED else value

    return schemas.SignPublic(
        origin=sign["origin"],
        destination=sign["destination"],
        main_stops=gettext_in(locale, ", ").join(main) if main else gettext_in(locale, "none"),
        plate=filled(sign["plate"]),
        operator=filled(sign["operator"]),
        validity=gettext_in(locale, "{first} to {last}").format(
            first=f"{trip.departure:%Y-%m-%d}", last=f"{trip.arrival:%Y-%m-%d}"
        ),
    )


def _sign_stop(stop: schemas.StopPublic) -> str:
    if stop.kind == "rest":
        return ""
    return stop.name or (county_name(stop.adcode) if stop.adcode else stop.kind)


def crew_public(crew: domain.Crew | None, *, masked: bool) -> schemas.CrewPublic | None:
    """The assigned crew; `masked` (employers) hides the drivers' licence (ID) numbers."""
    if crew is None:
        return None
    return schemas.CrewPublic(
        plate=crew.plate,
        coach_type=crew.coach_type,
        coach_seats=crew.coach_seats,
        operator=crew.operator,
        drivers=[
            schemas.DriverPublic(
                name=d.name,
                licence=mask_id_number(d.licence) if masked else d.licence,
                phone=d.phone,
            )
            for d in crew.drivers
        ],
        escort_name=crew.escort_name,
        escort_phone=crew.escort_phone,
    )


def crew_from_schema(crew: schemas.CrewIn) -> domain.Crew:
    """The operator's assignment as a domain Crew, normalised (plate, licences, phones)."""
    return normalize_crew(
        domain.Crew(
            plate=crew.plate,
            coach_type=crew.coach_type,
            coach_seats=crew.coach_seats,
            operator=crew.operator,
            drivers=tuple(
                domain.Driver(name=d.name, licence=d.licence, phone=d.phone) for d in crew.drivers
            ),
            escort_name=crew.escort_name,
            escort_phone=crew.escort_phone,
        )
    )


def trip_for_company(trip: domain.Trip, company_id: str | None) -> domain.Trip:
    """The trip as a caller limited to `company_id` may see it: only that company's passengers,
    and other companies' gates unnamed (None: the whole trip)."""
    if company_id is None:
        return trip
    passengers = tuple(p for p in trip.passengers if p.company_id == company_id)
    shown = {p.worker_id for p in passengers}
    stops = tuple(
        dataclasses.replace(
            stop,
            board=tuple(w for w in stop.board if w in shown),
            alight=tuple(w for w in stop.alight if w in shown),
        )
        if _stop_shown(stop, company_id)
        else dataclasses.replace(
            stop,
            name=OTHER_GATE,
            company_id=None,
            lon=round(stop.lon, OTHER_GATE_DECIMALS),
            lat=round(stop.lat, OTHER_GATE_DECIMALS),
            board=tuple(w for w in stop.board if w in shown),
            alight=tuple(w for w in stop.alight if w in shown),
        )
        for stop in trip.stops
    )
    return dataclasses.replace(trip, stops=stops, passengers=passengers)


OTHER_GATE = "其他单位上车点 (another company's gate)"
# Another company's gate is shown to an employer to 0.01° (about 1 km): enough to see where the
# coach goes, not where that factory is.
OTHER_GATE_DECIMALS = 2


def _stop_shown(stop: domain.Stop, company_id: str | None) -> bool:
    """Whether a caller limited to `company_id` may see this stop's name (not another's gate)."""
    return company_id is None or stop.company_id is None or stop.company_id == company_id


def _stop_label(stop: domain.Stop, companies: Mapping[str, str]) -> str:
    if stop.name:
        return stop.name
    if stop.company_id:
        return companies.get(stop.company_id, stop.company_id)
    return stop.hub_id or stop.adcode or stop.kind


def manifest_public(
    trip: domain.Trip, scenario: domain.Scenario, *, plan_id: int, masked: bool
) -> schemas.ManifestPublic:
    """The passenger list of `trip` (rows by seat) as JSON, from the same row builder as the
    printed manifests. `trip` and `scenario` are the caller's view (`trip_for_company`,
    `scenario_for_documents`): only the passengers and personal data the caller may see."""
    rows = [
        schemas.ManifestRow(
            seat=line.seat,
            seat_count=line.seat_count,
            worker=line.worker,
            staff_number=line.staff_number,
            name=line.name or "(registration withdrawn)",
            id_number=line.id_number,
            phone=line.phone,
            company_id=line.company_id,
            company=line.company,
            trip_id=trip.trip_id,
            departure_date=trip.departure_date,
            departure_time=trip.departure.strftime("%H:%M"),
            boarding=line.board_stop,
            boarding_time=line.board_time.strftime("%Y-%m-%d %H:%M") if line.board_time else "",
            alighting=line.alight_stop,
            alighting_adcode=line.alight_adcode,
            change=line.change,
        )
        for line in manifest_lines(trip, scenario, full_ids=not masked)
    ]
    return schemas.ManifestPublic(
        plan_id=plan_id,
        trip_id=trip.trip_id,
        vehicle_type=trip.vehicle_type,
        seats=trip.seats,
        drivers=trip.drivers,
        departure_date=trip.departure_date,
        departure=trip.departure,
        masked=masked,
        rows=rows,
    )
