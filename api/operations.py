"""Persistence of a plan's operations: coaches and crews assigned to trips (all or nothing).

A trip's crew is stored inside the trip (`trips.data`, the one Trip codec), so a locked trip
keeps its coach and crew through later re-plans. Every change writes an audit row.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from api import convert, crud, models
from api.errors import CrewRejected, RowProblem, message
from optimizer import model as domain
from optimizer.crews import CrewProblem, crew_problems, overlaps


def _reason(problem: CrewProblem) -> str:
    return message(problem.code, **problem.values)


def assign_crews(
    session: Session,
    *,
    plan: models.Plan,
    crews: Mapping[str, domain.Crew | None],
    user: models.User,
    rows: Mapping[str, int] | None = None,
    action: str = "assign crew",
) -> list[tuple[domain.Trip, bool]]:
    """Set (or, with None, clear) the crews of the given trips of `plan`, all or nothing.

    Each crew is checked against its trip (crew size, coach seats and type, plate, licences,
    phones) and all crews of the plan together for a plate or driver on overlapping trips.
    `rows` numbers each trip's line for problem reports (an import's sheet rows; else 1).
    Raises CrewRejected naming row, field, value and reason of every problem.
    """
    trip_rows = {
        r.trip_id: r
        for r in session.scalars(
            select(models.Trip).where(models.Trip.plan_id == plan.id).with_for_update()
        )
    }
    row_of = dict(rows or {})
    problems: list[RowProblem] = []
    for trip_id in crews:
        if trip_id not in trip_rows:
            problems.append(
                RowProblem(
                    row_of.get(trip_id, 1),
                    "trip_id",
                    trip_id,
                    message("crew_unknown_trip", plan_id=plan.id, trip_id=trip_id),
                )
            )
    trips = {trip_id: convert.trip_from_data(r.data) for trip_id, r in trip_rows.items()}
    fleet = crud.list_vehicle_types(session, season=plan.season)
    type_seats = {v.vehicle_type: v.seats for v in fleet}
    max_drivers = int(plan.season.policy.get("max_drivers", domain.Policy().max_drivers))
    for trip_id, crew in crews.items():
        if crew is None or trip_id not in trips:
            continue
        for problem in crew_problems(
            trips[trip_id], crew, type_seats=type_seats, max_drivers=max_drivers
        ):
            problems.append(_row_problem(problem, row_of))
    after = {trip_id: crews.get(trip_id, trip.crew) for trip_id, trip in trips.items()}
    assigned = [(trips[t], c) for t, c in after.items() if c is not None]
    for problem in overlaps(assigned):
        # Only clashes involving a trip changed now are this request's fault.
        if problem.trip_id in crews or problem.values.get("other_trip") in crews:
            problems.append(_row_problem(problem, row_of))
    if problems:
        raise CrewRejected(problems)
    changed = []
    for trip_id, crew in crews.items():
        trip = dataclasses.replace(trips[trip_id], crew=crew)
        trip_rows[trip_id].data = convert.trip_to_data(trip)
        changed.append((trip, trip_rows[trip_id].locked))
    session.add(
        models.AuditEntry(
            user_id=user.id,
            username=user.username,
            action=f"{action}: plan {plan.id}, {len(crews)} trip(s)"[:256],
            season_id=plan.season_id,
            worker_keys=[],
            records=len(crews),
        )
    )
    session.flush()
    return changed


def _row_problem(problem: CrewProblem, rows: Mapping[str, int]) -> RowProblem:
    return RowProblem(rows.get(problem.trip_id, 1), problem.field, problem.value, _reason(problem))
