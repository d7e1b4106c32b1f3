"""Hand adjustments of a draft plan: move a worker (with their party) to another trip or date,
lock or unlock a trip of the published plan before a re-plan. Every change is written to the
audit log."""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import delete, select, update

from api import convert, crud, models, outputs
from api.deps import DispatcherUser, SessionDep
from api.errors import Conflict, NotFound
from api.i18n import N_, recognise, translate
from api.schemas import Inbound, text
from optimizer import model as domain
from optimizer.adjust import Moved, MoveReason, MoveRefused, move_passenger
from optimizer.errors import ChunyunError
from optimizer.geography.distance import DistanceProvider, Location
from optimizer.geography.providers import default_provider

router = APIRouter(prefix="/plans", tags=["plans"])

# The words of a refused move (api/i18n.py catalogue); values come from optimizer.adjust.
MOVE_REFUSED: dict[MoveReason, str] = {
    MoveReason.NOT_SEATED: N_("this worker has no seat in the plan"),
    MoveReason.NO_TRIP: N_("the plan has no trip {trip}"),
    MoveReason.SAME_TRIP: N_("the worker already sits on trip {trip}"),
    MoveReason.LOCKED: N_("trip {trip} is locked; unlock it or re-plan"),
    MoveReason.OUTSIDE_WINDOW: N_(
        "the trip leaves on {date}, outside the worker's dates {earliest} to {latest}"
    ),
    MoveReason.NO_BOARDING_STOP: N_(
        "trip {trip} does not stop where the worker boards; adding a stop needs a re-plan"
    ),
    MoveReason.NO_ALIGHTING_STOP: N_(
        "trip {trip} does not stop where the worker alights; adding a stop needs a re-plan"
    ),
    MoveReason.NO_SEATS: N_("the move needs {needed} seat(s); the trip has {free} free"),
    MoveReason.RIDE_TOO_LONG: N_(
        "the ride would take {ride} minutes; the detour limit allows {allowed}"
    ),
    MoveReason.CHARTER_SIGN: N_(
        "charter sign: trip {trip} runs from {start} to {end}, and neither end lies where its "
        "operator {operator} is registered; it takes nobody more until a re-plan or a coach "
        "of an operator registered at one end"
    ),
    MoveReason.SOURCE_UNTIMED: N_(
        "without its stop at {stop}, where nobody would board or alight, trip {trip} has no legal "
        "timetable or a ride beyond the detour limit; re-plan"
    ),
}
recognise(*MOVE_REFUSED.values())
NOT_DRAFT = N_("plan {plan} is {state}; only a finished, unpublished plan can be adjusted")
NOT_PUBLISHED = N_(
    "only trips of the season's published plan can be locked or unlocked (they are what a "
    "re-plan keeps); this plan is not it"
)
recognise(NOT_DRAFT, NOT_PUBLISHED)


def refusal_text(refused: MoveRefused, locale: str = "en") -> str:
    """A refused move in words."""
    return translate(locale, MOVE_REFUSED[refused.reason], **dict(refused.values))


class MoveCreate(Inbound):
    worker: Annotated[str, text(32, 1, description="the worker's service key (WorkerPublic.id)")]
    to_trip: Annotated[str, text(64, 1, description="the trip to move the worker to")]


class MovePublic(BaseModel):
    plan_id: int
    workers: list[str] = Field(description="the workers moved (the party travels together)")
    from_trip: str
    to_trip: str
    dropped_trip: bool = Field(description="the source trip was left empty and dropped")
    removed_stops: list[str] = Field(
        default_factory=list,
        description=(
            "stops of the source trip where nobody boards or alights any more: the trip lost "
            "them and was re-timed"
        ),
    )


@cache
def _road() -> DistanceProvider:
    return default_provider("road")


def _direct_minutes(board: domain.Stop, alight: domain.Stop) -> float:
    """Direct driving minutes between two stops on the shipped road network."""
    ends = [Location(s.lon, s.lat, s.adcode) for s in (board, alight)]
    try:
        matrix = _road().matrix(ends)
    except ChunyunError:  # off the road network: the planner made this trip, keep its ride
        return float("inf")
    return float(matrix.duration_s[0][1]) / 60


def _draft(session: SessionDep, plan_id: int) -> models.Plan:
    plan = crud.get_plan(session, plan_id=plan_id)
    if plan.status != "succeeded" or plan.published_at is not None:
        state = "published" if plan.published_at is not None else plan.status
        raise Conflict(translate("en", NOT_DRAFT, plan=plan.id, state=state))
    return plan


def apply_move(
    session: SessionDep, *, plan: models.Plan, worker_key: str, to_trip: str, user: models.User
) -> Moved:
    """Move `worker_key` on the draft `plan` to `to_trip` and save it, or raise Conflict."""
    rows = session.scalars(select(models.Trip).where(models.Trip.plan_id == plan.id)).all()
    trips = [dataclasses.replace(convert.trip_from_data(r.data), locked=r.locked) for r in rows]
    worker_row = crud.workers_by_key(session, keys=[worker_key]).get(worker_key)
    if worker_row is None or worker_row.season_id != plan.season_id:
        raise NotFound(f"no worker {worker_key} in plan {plan.id}")
    stored = outputs.plan_for_maps(
        season=plan.season.name, direction=plan.season.direction, trips=trips, kpis=plan.kpis
    )
    policy = domain.Policy.from_mapping(plan.season.policy)
    result = move_passenger(
        stored,
        worker=convert.worker_to_domain(worker_row),
        to_trip_id=to_trip,
        policy=policy,
        direct_minutes=_direct_minutes,
        distances=_road(),
        fleet=[
            convert.vehicle_type_to_domain(row)
            for row in crud.list_vehicle_types(session, season=plan.season)
        ],
        sign=crud.season_sign_rule(session, season=plan.season, trips=trips),
    )
    if isinstance(result, MoveRefused):
        raise Conflict(refusal_text(result))
    changed = {result.from_trip, result.to_trip}
    by_id = {t.trip_id: t for t in result.plan.trips}
    for row in rows:
        if row.trip_id not in changed:
            continue
        if row.trip_id in by_id:
            row.data = convert.trip_to_data(dataclasses.replace(by_id[row.trip_id], locked=False))
        else:
            session.delete(row)
    target = by_id[result.to_trip]
    seats = {p.worker_id: p for p in target.passengers}
    session.execute(
        delete(models.Assignment).where(
            models.Assignment.plan_id == plan.id,
            models.Assignment.worker_key.in_(result.worker_ids),
        )
    )
    for key in result.worker_ids:
        passenger = seats[key]
        session.add(
            models.Assignment(
                plan_id=plan.id,
                trip_id=target.trip_id,
                worker_key=key,
                company_id=passenger.company_id,
                seat=passenger.seat,
                seat_count=passenger.seat_count,
            )
        )
    plan.kpis = {**(plan.kpis or {}), **convert.kpis_to_data(result.plan)}
    session.add(
        models.AuditEntry(
            user_id=user.id,
            username=user.username,
            action=(
                f"moved worker(s) {', '.join(result.worker_ids)} of plan {plan.id} from trip "
                f"{result.from_trip} to {result.to_trip}"
            )[:256],
            season_id=plan.season_id,
            worker_keys=list(result.worker_ids),
            records=len(result.worker_ids),
        )
    )
    session.flush()
    return result


@router.post("/{plan_id}/moves")
def move_worker(
    session: SessionDep, user: DispatcherUser, plan_id: int, move: MoveCreate
) -> MovePublic:
    """Move a seated worker (and their party on the same trip) to another trip of a draft plan,
    on the same or another date (dispatchers only). The target must already stop where the
    worker boards and alights, have the seats, leave within the worker's dates and keep the
    ride within the detour limit; otherwise 409 says which. A stop of the source trip where
    nobody boards or alights any more is removed and the trip re-timed (`removed_stops`).
    Written to the audit log."""
    plan = _draft(session, plan_id)
    moved = apply_move(session, plan=plan, worker_key=move.worker, to_trip=move.to_trip, user=user)
    return MovePublic(
        plan_id=plan.id,
        workers=list(moved.worker_ids),
        from_trip=moved.from_trip,
        to_trip=moved.to_trip,
        dropped_trip=moved.dropped,
        removed_stops=list(moved.removed_stops),
    )


class LockChange(BaseModel):
    plan_id: int
    trip_id: str
    locked: bool


@router.post("/{plan_id}/trips/{trip_id}/{action}")
def lock_trip(
    session: SessionDep,
    user: DispatcherUser,
    plan_id: int,
    trip_id: str,
    action: Literal["lock", "unlock"],
) -> LockChange:
    """Lock or unlock a trip of the season's published plan (dispatchers only). The next plan
    keeps the locked trips as they are and plans everyone else anew; an unlocked trip's workers
    are planned again. Written to the audit log."""
    plan = crud.get_plan(session, plan_id=plan_id)
    if crud.latest_published_plan(session, season=plan.season) is not plan:
        raise Conflict(NOT_PUBLISHED)
    trip, _locked = crud.get_plan_trip(session, plan_id=plan.id, trip_id=trip_id)
    locked = action == "lock"
    session.execute(
        update(models.Trip)
        .where(models.Trip.plan_id == plan.id, models.Trip.trip_id == trip_id)
        .values(locked=locked)
    )
    keys = [p.worker_id for p in trip.passengers]
    session.add(
        models.AuditEntry(
            user_id=user.id,
            username=user.username,
            action=(("locked" if locked else "unlocked") + f" trip {trip_id} of plan {plan.id}")[
                :256
            ],
            season_id=plan.season_id,
            worker_keys=keys,
            records=len(keys),
        )
    )
    session.flush()
    return LockChange(plan_id=plan.id, trip_id=trip_id, locked=locked)
