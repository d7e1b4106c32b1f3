"""Request and response schemas, split by direction: `XCreate` comes in, `XPublic` goes out.

Worker fields arrive as text on purpose: every row, JSON or file, is validated by the same
optimizer intake (api/intake.py) so that all problems come back in one list, row by row.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["dispatcher", "employer"]


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds until the token expires")


class UserCreate(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=8, max_length=256)
    role: Role
    company_id: str | None = Field(default=None, description="required for employers")


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    role: Role
    company_id: str | None
    is_active: bool


class SeasonCreate(BaseModel):
    """The keys of scenario.toml."""

    name: str = Field(min_length=1, max_length=128)
    direction: Literal["home", "return"]
    origin: str = Field(description="adcode of the employers' city, e.g. 330282 (Cixi)")
    festival_date: dt.date
    first_departure: dt.date
    last_departure: dt.date
    policy: dict[str, Any] = Field(default_factory=dict, description="[policy] table")
    solver: dict[str, Any] = Field(default_factory=dict, description="[solver] table")


class SeasonUpdate(BaseModel):
    is_open: bool | None = None
    policy: dict[str, Any] | None = None
    solver: dict[str, Any] | None = None


class SeasonPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    direction: str
    origin: str
    festival_date: dt.date
    first_departure: dt.date
    last_departure: dt.date
    policy: dict[str, Any]
    solver: dict[str, Any]
    is_open: bool


class CompanyCreate(BaseModel):
    company_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=256)
    lon: float = Field(ge=73, le=136, description="gate longitude, WGS-84")
    lat: float = Field(ge=3, le=54, description="gate latitude, WGS-84")
    no_hub: bool = False
    town: str = ""


class CompanyPublic(CompanyCreate):
    model_config = ConfigDict(from_attributes=True)

    season: str


class HubCreate(BaseModel):
    hub_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=256)
    lon: float = Field(ge=73, le=136, description="WGS-84")
    lat: float = Field(ge=3, le=54, description="WGS-84")


class HubPublic(HubCreate):
    model_config = ConfigDict(from_attributes=True)

    season: str


class VehicleTypeCreate(BaseModel):
    vehicle_type: str = Field(min_length=1, max_length=64)
    seats: int = Field(ge=1, le=80)
    count: int = Field(ge=0)
    cost_per_km: float = Field(ge=0)
    fixed_cost: float = Field(ge=0)
    operator: str = ""
    depot_lon: float | None = None
    depot_lat: float | None = None
    available_from: dt.date | None = None
    available_to: dt.date | None = None


class VehicleTypePublic(VehicleTypeCreate):
    model_config = ConfigDict(from_attributes=True)

    season: str


class WorkerCreate(BaseModel):
    """One registration: the columns of workers.csv (dates as YYYY-MM-DD)."""

    worker_id: str = Field(default="", description="the employer's own reference (工号)")
    company_id: str | None = Field(
        default=None, description="ignored for employers: their rows are their company's"
    )
    name: str
    id_number: str
    phone: str
    home: str = Field(description="home county: free text (安徽阜阳临泉) or a 6-digit adcode")
    earliest: str
    latest: str
    party: str = ""
    seats: int | str = 1


class AssignmentPublic(BaseModel):
    plan_id: int
    trip_id: str
    seat: int
    seat_count: int
    departure_date: dt.date | None = None


class WorkerPublic(BaseModel):
    id: int = Field(description="the service's key, used in URLs")
    season: str
    company_id: str
    worker_id: str = Field(description="the employer's own reference (工号)")
    name: str
    id_number: str
    phone: str
    masked: bool
    home: str
    home_adcode: str | None
    earliest: dt.date
    latest: dt.date
    party: str
    seats: int
    assignment: AssignmentPublic | None = Field(
        default=None, description="the seat in the season's latest published plan"
    )


class RegistrationResult(BaseModel):
    created: int
    updated: int
    workers: list[WorkerPublic]


class RowProblemPublic(BaseModel):
    row: int
    column: str
    value: str
    reason: str
    candidates: list[str] = []


class ErrorPublic(BaseModel):
    detail: str
    problems: list[RowProblemPublic] | None = None


class PlanCreate(BaseModel):
    season: str | None = Field(default=None, description="default: the only open season")
    time_limit_s: float | None = Field(default=None, gt=0, le=3600)
    seed: int | None = None


class PlanPublic(BaseModel):
    id: int
    season: str
    status: Literal["queued", "running", "succeeded", "failed"]
    progress: float
    message: str
    kpis: dict[str, Any] | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    published_at: dt.datetime | None
    base_plan_id: int | None
    changes: dict[str, Any] | None
    unserved: list[dict[str, Any]]
    problems: list[dict[str, Any]]
    notes: list[str]


class StopPublic(BaseModel):
    index: int
    kind: str
    name: str
    lon: float
    lat: float
    arrive: dt.datetime
    depart: dt.datetime
    km_from_previous: float
    company_id: str | None
    hub_id: str | None
    adcode: str | None
    board: list[str]
    alight: list[str]
    note: str


class PassengerPublic(BaseModel):
    worker: str = Field(description="the worker's service key (WorkerPublic.id)")
    company_id: str
    seat: int
    seat_count: int
    board_stop: int
    alight_stop: int
    party: str


class TripPublic(BaseModel):
    trip_id: str
    vehicle_type: str
    seats: int
    drivers: int
    departure_date: dt.date
    departure: dt.datetime
    arrival: dt.datetime
    distance_km: float
    driving_minutes: int
    seats_used: int
    locked: bool
    stops: list[StopPublic]
    passengers: list[PassengerPublic]


class ManifestRow(BaseModel):
    seat: int
    seat_count: int
    worker: str
    worker_id: str
    name: str
    id_number: str
    phone: str
    company_id: str
    company: str
    trip_id: str
    departure_date: dt.date
    departure_time: str
    boarding: str
    boarding_time: str
    alighting: str
    alighting_adcode: str


class ManifestPublic(BaseModel):
    plan_id: int
    trip_id: str
    vehicle_type: str
    seats: int
    drivers: int
    departure_date: dt.date
    departure: dt.datetime
    masked: bool
    rows: list[ManifestRow]


class AuditEntryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: dt.datetime
    user_id: int | None
    username: str
    action: str
    season_id: int | None
    worker_keys: list[Any]
    records: int
