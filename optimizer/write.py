"""Writing and reading a plan folder: plan.json, trips.csv and manifests/<trip_id>.csv.

plan.json is the complete plan (docs/plan-format.md describes every field); trips.csv and the
manifests are views of it for spreadsheets. `read_plan` restores the Plan from plan.json alone.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

from optimizer.errors import InvalidInput
from optimizer.identity import mask_id_number, mask_phone
from optimizer.model import (
    InputProblem,
    Kpis,
    Passenger,
    Plan,
    Scenario,
    Stop,
    Trip,
    Unserved,
    UnservedReason,
)

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
)
MANIFEST_COLUMNS = (
    "seat",
    "seat_count",
    "worker_id",
    "name",
    "id_number",
    "phone",
    "company_id",
    "party",
    "board_stop",
    "board_at",
    "board_time",
    "alight_stop",
    "alight_at",
    "alight_time",
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


def _trip_json(trip: Trip) -> dict[str, Any]:
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
        "passengers": [dataclasses.asdict(p) for p in trip.passengers],
    }


def plan_to_json(plan: Plan) -> dict[str, Any]:
    """The plan as plain JSON values (the content of plan.json)."""
    return {
        "format_version": FORMAT_VERSION,
        "scenario": plan.scenario,
        "direction": plan.direction,
        "kpis": dataclasses.asdict(plan.kpis),
        "trips": [_trip_json(trip) for trip in plan.trips],
        "unserved": [
            {"worker_id": u.worker_id, "reason": str(u.reason), "detail": u.detail}
            for u in plan.unserved
        ],
        "problems": [dataclasses.asdict(p) for p in plan.problems],
        "notes": list(plan.notes),
    }


def _stop(values: dict[str, Any]) -> Stop:
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


def _trip(values: dict[str, Any]) -> Trip:
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
    )


def plan_from_json(values: dict[str, Any]) -> Plan:
    """A Plan from the content of plan.json (inverse of `plan_to_json`)."""
    try:
        return Plan(
            scenario=values["scenario"],
            direction=values["direction"],
            trips=tuple(_trip(t) for t in values["trips"]),
            unserved=tuple(
                Unserved(u["worker_id"], UnservedReason(u["reason"]), u.get("detail", ""))
                for u in values["unserved"]
            ),
            kpis=Kpis(**values["kpis"]),
            problems=tuple(InputProblem(**p) for p in values.get("problems", ())),
            notes=tuple(values.get("notes", ())),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidInput(f"plan.json is not a chunyun plan: {error!r}") from None


def _hhmm(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def _place(stop: Stop) -> str:
    return stop.name or stop.company_id or stop.hub_id or stop.adcode or ""


def write_plan(
    plan: Plan, scenario: Scenario, folder: str | Path, *, mask_personal: bool = True
) -> Path:
    """Write `plan` into `folder` (created if needed): plan.json, trips.csv, manifests/.

    Manifests carry names from `scenario`; ID and phone numbers are masked unless
    `mask_personal` is False (they are sensitive personal data, DOMAIN.md). Returns the folder.
    """
    root = Path(folder)
    (root / "manifests").mkdir(parents=True, exist_ok=True)
    for old in (root / "manifests").glob("*.csv"):
        old.unlink()
    with (root / "plan.json").open("w", encoding="utf-8") as handle:
        json.dump(plan_to_json(plan), handle, ensure_ascii=False, indent=1)
    with (root / "trips.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(TRIP_COLUMNS)
        for trip in plan.trips:
            service = [s for s in trip.stops if s.kind != "rest"]
            writer.writerow(
                [
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
                ]
            )
    workers = {w.worker_id: w for w in scenario.workers}
    for trip in plan.trips:
        path = root / "manifests" / f"{trip.trip_id}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(MANIFEST_COLUMNS)
            for passenger in sorted(trip.passengers, key=lambda p: p.seat):
                worker = workers.get(passenger.worker_id)
                board, alight = trip.stops[passenger.board_stop], trip.stops[passenger.alight_stop]
                id_number = worker.id_number if worker else ""
                phone = worker.phone if worker else ""
                writer.writerow(
                    [
                        passenger.seat,
                        passenger.seat_count,
                        passenger.worker_id,
                        worker.name if worker else "",
                        mask_id_number(id_number) if mask_personal else id_number,
                        mask_phone(phone) if mask_personal else phone,
                        passenger.company_id,
                        passenger.party,
                        passenger.board_stop,
                        _place(board),
                        _hhmm(board.depart),
                        passenger.alight_stop,
                        _place(alight),
                        _hhmm(alight.arrive),
                    ]
                )
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
