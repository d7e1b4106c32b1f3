"""Persistence: keyword-only functions that take the session. Routes never query directly.

Functions flush but do not commit, so a route or job decides the transaction: a registration or
a finished plan is written whole or not at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import jwt
from sqlalchemy import func, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api import convert, models, schemas
from api.core.security import (
    check_password_policy,
    create_access_token,
    decode_access_token,
    hash_password,
    spend_verification_time,
    verify_password,
)
from api.core.throttle import LoginThrottle
from api.errors import (
    Conflict,
    Forbidden,
    NotFound,
    RegistrationRejected,
    RowProblem,
    Unauthorised,
    message,
)
from api.models import ACTIVE_JOB_STATUSES, utcnow
from optimizer import model as domain
from optimizer.charter import SignRule, sign_rule
from optimizer.errors import InvalidInput
from optimizer.intake import REGISTERED_UNKNOWN, is_place

# What a planning job's row says at each turn of the queue (api/i18n.py translates them).
JOB_CANCELLED = "cancelled by a dispatcher"
JOB_CANCELLING = "cancelling: the worker stops at its next progress report"
JOB_RELEASED = "queued again: the worker planning it was shut down"
JOB_REQUEUED = "queued again: the worker planning it stopped (attempt {attempt} of {attempts})"
JOB_GAVE_UP = (
    "planning failed: the worker planning it stopped {attempts} time(s), so it is not tried "
    "again; start the plan again (with a shorter time limit if it keeps happening)"
)

# --- users -----------------------------------------------------------------------------------

# Keys of every table are 32-bit integers: a larger number names no row (404, not a DB error).
MAX_ROW_ID = 2**31 - 1


def _valid_row_id(row_id: int) -> bool:
    return 1 <= row_id <= MAX_ROW_ID


def company_exists(session: Session, *, company_id: str) -> bool:
    """Whether any season lists a company with this id."""
    return (
        session.scalars(
            select(models.Company.id).where(models.Company.company_id == company_id).limit(1)
        ).first()
        is not None
    )


def create_user(session: Session, *, user_in: schemas.UserCreate) -> models.User:
    """A new account. Employers must name a company some season lists; the password must pass
    the policy (length, not the user name, not a common password)."""
    if user_in.role == "employer" and not user_in.company_id:
        raise Forbidden(message("employer_needs_company"))
    if user_in.role == "dispatcher" and user_in.company_id:
        raise Conflict(message("dispatcher_no_company"))
    check_password_policy(user_in.password, username=user_in.username)
    if user_in.company_id and not company_exists(session, company_id=user_in.company_id):
        raise InvalidInput(message("unknown_company", company_id=user_in.company_id))
    if get_user_by_username(session, username=user_in.username) is not None:
        raise Conflict(message("user_exists", username=user_in.username))
    user = models.User(
        username=user_in.username,
        password_hash=hash_password(user_in.password),
        role=user_in.role,
        company_id=user_in.company_id,
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, *, user_id: int) -> models.User | None:
    if not _valid_row_id(user_id):
        return None
    return session.get(models.User, user_id)


def get_user_by_username(session: Session, *, username: str) -> models.User | None:
    return session.scalars(select(models.User).where(models.User.username == username)).first()


def find_user(session: Session, *, user: int | str) -> models.User:
    """The account with this id (an int) or user name (a str); NotFound otherwise."""
    row = (
        get_user(session, user_id=user)
        if isinstance(user, int)
        else get_user_by_username(session, username=user)
    )
    if row is None:
        raise NotFound(message("no_user", user=user))
    return row


def list_users(session: Session) -> Sequence[models.User]:
    return session.scalars(select(models.User).order_by(models.User.id)).all()


def authenticate(session: Session, *, username: str, password: str) -> models.User | None:
    """The active user with these credentials, or None. Takes as long for an unknown user name
    as for a wrong password (one argon2 verification either way)."""
    user = get_user_by_username(session, username=username)
    if user is None:
        spend_verification_time(password)
        return None
    if not verify_password(password, user.password_hash) or not user.is_active:
        return None
    return user


def sign_in(
    session: Session, *, throttle: LoginThrottle, username: str, password: str, address: str
) -> models.User:
    """The account these credentials open, for the token and the web sign-in alike.

    Raises TooManyAttempts (429) while the user name or the address has used up its failures,
    before the password is even checked; Unauthorised (401) for wrong credentials, counted
    against both; Unauthorised with "disabled" only to someone who knows the password.
    """
    # The throttle keeps its counts on connections of its own: the session must not hold a
    # transaction meanwhile (a SQLite writer would wait for itself).
    session.commit()
    throttle.check(username=username, address=address)
    user = get_user_by_username(session, username=username)
    session.commit()  # argon2 takes ~0.1 s of CPU: not inside a transaction
    if user is None:
        spend_verification_time(password)
    if user is None or not verify_password(password, user.password_hash):
        session.commit()
        throttle.record_failure(username=username, address=address)
        raise Unauthorised(message("wrong_credentials"))
    if not user.is_active:
        raise Unauthorised(message("account_disabled"))
    return user


def user_for_token(session: Session, *, token: str, secret_key: str) -> models.User:
    """The active user a bearer token names, if the token is valid, unexpired and not revoked;
    Unauthorised otherwise."""
    try:
        subject, version = decode_access_token(token, secret_key=secret_key)
        user_id = int(subject)
    except (jwt.InvalidTokenError, ValueError):
        raise Unauthorised(message("not_signed_in")) from None
    user = get_user(session, user_id=user_id)
    if user is None or not user.is_active or user.token_version != version:
        raise Unauthorised(message("not_signed_in"))
    return user


def issue_token(*, user: models.User, secret_key: str, minutes: int) -> str:
    """A bearer token for `user`, valid until it expires or the user's tokens are revoked."""
    return create_access_token(
        subject=str(user.id), secret_key=secret_key, minutes=minutes, version=user.token_version
    )


def revoke_tokens(session: Session, *, user: models.User) -> models.User:
    """End every sign-in of `user`: tokens issued before now stop working at once."""
    session.execute(
        update(models.User)
        .where(models.User.id == user.id)
        .values(token_version=models.User.token_version + 1)
    )
    row = session.get(models.User, user.id, populate_existing=True)
    assert row is not None
    return row


def set_active(
    session: Session, *, user: models.User, active: bool, by: models.User | None = None
) -> models.User:
    """Disable (which also revokes its tokens) or enable an account. Nobody disables
    themselves, so a dispatcher cannot lock the service out by mistake."""
    if not active and by is not None and by.id == user.id:
        raise Conflict(message("not_yourself"))
    user.is_active = active
    session.flush()
    if not active:
        revoke_tokens(session, user=user)
    return user


# --- seasons ---------------------------------------------------------------------------------


def create_season(session: Session, *, season_in: schemas.SeasonCreate) -> models.Season:
    """A new open season; its dates and [policy]/[solver] tables are checked first."""
    convert.check_season_dates(season_in)
    convert.check_season_tables(season_in.policy, season_in.solver)
    if get_season(session, name=season_in.name) is not None:
        raise Conflict(f"season {season_in.name!r} already exists")
    values = season_in.model_dump()
    values["subsidy"] = values["subsidy"] or {}
    origins = convert.season_origins(season_in.origin, season_in.region)
    values["origin"] = origins[0]
    values["region"] = list(origins) if season_in.region is not None else []
    season = models.Season(**values)
    session.add(season)
    session.flush()
    return season


def get_season(session: Session, *, name: str) -> models.Season | None:
    return session.scalars(select(models.Season).where(models.Season.name == name)).first()


def get_season_by_id(session: Session, *, season_id: int) -> models.Season:
    season = session.get(models.Season, season_id) if _valid_row_id(season_id) else None
    if season is None:
        raise NotFound(f"no season {season_id}")
    return season


def list_seasons(session: Session) -> Sequence[models.Season]:
    return session.scalars(select(models.Season).order_by(models.Season.id)).all()


def resolve_season(session: Session, *, name: str | None) -> models.Season:
    """The season called `name`, or, without a name, the only open season."""
    if name:
        season = get_season(session, name=name)
        if season is None:
            raise NotFound(f"no season called {name!r}")
        return season
    open_seasons = session.scalars(
        select(models.Season).where(models.Season.is_open.is_(True)).order_by(models.Season.id)
    ).all()
    if len(open_seasons) == 1:
        return open_seasons[0]
    if not open_seasons:
        raise NotFound("no season is open; a dispatcher opens one with POST /api/seasons")
    names = ", ".join(s.name for s in open_seasons)
    raise Conflict(f"several seasons are open ({names}); name one with ?season=NAME")


def update_season(
    session: Session, *, season: models.Season, season_in: schemas.SeasonUpdate
) -> models.Season:
    policy = season.policy if season_in.policy is None else season_in.policy
    solver = season.solver if season_in.solver is None else season_in.solver
    convert.check_season_tables(policy, solver)
    if season_in.region is not None:
        _change_region(session, season, season_in.region)
    season.policy, season.solver = dict(policy), dict(solver)
    if season_in.subsidy is not None:
        season.subsidy = season_in.subsidy.model_dump()
    if season_in.is_open is not None:
        season.is_open = season_in.is_open
    session.flush()
    return season


def _change_region(session: Session, season: models.Season, region: Sequence[str]) -> None:
    """Give `season` the region `region` (its main origin stays first); refused, naming each
    company and hub row, when one of them lies in a county outside it."""
    origins = convert.season_origins(season.origin, region)
    problems: list[RowProblem] = []
    rows: list[models.Company | models.Hub] = [
        *list_companies(session, season=season),
        *list_hubs(session, season=season),
    ]
    for number, row in enumerate(rows, start=1):
        county = row.county or season.origin
        if county not in origins:
            problems.append(RowProblem(number, "county", county, convert.COUNTY_OUTSIDE_REGION))
    if problems:
        raise RegistrationRejected(problems)
    season.region = list(origins)
    for row in rows:
        if not row.county:
            row.county = season.origin


def _counties(
    season: models.Season, items: Sequence[schemas.CompanyCreate | schemas.HubCreate]
) -> list[str]:
    """The origin county (adcode, "" in a season without a region) of each company or hub
    row; refused, nothing written, naming every row whose county is not one of the season's."""
    counties: list[str] = []
    problems: list[RowProblem] = []
    for number, item in enumerate(items, start=1):
        county = convert.row_county(item.county, item.lon, item.lat, season)
        if county is None:
            problems.append(
                RowProblem(number, "county", item.county, convert.COUNTY_OUTSIDE_REGION)
            )
        counties.append(county or "")
    if problems:
        raise RegistrationRejected(problems)
    return counties


# --- companies and fleet ----------------------------------------------------------------------


def upsert_companies(
    session: Session, *, season: models.Season, companies_in: Iterable[schemas.CompanyCreate]
) -> list[models.Company]:
    """Create or update companies of `season`, keyed by company_id. With a region, each gate's
    county is checked first (all or nothing) and stored as its adcode."""
    items = list(companies_in)
    counties = _counties(season, items)
    result = []
    for company_in, county in zip(items, counties, strict=True):
        values = {**company_in.model_dump(), "county": county}
        row = get_company(session, season=season, company_id=company_in.company_id)
        if row is None:
            row = models.Company(season_id=season.id, **values)
            session.add(row)
        else:
            for key, value in values.items():
                setattr(row, key, value)
        result.append(row)
    session.flush()
    return result


def get_company(
    session: Session, *, season: models.Season, company_id: str
) -> models.Company | None:
    return session.scalars(
        select(models.Company).where(
            models.Company.season_id == season.id, models.Company.company_id == company_id
        )
    ).first()


def list_companies(
    session: Session, *, season: models.Season, company_id: str | None = None
) -> Sequence[models.Company]:
    query = select(models.Company).where(models.Company.season_id == season.id)
    if company_id is not None:
        query = query.where(models.Company.company_id == company_id)
    return session.scalars(query.order_by(models.Company.company_id)).all()


def delete_company(session: Session, *, season: models.Season, company_id: str) -> None:
    """Remove a company that has no registered workers left."""
    row = get_company(session, season=season, company_id=company_id)
    if row is None:
        raise NotFound(f"no company {company_id!r} in season {season.name!r}")
    if count_workers(session, season=season, company_id=company_id):
        raise Conflict(f"company {company_id!r} still has registered workers; remove them first")
    session.delete(row)
    session.flush()


def upsert_hubs(
    session: Session, *, season: models.Season, hubs_in: Iterable[schemas.HubCreate]
) -> list[models.Hub]:
    """Create or update gathering points of `season`, keyed by hub_id (counties checked as for
    companies, all or nothing)."""
    items = list(hubs_in)
    counties = _counties(season, items)
    result = []
    for hub_in, county in zip(items, counties, strict=True):
        values = {**hub_in.model_dump(), "county": county}
        row = session.scalars(
            select(models.Hub).where(
                models.Hub.season_id == season.id, models.Hub.hub_id == hub_in.hub_id
            )
        ).first()
        if row is None:
            row = models.Hub(season_id=season.id, **values)
            session.add(row)
        else:
            for key, value in values.items():
                setattr(row, key, value)
        result.append(row)
    session.flush()
    return result


def origin_scenario(session: Session, *, season: models.Season) -> domain.Scenario:
    """The season with its companies and hubs (no workers, no fleet): enough to tell each
    trip's origin county (optimizer.origins.trip_origin)."""
    return convert.season_to_scenario(
        season,
        companies=list_companies(session, season=season),
        fleet=(),
        workers=(),
        hubs=list_hubs(session, season=season),
    )


def list_hubs(session: Session, *, season: models.Season) -> Sequence[models.Hub]:
    return session.scalars(
        select(models.Hub).where(models.Hub.season_id == season.id).order_by(models.Hub.hub_id)
    ).all()


def delete_hub(session: Session, *, season: models.Season, hub_id: str) -> None:
    row = session.scalars(
        select(models.Hub).where(models.Hub.season_id == season.id, models.Hub.hub_id == hub_id)
    ).first()
    if row is None:
        raise NotFound(f"no hub {hub_id!r} in season {season.name!r}")
    session.delete(row)
    session.flush()


def upsert_vehicle_types(
    session: Session, *, season: models.Season, fleet_in: Iterable[schemas.VehicleTypeCreate]
) -> list[models.VehicleType]:
    """Create or update coach types of `season`, keyed by vehicle_type; an operator's
    `registered` place must name a county, prefecture or province (all or nothing)."""
    items = list(fleet_in)
    for vehicle_in in items:
        domain.VehicleType(**vehicle_in.model_dump())  # raises InvalidInput on bad values
    problems = [
        RowProblem(number, "registered", item.registered, REGISTERED_UNKNOWN)
        for number, item in enumerate(items, start=1)
        if item.registered and not is_place(item.registered)
    ]
    if problems:
        raise RegistrationRejected(problems)
    result = []
    for vehicle_in in items:
        row = session.scalars(
            select(models.VehicleType).where(
                models.VehicleType.season_id == season.id,
                models.VehicleType.vehicle_type == vehicle_in.vehicle_type,
            )
        ).first()
        if row is None:
            row = models.VehicleType(season_id=season.id, **vehicle_in.model_dump())
            session.add(row)
        else:
            for key, value in vehicle_in.model_dump().items():
                setattr(row, key, value)
        result.append(row)
    session.flush()
    return result


def list_vehicle_types(session: Session, *, season: models.Season) -> Sequence[models.VehicleType]:
    return session.scalars(
        select(models.VehicleType)
        .where(models.VehicleType.season_id == season.id)
        .order_by(models.VehicleType.vehicle_type)
    ).all()


def delete_vehicle_type(session: Session, *, season: models.Season, vehicle_type: str) -> None:
    row = session.scalars(
        select(models.VehicleType).where(
            models.VehicleType.season_id == season.id,
            models.VehicleType.vehicle_type == vehicle_type,
        )
    ).first()
    if row is None:
        raise NotFound(f"no coach type {vehicle_type!r} in season {season.name!r}")
    session.delete(row)
    session.flush()


# --- workers -------------------------------------------------------------------------------------


def count_workers(session: Session, *, season: models.Season, company_id: str | None = None) -> int:
    query = select(func.count(models.Worker.id)).where(models.Worker.season_id == season.id)
    if company_id is not None:
        query = query.where(models.Worker.company_id == company_id)
    return int(session.scalar(query) or 0)


def list_workers(
    session: Session, *, season: models.Season, company_id: str | None = None
) -> Sequence[models.Worker]:
    query = select(models.Worker).where(models.Worker.season_id == season.id)
    if company_id is not None:
        query = query.where(models.Worker.company_id == company_id)
    return session.scalars(query.order_by(models.Worker.id)).all()


def get_worker(session: Session, *, worker_id: int, company_id: str | None = None) -> models.Worker:
    """The registration with key `worker_id`; with `company_id`, only if it is that company's."""
    row = session.get(models.Worker, worker_id) if _valid_row_id(worker_id) else None
    if row is None or (company_id is not None and row.company_id != company_id):
        raise NotFound(f"no worker {worker_id}")
    return row


def workers_by_id_number(
    session: Session, *, season: models.Season, id_numbers: Iterable[str]
) -> dict[str, models.Worker]:
    wanted = sorted(set(id_numbers))
    found: dict[str, models.Worker] = {}
    for start in range(0, len(wanted), 500):  # stay under bound-parameter limits
        chunk = wanted[start : start + 500]
        for row in session.scalars(
            select(models.Worker).where(
                models.Worker.season_id == season.id, models.Worker.id_number.in_(chunk)
            )
        ):
            found[row.id_number] = row
    return found


def workers_by_key(session: Session, *, keys: Iterable[str]) -> dict[str, models.Worker]:
    """Registrations by the planner's worker_id (the row key as text)."""
    ids = sorted({int(k) for k in keys if k.isdigit() and _valid_row_id(int(k))})
    found: dict[str, models.Worker] = {}
    for start in range(0, len(ids), 500):
        for row in session.scalars(
            select(models.Worker).where(models.Worker.id.in_(ids[start : start + 500]))
        ):
            found[str(row.id)] = row
    return found


def upsert_workers(
    session: Session,
    *,
    season: models.Season,
    workers: Sequence[domain.Worker],
    only_company: str | None = None,
) -> tuple[list[models.Worker], int]:
    """Save validated registrations; a known ID number in the season updates its row.

    The database settles concurrent registrations of the same person: one INSERT ... ON
    CONFLICT DO UPDATE per chunk, rows in ID-number order so two transactions lock them in the
    same order (no deadlock). With `only_company` (an employer), a person registered by another
    company is never taken over: Conflict, and nothing of the registration is kept.

    Returns the rows in input order and how many were created. `workers` carry the employer's
    own reference in `worker_id`.
    """
    if not workers:
        return [], 0
    from api.operations import note_edits, seated_snapshot

    # Seated registrations edited after publishing go on the plan's change list.
    before = seated_snapshot(session, season=season, id_numbers=(w.id_number for w in workers))
    sqlite = session.get_bind().dialect.name == "sqlite"
    insert = sqlite_insert if sqlite else postgresql_insert
    table = models.Worker.__table__
    now = utcnow()
    # SQLite writers hold the one write lock from BEGIN, so what exists now stays true until
    # commit; PostgreSQL reports per row whether it inserted (xmax = 0) instead.
    known = (
        set(workers_by_id_number(session, season=season, id_numbers=(w.id_number for w in workers)))
        if sqlite
        else set()
    )
    saved: dict[str, tuple[int, bool]] = {}
    # One row per person (the desk refuses duplicates; a later row would win here).
    ordered = sorted({w.id_number: w for w in workers}.values(), key=lambda w: w.id_number)
    for start in range(0, len(ordered), 500):  # stay under bound-parameter limits
        chunk = ordered[start : start + 500]
        statement = insert(models.Worker).values(
            [
                {
                    "season_id": season.id,
                    "company_id": w.company_id,
                    "worker_code": w.worker_id,
                    "name": w.name,
                    "id_number": w.id_number,
                    "phone": w.phone,
                    "home": w.home,
                    "home_adcode": w.home_adcode,
                    "earliest": w.earliest,
                    "latest": w.latest,
                    "party": w.party,
                    "seats": w.seats,
                    "created_at": now,
                    "updated_at": now,
                }
                for w in chunk
            ]
        )
        excluded = statement.excluded
        changed = [c for c in _WORKER_VALUES if c != "company_id" or only_company is None]
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.season_id, table.c.id_number],
            set_={**{c: excluded[c] for c in changed}, "updated_at": now},
            where=(table.c.company_id == excluded.company_id) if only_company else None,
        )
        inserted_flag: Any = literal_column("0") if sqlite else literal_column("(xmax = 0)")
        result = session.execute(statement.returning(table.c.id, table.c.id_number, inserted_flag))
        for row_id, id_number, inserted in result:
            is_new = id_number not in known if sqlite else bool(inserted)
            saved[id_number] = (int(row_id), is_new)
    if len(saved) != len({w.id_number for w in workers}):
        raise Conflict(message("claimed_elsewhere"))
    ids = [row_id for row_id, _ in saved.values()]
    loaded: dict[int, models.Worker] = {}
    for start in range(0, len(ids), 500):
        for row in session.scalars(
            select(models.Worker)
            .where(models.Worker.id.in_(ids[start : start + 500]))
            .execution_options(populate_existing=True)
        ):
            loaded[row.id] = row
    rows = [loaded[saved[w.id_number][0]] for w in workers]
    created = sum(1 for _, is_new in saved.values() if is_new)
    if before:
        note_edits(session, before=before, rows=rows)
    return rows, created


# Columns a re-registration of the same person overwrites.
_WORKER_VALUES = (
    "company_id",
    "worker_code",
    "name",
    "phone",
    "home",
    "home_adcode",
    "earliest",
    "latest",
    "party",
    "seats",
)


def delete_worker(session: Session, *, worker: models.Worker) -> None:
    """Withdraw a registration; a seat it holds in the published plan is freed and the
    withdrawal put on that plan's change list (api/operations.py)."""
    from api.operations import withdraw_from_published

    withdraw_from_published(session, worker=worker)
    session.delete(worker)
    session.flush()


# --- plans ---------------------------------------------------------------------------------------


def create_plan(
    session: Session,
    *,
    season: models.Season,
    user: models.User,
    time_limit_s: float,
) -> models.Plan:
    """A queued planning job for `season`; refuses while another job of the season is active."""
    active = session.scalars(
        select(models.Plan).where(
            models.Plan.season_id == season.id, models.Plan.status.in_(ACTIVE_JOB_STATUSES)
        )
    ).first()
    if active is not None:
        raise Conflict(
            f"plan {active.id} of season {season.name!r} is still {active.status}; "
            "wait for it to finish"
        )
    base = latest_published_plan(session, season=season)
    plan = models.Plan(
        season_id=season.id,
        status="queued",
        time_limit_s=time_limit_s,
        base_plan_id=base.id if base else None,
        created_by=user.id,
    )
    session.add(plan)
    try:
        # The partial unique index settles a race between two requests.
        with session.begin_nested():
            session.flush()
    except IntegrityError as error:
        raise Conflict(f"another plan of season {season.name!r} is already running") from error
    return plan


def get_plan(session: Session, *, plan_id: int) -> models.Plan:
    plan = session.get(models.Plan, plan_id) if _valid_row_id(plan_id) else None
    if plan is None:
        raise NotFound(f"no plan {plan_id}")
    return plan


def list_plans(
    session: Session, *, season: models.Season | None = None, published_only: bool = False
) -> Sequence[models.Plan]:
    query = select(models.Plan)
    if season is not None:
        query = query.where(models.Plan.season_id == season.id)
    if published_only:
        query = query.where(models.Plan.published_at.is_not(None))
    return session.scalars(query.order_by(models.Plan.id)).all()


def latest_published_plan(session: Session, *, season: models.Season) -> models.Plan | None:
    return session.scalars(
        select(models.Plan)
        .where(models.Plan.season_id == season.id, models.Plan.published_at.is_not(None))
        .order_by(models.Plan.published_at.desc(), models.Plan.id.desc())
    ).first()


def plan_trips(session: Session, *, plan_id: int) -> list[tuple[domain.Trip, bool]]:
    """The trips of a plan as domain objects, each with whether it is locked."""
    rows = session.scalars(
        select(models.Trip).where(models.Trip.plan_id == plan_id).order_by(models.Trip.id)
    ).all()
    return [(convert.trip_from_data(r.data), r.locked) for r in rows]


def get_plan_trip(session: Session, *, plan_id: int, trip_id: str) -> tuple[domain.Trip, bool]:
    row = session.scalars(
        select(models.Trip).where(models.Trip.plan_id == plan_id, models.Trip.trip_id == trip_id)
    ).first()
    if row is None:
        raise NotFound(f"plan {plan_id} has no trip {trip_id!r}")
    return convert.trip_from_data(row.data), row.locked


def trip_ids_of_company(session: Session, *, plan_id: int, company_id: str) -> set[str]:
    return set(
        session.scalars(
            select(models.Assignment.trip_id).where(
                models.Assignment.plan_id == plan_id, models.Assignment.company_id == company_id
            )
        )
    )


def assignments_of_workers(
    session: Session, *, plan_id: int, worker_keys: Iterable[str]
) -> dict[str, models.Assignment]:
    keys = sorted(set(worker_keys))
    found: dict[str, models.Assignment] = {}
    for start in range(0, len(keys), 500):
        for row in session.scalars(
            select(models.Assignment).where(
                models.Assignment.plan_id == plan_id,
                models.Assignment.worker_key.in_(keys[start : start + 500]),
            )
        ):
            found[row.worker_key] = row
    return found


def job_inputs(session: Session, *, plan: models.Plan) -> tuple[domain.Scenario, list[domain.Trip]]:
    """What a planning job solves: the season now, and the locked trips it must keep."""
    season = plan.season
    scenario = convert.season_to_scenario(
        season,
        companies=list_companies(session, season=season),
        fleet=list_vehicle_types(session, season=season),
        workers=list_workers(session, season=season),
        hubs=list_hubs(session, season=season),
        time_limit_s=plan.time_limit_s,
    )
    locked: list[domain.Trip] = []
    if plan.base_plan_id is not None:
        locked = [
            trip for trip, is_locked in plan_trips(session, plan_id=plan.base_plan_id) if is_locked
        ]
    return scenario, locked


def season_sign_rule(
    session: Session, *, season: models.Season, trips: Iterable[domain.Trip]
) -> SignRule:
    """The charter-sign rule of `season` as it is now (its fleet's registration places, its
    gates' and hubs' counties) for `trips`, to check a change made by hand."""
    scenario = convert.season_to_scenario(
        season,
        companies=list_companies(session, season=season),
        fleet=list_vehicle_types(session, season=season),
        workers=(),
        hubs=list_hubs(session, season=season),
    )
    return sign_rule(scenario, trips)


def claim_job(session: Session, *, worker: str, lease_s: float) -> int | None:
    """Claim the oldest queued job for `worker`: it becomes running, leased for `lease_s` seconds.

    PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED, so workers on many machines never wait on each
    other or claim the same row. SQLite: every write transaction starts with BEGIN IMMEDIATE
    (api/core/db.py), so claims are serialised by the database's write lock; the update's
    `status = 'queued'` condition makes a lost race a no-op either way.
    """
    plan_id = session.scalars(
        select(models.Plan.id)
        .where(models.Plan.status == "queued")
        .order_by(models.Plan.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    if plan_id is None:
        return None
    now = utcnow()
    result = session.execute(
        update(models.Plan)
        .where(models.Plan.id == plan_id, models.Plan.status == "queued")
        .values(
            status="running",
            worker=worker[:200],
            started_at=now,
            heartbeat_at=now,
            lease_expires_at=now + dt.timedelta(seconds=lease_s),
            attempts=models.Plan.attempts + 1,
            progress=0.0,
            message="planning",
        )
    )
    return plan_id if result.rowcount else None  # type: ignore[attr-defined]


def renew_lease(
    session: Session, *, plan_id: int, worker: str, lease_s: float
) -> tuple[bool, bool]:
    """Extend `worker`'s lease on a running job. Returns (still held, cancel requested): a job
    whose lease ran out and was taken from the worker is no longer held."""
    now = utcnow()
    result = session.execute(
        update(models.Plan)
        .where(
            models.Plan.id == plan_id,
            models.Plan.worker == worker,
            models.Plan.status == "running",
        )
        .values(heartbeat_at=now, lease_expires_at=now + dt.timedelta(seconds=lease_s))
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False, False
    cancel = session.scalar(select(models.Plan.cancel_requested).where(models.Plan.id == plan_id))
    return True, bool(cancel)


def set_progress(
    session: Session, *, plan_id: int, progress: float, message: str, worker: str | None = None
) -> tuple[bool, bool]:
    """Record a running job's progress. Returns (still held, cancel requested) like
    `renew_lease`; without `worker`, any running job's progress is written."""
    query = update(models.Plan).where(models.Plan.id == plan_id, models.Plan.status == "running")
    if worker is not None:
        query = query.where(models.Plan.worker == worker)
    result = session.execute(
        query.values(progress=max(0.0, min(1.0, progress)), message=message[:500])
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False, False
    cancel = session.scalar(select(models.Plan.cancel_requested).where(models.Plan.id == plan_id))
    return True, bool(cancel)


def finish_plan(
    session: Session,
    *,
    plan_id: int,
    result: domain.Plan,
    locked_ids: set[str],
    changes: dict[str, object] | None,
    worker: str | None = None,
) -> bool:
    """Write a finished plan and mark the job succeeded, in the caller's one transaction.

    Returns False (and writes nothing the caller should keep) when the job is no longer this
    worker's running job: its lease ran out and it was re-queued or failed, or a dispatcher
    cancelled it while it was being solved.
    """
    query = update(models.Plan).where(
        models.Plan.id == plan_id,
        models.Plan.status == "running",
        models.Plan.cancel_requested.is_(False),
    )
    if worker is not None:
        query = query.where(models.Plan.worker == worker)
    claimed = session.execute(
        query.values(
            status="succeeded",
            progress=1.0,
            message="done",
            finished_at=utcnow(),
            lease_expires_at=None,
            kpis=convert.kpis_to_data(result),
            unserved=convert.unserved_to_data(result.unserved),
            problems=convert.problems_to_data(result.problems),
            notes=list(result.notes),
            changes=changes,
        )
    )
    if not claimed.rowcount:  # type: ignore[attr-defined]
        return False
    for trip in result.trips:
        is_locked = trip.trip_id in locked_ids
        session.add(
            models.Trip(
                plan_id=plan_id,
                trip_id=trip.trip_id,
                departure_date=trip.departure_date,
                locked=is_locked,
                data=convert.trip_to_data(trip),
            )
        )
        for passenger in trip.passengers:
            session.add(
                models.Assignment(
                    plan_id=plan_id,
                    trip_id=trip.trip_id,
                    worker_key=passenger.worker_id,
                    company_id=passenger.company_id,
                    seat=passenger.seat,
                    seat_count=passenger.seat_count,
                )
            )
    session.flush()
    return True


def fail_plan(session: Session, *, plan_id: int, message: str, worker: str | None = None) -> None:
    """Mark an active job failed with `message` (only `worker`'s, when given)."""
    query = update(models.Plan).where(
        models.Plan.id == plan_id, models.Plan.status.in_(ACTIVE_JOB_STATUSES)
    )
    if worker is not None:
        query = query.where(models.Plan.worker == worker)
    session.execute(
        query.values(
            status="failed", message=message[:2000], finished_at=utcnow(), lease_expires_at=None
        )
    )


def mark_cancelled(session: Session, *, plan_id: int, worker: str | None = None) -> None:
    """End a job whose cancellation was asked for (only `worker`'s, when given)."""
    query = update(models.Plan).where(
        models.Plan.id == plan_id, models.Plan.status.in_(ACTIVE_JOB_STATUSES)
    )
    if worker is not None:
        query = query.where(models.Plan.worker == worker)
    session.execute(
        query.values(
            status="cancelled",
            message=JOB_CANCELLED,
            finished_at=utcnow(),
            lease_expires_at=None,
        )
    )


def release_job(session: Session, *, plan_id: int, worker: str) -> None:
    """Hand a running job back to the queue (its worker is shutting down); the attempt it used
    is not counted."""
    session.execute(
        update(models.Plan)
        .where(
            models.Plan.id == plan_id,
            models.Plan.worker == worker,
            models.Plan.status == "running",
        )
        .values(
            status="queued",
            worker=None,
            lease_expires_at=None,
            progress=0.0,
            attempts=models.Plan.attempts - 1,
            message=JOB_RELEASED,
        )
    )


def cancel_job(session: Session, *, plan: models.Plan) -> models.Plan:
    """Cancel a queued job at once, or ask the worker running it to stop (it checks the row at
    its next progress report or heartbeat, then marks the job cancelled); a finished job: 409."""
    if plan.status == "queued":
        plan.status = "cancelled"
        plan.message = JOB_CANCELLED
        plan.finished_at = utcnow()
    elif plan.status == "running":
        plan.cancel_requested = True
        plan.message = JOB_CANCELLING
    else:
        raise Conflict(
            f"plan {plan.id} is {plan.status}; only a queued or running job can be cancelled"
        )
    session.flush()
    return plan


def recover_expired_jobs(session: Session, *, max_attempts: int) -> tuple[int, int]:
    """Running jobs whose lease ran out (their worker died or lost the database): re-queued while
    they have attempts left, else failed with the reason; a job asked to cancel is cancelled.
    Returns (re-queued, failed or cancelled)."""
    now = utcnow()
    expired = session.scalars(
        select(models.Plan)
        .where(models.Plan.status == "running", models.Plan.lease_expires_at < now)
        .order_by(models.Plan.id)
        .with_for_update(skip_locked=True)
    ).all()
    requeued = ended = 0
    for plan in expired:
        plan.worker = None
        plan.lease_expires_at = None
        if plan.cancel_requested:
            plan.status, plan.message, plan.finished_at = "cancelled", JOB_CANCELLED, now
            ended += 1
        elif plan.attempts < max_attempts:
            plan.status, plan.progress = "queued", 0.0
            plan.message = JOB_REQUEUED.format(attempt=plan.attempts, attempts=max_attempts)
            requeued += 1
        else:
            plan.status, plan.finished_at = "failed", now
            plan.message = JOB_GAVE_UP.format(attempts=plan.attempts)
            ended += 1
    session.flush()
    return requeued, ended


def publish_plan(session: Session, *, plan: models.Plan, user: models.User) -> models.Plan:
    """Publish a finished plan: every trip becomes locked for later re-plans."""
    if plan.status != "succeeded":
        raise Conflict(f"plan {plan.id} is {plan.status}; only a finished plan can be published")
    if plan.published_at is not None:
        return plan
    current = latest_published_plan(session, season=plan.season)
    if current is not None and plan.base_plan_id != current.id:
        raise Conflict(
            f"plan {plan.id} was made before plan {current.id} was published and may move its "
            "locked trips; start a new plan and publish that"
        )
    session.execute(update(models.Trip).where(models.Trip.plan_id == plan.id).values(locked=True))
    plan.published_at = utcnow()
    plan.published_by = user.id
    session.flush()
    return plan


# --- audit ---------------------------------------------------------------------------------------


def record_unmasked_read(
    session: Session,
    *,
    user: models.User,
    action: str,
    season_id: int | None,
    worker_keys: Iterable[str],
) -> None:
    """Log that `user` saw the unmasked ID numbers and phones of these workers."""
    keys = sorted(set(worker_keys), key=convert._key_order)
    if not keys:
        return
    session.add(
        models.AuditEntry(
            user_id=user.id,
            username=user.username,
            action=action[:256],
            season_id=season_id,
            worker_keys=keys,
            records=len(keys),
        )
    )
    session.flush()


def list_audit(
    session: Session,
    *,
    username: str | None = None,
    since: dt.datetime | None = None,
    limit: int = 500,
) -> Sequence[models.AuditEntry]:
    query = select(models.AuditEntry)
    if username:
        query = query.where(models.AuditEntry.username == username)
    if since is not None:
        if since.tzinfo is not None:  # stored times are naive UTC
            since = since.astimezone(dt.UTC).replace(tzinfo=None)
        query = query.where(models.AuditEntry.at >= since)
    return session.scalars(query.order_by(models.AuditEntry.id.desc()).limit(limit)).all()


def trip_departure_dates(session: Session, *, plan_id: int) -> dict[str, dt.date]:
    """Each trip's departure date in a plan, by trip_id."""
    rows = session.execute(
        select(models.Trip.trip_id, models.Trip.departure_date).where(
            models.Trip.plan_id == plan_id
        )
    )
    return {trip_id: day for trip_id, day in rows}
