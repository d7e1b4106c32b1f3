"""The charter-sign rule: one end of a charter coach's route lies at its registration place.

道路旅客运输及客运站管理规定 art. 57: the charter sign (包车客运标志牌) names the route, and one end
of it (where the coach starts or where it finishes) must lie in the place where the coach, that
is its operator, is registered. With one origin county this held by itself (every operator sat
in the origin, every route starts or ends there); with several origins a coach of one county's
operator may be handed a trip that starts in another county and ends in Guizhou, which it may
not drive.

Exempt are only emergency charter tasks set by the transport authority, which the planner does
not plan; the same article limits a single charter run (单个运次) to 15 days, far above any trip
the planner builds (tests/checker.py checks it).

The legal unit is the prefecture-level city (车籍所在的设区的市): an operator's registration
place is `VehicleType.registered` (a county, prefecture or province, by name or code, of any of
its fleet rows: a county narrows the rule, a province widens it beyond the law's unit, both kept
for what an operator really holds) or, when none of its rows names one, the prefecture holding
the origin county of its depot (else of the season's main origin). A trip's ends are the
counties of its first and last service stop: a gate's or hub's origin county
(`Scenario.company_county`, `Scenario.hub_county`), a home county's adcode.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from optimizer.geography.gazetteer import load_gazetteer
from optimizer.model import Scenario, Stop, Trip, VehicleType
from optimizer.region import expand_region, locate_county, prefecture_of

# The message id of a refusal (the api layer translates it with the refusal's values).
SIGN_REFUSED = "charter_sign_refused"


def operator_places(scenario: Scenario) -> dict[str, frozenset[str]]:
    """Each operator of the scenario's fleet -> the counties where it is registered: its
    `registered` place, else the prefecture (设区的市) of its depot's origin county, else of the
    main origin.

    Raises InvalidInput when a `registered` value names no county, prefecture or province."""
    named: dict[str, str] = {}
    depots: dict[str, tuple[float, float]] = {}
    for vehicle in scenario.fleet:
        if vehicle.registered:
            named.setdefault(vehicle.operator, vehicle.registered)
        if vehicle.depot_lon is not None and vehicle.depot_lat is not None:
            depots.setdefault(vehicle.operator, (vehicle.depot_lon, vehicle.depot_lat))
    by_operator: dict[str, frozenset[str]] = {}
    for operator in {v.operator for v in scenario.fleet}:
        if operator in named:
            by_operator[operator] = frozenset(expand_region(named[operator]))
        elif operator in depots:
            lon, lat = depots[operator]
            by_operator[operator] = frozenset(
                prefecture_of(locate_county(lon, lat, scenario.origins))
            )
        else:
            by_operator[operator] = default_place(scenario)
    return by_operator


def default_place(scenario: Scenario) -> frozenset[str]:
    """Where an operator the fleet says nothing about is taken to be registered: the
    prefecture of the season's main origin."""
    return frozenset(prefecture_of(scenario.origin))


def registration_places(scenario: Scenario) -> dict[str, frozenset[str]]:
    """Each coach type of the scenario's fleet -> the counties where its operator is registered
    (`operator_places`).

    Raises InvalidInput when a `registered` value names no county, prefecture or province."""
    by_operator = operator_places(scenario)
    return {v.vehicle_type: by_operator[v.operator] for v in scenario.fleet}


def _stop_county(stop: Stop, scenario: Scenario) -> str | None:
    for hub in scenario.hubs:
        if stop.hub_id is not None and hub.hub_id == stop.hub_id:
            return scenario.hub_county(hub)
    if stop.hub_id is None and stop.company_id is not None:
        for company in scenario.companies:
            if company.company_id == stop.company_id:
                return scenario.company_county(company)
    return stop.adcode


def route_ends(trip: Trip, scenario: Scenario) -> tuple[str, ...]:
    """The counties of `trip`'s first and last service stop (pickup or drop-off), those known."""
    service = [s for s in trip.stops if s.kind in ("pickup", "dropoff")]
    if not service:
        return ()
    ends = (_stop_county(service[0], scenario), _stop_county(service[-1], scenario))
    return tuple(dict.fromkeys(e for e in ends if e))


@dataclass(frozen=True)
class SignRefusal:
    """A trip no coach of the fleet may drive under the rule: message id `code`, the route's end
    counties and the coach type the plan gave it."""

    trip_id: str
    vehicle_type: str
    ends: tuple[str, ...]
    code: str = SIGN_REFUSED


@dataclass(frozen=True)
class SignRule:
    """What build_duties needs to apply the rule: the registration counties of each coach type
    and the end counties of each trip (by id). A type or trip not listed is not checked.

    For a coach assigned by hand (a crew naming its operator) also the counties of each
    operator and of an operator the fleet does not list (`unlisted`, empty: not checked), and
    the operator of each coach type (to name it in a refusal)."""

    places: Mapping[str, frozenset[str]] = field(default_factory=dict)
    ends: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    operators: Mapping[str, frozenset[str]] = field(default_factory=dict)
    unlisted: frozenset[str] = frozenset()
    type_operators: Mapping[str, str] = field(default_factory=dict)

    def allows(self, trip: Trip, vehicle_type: str) -> bool:
        """Whether a coach of `vehicle_type` may drive `trip` (one end in its operator's place)."""
        place = self.places.get(vehicle_type)
        ends = self.ends.get(trip.trip_id)
        if place is None or not ends:
            return True
        return any(end in place for end in ends)

    def allows_operator(self, trip: Trip, operator: str) -> bool:
        """Whether a coach of `operator` (as a crew names it) may drive `trip`."""
        place = self.operators.get(operator.strip(), self.unlisted)
        ends = self.ends.get(trip.trip_id)
        if not place or not ends:
            return True
        return any(end in place for end in ends)

    def merged(self, other: SignRule) -> SignRule:
        """Both rules' places and trips (e.g. a season's two waves)."""
        return SignRule(
            {**self.places, **other.places},
            {**self.ends, **other.ends},
            {**self.operators, **other.operators},
            self.unlisted or other.unlisted,
            {**self.type_operators, **other.type_operators},
        )


def sign_rule(scenario: Scenario, trips: Iterable[Trip]) -> SignRule:
    """The rule for `trips` of `scenario` (its fleet's registration places)."""
    operators = operator_places(scenario)
    return SignRule(
        {v.vehicle_type: operators[v.operator] for v in scenario.fleet},
        {t.trip_id: route_ends(t, scenario) for t in trips},
        operators,
        default_place(scenario),
        {v.vehicle_type: v.operator for v in scenario.fleet},
    )


@dataclass(frozen=True)
class SignBreach:
    """A trip of a plan changed by hand that its coach may not drive: the operator (the crew's,
    else the fleet's for the trip's coach type) and the names of the route's end counties."""

    trip_id: str
    operator: str
    start: str
    end: str


def sign_breach(trip: Trip, rule: SignRule) -> SignBreach | None:
    """Why the coach of `trip` may not drive it under `rule` (its crew's operator when a crew is
    assigned, else its coach type's), or None when it may."""
    if trip.crew is not None and trip.crew.operator.strip():
        operator = trip.crew.operator.strip()
        allowed = rule.allows_operator(trip, operator)
    else:
        operator = rule.type_operators.get(trip.vehicle_type, "") or trip.vehicle_type
        allowed = rule.allows(trip, trip.vehicle_type)
    if allowed:
        return None
    ends = rule.ends.get(trip.trip_id, ())
    return SignBreach(trip.trip_id, operator, _place_name(ends[0]), _place_name(ends[-1]))


def assign_types(
    trips: Sequence[Trip], fleet: Sequence[VehicleType], rule: SignRule
) -> tuple[dict[str, str], list[SignRefusal]]:
    """The coach type that drives each trip under the rule, and the trips none may drive.

    A trip keeps its planned type when that type's operator may drive it; otherwise it goes to
    the type with the same seats (else the smallest seating its passengers) whose operator may;
    a trip no type may drive is refused."""
    types = list(fleet)
    chosen: dict[str, str] = {}
    refused: list[SignRefusal] = []
    for trip in trips:
        if rule.allows(trip, trip.vehicle_type):
            chosen[trip.trip_id] = trip.vehicle_type
            continue
        candidates = [
            v for v in types if v.seats >= trip.seats_used and rule.allows(trip, v.vehicle_type)
        ]
        if not candidates:
            refused.append(
                SignRefusal(trip.trip_id, trip.vehicle_type, rule.ends.get(trip.trip_id, ()))
            )
            continue
        best = min(candidates, key=lambda v: (v.seats != trip.seats, v.seats, v.vehicle_type))
        chosen[trip.trip_id] = best.vehicle_type
    return chosen, refused


def apply_sign_rule(
    trips: Sequence[Trip], fleet: Sequence[VehicleType], rule: SignRule
) -> tuple[tuple[Trip, ...], tuple[SignRefusal, ...]]:
    """`trips` as the rule lets coaches drive them: each on the type `assign_types` gives it
    (seats and cost, fixed plus per km, of that type) and the refusals. For the planner's own
    use before building duties, so that every trip's type is the one its coach has (the
    independent checker requires it); trips the rule refuses are returned unchanged."""
    chosen, refused = assign_types(trips, fleet, rule)
    types = {v.vehicle_type: v for v in fleet}
    result = []
    for trip in trips:
        vehicle = types.get(chosen.get(trip.trip_id, trip.vehicle_type))
        if vehicle is not None and vehicle.vehicle_type != trip.vehicle_type:
            trip = dataclasses.replace(
                trip,
                vehicle_type=vehicle.vehicle_type,
                seats=vehicle.seats,
                cost=round(vehicle.fixed_cost + vehicle.cost_per_km * trip.distance_km, 2),
            )
        result.append(trip)
    return tuple(result), tuple(refused)


def _place_name(adcode: str) -> str:
    county = load_gazetteer().get(adcode)
    return adcode if county is None else county.name


def refusal_detail(trip: Trip, scenario: Scenario) -> str:
    """Why no coach may drive `trip`, naming its end counties and the fleet's operators (an
    unserved worker's detail; api/i18n.py translates it)."""
    ends = route_ends(trip, scenario) or (scenario.origin,)
    operators = "、".join(sorted({v.operator or v.vehicle_type for v in scenario.fleet}))
    return (
        f"charter sign: no coach of the fleet may drive from {_place_name(ends[0])} to "
        f"{_place_name(ends[-1])}: neither end lies where {operators} is registered"
    )
