"""Database tables (SQLAlchemy 2 typed ORM). Migrations in api/migrations mirror these classes.

A worker's identity inside a season is the ID number (unique per season), so re-registering the
same person updates the row. Inside the planner a worker is known by the text of the row's integer
key (`str(Worker.id)`), which is what trips and manifests carry.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ACTIVE_JOB_STATUSES = ("queued", "running")
# Every state a planning job can be in; the last three are final.
JOB_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")


def utcnow() -> dt.datetime:
    """Now, in UTC, without tzinfo: SQLite keeps no zone, so every timestamp is naive UTC."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))  # "dispatcher" or "employer"
    company_id: Mapped[str | None] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Tokens carry the version they were issued under; bumping it revokes every older token.
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class RateLimitCounter(Base):
    """A throttle counter (`limits` fixed window) kept in the database, so every server process
    on the same database shares it and a restart does not reset it."""

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer, default=0)
    # Unix time (s) at which the window ends and the count starts again from zero.
    expires_at: Mapped[float] = mapped_column(Float)


class Season(Base):
    __tablename__ = "seasons"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    direction: Mapped[str] = mapped_column(String(16))
    origin: Mapped[str] = mapped_column(String(16))
    # The season's origin counties (adcodes), main origin first; [] = `origin` alone.
    region: Mapped[list[Any]] = mapped_column(default=list, server_default="[]")
    festival_date: Mapped[dt.date] = mapped_column(Date)
    first_departure: Mapped[dt.date] = mapped_column(Date)
    last_departure: Mapped[dt.date] = mapped_column(Date)
    policy: Mapped[dict[str, Any]] = mapped_column(default=dict)
    solver: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The subsidy rule: {"share": 0.5, "cap_per_company": 200000.0} (optimizer SubsidyRule).
    subsidy: Mapped[dict[str, Any]] = mapped_column(default=dict)
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Company(Base):
    __tablename__ = "companies"
    __table_args__ = (UniqueConstraint("season_id", "company_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    season_id: Mapped[int] = mapped_column(ForeignKey("seasons.id", ondelete="CASCADE"))
    company_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(256))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    no_hub: Mapped[bool] = mapped_column(Boolean, default=False)
    town: Mapped[str] = mapped_column(String(128), default="")
    # The gate's street address, printed on notices so workers find it.
    address: Mapped[str] = mapped_column(String(256), default="")
    # The gate's origin county (adcode) in a season with a region; "" = the season's origin.
    county: Mapped[str] = mapped_column(String(6), default="", server_default="")


class DropPoint(Base):
    """The named drop-off point of a county in a season (coach station or a set point)."""

    __tablename__ = "drop_points"
    __table_args__ = (UniqueConstraint("season_id", "adcode"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    season_id: Mapped[int] = mapped_column(ForeignKey("seasons.id", ondelete="CASCADE"))
    adcode: Mapped[str] = mapped_column(String(6))
    name: Mapped[str] = mapped_column(String(128))
    address: Mapped[str] = mapped_column(String(256), default="")


class Hub(Base):
    """A gathering point of a season (town coach station, charter terminal)."""

    __tablename__ = "hubs"
    __table_args__ = (UniqueConstraint("season_id", "hub_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    season_id: Mapped[int] = mapped_column(ForeignKey("seasons.id", ondelete="CASCADE"))
    hub_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(256))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    # The hub's origin county (adcode) in a season with a region; "" = the season's origin.
    county: Mapped[str] = mapped_column(String(6), default="", server_default="")


class VehicleType(Base):
    __tablename__ = "vehicle_types"
    __table_args__ = (UniqueConstraint("season_id", "vehicle_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    season_id: Mapped[int] = mapped_column(ForeignKey("seasons.id", ondelete="CASCADE"))
    vehicle_type: Mapped[str] = mapped_column(String(64))
    seats: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer)
    cost_per_km: Mapped[float] = mapped_column(Float)
    fixed_cost: Mapped[float] = mapped_column(Float)
    operator: Mapped[str] = mapped_column(String(128), default="")
    depot_lon: Mapped[float | None] = mapped_column(Float)
    depot_lat: Mapped[float | None] = mapped_column(Float)
    available_from: Mapped[dt.date | None] = mapped_column(Date)
    available_to: Mapped[dt.date | None] = mapped_column(Date)
    # The operator's registration place (charter sign rule, optimizer/charter.py): a county or
    # prefecture name or code; "" = the county of the operator's depot.
    registered: Mapped[str] = mapped_column(String(128), default="", server_default="")


class Worker(Base):
    __tablename__ = "workers"
    __table_args__ = (
        UniqueConstraint("season_id", "id_number"),
        ForeignKeyConstraint(
            ["season_id", "company_id"], ["companies.season_id", "companies.company_id"]
        ),
        Index("ix_workers_season_company", "season_id", "company_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    season_id: Mapped[int] = mapped_column(ForeignKey("seasons.id", ondelete="CASCADE"))
    company_id: Mapped[str] = mapped_column(String(64))
    # The employer's own reference (工号); the service's key is `id`.
    worker_code: Mapped[str] = mapped_column(String(64), default="")
    name: Mapped[str] = mapped_column(String(128))
    id_number: Mapped[str] = mapped_column(String(18))
    phone: Mapped[str] = mapped_column(String(20))
    home: Mapped[str] = mapped_column(String(256))
    home_adcode: Mapped[str | None] = mapped_column(String(6))
    earliest: Mapped[dt.date] = mapped_column(Date)
    latest: Mapped[dt.date] = mapped_column(Date)
    party: Mapped[str] = mapped_column(String(64), default="")
    seats: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Plan(Base):
    """A planning job and, once it succeeded, the plan it produced."""

    __tablename__ = "plans"
    __table_args__ = (
        # At most one queued-or-running job per season, enforced by the database itself.
        Index(
            "uq_plans_one_active_per_season",
            "season_id",
            unique=True,
            sqlite_where=text("status IN ('queued', 'running')"),
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
        # Workers look for the oldest queued job and for running jobs whose lease ran out.
        Index("ix_plans_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    season_id: Mapped[int] = mapped_column(ForeignKey("seasons.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    time_limit_s: Mapped[float] = mapped_column(Float)
    # The published plan whose locked trips this job had to keep, if any.
    base_plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"))
    kpis: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    unserved: Mapped[list[Any]] = mapped_column(default=list)
    problems: Mapped[list[Any]] = mapped_column(default=list)
    notes: Mapped[list[Any]] = mapped_column(default=list)
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The job queue (api/jobs.py): which worker process holds the job, until when its lease runs
    # (renewed by the worker's heartbeat), how often a worker has claimed it, and whether a
    # dispatcher asked to cancel it while it ran.
    worker: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    season: Mapped[Season] = relationship()


class Trip(Base):
    """One trip of a finished plan; `data` is the whole domain Trip (api/convert.py)."""

    __tablename__ = "trips"
    __table_args__ = (UniqueConstraint("plan_id", "trip_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    trip_id: Mapped[str] = mapped_column(String(64))
    departure_date: Mapped[dt.date] = mapped_column(Date)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[dict[str, Any]] = mapped_column()


class Assignment(Base):
    """A seated worker of a finished plan: who sits where, for queries by worker or company."""

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("plan_id", "worker_key"),
        Index("ix_assignments_plan_company", "plan_id", "company_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    trip_id: Mapped[str] = mapped_column(String(64))
    # The planner's worker_id: str(workers.id). No foreign key: a manifest outlives a withdrawal.
    worker_key: Mapped[str] = mapped_column(String(32))
    company_id: Mapped[str] = mapped_column(String(64))
    seat: Mapped[int] = mapped_column(Integer)
    seat_count: Mapped[int] = mapped_column(Integer, default=1)


class PlanChange(Base):
    """A change to a published plan the dispatcher must see and confirm: a withdrawal, a late
    registration placed (or not), an edit. Each changed worker and company gets a new notice."""

    __tablename__ = "plan_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    worker_key: Mapped[str] = mapped_column(String(32))
    company_id: Mapped[str] = mapped_column(String(64))
    trip_id: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    confirmed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class AuditEntry(Base):
    """An unmasked read of personal data: who, when, what (never the ID numbers themselves)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(256))
    season_id: Mapped[int | None] = mapped_column(Integer)
    worker_keys: Mapped[list[Any]] = mapped_column(default=list)
    records: Mapped[int] = mapped_column(Integer, default=0)


class WebSession(Base):
    """A signed-in browser (api/web): the cookie holds a random token, the table its SHA-256,
    so a copy of the database opens no session. A session ends at sign-out, at expiry, when the
    user is disabled, or when the user's tokens are revoked (`token_version` moves on)."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_version: Mapped[int] = mapped_column(Integer)
    # The form token (CSRF) of this session: every form posts it back.
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
