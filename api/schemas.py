"""Request and response schemas, split by direction: `XCreate` comes in, `XPublic` goes out.

Worker fields arrive as text on purpose: every row, JSON or file, is validated by the same
optimizer intake (api/intake.py) so that all problems come back in one list, row by row.

Every value a schema accepts can be stored: text is bounded by its column's length and may not
hold NUL characters, numbers are bounded by what the columns hold, floats are finite. Timestamps
go out with their zone: stored times in UTC, timetable times in China Standard Time (+08:00).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

Role = Literal["dispatcher", "employer"]

# PostgreSQL text cannot hold NUL; a name with one is a mistake or an attack either way.
NO_NUL = r"^[^\x00]*$"
NoNulText = Annotated[str, Field(pattern=NO_NUL)]
INT32_MAX = 2**31 - 1
CHINA_TIME = dt.timezone(dt.timedelta(hours=8), "CST")


def text(max_length: int, min_length: int = 0, **extra: Any) -> Any:
    """A text field of at most `max_length` characters without NUL (for Annotated)."""
    return Field(min_length=min_length, max_length=max_length, pattern=NO_NUL, **extra)


def _utc(value: dt.datetime) -> dt.datetime:
    # Stored timestamps are naive UTC (SQLite keeps no zone): say so on the way out.
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def _china(value: dt.datetime) -> dt.datetime:
    # Timetables are in local time at the factory gates and home counties: China, UTC+8.
    return value.replace(tzinfo=CHINA_TIME) if value.tzinfo is None else value


UtcTime = Annotated[dt.datetime, AfterValidator(_utc)]
ChinaTime = Annotated[dt.datetime, AfterValidator(_china)]


class Inbound(BaseModel):
    """Base of request bodies: finite floats only (NaN and infinity cannot be planned)."""

    model_config = ConfigDict(allow_inf_nan=False)


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds until the token expires")


class UserCreate(Inbound):
    username: Annotated[str, text(64, 1)]
    password: Annotated[
        str,
        text(256, 8, description="at least 8 characters, not the user name, not a common one"),
    ]
    role: Role
    company_id: Annotated[str | None, text(64, 1, description="required for employers")] = None


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    role: Role
    company_id: str | None
    is_active: bool


class SubsidyIn(Inbound):
    """The subsidy per company: `share` of its charter cost, at most `cap_per_company` RMB."""

    share: float = Field(0.5, ge=0, le=1)
    cap_per_company: float | None = Field(200_000.0, ge=0, le=1e10, description="None: no cap")


class SeasonCreate(Inbound):
    """The keys of scenario.toml."""

    name: Annotated[str, text(128, 1)]
    direction: Literal["home", "return"]
    origin: Annotated[
        str,
        text(
            16,
            description="adcode (or name) of the employers' city, e.g. 330282; with a region: "
            "its main origin county (default: the region's first)",
        ),
    ] = ""
    region: Annotated[
        list[Annotated[str, text(64, 1)]] | None,
        Field(
            max_length=400,
            description="many origins: county, prefecture or province names or codes "
            '(["宁波市"], ["慈溪", "余姚"]); stored as the origin counties, main origin first',
        ),
    ] = None
    festival_date: dt.date
    first_departure: dt.date
    last_departure: dt.date
    policy: dict[str, Any] = Field(default_factory=dict, description="[policy] table")
    solver: dict[str, Any] = Field(default_factory=dict, description="[solver] table")
    subsidy: Annotated[
        SubsidyIn | None, Field(description="[subsidy] rule; Cixi 2023 when left out")
    ] = None


class SeasonUpdate(Inbound):
    is_open: bool | None = None
    region: Annotated[
        list[Annotated[str, text(64, 1)]] | None,
        Field(
            max_length=400,
            description="a new region (names or codes); the main origin stays first; every "
            "company and hub must lie in it",
        ),
    ] = None
    policy: dict[str, Any] | None = None
    solver: dict[str, Any] | None = None
    subsidy: SubsidyIn | None = None


class SeasonPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    direction: str
    origin: str
    region: list[str] = Field(description="origin counties (adcodes), main first; [] = origin")
    festival_date: dt.date
    first_departure: dt.date
    last_departure: dt.date
    policy: dict[str, Any]
    solver: dict[str, Any]
    subsidy: dict[str, Any]
    is_open: bool


class CompanyCreate(Inbound):
    company_id: Annotated[str, text(64, 1)]
    name: Annotated[str, text(256, 1)]
    lon: float = Field(ge=73, le=136, description="gate longitude, WGS-84")
    lat: float = Field(ge=3, le=54, description="gate latitude, WGS-84")
    no_hub: bool = False
    town: Annotated[str, text(128)] = ""
    address: Annotated[str, text(256, description="the gate's street address")] = ""
    county: Annotated[
        str,
        text(
            64,
            description="with a region: the gate's origin county (name or code); blank: the "
            "one holding the gate",
        ),
    ] = ""


class CompanyPublic(CompanyCreate):
    model_config = ConfigDict(from_attributes=True)

    season: str


class HubCreate(Inbound):
    hub_id: Annotated[str, text(64, 1)]
    name: Annotated[str, text(256, 1)]
    lon: float = Field(ge=73, le=136, description="WGS-84")
    lat: float = Field(ge=3, le=54, description="WGS-84")
    county: Annotated[
        str,
        text(64, description="with a region: the hub's origin county; blank: the one holding it"),
    ] = ""


class HubPublic(HubCreate):
    model_config = ConfigDict(from_attributes=True)

    season: str


class VehicleTypeCreate(Inbound):
    vehicle_type: Annotated[str, text(64, 1)]
    seats: int = Field(ge=1, le=80)
    count: int = Field(ge=0, le=100_000, description="coaches of this type")
    cost_per_km: float = Field(ge=0, le=1e6, description="RMB per km")
    fixed_cost: float = Field(ge=0, le=1e9, description="RMB per trip")
    operator: Annotated[str, text(128)] = ""
    depot_lon: float | None = Field(default=None, ge=73, le=136, description="WGS-84")
    depot_lat: float | None = Field(default=None, ge=3, le=54, description="WGS-84")
    available_from: dt.date | None = None
    available_to: dt.date | None = None
    registered: Annotated[
        str,
        text(
            128,
            description="the operator's registration place (county or prefecture, name or "
            "code): one end of every trip its coaches drive lies there; blank: its depot's county",
        ),
    ] = ""


class VehicleTypePublic(VehicleTypeCreate):
    model_config = ConfigDict(from_attributes=True)

    season: str


class WorkerCreate(Inbound):
    """One registration: the columns of workers.csv (dates as YYYY-MM-DD). Values are checked
    row by row like a file's (api/intake.py); these bounds only keep out what no row could be."""

    worker_id: Annotated[str, text(64, description="the employer's own reference (工号)")] = ""
    company_id: Annotated[
        str | None, text(64, description="ignored for employers: their rows are their company's")
    ] = None
    name: Annotated[str, text(128)]
    id_number: Annotated[str, text(32)]
    phone: Annotated[str, text(32)]
    home: Annotated[
        str, text(256, description="home county: free text (安徽阜阳临泉) or a 6-digit adcode")
    ]
    earliest: Annotated[str, text(32)]
    latest: Annotated[str, text(32)]
    party: Annotated[str, text(64)] = ""
    seats: Annotated[int, Field(ge=-1000, le=1000)] | Annotated[str, text(16)] = 1


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


class PlanCreate(Inbound):
    season: Annotated[str | None, text(128, description="default: the only open season")] = None
    time_limit_s: float | None = Field(default=None, gt=0, le=3600)


class PlanPublic(BaseModel):
    id: int
    season: str
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    progress: float
    message: str
    kpis: dict[str, Any] | None
    # The job queue: claims by workers so far (a worker that died re-queues its job), and
    # whether a cancellation was asked for and not yet carried out.
    attempts: int = 0
    cancel_requested: bool = False
    created_at: UtcTime
    started_at: UtcTime | None
    finished_at: UtcTime | None
    published_at: UtcTime | None
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
    arrive: ChinaTime
    depart: ChinaTime
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


class DriverIn(Inbound):
    name: Annotated[str, text(64, 1)]
    licence: Annotated[str, text(32, 1, description="driving licence number (the ID number)")]
    phone: Annotated[str, text(32, 1, description="mainland mobile number")]


class CrewIn(Inbound):
    """The coach operator's assignment to a trip (PUT /plans/{id}/trips/{trip_id}/crew)."""

    plate: Annotated[str, text(16, 1, description="mainland plate, e.g. 浙B12345")]
    coach_type: Annotated[str, text(64, 1, description="the assigned coach's type")]
    coach_seats: Annotated[int, Field(ge=1, le=100, description="approved seats (核定座位)")]
    operator: Annotated[str, text(128, 1, description="the coach operator (经营者)")]
    drivers: Annotated[list[DriverIn], Field(max_length=6)]
    escort_name: Annotated[str, text(64, description="coach captain or escort (随车人员)")] = ""
    escort_phone: Annotated[str, text(32)] = ""


class DriverPublic(BaseModel):
    name: str
    licence: str = Field(description="masked for employers")
    phone: str


class CrewPublic(BaseModel):
    plate: str
    coach_type: str
    coach_seats: int
    operator: str
    drivers: list[DriverPublic]
    escort_name: str
    escort_phone: str


class SignPublic(BaseModel):
    """The charter sign (包车客运标志牌); unassigned fields read 未分配."""

    origin: str
    destination: str
    main_stops: str
    plate: str
    operator: str
    validity: str


class TripPublic(BaseModel):
    trip_id: str
    vehicle_type: str
    seats: int
    drivers: int
    departure_date: dt.date
    departure: ChinaTime
    arrival: ChinaTime
    distance_km: float
    driving_minutes: int
    seats_used: int
    locked: bool
    stops: list[StopPublic]
    passengers: list[PassengerPublic]
    crew: Annotated[CrewPublic | None, Field(description="None until a crew is assigned")] = None
    sign: SignPublic | None = None
    origin: str = Field(
        "",
        description="the trip's origin county (adcode): its first pickup's going home, its last "
        "drop-off's coming back",
    )
    origin_name: str = ""


class ManifestRow(BaseModel):
    seat: int
    seat_count: int
    worker: str = Field(description="the planner's key of the registration (登记编号)")
    staff_number: str = Field(description="the employer's own reference (工号)")
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
    change: str = Field("", description="发布后新增: seated in a free seat after publishing")


class ManifestPublic(BaseModel):
    plan_id: int
    trip_id: str
    vehicle_type: str
    seats: int
    drivers: int
    departure_date: dt.date
    departure: ChinaTime
    masked: bool
    rows: list[ManifestRow]


class AuditEntryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: UtcTime
    user_id: int | None
    username: str
    action: str
    season_id: int | None
    worker_keys: list[Any]
    records: int


class TripSharePublic(BaseModel):
    trip_id: str
    passengers: int
    seats: int
    passenger_km: float
    share_fen: int


class CompanyCostsPublic(BaseModel):
    company_id: str
    passengers: int
    passenger_km: float
    cost_fen: int
    subsidy_fen: int
    payable_fen: int
    trips: list[TripSharePublic]


class CostsPublic(BaseModel):
    """Who pays what (amounts in fen): each trip's cost split pro rata by passenger-km, the
    subsidy per company under the season's rule, and the season totals (dispatchers)."""

    plan_id: int
    method: str
    rule: dict[str, Any]
    total_cost_fen: int | None
    total_subsidy_fen: int | None
    total_payable_fen: int | None
    unallocated_fen: int | None
    unallocated_trips: list[str]
    companies: list[CompanyCostsPublic]


class ChangePublic(BaseModel):
    """A change to a published plan: a withdrawal (seat freed), a late registration seated in a
    free seat (late_placed) or waiting for a new trip (late_waiting), an edit that keeps the seat
    (edit) or moves the worker to another trip (moved: `from_trip_id` names the old one)."""

    id: int
    kind: str
    worker: str = Field(description="the registration's key (WorkerPublic.id)")
    staff_number: str = Field(description="the employer's own reference (工号)")
    name: str
    company_id: str
    trip_id: str
    seat: int | None
    from_trip_id: str = Field("", description="an edited worker's old trip (moved, late_waiting)")
    fields: list[str] = Field(default_factory=list, description="what an edit changed")
    new_trips_plan: int | None = Field(
        None, description="the planning job adding trips for a waiting worker"
    )
    created_at: UtcTime
    confirmed_at: UtcTime | None


class LatePlacementPublic(BaseModel):
    placed: list[ChangePublic]
    waiting: list[ChangePublic] = Field(
        description="not seated in a free seat: the planning job `new_trips_plan` adds trips"
    )
    new_trips_plan: int | None = Field(
        None,
        description="the planning job started for those waiting (published trips locked, new "
        "trips added; poll GET /plans/{id}, check its changes, publish it); null when nobody "
        "waits or another job of the season is running",
    )


class ChangesConfirm(Inbound):
    ids: Annotated[
        list[Annotated[int, Field(ge=1, le=INT32_MAX)]],
        Field(max_length=10_000, description="the changes to confirm; empty: all unconfirmed"),
    ] = []


class DropPointIn(Inbound):
    """A county's named drop-off point: its coach station or a point the dispatcher sets."""

    name: Annotated[str, text(128, 1, description="e.g. 临泉县汽车站")]
    address: Annotated[str, text(256)] = ""


class DropPointPublic(DropPointIn):
    adcode: str
    county: str


# --- fleet sizing (optimizer.sizing) -----------------------------------------------------------

# The longest a fleet-sizing request may plan (seconds): it answers while the caller waits.
FLEET_SIZE_MAX_TIME_LIMIT_S = 300.0


class FleetSizeCreate(Inbound):
    time_limit_s: float | None = Field(
        default=None,
        gt=0,
        le=FLEET_SIZE_MAX_TIME_LIMIT_S,
        description="planning seconds (default: the season's [solver] time limit); the "
        "server caps it at CHUNYUN_FLEET_SIZE_MAX_S",
    )


class FleetNeedPublic(BaseModel):
    """Coaches of one type: `count`, away from the depot from `needed_from` to `needed_to`
    (null when the type is not needed)."""

    vehicle_type: str
    seats: int
    count: int
    needed_from: dt.date | None
    needed_to: dt.date | None


class FleetSizePublic(BaseModel):
    """The fewest coaches per type that seat `seated` of the season's `workers` (everyone
    seatable); `trips`, `time_limit_s` and `solve_seconds` describe the run behind it."""

    season: str
    fleet: list[FleetNeedPublic]
    workers: int
    seated: int
    trips: int
    time_limit_s: float
    solve_seconds: float
