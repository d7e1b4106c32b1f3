"""Domain value objects: scenarios (what is asked) and plans (what is decided).

Everything here is a frozen dataclass. Variants are made with `dataclasses.replace`, never by
mutation. Inside the solver, distances are integer metres and times integer seconds; where a float
unit is used in a field name it says so (`distance_km`, `lon`/`lat` in WGS-84 degrees).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any, ClassVar, Literal

from optimizer.details import DetailPart, detail_parts
from optimizer.errors import InvalidInput, SettingError

Direction = Literal["home", "return"]
StopKind = Literal["pickup", "dropoff", "rest"]


# The TOML value a field's annotation asks for, and how a refusal says it; with the range
# reasons below, the api layer recognises each `[table] key = value reason` (api/i18n.py
# SETTING_TEXTS) and shows it in the user's language.
_MUST_BE = {
    "bool": "must be true or false",
    "int": "must be a whole number",
    "float": "must be a number",
    "str": "must be text",
}
# The range reasons of `[policy]`, `[solver]` and `[subsidy]` values (fixed English texts).
_NOT_NEGATIVE = "must not be negative"
_POSITIVE = "must be positive"
_CLOCK_HOUR = "must be a clock hour from 0 to 23"


def _at_least(minimum: object) -> str:
    return f"must be at least {minimum}"


def _from_to(low: object, high: object) -> str:
    return f"must be from {low} to {high}"


def _check(table: str, key: str, value: Any, ok: bool, reason: str) -> None:
    """Refuse `value` of `[table] key` for `reason` unless `ok`."""
    if not ok:
        raise SettingError(table, key, value, reason)


def _fits(value: Any, annotation: str) -> bool:
    """Whether a TOML value fits a field annotated `annotation` (e.g. `float | None`)."""
    kinds = {part.strip() for part in annotation.split("|")}
    if value is None:  # no TOML value, but a JSON null for an optional value (the API)
        return "None" in kinds
    if isinstance(value, bool):  # a bool is an int in Python, never a number in a policy
        return "bool" in kinds
    if isinstance(value, int):
        return bool(kinds & {"int", "float"})
    if isinstance(value, float):
        return "float" in kinds
    if isinstance(value, str):
        return "str" in kinds
    return False


def _from_mapping(cls: Any, values: Mapping[str, Any], table: str) -> Any:
    """Build dataclass `cls` from a TOML table, refusing unknown keys and values of the wrong
    kind by name (a string where a number belongs would otherwise fail deep inside)."""
    check_table_types(cls, values, table)
    return cls(**values)


def check_table_types(cls: Any, values: Mapping[str, Any], table: str) -> None:
    """Raise InvalidInput for a key of `values` that dataclass `cls` lacks, SettingError for a
    value of the wrong TOML kind (`[table] key = value must be ...`); ranges are `cls`'s own."""
    fields = {f.name: str(f.type) for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise InvalidInput(
            f"[{table}] has unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(fields))}"
        )
    for key, value in values.items():
        annotation = fields[key]
        if not _fits(value, annotation):
            first = next(
                (k for k in ("bool", "int", "float", "str") if k in annotation.split(" | ")), None
            )
            if first is not None:
                raise SettingError(table, key, value, _MUST_BE[first])


@dataclass(frozen=True)
class Policy:
    """Dispatcher policy and the legal rule values (DOMAIN.md), all with neutral defaults.

    Durations are minutes, distances km, hours are clock hours (0-23) local time.
    """

    max_pickup_stops: int = 3
    max_dropoff_stops: int = 3
    # A passenger's time on board is at most direct_time * detour_ratio + detour_grace_minutes.
    detour_ratio: float = 1.3
    detour_grace_minutes: int = 60
    earliest_departure_hour: int = 6
    latest_departure_hour: int = 22
    boarding_minutes: int = 20
    alighting_minutes: int = 10
    drop_radius_km: float = 0.0
    hub_radius_km: float = 0.0
    min_load: int = 0
    # Rule values (道路旅客运输企业安全管理规范 art. 38 and related; see DOMAIN.md).
    day_max_continuous_driving_minutes: int = 240
    night_max_continuous_driving_minutes: int = 120
    min_rest_minutes: int = 20
    night_start_hour: int = 22
    night_end_hour: int = 6
    park_start_hour: int = 2
    park_end_hour: int = 5
    max_driving_per_driver_24h_minutes: int = 480
    max_driving_per_driver_7d_minutes: int = 2640
    two_driver_km: float = 400.0
    max_speed_kmh: float = 100.0
    night_speed_factor: float = 0.8
    max_drivers: int = 3
    max_trip_km: float | None = None
    # Between two trips of one coach (season duties): cleaning/inspection always, and a full crew
    # rest after a trip with more than `crew_rest_after_driving_minutes` of driving.
    turnaround_minutes: int = 60
    crew_rest_minutes: int = 480
    crew_rest_after_driving_minutes: int = 240
    # The operator's promise of spare drivers at its base: a layover that ends on the origin side
    # (gates, hubs, the depot: where homeward trips start and return trips end) is the turnaround
    # only, a fresh crew taking the coach; at the far end the crew rest stays. Off by default.
    fresh_crew_at_origin: bool = False

    def __post_init__(self) -> None:
        for name in ("max_pickup_stops", "max_dropoff_stops", "max_drivers"):
            self._check(name, getattr(self, name) >= 1, _at_least(1))
        self._check("detour_ratio", self.detour_ratio >= 1.0, _at_least(1.0))
        for name in (
            "earliest_departure_hour",
            "latest_departure_hour",
            "night_start_hour",
            "night_end_hour",
            "park_start_hour",
            "park_end_hour",
        ):
            self._check(name, 0 <= getattr(self, name) <= 23, _CLOCK_HOUR)
        self._check(
            "earliest_departure_hour",
            self.earliest_departure_hour <= self.latest_departure_hour,
            f"must not be after latest_departure_hour = {self.latest_departure_hour}",
        )
        for name in (
            "detour_grace_minutes",
            "boarding_minutes",
            "alighting_minutes",
            "min_load",
            "turnaround_minutes",
            "crew_rest_minutes",
            "crew_rest_after_driving_minutes",
            "drop_radius_km",
            "hub_radius_km",
        ):
            self._check(name, getattr(self, name) >= 0, _NOT_NEGATIVE)
        for name in (
            "day_max_continuous_driving_minutes",
            "night_max_continuous_driving_minutes",
            "min_rest_minutes",
            "max_driving_per_driver_24h_minutes",
            "max_driving_per_driver_7d_minutes",
            "max_speed_kmh",
            "two_driver_km",
        ):
            self._check(name, getattr(self, name) > 0, _POSITIVE)
        self._check(
            "night_speed_factor",
            0 < self.night_speed_factor <= 1,
            "must be more than 0 and at most 1",
        )
        if self.max_trip_km is not None:
            self._check("max_trip_km", self.max_trip_km > 0, _POSITIVE)

    def _check(self, key: str, ok: bool, reason: str) -> None:
        _check("policy", key, getattr(self, key), ok, reason)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Policy:
        """Policy from a `[policy]` TOML table; unknown keys are an error."""
        policy: Policy = _from_mapping(cls, values, "policy")
        return policy

    def updated(self, values: Mapping[str, Any]) -> Policy:
        """This policy with the `[policy]` keys of `values` changed, checked as a scenario.toml
        table is (unknown keys, kinds, ranges)."""
        check_table_types(Policy, values, "policy")
        return dataclasses.replace(self, **values)


@dataclass(frozen=True)
class SolverParams:
    """How long and how the solver searches. `workers` is the number of processes."""

    time_limit_s: float = 60.0
    workers: int = 1
    # Share of time_limit_s kept for the LP lower bound (optimizer.lp_bound); 0 turns it off.
    lower_bound_share: float = 0.1
    # Stop each routed part after this many improving solutions (None: time only). With a time
    # limit generous enough never to bind, the plan no longer depends on machine speed or on
    # where the parts run (tests compare an in-process run with a Dask cluster's).
    part_solution_limit: int | None = None
    # Seed the pooling of remainders with the patterns of an LP over them (issue 16): the
    # counties the LP's near-integral patterns put on one coach ride one coach before the
    # greedy covers the rest (optimizer.planning.pooling). Off by default: see docs/benchmarks.md.
    lp_seeds: bool = False

    def __post_init__(self) -> None:
        _check("solver", "time_limit_s", self.time_limit_s, self.time_limit_s > 0, _POSITIVE)
        share = self.lower_bound_share
        _check("solver", "lower_bound_share", share, 0 <= share <= 0.5, _from_to(0, 0.5))
        _check("solver", "workers", self.workers, self.workers >= 1, _at_least(1))
        if self.part_solution_limit is not None:
            limit = self.part_solution_limit
            _check("solver", "part_solution_limit", limit, limit >= 1, _at_least(1))
        seeds = self.lp_seeds
        _check("solver", "lp_seeds", seeds, isinstance(seeds, bool), _MUST_BE["bool"])

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> SolverParams:
        """Parameters from a `[solver]` TOML table; unknown keys are an error, except `seed`,
        which older files carry: the planner has no randomised choice, so it is ignored."""
        known = {key: value for key, value in values.items() if key != "seed"}
        params: SolverParams = _from_mapping(cls, known, "solver")
        return params


@dataclass(frozen=True)
class SubsidyRule:
    """The subsidy a company gets: `share` (0-1) of its charter cost, at most
    `cap_per_company` RMB (None: no cap). Default: Cixi 2023, 50 % up to 200,000 RMB.
    Splitting and statements: optimizer/costs.py."""

    share: float = 0.5
    cap_per_company: float | None = 200_000.0

    CIXI_2023: ClassVar[SubsidyRule]

    def __post_init__(self) -> None:
        _check("subsidy", "share", self.share, 0 <= self.share <= 1, _from_to(0, 1))
        if self.cap_per_company is not None:
            cap = self.cap_per_company
            _check("subsidy", "cap_per_company", cap, cap >= 0, _NOT_NEGATIVE)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> SubsidyRule:
        """A rule from a `[subsidy]` table: `share`, `cap_per_company` (unknown keys refused)."""
        rule: SubsidyRule = _from_mapping(cls, values, "subsidy")
        return rule

    def subsidy_fen(self, cost_fen: int) -> int:
        """The subsidy, in fen, on a company's charter cost of `cost_fen` (half up, capped)."""
        amount = int(
            (Decimal(cost_fen) * Decimal(str(self.share))).quantize(
                Decimal(1), rounding=ROUND_HALF_UP
            )
        )
        if self.cap_per_company is not None:
            cap = Decimal(str(self.cap_per_company)) * 100
            amount = min(amount, int(cap.quantize(Decimal(1), rounding=ROUND_HALF_UP)))
        return amount


SubsidyRule.CIXI_2023 = SubsidyRule(share=0.5, cap_per_company=200_000.0)


@dataclass(frozen=True)
class Company:
    """An employer and the gate where its workers board (WGS-84)."""

    company_id: str
    name: str
    lon: float
    lat: float
    no_hub: bool = False
    town: str = ""
    address: str = ""
    # The origin county (adcode) the gate lies in; "" in a one-origin season means its origin.
    county: str = ""


@dataclass(frozen=True)
class DropPoint:
    """Where a county's passengers get off, named so people can find it: the county's coach
    station or a point the dispatcher sets (the shipped geography has county seats only, no
    stations). Printed on manifests and notices for the county's drop-off stops."""

    adcode: str
    name: str
    address: str = ""


@dataclass(frozen=True)
class Hub:
    """A gathering point (town coach station, charter terminal) where workers may board."""

    hub_id: str
    name: str
    lon: float
    lat: float
    # The origin county (adcode) of the hub; only companies of that county board there.
    # "" in a one-origin season means its origin.
    county: str = ""


@dataclass(frozen=True)
class Worker:
    """One registered traveller. `home_adcode` is None when `home` did not resolve.

    Two identifiers, never mixed up: `worker_id` is the planner's key (unique in a scenario; the
    service uses its database key) and `staff_number` is the employer's own reference (工号),
    the one printed on manifests and notices. A scenario folder's `worker_id` column is the 工号,
    so there both are the same; left empty, `staff_number` takes `worker_id`.
    """

    worker_id: str
    company_id: str
    name: str
    id_number: str
    phone: str
    home: str
    earliest: dt.date
    latest: dt.date
    party: str = ""
    seats: int = 1
    home_adcode: str | None = None
    # Set when `home` could not be resolved: why, and the candidate counties if ambiguous.
    home_problem: str = ""
    home_candidates: tuple[str, ...] = ()
    staff_number: str = ""

    def __post_init__(self) -> None:
        if not self.staff_number:
            object.__setattr__(self, "staff_number", self.worker_id)


@dataclass(frozen=True)
class VehicleType:
    """A coach type the operator offers: `count` coaches of `seats` seats."""

    vehicle_type: str
    seats: int
    count: int
    cost_per_km: float
    fixed_cost: float
    operator: str = ""
    depot_lon: float | None = None
    depot_lat: float | None = None
    available_from: dt.date | None = None
    available_to: dt.date | None = None
    # The operator's registration place (charter sign, optimizer/charter.py): a county or
    # prefecture name or code; "" = the origin county of the operator's depot.
    registered: str = ""
    # Fewer coaches than `count` free to depart on some dates (e.g. the rest are still away on
    # long trips): (date, coaches) pairs; dates not listed have `count`.
    count_by_date: tuple[tuple[dt.date, int], ...] = ()

    def __post_init__(self) -> None:
        if any(n < 0 for _, n in self.count_by_date):
            raise InvalidInput(f"vehicle type {self.vehicle_type!r}: counts must not be negative")
        if self.seats < 1:
            raise InvalidInput(f"vehicle type {self.vehicle_type!r}: seats must be at least 1")
        if self.count < 0:
            raise InvalidInput(f"vehicle type {self.vehicle_type!r}: count must not be negative")

    def count_on(self, day: dt.date) -> int:
        """Coaches of this type that may depart on `day` (0 outside the availability dates)."""
        if not self.available_on(day):
            return 0
        for listed, count in self.count_by_date:
            if listed == day:
                return min(count, self.count)
        return self.count

    def available_on(self, day: dt.date) -> bool:
        """Whether coaches of this type may depart on `day`."""
        if self.available_from is not None and day < self.available_from:
            return False
        return not (self.available_to is not None and day > self.available_to)


@dataclass(frozen=True)
class InputProblem:
    """A bad input row that was left out of planning (the plan goes on for the others)."""

    table: str
    row: int
    column: str
    value: str
    reason: str
    # The worker the row belongs to, when known: the plan lists them unserved (invalid_row).
    worker_id: str = ""


@dataclass(frozen=True)
class Scenario:
    """Everything one planning run needs. Immutable: derive variants with `replace()`.

    `origin` is the season's main origin county (adcode); `origins` every origin county of its
    region, `origin` first (a one-origin season: just `origin`). Companies and hubs name their
    own county among them (`Company.county`, `Hub.county`; optimizer.region).
    """

    name: str
    direction: Direction
    origin: str
    festival_date: dt.date
    first_departure: dt.date
    last_departure: dt.date
    companies: tuple[Company, ...] = ()
    workers: tuple[Worker, ...] = ()
    fleet: tuple[VehicleType, ...] = ()
    hubs: tuple[Hub, ...] = ()
    policy: Policy = field(default_factory=Policy)
    solver: SolverParams = field(default_factory=SolverParams)
    problems: tuple[InputProblem, ...] = ()
    subsidy: SubsidyRule = field(default_factory=SubsidyRule)
    drop_points: tuple[DropPoint, ...] = ()
    origins: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.direction not in ("home", "return"):
            raise InvalidInput(f"direction must be 'home' or 'return', not {self.direction!r}")
        if self.first_departure > self.last_departure:
            raise InvalidInput("first_departure must not be after last_departure")
        origins = tuple(dict.fromkeys((self.origin, *self.origins)))
        if origins != self.origins:
            object.__setattr__(self, "origins", origins)

    def company_county(self, company: Company) -> str:
        """The origin county of `company`'s gate (its own, else the season's origin)."""
        return company.county or self.origin

    def hub_county(self, hub: Hub) -> str:
        """The origin county of `hub` (its own, else the season's origin)."""
        return hub.county or self.origin

    def replace(self, **changes: Any) -> Scenario:
        """A copy with `changes` applied."""
        return dataclasses.replace(self, **changes)


class UnservedReason(StrEnum):
    """Why a worker has no seat. The vocabulary is fixed and documented in docs/plan-format.md."""

    INVALID_ROW = "invalid_row"  # the worker's row failed validation (see the plan's problems)
    UNKNOWN_HOME = "unknown_home"  # home did not match any county
    AMBIGUOUS_HOME = "ambiguous_home"  # home matched several counties; candidates given
    UNKNOWN_COMPANY = "unknown_company"  # company_id not in companies.csv
    PARTY_CONFLICT = "party_conflict"  # party members' windows, homes or gates do not agree
    PARTY_TOO_LARGE = "party_too_large"  # party needs more seats than the largest coach
    NO_DATE_IN_WINDOW = "no_date_in_window"  # window misses the season's departure dates
    NO_COACH_IN_WINDOW = "no_coach_in_window"  # no coach type available on any date in the window
    FLEET_EXHAUSTED = "fleet_exhausted"  # every coach on every date in the window is taken
    BELOW_MIN_LOAD = "below_min_load"  # under min_load with no pooling partner within detour
    TOO_FAR = "too_far"  # trip would exceed max_trip_km or no legal timetable exists
    UNREACHABLE = "unreachable"  # no road connection to the home county
    CHARTER_SIGN = "charter_sign"  # no operator registered at either end of the trip's route


@dataclass(frozen=True)
class Unserved:
    """A worker without a seat and exactly why: `detail` in English, made of the fixed
    messages of optimizer.details (`detail_parts`: their ids and values, for other languages)."""

    worker_id: str
    reason: UnservedReason
    detail: str = ""

    @property
    def detail_parts(self) -> tuple[DetailPart, ...]:
        """The detail's messages (id and field values), in order; () when there is none."""
        return detail_parts(self.detail)


@dataclass(frozen=True)
class Stop:
    """A stop of a trip. Rests (including the 02:00-05:00 park) are stops of kind "rest".

    `km_from_previous` is the road km driven since the previous stop (0 for the first).
    """

    kind: StopKind
    lon: float
    lat: float
    arrive: dt.datetime
    depart: dt.datetime
    km_from_previous: float = 0.0
    company_id: str | None = None
    hub_id: str | None = None
    adcode: str | None = None
    name: str = ""
    board: tuple[str, ...] = ()
    alight: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Passenger:
    """A seated worker: first seat number, seats taken (a child's seat counts), and the indices
    of the trip's stops where they board and alight. `late` marks a passenger seated after the
    plan was published, in a free seat (optimizer.incremental): the manifests flag the row."""

    worker_id: str
    company_id: str
    seat: int
    board_stop: int
    alight_stop: int
    seat_count: int = 1
    party: str = ""
    late: bool = False


@dataclass(frozen=True)
class Driver:
    """A driver of an assigned crew: name, driving licence number (驾驶证号, in China the
    holder's ID number) and mobile phone."""

    name: str
    licence: str
    phone: str


@dataclass(frozen=True)
class Crew:
    """The coach operator's assignment to one trip: the physical coach and its crew.

    `coach_type` and `coach_seats` are the assigned coach's type and approved seats (核定座位);
    `escort_*` is the coach captain or escort (随车人员) whom passengers call.
    """

    plate: str
    coach_type: str
    coach_seats: int
    operator: str
    drivers: tuple[Driver, ...]
    escort_name: str = ""
    escort_phone: str = ""


@dataclass(frozen=True)
class Trip:
    """One coach journey on one departure date, with its legal timetable. `crew` is None
    until the operator assigns a coach and drivers (the trip is then printed 未分配)."""

    trip_id: str
    vehicle_type: str
    seats: int
    drivers: int
    departure_date: dt.date
    stops: tuple[Stop, ...]
    passengers: tuple[Passenger, ...] = ()
    distance_km: float = 0.0
    driving_minutes: int = 0
    cost: float = 0.0
    locked: bool = False
    crew: Crew | None = None

    @property
    def departure(self) -> dt.datetime:
        """When the coach leaves its first stop."""
        return self.stops[0].depart

    @property
    def arrival(self) -> dt.datetime:
        """When the coach reaches its last stop."""
        return self.stops[-1].arrive

    @property
    def seats_used(self) -> int:
        """Seats taken on board (a worker may take more than one, e.g. a child's seat)."""
        return sum(p.seat_count for p in self.passengers)


@dataclass(frozen=True)
class Kpis:
    """Headline figures of a plan; `lower_bound_*` are proven bounds, not estimates."""

    workers: int
    seated: int
    unserved: int
    trips: int
    seats_offered: int
    seat_utilization: float
    coach_km: float
    passenger_km: float
    cost: float
    lower_bound_trips: int
    lower_bound_coach_km: float
    solve_seconds: float
    # A proven upper bound on the workers any plan could seat with the fleet (None when not
    # computed, e.g. a plan made without the fleet's duties; see docs/plan-format.md).
    fleet_servable_bound: int | None = None
    # Which proven bound gave lower_bound_trips ("counting": optimizer.bounds; "lp": the LP
    # relaxation of optimizer.lp_bound) and the wall seconds spent on the LP bound.
    lower_bound_source: str = "counting"
    lower_bound_seconds: float = 0.0
    # Origin counties of the season, trips per origin county (its first pickup's going home)
    # and trips pooling riders of several origin counties (optimizer.origins).
    origins: int = 1
    cross_origin_trips: int = 0
    trips_by_origin: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class DutyLeg:
    """One block of a coach's duty: a loaded trip, or an empty (deadhead) drive between trips."""

    kind: Literal["trip", "deadhead"]
    start: dt.datetime
    end: dt.datetime
    from_lon: float
    from_lat: float
    to_lon: float
    to_lat: float
    distance_km: float
    trip_id: str = ""
    drivers: int = 1


@dataclass(frozen=True)
class Duty:
    """What one physical coach does over the season: its trips in order and the empty km between."""

    coach_id: str
    vehicle_type: str
    operator: str
    trip_ids: tuple[str, ...]
    legs: tuple[DutyLeg, ...]
    deadhead_km: float
    loaded_km: float
    days_busy: int


@dataclass(frozen=True)
class FleetAdvice:
    """Coaches to add so that everyone seatable is seated: `add` more coaches of
    `vehicle_type` (`seats` seats) from `from_date` on, the day the fleet first falls short.
    `fleet` is the count the plan had, `needed` what an unlimited-fleet plan's duties use."""

    vehicle_type: str
    seats: int
    add: int
    from_date: dt.date
    fleet: int
    needed: int


@dataclass(frozen=True)
class FleetKpis:
    """Season figures of the coach duties; `advice` (only when workers are fleet_exhausted)
    says which coaches to add (optimizer.sizing)."""

    coaches_by_type: dict[str, int]
    coaches: int
    coach_days: int
    deadhead_km: float
    loaded_km: float
    loaded_km_share: float
    overlap_bound_by_type: dict[str, int]
    shortages: tuple[str, ...] = ()
    advice: tuple[FleetAdvice, ...] = ()
    # Trips no coach may drive under the charter-sign rule (optimizer/charter.py): neither end
    # of the route lies in the registration place of an operator with a coach large enough.
    sign_refused: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    """The answer to a scenario: trips, the unserved with reasons, bad input rows, figures."""

    scenario: str
    direction: Direction
    trips: tuple[Trip, ...]
    unserved: tuple[Unserved, ...]
    kpis: Kpis
    problems: tuple[InputProblem, ...] = ()
    notes: tuple[str, ...] = ()
    coaches: tuple[Duty, ...] = ()
    fleet_kpis: FleetKpis | None = None

    def replace(self, **changes: Any) -> Plan:
        """A copy with `changes` applied."""
        return dataclasses.replace(self, **changes)
