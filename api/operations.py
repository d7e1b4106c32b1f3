"""Persistence of a plan's operations: coaches and crews assigned to trips (all or nothing).

A trip's crew is stored inside the trip (`trips.data`, the one Trip codec), so a locked trip
keeps its coach and crew through later re-plans. Every change writes an audit row.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

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
    phones, the charter-sign rule for its operator) and all crews of the plan together for a
    plate or driver on overlapping trips.
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
    changing = [trips[t] for t, crew in crews.items() if crew is not None and t in trips]
    sign = crud.season_sign_rule(session, season=plan.season, trips=changing)
    for trip_id, crew in crews.items():
        if crew is None or trip_id not in trips:
            continue
        for problem in crew_problems(
            trips[trip_id], crew, type_seats=type_seats, max_drivers=max_drivers, sign=sign
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


# --- changes after publishing ---------------------------------------------------------------------

CHANGE_KINDS = ("withdrawal", "late_placed", "late_waiting", "edit", "moved")


def _without(trip: domain.Trip, key: str) -> domain.Trip:
    """`trip` without passenger `key`: the stops and the others' seats stay as printed."""
    return dataclasses.replace(
        trip,
        passengers=tuple(p for p in trip.passengers if p.worker_id != key),
        stops=tuple(
            dataclasses.replace(
                s,
                board=tuple(w for w in s.board if w != key),
                alight=tuple(w for w in s.alight if w != key),
            )
            for s in trip.stops
        ),
    )


def _add_change(
    session: Session,
    *,
    plan: models.Plan,
    kind: str,
    worker: models.Worker,
    trip_id: str = "",
    detail: Mapping[str, object] | None = None,
    **values: object,
) -> models.PlanChange:
    change = models.PlanChange(
        plan_id=plan.id,
        kind=kind,
        worker_key=str(worker.id),
        company_id=worker.company_id,
        trip_id=trip_id,
        detail={
            "staff_number": worker.worker_code,
            "name": worker.name,
            "phone": worker.phone,
            **(detail or {}),
            **values,
        },
    )
    session.add(change)
    return change


def withdraw_from_published(session: Session, *, worker: models.Worker) -> None:
    """Before a registration is withdrawn: if it holds a seat in the season's published plan,
    free the seat (the trip's stops and the others' seats stay as printed) and put the
    withdrawal on the plan's change list, with what the notices need."""
    season = crud.get_season_by_id(session, season_id=worker.season_id)
    plan = crud.latest_published_plan(session, season=season)
    if plan is None:
        return
    key = str(worker.id)
    assignment = session.scalars(
        select(models.Assignment).where(
            models.Assignment.plan_id == plan.id, models.Assignment.worker_key == key
        )
    ).first()
    if assignment is None:
        return
    row = session.scalars(
        select(models.Trip).where(
            models.Trip.plan_id == plan.id, models.Trip.trip_id == assignment.trip_id
        )
    ).first()
    seat = assignment.seat
    if row is not None:
        row.data = convert.trip_to_data(_without(convert.trip_from_data(row.data), key))
    session.delete(assignment)
    _add_change(
        session, plan=plan, kind="withdrawal", worker=worker, trip_id=assignment.trip_id, seat=seat
    )
    session.flush()


def place_late_registrations(
    session: Session, *, plan: models.Plan, user: models.User
) -> tuple[list[models.PlanChange], list[models.PlanChange]]:
    """Seat the season's registrations that have no seat in the published `plan` in free seats
    of its trips, locked ones included (optimizer.incremental: a trip keeps its coach, crew,
    times, stops and passengers; a late worker boards and alights only where it already stops,
    within the ride limit; the manifest gains a row).
    Returns the changes of those placed and of those still waiting for new trips (the caller
    starts a planning job that keeps every published trip, `start_new_trips_job`)."""
    from optimizer.incremental import place_in_free_seats
    from optimizer.solve import default_distance_provider

    rows = {
        r.trip_id: r
        for r in session.scalars(
            select(models.Trip).where(models.Trip.plan_id == plan.id).with_for_update()
        )
    }
    seated = set(
        session.scalars(
            select(models.Assignment.worker_key).where(models.Assignment.plan_id == plan.id)
        )
    )
    already = set(
        session.scalars(
            select(models.PlanChange.worker_key).where(
                models.PlanChange.plan_id == plan.id, models.PlanChange.kind == "late_waiting"
            )
        )
    )
    registered = crud.list_workers(session, season=plan.season)
    late_rows = [w for w in registered if str(w.id) not in seated and w.home_adcode]
    by_key = {str(w.id): w for w in late_rows}
    scenario = convert.season_to_scenario(
        plan.season,
        companies=crud.list_companies(session, season=plan.season),
        fleet=crud.list_vehicle_types(session, season=plan.season),
        workers=late_rows,
    )
    trips = [convert.trip_from_data(r.data) for r in rows.values()]
    # Locked (published) trips take late riders too: nothing printed moves (see the docstring).
    after, placed, left = place_in_free_seats(
        trips, scenario.workers, scenario, default_distance_provider()
    )
    placed_changes, waiting_changes = [], []
    for trip in after:
        row = rows[trip.trip_id]
        new = [p for p in trip.passengers if p.worker_id in placed]
        if not new:
            continue
        row.data = convert.trip_to_data(trip)
        for p in new:
            session.add(
                models.Assignment(
                    plan_id=plan.id,
                    trip_id=trip.trip_id,
                    worker_key=p.worker_id,
                    company_id=p.company_id,
                    seat=p.seat,
                    seat_count=p.seat_count,
                )
            )
            placed_changes.append(
                _add_change(
                    session,
                    plan=plan,
                    kind="late_placed",
                    worker=by_key[p.worker_id],
                    trip_id=trip.trip_id,
                    seat=p.seat,
                )
            )
    for worker in left:
        if worker.worker_id not in already:
            waiting_changes.append(
                _add_change(
                    session, plan=plan, kind="late_waiting", worker=by_key[worker.worker_id]
                )
            )
    session.add(
        models.AuditEntry(
            user_id=user.id,
            username=user.username,
            action=f"place late registrations: plan {plan.id}, {len(placed_changes)} seated"[:256],
            season_id=plan.season_id,
            worker_keys=sorted(placed, key=convert._key_order),
            records=len(placed_changes),
        )
    )
    session.flush()
    return placed_changes, waiting_changes


def list_changes(
    session: Session, *, plan: models.Plan, company_id: str | None = None
) -> list[models.PlanChange]:
    query = select(models.PlanChange).where(models.PlanChange.plan_id == plan.id)
    if company_id is not None:
        query = query.where(models.PlanChange.company_id == company_id)
    return list(session.scalars(query.order_by(models.PlanChange.id)))


def confirm_changes(
    session: Session, *, plan: models.Plan, ids: list[int], user: models.User
) -> list[models.PlanChange]:
    """The dispatcher confirms changes (all unconfirmed ones when `ids` is empty); audited."""
    changes = [c for c in list_changes(session, plan=plan) if c.confirmed_at is None]
    if ids:
        wanted = set(ids)
        changes = [c for c in changes if c.id in wanted]
    now = models.utcnow()
    for change in changes:
        change.confirmed_at, change.confirmed_by = now, user.id
    session.add(
        models.AuditEntry(
            user_id=user.id,
            username=user.username,
            action=f"confirm changes: plan {plan.id}, {len(changes)} change(s)"[:256],
            season_id=plan.season_id,
            worker_keys=sorted({c.worker_key for c in changes}, key=convert._key_order),
            records=len(changes),
        )
    )
    session.flush()
    return changes


# --- drop-off points --------------------------------------------------------------------------


def list_drop_points(session: Session, *, season: models.Season) -> list[models.DropPoint]:
    return list(
        session.scalars(
            select(models.DropPoint)
            .where(models.DropPoint.season_id == season.id)
            .order_by(models.DropPoint.adcode)
        )
    )


def set_drop_point(
    session: Session, *, season: models.Season, adcode: str, name: str, address: str
) -> models.DropPoint:
    """Create or replace the county's named drop-off point in `season`."""
    row = session.scalars(
        select(models.DropPoint).where(
            models.DropPoint.season_id == season.id, models.DropPoint.adcode == adcode
        )
    ).first()
    if row is None:
        row = models.DropPoint(season_id=season.id, adcode=adcode)
        session.add(row)
    row.name, row.address = name, address
    session.flush()
    return row


def delete_drop_point(session: Session, *, season: models.Season, adcode: str) -> bool:
    row = session.scalars(
        select(models.DropPoint).where(
            models.DropPoint.season_id == season.id, models.DropPoint.adcode == adcode
        )
    ).first()
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


# --- edits of seated registrations after publishing ---------------------------------------------

# What a worker's notice or seat depends on: a change to any of these after publishing is listed.
EDITED_FIELDS = ("name", "phone", "home_adcode", "earliest", "latest", "seats", "party")


def seated_snapshot(
    session: Session, *, season: models.Season, id_numbers: Iterable[str]
) -> dict[str, dict[str, object]]:
    """Before a registration overwrites rows: the fields that matter of those holding a seat in
    the season's published plan, by ID number (empty when nothing is published)."""
    plan = crud.latest_published_plan(session, season=season)
    if plan is None:
        return {}
    rows = crud.workers_by_id_number(session, season=season, id_numbers=id_numbers)
    if not rows:
        return {}
    keys = {str(r.id) for r in rows.values()}
    seated = set(
        session.scalars(
            select(models.Assignment.worker_key).where(
                models.Assignment.plan_id == plan.id, models.Assignment.worker_key.in_(keys)
            )
        )
    )
    return {
        id_number: {"plan_id": plan.id, **{f: getattr(row, f) for f in EDITED_FIELDS}}
        for id_number, row in rows.items()
        if str(row.id) in seated
    }


# Fields whose change may make a seat wrong: the trip's date, the stop of the home county, the
# seats taken, the party that must share the coach.
SEAT_FIELDS = ("home_adcode", "earliest", "latest", "seats", "party")


def note_edits(
    session: Session, *, before: Mapping[str, Mapping[str, object]], rows: Iterable[models.Worker]
) -> None:
    """Put every seated registration whose notice-relevant fields changed on the published
    plan's change list. One whose seat no longer fits (date outside the new window, home county
    not a stop of the trip, other seats, a party on another coach) is re-seated: off the old
    trip, onto a free seat that fits (kind `moved`, both trips named) or, if none does, waiting
    for new trips (kind `late_waiting`: POST /plans/{id}/late starts the job). Otherwise kind
    `edit`: the seat stays, the notice changes."""
    for row in rows:
        old = before.get(row.id_number)
        if old is None:
            continue
        fields = [f for f in EDITED_FIELDS if getattr(row, f) != old[f]]
        if not fields:
            continue
        plan = session.get(models.Plan, old["plan_id"])
        if plan is None:
            continue
        assignment = session.scalars(
            select(models.Assignment).where(
                models.Assignment.plan_id == plan.id,
                models.Assignment.worker_key == str(row.id),
            )
        ).first()
        seat_may_move = any(f in SEAT_FIELDS for f in fields)
        if (
            assignment is not None
            and seat_may_move
            and _reseat(session, plan=plan, worker=row, assignment=assignment, fields=fields)
        ):
            continue
        _add_change(
            session,
            plan=plan,
            kind="edit",
            worker=row,
            trip_id=assignment.trip_id if assignment else "",
            seat=assignment.seat if assignment else None,
            fields=fields,
        )
    session.flush()


def _seat_fits(
    trip: domain.Trip, key: str, worker: models.Worker, *, direction: str, party_trips: set[str]
) -> bool:
    """Whether passenger `key`'s seat on `trip` still fits the edited registration `worker`."""
    passenger = next((p for p in trip.passengers if p.worker_id == key), None)
    if passenger is None:
        return False
    home_stop = passenger.alight_stop if direction == "home" else passenger.board_stop
    return (
        worker.earliest <= trip.departure_date <= worker.latest
        and passenger.seat_count == worker.seats
        and trip.stops[home_stop].adcode == worker.home_adcode
        and party_trips <= {trip.trip_id}
    )


def _reseat(
    session: Session,
    *,
    plan: models.Plan,
    worker: models.Worker,
    assignment: models.Assignment,
    fields: list[str],
) -> bool:
    """Re-seat an edited worker whose seat no longer fits; False when the seat still fits."""
    from optimizer.incremental import place_in_free_seats
    from optimizer.solve import default_distance_provider

    key = str(worker.id)
    rows = {
        r.trip_id: r
        for r in session.scalars(
            select(models.Trip).where(models.Trip.plan_id == plan.id).with_for_update()
        )
    }
    old_row = rows.get(assignment.trip_id)
    if old_row is None:
        return False
    old_trip = convert.trip_from_data(old_row.data)
    party_trips: set[str] = set()
    if worker.party:
        mates = [
            str(w.id)
            for w in crud.list_workers(session, season=plan.season, company_id=worker.company_id)
            if w.party == worker.party and w.id != worker.id
        ]
        party_trips = set(
            session.scalars(
                select(models.Assignment.trip_id).where(
                    models.Assignment.plan_id == plan.id,
                    models.Assignment.worker_key.in_(mates),
                )
            )
        )
    direction = plan.season.direction
    if _seat_fits(old_trip, key, worker, direction=direction, party_trips=party_trips):
        return False
    old_seat = assignment.seat
    old_row.data = convert.trip_to_data(_without(old_trip, key))
    session.delete(assignment)
    session.flush()
    scenario = convert.season_to_scenario(
        plan.season,
        companies=crud.list_companies(session, season=plan.season),
        fleet=crud.list_vehicle_types(session, season=plan.season),
        workers=[worker],
    )
    trips = [convert.trip_from_data(r.data) for r in rows.values()]
    # A party changed to one already seated goes where the party sits, or waits.
    candidates = [t for t in trips if not party_trips or t.trip_id in party_trips]
    after, placed, _left = place_in_free_seats(
        candidates, scenario.workers, scenario, default_distance_provider()
    )
    moved_from: dict[str, object] = {
        "from_trip": assignment.trip_id,
        "from_seat": old_seat,
        "fields": fields,
    }
    if key not in placed:
        _add_change(session, plan=plan, kind="late_waiting", worker=worker, detail=moved_from)
        return True
    trip = next(t for t in after if t.trip_id == placed[key])
    rows[trip.trip_id].data = convert.trip_to_data(trip)
    [passenger] = [p for p in trip.passengers if p.worker_id == key]
    session.add(
        models.Assignment(
            plan_id=plan.id,
            trip_id=trip.trip_id,
            worker_key=key,
            company_id=worker.company_id,
            seat=passenger.seat,
            seat_count=passenger.seat_count,
        )
    )
    _add_change(
        session,
        plan=plan,
        kind="moved",
        worker=worker,
        trip_id=trip.trip_id,
        detail={**moved_from, "seat": passenger.seat},
    )
    return True


def start_new_trips_job(
    session: Session, *, plan: models.Plan, user: models.User, time_limit_s: float
) -> models.Plan | None:
    """A planning job (api/jobs.py) for the registrations waiting for a seat: the season is
    planned again with the published plan's locked trips kept as they are, so only new trips
    are added; the result is a new plan whose `changes` the dispatcher checks before publishing
    it. None when another planning job of the season is active (it sees the same registrations).
    The waiting changes of `plan` name the job."""
    from api.errors import Conflict

    try:
        job = crud.create_plan(
            session,
            season=plan.season,
            user=user,
            time_limit_s=time_limit_s,
        )
    except Conflict:
        return None
    for change in list_changes(session, plan=plan):
        if change.kind == "late_waiting" and "new_trips_plan" not in change.detail:
            change.detail = {**change.detail, "new_trips_plan": job.id}
    session.flush()
    return job
