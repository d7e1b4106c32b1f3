"""Writing and reading a plan folder: plan.json, trips.csv and duties.csv; a season's season.json.

plan.json is the complete plan (docs/plan-format.md describes every field), coach duties and
fleet figures included; trips.csv and duties.csv are views of it for spreadsheets. `read_plan`
restores the Plan from plan.json alone. The passenger manifests (manifests/<trip_id>.csv, with
names and phones) are papers for the crew and are written by `api.documents` with the other
printed documents, in one format.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optimizer.costs import costs_to_json, season_costs
from optimizer.details import detail_parts_json
from optimizer.errors import InvalidInput
from optimizer.geography.gazetteer import load_gazetteer
from optimizer.model import (
    Crew,
    Driver,
    Duty,
    DutyLeg,
    FleetAdvice,
    FleetKpis,
    InputProblem,
    Kpis,
    Passenger,
    Plan,
    Scenario,
    Stop,
    SubsidyRule,
    Trip,
    Unserved,
    UnservedReason,
)
from optimizer.origins import trip_origin
from optimizer.places import county_seats

if TYPE_CHECKING:
    from optimizer.season import SeasonPlan

FORMAT_VERSION = 1
TRIP_COLUMNS = (
    "trip_id",
    "departure_date",
    "vehicle_type",
    "seats",
    "seats_used",
    "drivers",
    "distance_km",
    "driving_minutes",
    "departure",
    "arrival",
    "pickups",
    "dropoffs",
    "rests",
    "cost",
    "locked",
    "origin",
    "origin_name",
)
DUTY_COLUMNS = (
    "coach_id",
    "vehicle_type",
    "operator",
    "date",
    "kind",
    "from",
    "to",
    "start",
    "end",
    "km",
    "trip_id",
    "drivers",
)


def _stop_json(stop: Stop) -> dict[str, Any]:
    return {
        "kind": stop.kind,
        "company_id": stop.company_id,
        "hub_id": stop.hub_id,
        "adcode": stop.adcode,
        "name": stop.name,
        "lon": stop.lon,
        "lat": stop.lat,
        "arrive": stop.arrive.isoformat(),
        "depart": stop.depart.isoformat(),
        "km_from_previous": round(stop.km_from_previous, 3),
        "board": list(stop.board),
        "alight": list(stop.alight),
        "note": stop.note,
    }


def trip_to_json(trip: Trip) -> dict[str, Any]:
    """A trip as plain JSON values: the one Trip codec (plan.json and the service's database)."""
    return {
        "trip_id": trip.trip_id,
        "vehicle_type": trip.vehicle_type,
        "seats": trip.seats,
        "seats_used": trip.seats_used,
        "drivers": trip.drivers,
        "departure_date": trip.departure_date.isoformat(),
        "distance_km": round(trip.distance_km, 3),
        "driving_minutes": trip.driving_minutes,
        "cost": trip.cost,
        "locked": trip.locked,
        "stops": [_stop_json(stop) for stop in trip.stops],
        "passengers": [_passenger_json(p) for p in trip.passengers],
        "crew": dataclasses.asdict(trip.crew) if trip.crew is not None else None,
    }


def _passenger_json(passenger: Passenger) -> dict[str, Any]:
    """A passenger; `late` only when set (a plan as planned carries none)."""
    values = dataclasses.asdict(passenger)
    if not passenger.late:
        del values["late"]
    return values


def _leg_json(leg: DutyLeg) -> dict[str, Any]:
    return {
        "kind": leg.kind,
        "start": leg.start.isoformat(),
        "end": leg.end.isoformat(),
        "from_lon": leg.from_lon,
        "from_lat": leg.from_lat,
        "to_lon": leg.to_lon,
        "to_lat": leg.to_lat,
        "distance_km": round(leg.distance_km, 3),
        "trip_id": leg.trip_id,
        "drivers": leg.drivers,
    }


def duty_json(duty: Duty) -> dict[str, Any]:
    """One coach duty as plain JSON values (an element of plan.json's `coaches`)."""
    return {
        "coach_id": duty.coach_id,
        "vehicle_type": duty.vehicle_type,
        "operator": duty.operator,
        "trips": list(duty.trip_ids),
        "deadhead_km": round(duty.deadhead_km, 3),
        "loaded_km": round(duty.loaded_km, 3),
        "days_busy": duty.days_busy,
        "legs": [_leg_json(leg) for leg in duty.legs],
    }


def fleet_kpis_json(kpis: FleetKpis | None) -> dict[str, Any] | None:
    """The fleet figures as plain JSON values (plan.json's `fleet_kpis`), None when absent."""
    if kpis is None:
        return None
    values = dataclasses.asdict(kpis)
    values["shortages"] = list(kpis.shortages)
    values["sign_refused"] = list(kpis.sign_refused)
    values["advice"] = [
        {**dataclasses.asdict(a), "from_date": a.from_date.isoformat()} for a in kpis.advice
    ]
    return values


def plan_to_json(
    plan: Plan, *, scenario_dir: str | Path | None = None, subsidy: SubsidyRule | None = None
) -> dict[str, Any]:
    """The plan as plain JSON values (the content of plan.json).

    `costs` is derived: each trip's cost split over its companies and the subsidy per company
    under `subsidy` (the scenario's `[subsidy]` table; Cixi 2023 when None), optimizer/costs.py.

    `scenario_dir` (the scenario folder the plan was made from) is recorded as an absolute path,
    so `chunyun render PLAN_DIR` finds the names and phones without `--scenario`.
    """
    return {
        "format_version": FORMAT_VERSION,
        "scenario": plan.scenario,
        "scenario_dir": str(Path(scenario_dir).resolve()) if scenario_dir is not None else None,
        "direction": plan.direction,
        "kpis": dataclasses.asdict(plan.kpis),
        "trips": [trip_to_json(trip) for trip in plan.trips],
        "unserved": [
            {
                "worker_id": u.worker_id,
                "reason": str(u.reason),
                "detail": u.detail,
                "detail_parts": detail_parts_json(u.detail_parts),
            }
            for u in plan.unserved
        ],
        "problems": [dataclasses.asdict(p) for p in plan.problems],
        "notes": list(plan.notes),
        "coaches": [duty_json(duty) for duty in plan.coaches],
        "fleet_kpis": fleet_kpis_json(plan.fleet_kpis),
        "costs": costs_to_json(season_costs(plan.trips, subsidy)),
    }


def _stop(values: Mapping[str, Any]) -> Stop:
    return Stop(
        kind=values["kind"],
        lon=float(values["lon"]),
        lat=float(values["lat"]),
        arrive=dt.datetime.fromisoformat(values["arrive"]),
        depart=dt.datetime.fromisoformat(values["depart"]),
        km_from_previous=float(values.get("km_from_previous", 0.0)),
        company_id=values.get("company_id"),
        hub_id=values.get("hub_id"),
        adcode=values.get("adcode"),
        name=values.get("name", ""),
        board=tuple(values.get("board", ())),
        alight=tuple(values.get("alight", ())),
        note=values.get("note", ""),
    )


def trip_from_json(values: Mapping[str, Any]) -> Trip:
    """The trip written by `trip_to_json` (inverse)."""
    return Trip(
        trip_id=values["trip_id"],
        vehicle_type=values["vehicle_type"],
        seats=int(values["seats"]),
        drivers=int(values["drivers"]),
        departure_date=dt.date.fromisoformat(values["departure_date"]),
        stops=tuple(_stop(s) for s in values["stops"]),
        passengers=tuple(Passenger(**p) for p in values.get("passengers", ())),
        distance_km=float(values.get("distance_km", 0.0)),
        driving_minutes=int(values.get("driving_minutes", 0)),
        cost=float(values.get("cost", 0.0)),
        locked=bool(values.get("locked", False)),
        crew=_crew(values["crew"]) if values.get("crew") else None,
    )


def _crew(values: Mapping[str, Any]) -> Crew:
    return Crew(
        plate=str(values["plate"]),
        coach_type=str(values["coach_type"]),
        coach_seats=int(values["coach_seats"]),
        operator=str(values.get("operator", "")),
        drivers=tuple(Driver(**d) for d in values.get("drivers", ())),
        escort_name=str(values.get("escort_name", "")),
        escort_phone=str(values.get("escort_phone", "")),
    )


def _leg(values: dict[str, Any]) -> DutyLeg:
    return DutyLeg(
        kind=values["kind"],
        start=dt.datetime.fromisoformat(values["start"]),
        end=dt.datetime.fromisoformat(values["end"]),
        from_lon=float(values["from_lon"]),
        from_lat=float(values["from_lat"]),
        to_lon=float(values["to_lon"]),
        to_lat=float(values["to_lat"]),
        distance_km=float(values["distance_km"]),
        trip_id=values.get("trip_id", ""),
        drivers=int(values.get("drivers", 1)),
    )


def duty_from_json(values: dict[str, Any]) -> Duty:
    """A Duty from an element of plan.json's `coaches` (inverse of `duty_json`)."""
    return Duty(
        coach_id=values["coach_id"],
        vehicle_type=values["vehicle_type"],
        operator=values.get("operator", ""),
        trip_ids=tuple(values["trips"]),
        legs=tuple(_leg(leg) for leg in values.get("legs", ())),
        deadhead_km=float(values.get("deadhead_km", 0.0)),
        loaded_km=float(values.get("loaded_km", 0.0)),
        days_busy=int(values.get("days_busy", 0)),
    )


def fleet_kpis_from_json(values: dict[str, Any] | None) -> FleetKpis | None:
    """FleetKpis from plan.json's `fleet_kpis` (inverse of `fleet_kpis_json`)."""
    if values is None:
        return None
    return FleetKpis(
        coaches_by_type={k: int(v) for k, v in values["coaches_by_type"].items()},
        coaches=int(values["coaches"]),
        coach_days=int(values["coach_days"]),
        deadhead_km=float(values["deadhead_km"]),
        loaded_km=float(values["loaded_km"]),
        loaded_km_share=float(values["loaded_km_share"]),
        overlap_bound_by_type={k: int(v) for k, v in values["overlap_bound_by_type"].items()},
        shortages=tuple(values.get("shortages", ())),
        sign_refused=tuple(values.get("sign_refused", ())),
        advice=tuple(
            FleetAdvice(
                vehicle_type=a["vehicle_type"],
                seats=int(a["seats"]),
                add=int(a["add"]),
                from_date=dt.date.fromisoformat(a["from_date"]),
                fleet=int(a["fleet"]),
                needed=int(a["needed"]),
            )
            for a in values.get("advice", ())
        ),
    )


def plan_from_json(values: dict[str, Any]) -> Plan:
    """A Plan from the content of plan.json (inverse of `plan_to_json`)."""
    try:
        return Plan(
            scenario=values["scenario"],
            direction=values["direction"],
            trips=tuple(trip_from_json(t) for t in values["trips"]),
            unserved=tuple(
                Unserved(u["worker_id"], UnservedReason(u["reason"]), u.get("detail", ""))
                for u in values["unserved"]
            ),
            kpis=Kpis(**values["kpis"]),
            problems=tuple(InputProblem(**p) for p in values.get("problems", ())),
            notes=tuple(values.get("notes", ())),
            coaches=tuple(duty_from_json(d) for d in values.get("coaches", ())),
            fleet_kpis=fleet_kpis_from_json(values.get("fleet_kpis")),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidInput(f"plan.json is not a chunyun plan: {error!r}") from None


def _hhmm(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def _place(stop: Stop) -> str:
    return stop.name or stop.company_id or stop.hub_id or stop.adcode or ""


def _places(trips: Sequence[Trip]) -> dict[tuple[float, float], str]:
    """Names of the trips' stops by rounded coordinates, to name the ends of duty legs."""
    names: dict[tuple[float, float], str] = {}
    for trip in trips:
        for stop in trip.stops:
            if stop.kind != "rest":
                names.setdefault((round(stop.lon, 5), round(stop.lat, 5)), _place(stop))
    return names


def _day_slices(start: dt.datetime, end: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """[start, end) cut at midnights: one piece per calendar day touched."""
    if end <= start:
        yield start, end
        return
    cursor = start
    while cursor < end:
        midnight = dt.datetime.combine(cursor.date() + dt.timedelta(days=1), dt.time())
        piece_end = min(end, midnight)
        yield cursor, piece_end
        cursor = piece_end


def depot_names(scenario: Scenario) -> dict[tuple[float, float], str]:
    """Names of the scenario's coach depots by rounded coordinates (for duties.csv)."""
    names: dict[tuple[float, float], str] = {}
    for vehicle in scenario.fleet:
        if vehicle.depot_lon is not None and vehicle.depot_lat is not None:
            label = f"depot {vehicle.operator}".strip()
            names[(round(vehicle.depot_lon, 5), round(vehicle.depot_lat, 5))] = label
    seat = county_seats([scenario.origin]).get(scenario.origin)
    if seat is not None:
        names.setdefault((round(seat.lon, 5), round(seat.lat, 5)), f"depot {scenario.origin}")
    return names


def duty_rows(
    coaches: Sequence[Duty],
    trips: Sequence[Trip] = (),
    places: dict[tuple[float, float], str] | None = None,
) -> list[dict[str, Any]]:
    """Each coach's day-by-day schedule: the rows of duties.csv (keys `DUTY_COLUMNS`).

    Every leg (loaded `trip` or empty `deadhead`) and every wait between two legs (`idle`, at the
    place the coach stands) gives one row per calendar day it touches, with `start`/`end` cut at
    midnight; `km` (road km of the whole leg) is on the leg's first row only, so the column sums
    to the coach's km. Places are named from `trips`' stops and `places` (e.g. `depot_names`),
    else written "lon,lat".
    """
    names = {**(places or {}), **_places(trips)}

    def place(lon: float, lat: float) -> str:
        return names.get((round(lon, 5), round(lat, 5)), f"{lon:.5f},{lat:.5f}")

    rows: list[dict[str, Any]] = []
    for duty in coaches:
        blocks: list[tuple[str, DutyLeg | None, dt.datetime, dt.datetime, str, str]] = []
        previous: DutyLeg | None = None
        for leg in duty.legs:
            if previous is not None and leg.start > previous.end:
                here = place(previous.to_lon, previous.to_lat)
                blocks.append(("idle", None, previous.end, leg.start, here, here))
            blocks.append(
                (
                    leg.kind,
                    leg,
                    leg.start,
                    leg.end,
                    place(leg.from_lon, leg.from_lat),
                    place(leg.to_lon, leg.to_lat),
                )
            )
            previous = leg
        for kind, block, start, end, origin, destination in blocks:
            km = round(block.distance_km, 1) if block is not None else ""
            trip_id = block.trip_id if block is not None else ""
            drivers = block.drivers if block is not None and block.kind == "trip" else ""
            for index, (piece_start, piece_end) in enumerate(_day_slices(start, end)):
                rows.append(
                    {
                        "coach_id": duty.coach_id,
                        "vehicle_type": duty.vehicle_type,
                        "operator": duty.operator,
                        "date": piece_start.date().isoformat(),
                        "kind": kind,
                        "from": origin,
                        "to": destination,
                        "start": _hhmm(piece_start),
                        "end": _hhmm(piece_end),
                        "km": km if index == 0 else "",
                        "trip_id": trip_id,
                        "drivers": drivers,
                    }
                )
    return rows


def write_duties_csv(
    coaches: Sequence[Duty],
    path: str | Path,
    trips: Sequence[Trip] = (),
    places: dict[tuple[float, float], str] | None = None,
) -> Path:
    """Write duties.csv (the rows of `duty_rows`) to `path`; returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=DUTY_COLUMNS)
        writer.writeheader()
        writer.writerows(duty_rows(coaches, trips, places))
    return target


def trip_origins(trips: Sequence[Trip], scenario: Scenario | None) -> dict[str, str]:
    """Each trip's origin county (adcode): its first pickup's going home, its last drop-off's
    coming back (optimizer.origins.trip_origin); empty without the scenario."""
    if scenario is None:
        return {}
    return {t.trip_id: trip_origin(t, scenario) for t in trips}


def _county_name(adcode: str) -> str:
    county = load_gazetteer().get(adcode) if adcode else None
    return county.name if county is not None else ""


def trip_row(trip: Trip, origin: str = "") -> list[object]:
    """One row of trips.csv (the columns of `TRIP_COLUMNS`); `origin` is the trip's origin
    county (`trip_origins`), written with its name."""
    service = [s for s in trip.stops if s.kind != "rest"]
    return [
        trip.trip_id,
        trip.departure_date.isoformat(),
        trip.vehicle_type,
        trip.seats,
        trip.seats_used,
        trip.drivers,
        round(trip.distance_km, 1),
        trip.driving_minutes,
        _hhmm(trip.departure),
        _hhmm(trip.arrival),
        " / ".join(_place(s) for s in service if s.kind == "pickup"),
        " / ".join(_place(s) for s in service if s.kind == "dropoff"),
        sum(1 for s in trip.stops if s.kind == "rest"),
        trip.cost,
        "yes" if trip.locked else "",
        origin,
        _county_name(origin),
    ]


def write_plan(
    plan: Plan,
    scenario: Scenario | None,
    folder: str | Path,
    *,
    scenario_dir: str | Path | None = None,
) -> Path:
    """Write `plan` into `folder` (created if needed): plan.json, trips.csv and duties.csv.

    `scenario` (optional) names the coach depots in duties.csv. `scenario_dir` is recorded in
    plan.json (absolute) for re-rendering. No personal data is written here: manifests and
    notices come from `api.documents.render_plan`. Returns the folder.
    """
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    with (root / "plan.json").open("w", encoding="utf-8") as handle:
        json.dump(
            plan_to_json(
                plan,
                scenario_dir=scenario_dir,
                subsidy=scenario.subsidy if scenario is not None else None,
            ),
            handle,
            ensure_ascii=False,
            indent=1,
        )
    with (root / "trips.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(TRIP_COLUMNS)
        origins = trip_origins(plan.trips, scenario)
        for trip in plan.trips:
            writer.writerow(trip_row(trip, origins.get(trip.trip_id, "")))
    places = depot_names(scenario) if scenario is not None else None
    write_duties_csv(plan.coaches, root / "duties.csv", plan.trips, places)
    return root


def season_to_json(
    season: SeasonPlan, *, scenario_dirs: Sequence[str | Path] = ()
) -> dict[str, Any]:
    """A season's figures as plain JSON values (the content of season.json)."""
    return {
        "format_version": FORMAT_VERSION,
        "waves": [
            {
                "direction": plan.direction,
                "scenario": plan.scenario,
                "folder": plan.direction,
                "scenario_dir": str(Path(d).resolve()) if d is not None else None,
                "trips": len(plan.trips),
                "seated": plan.kpis.seated,
                "unserved": plan.kpis.unserved,
            }
            for plan, d in zip(
                season.waves,
                [*scenario_dirs, *([None] * (len(season.waves) - len(scenario_dirs)))],
                strict=True,
            )
        ],
        "backhaul_saved_km": season.backhaul_saved_km,
        "fleet_kpis": fleet_kpis_json(season.duties.kpis),
        "coaches": [duty_json(duty) for duty in season.duties.duties],
    }


def write_season(
    season: SeasonPlan,
    scenarios: Sequence[Scenario],
    folder: str | Path,
    *,
    scenario_dirs: Sequence[str | Path] = (),
) -> Path:
    """Write a season: `folder`/<direction>/ plan folders, season.json and the season's duties.csv.

    `scenarios` and `scenario_dirs` are the waves' scenarios and their folders, in the order of
    `season.waves`; each wave's plan.json records its own folder. Returns the folder.
    """
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    dirs = list(scenario_dirs)
    by_direction = {s.direction: s for s in scenarios}
    places: dict[tuple[float, float], str] = {}
    for scenario in scenarios:
        places.update(depot_names(scenario))
    for index, plan in enumerate(season.waves):
        write_plan(
            plan,
            by_direction.get(plan.direction),
            root / plan.direction,
            scenario_dir=dirs[index] if index < len(dirs) else None,
        )
    with (root / "season.json").open("w", encoding="utf-8") as handle:
        json.dump(season_to_json(season, scenario_dirs=dirs), handle, ensure_ascii=False, indent=1)
    trips = [trip for plan in season.waves for trip in plan.trips]
    write_duties_csv(season.duties.duties, root / "duties.csv", trips, places)
    return root


def read_plan(folder: str | Path) -> Plan:
    """The Plan stored in `folder`/plan.json."""
    path = Path(folder) / "plan.json"
    try:
        with path.open(encoding="utf-8") as handle:
            values = json.load(handle)
    except FileNotFoundError:
        raise InvalidInput(f"plan.json is missing from {Path(folder)}") from None
    except json.JSONDecodeError as error:
        raise InvalidInput(f"plan.json is not valid JSON: {error}") from None
    return plan_from_json(values)
